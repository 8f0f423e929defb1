package train

import (
	"testing"
	"time"

	"github.com/gomlx/compute"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/nets"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/toy"
)

// TestSSMOnGoWorkerPool: sliced score matching trains 30 steps at batch 512 on the pure-Go
// backend with its worker pool on (GOMLX_BACKEND=go, and a pool of 2); without the workaround of
// backend.AvoidPoolDeadlock it hangs within about ten steps.
func TestSSMOnGoWorkerPool(t *testing.T) {
	for _, config := range []string{"go", "go:parallelism=2"} {
		t.Run(config, func(t *testing.T) {
			b, err := compute.NewWithConfig(config)
			if err != nil {
				t.Skipf("no Go backend: %v", err)
			}
			m, _ := toy.LoadMixture("ncsn")
			s := sde.NewVE()
			cfg := Default(s)
			cfg.Steps, cfg.Loss.Kind = 30, "ssm"
			tr, err := New(b, nets.NewMLP(2), s, m, cfg, "")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- tr.Run(nil) }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(90 * time.Second):
				t.Fatalf("30 ssm steps on GOMLX_BACKEND=%s did not finish in 90 s: the worker pool deadlocked", config)
			}
			if got := backend.OpsExecutionType(b); got != 2 {
				t.Errorf("ops execution type %d, want 2 (sequential)", got)
			}
		})
	}
}
