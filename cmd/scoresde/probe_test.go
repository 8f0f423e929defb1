package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestProbeBadInvocations(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"probe", "extra"}, `unexpected arguments ["extra"]`},
		{[]string{"probe", "--size", "-1"}, "--size=-1, want ≥ 1"},
		{[]string{"probe", "--reps", "-2"}, "--reps=-2, want ≥ 1"},
		{[]string{"probe", "--batch", "0"}, "--batch=0, want ≥ 1"},
		{[]string{"probe", "--unet-steps", "-1"}, "--unet-steps=-1, want ≥ 1"},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		if code := run(c.args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("scoresde %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(c.args, " "), code, stderr.String(), c.want)
		}
	}
}

// TestProbeStartError: a failed XLA start is one line that names the plugin path and the
// no-auto-install setting.
func TestProbeStartError(t *testing.T) {
	err := probeStartError("xla:cuda", errors.New("no plugins found\nfor backend \"xla\""))
	msg := err.Error()
	for _, want := range []string{"no plugins found for backend", "GOMLX_BACKEND=xla:/abs/path/to/xla_cuda_plugin.so", "GOMLX_NO_AUTO_INSTALL=1", "GOMLX_BACKEND=go"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("%q spans several lines", msg)
	}
	msg = probeStartError("xla:/opt/p.so", errors.New("failed to load PJRT plugin")).Error()
	if !strings.Contains(msg, "LD_LIBRARY_PATH") || !strings.Contains(msg, "GOMLX_BACKEND=go") {
		t.Errorf("plugin path that fails to load: %q names no fix", msg)
	}
}

// TestProbeRuns probes the backend the tests run on with a small matrix product and two U-Net
// training steps of batch 2.
func TestProbeRuns(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"probe", "--size", "128", "--reps", "2", "--unet", "--batch", "2", "--unet-steps", "1"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"compiled-in backends: ", "devices: ", "device 0: ", "x*x+1 on [0 1 2 3] = [1 2 5 10]: ok",
		"matmul float32 128×128 · 128×128: 2 runs", "GFLOP/s", "U-Net training step (tutorial U-Net, 1115297 parameters, batch 2", "images/s"} {
		if !strings.Contains(out, want) {
			t.Errorf("probe output lacks %q:\n%s", want, out)
		}
	}
}
