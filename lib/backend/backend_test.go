package backend

import (
	"runtime"
	"strings"
	"testing"
)

func TestChoose(t *testing.T) {
	t.Setenv(EnvVar, "xla:cuda")
	if c := Choose(); c.Config != "xla:cuda" || !strings.Contains(c.Reason, "is set") {
		t.Errorf("Choose with %s set = %+v", EnvVar, c)
	}
	t.Setenv(EnvVar, "")
	if c := Choose(); !strings.HasPrefix(c.Config, "go") || !strings.Contains(c.Reason, "unset") {
		t.Errorf("Choose with %s unset = %+v", EnvVar, c)
	}
}

func TestNewAndDescribe(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if b2, _ := New(); b2 != b {
		t.Error("New started a second backend")
	}
	if d := Describe(); !strings.HasPrefix(d, "backend: ") {
		t.Errorf("Describe = %q", d)
	}
	if len(Available()) == 0 {
		t.Error("no backends compiled in")
	}
}

func TestSIMDReport(t *testing.T) {
	r := SIMDReport()
	if !strings.HasPrefix(r, "SIMD kernels: ") {
		t.Errorf("SIMDReport = %q", r)
	}
	if !SIMD && runtime.GOARCH == "amd64" && !strings.Contains(r, "GOEXPERIMENT=simd") {
		t.Errorf("SIMDReport without SIMD does not say how to build with it: %q", r)
	}
}
