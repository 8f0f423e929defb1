// Package backend selects the GoMLX compute backend that runs every graph of scoresde.
//
// The choice follows the GOMLX_BACKEND environment variable:
//
//	GOMLX_BACKEND=go                     pure-Go backend (portable, no downloads; the default here)
//	GOMLX_BACKEND=go:parallelism=-1      pure-Go backend without its worker pool (safest on 1–2 cores)
//	GOMLX_BACKEND=xla:cpu                XLA on the CPU (installs its PJRT plugin on first use; needs internet)
//	GOMLX_BACKEND=xla:cuda               XLA on NVIDIA GPUs (installs the CUDA plugin on first use)
//	GOMLX_BACKEND=xla:/path/plugin.so    XLA with a local PJRT plugin (set GOMLX_NO_AUTO_INSTALL=1 offline)
//
// When the variable is unset, scoresde uses the pure-Go backend, because XLA's automatic
// plugin installation needs network access. Use Describe to tell the user what was chosen.
package backend

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/gomlx/backends/default" // registers the "go" and "xla" backends
)

// EnvVar is the environment variable that selects the backend ("GOMLX_BACKEND").
const EnvVar = compute.ConfigEnvVar

// Choice says which backend configuration is (or will be) used and why.
type Choice struct {
	// Config is the configuration string passed to GoMLX, e.g. "go:parallelism=-1" or "xla:cuda".
	Config string
	// Reason tells where Config came from, in words.
	Reason string
}

// Choose returns the backend configuration that New will use, without starting a backend.
func Choose() Choice {
	if v, ok := os.LookupEnv(EnvVar); ok && strings.TrimSpace(v) != "" {
		return Choice{Config: strings.TrimSpace(v), Reason: EnvVar + " is set"}
	}
	cfg := "go"
	reason := EnvVar + " is unset: using the pure-Go backend (XLA installs its plugin from the internet on first use)"
	if runtime.NumCPU() <= 2 {
		cfg = "go:parallelism=-1"
		reason += "; worker pool off on a machine with ≤ 2 cores"
	}
	return Choice{Config: cfg, Reason: reason}
}

var (
	mu     sync.Mutex
	shared compute.Backend
	choice Choice
)

// New returns the process-wide backend, starting it on the first call according to Choose.
// An unknown backend name or a failed start is returned as an error that says how to pick another.
func New() (b compute.Backend, err error) {
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		return shared, nil
	}
	c := Choose()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("starting GoMLX backend %q (%s): %v; %s", c.Config, c.Reason, r, Hint)
		}
	}()
	b, err = quietStart(c.Config)
	if err != nil {
		return nil, fmt.Errorf("starting GoMLX backend %q (%s): %w; %s", c.Config, c.Reason, err, Hint)
	}
	AvoidPoolDeadlock(b)
	shared, choice = b, c
	return b, nil
}

// MustNew is New for notebooks and examples: it panics on error.
func MustNew() compute.Backend {
	b, err := New()
	if err != nil {
		panic(err)
	}
	return b
}

// Hint tells the user how to select another backend.
const Hint = "choose one with " + EnvVar + "=go | go:parallelism=-1 | xla:cpu | xla:cuda | xla:/path/to/pjrt_plugin.so"

// Describe returns a one-line description of the backend in use (starting it if needed),
// e.g. "backend: go (Go Portable Compute Backend) — GOMLX_BACKEND is set".
func Describe() string {
	b, err := New()
	if err != nil {
		return "backend: unavailable: " + err.Error()
	}
	return fmt.Sprintf("backend: %s [%s] (%s) — %s", b.Name(), choice.Config, b.Description(), choice.Reason)
}

// Available lists the backends compiled into this program, sorted (e.g. ["go", "xla"]).
func Available() []string {
	names := append([]string(nil), compute.List()...)
	sort.Strings(names)
	return names
}

// quietStart starts the backend of config without the "Go backend: parallelism set to …" line
// that the Go backend prints on stdout at every start (Describe reports the configuration);
// anything else it prints is passed on.
func quietStart(config string) (compute.Backend, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return compute.NewWithConfig(config)
	}
	stdout := os.Stdout
	os.Stdout = w
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if line := sc.Text(); !strings.HasPrefix(line, "Go backend: parallelism set to") {
				fmt.Fprintln(stdout, line)
			}
		}
	}()
	defer func() {
		os.Stdout = stdout
		w.Close()
		<-copied
		r.Close()
	}()
	return compute.NewWithConfig(config)
}
