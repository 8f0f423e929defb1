package backend

import (
	"reflect"

	"github.com/gomlx/compute"
)

// AvoidPoolDeadlock works around a deadlock of the pure-Go backend (github.com/gomlx/compute
// v0.1.6, internal/gobackend) with a bounded worker pool (GOMLX_BACKEND=go or
// go:parallelism=N, N > 0):
//
// In its parallel ops mode (the default while one graph runs at a time),
// FunctionExecutable.executeParallel (executable.go) runs every ready node as a task of the
// backend's workerspool.Pool (WaitToStart). A large matrix product inside such a task
// (dot/matmul, e.g. avx512LargeFloat32 / nosimd_large) fans out with Pool.Saturate
// (workerspool/workerspool.go), which waits on the pool's sync.Cond until the running count drops
// below the limit, while its own task still counts as running. When as many products as the pool
// has workers are ready at once, every worker waits in Saturate for a worker to free up, and none
// ever does (cond.Signal wakes one waiter, which may be one that cannot proceed): the process
// hangs in sync.Cond.Wait with no goroutine running. The sliced score matching loss, whose
// gradient of a gradient holds several independent [B, 128]×[128, 128] products, hits it within
// about ten steps at batch 512; any large enough graph can.
//
// The workaround runs the ops of a graph one after another on the calling goroutine
// (OpsExecutionType = sequential, what GOMLX_BACKEND=go:ops_sequential selects), so Saturate is
// never called from inside a pool task; each matrix product still uses all the workers. The
// backend's type lives in an internal package, so the field is set through reflection, and only
// when it has the expected shape: another backend, or a later version of this one, is left alone.
// It changes the backend for every graph it runs, which is what those graphs need too. New
// applies it to the process-wide backend; call it on a backend started some other way.
func AvoidPoolDeadlock(b compute.Backend) {
	if b == nil {
		return
	}
	v := reflect.ValueOf(b)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct || v.Elem().Type().PkgPath() != goBackendPkg {
		return
	}
	e := v.Elem()
	ops := e.FieldByName("OpsExecutionType")
	workers := e.FieldByName("Workers")
	if !ops.IsValid() || !ops.CanSet() || ops.Kind() != reflect.Int || !workers.IsValid() || workers.Kind() != reflect.Pointer || workers.IsNil() {
		return
	}
	maxPar := workers.MethodByName("MaxParallelism")
	if !maxPar.IsValid() || maxPar.Type().NumIn() != 0 || maxPar.Type().NumOut() != 1 || maxPar.Type().Out(0).Kind() != reflect.Int {
		return
	}
	// MaxParallelism: -1 is unbounded (WaitToStart starts a goroutine per node and never waits),
	// 0 runs everything inline; only a positive bound can deadlock.
	if maxPar.Call(nil)[0].Int() <= 0 {
		return
	}
	// OpsExecutionDynamic (0) and OpsExecutionParallel (1) can run nodes as pool tasks;
	// OpsExecutionSequential (2) runs them on the caller (internal/gobackend/exec.go).
	const dynamic, parallel, sequential = 0, 1, 2
	if k := ops.Int(); k == dynamic || k == parallel {
		ops.SetInt(sequential)
	}
}

// goBackendPkg is the package of the pure-Go backend's Backend type.
const goBackendPkg = "github.com/gomlx/compute/internal/gobackend"

// OpsExecutionType reads the Go backend's OpsExecutionType (2: sequential; −1 for any other
// backend), for tests and diagnostics.
func OpsExecutionType(b compute.Backend) int {
	v := reflect.ValueOf(b)
	if b == nil || v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return -1
	}
	f := v.Elem().FieldByName("OpsExecutionType")
	if !f.IsValid() || f.Kind() != reflect.Int {
		return -1
	}
	return int(f.Int())
}
