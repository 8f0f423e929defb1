package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scoresde/scoresde/lib/train"
)

// tinyTrain is a fast training command line (an 8×8 MLP on the ncsn mixture) into dir/ck.
func tinyTrain(dir string, extra ...string) []string {
	args := []string{"train", "--data", "ncsn", "--steps", "20", "--batch", "16", "--hidden", "8,8", "--quiet", "--ckpt", filepath.Join(dir, "ck")}
	return append(args, extra...)
}

// trainCkpt is a hostile-case setup helper: it trains tinyTrain(dir, extra...) in process.
func trainCkpt(t *testing.T, dir string, extra ...string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(tinyTrain(dir, extra...), &out, &errb); code != 0 {
		t.Fatalf("setup training: exit %d: %s", code, errb.String())
	}
}

// editState rewrites the state.json of checkpoint ck (relative to dir) through f.
func editState(t *testing.T, dir, ck string, f func(m map[string]any)) {
	t.Helper()
	p := filepath.Join(dir, ck, "state.json")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	raw, _ = json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// putNaN writes NaN over the first value of the tensor file rel of checkpoint ck and records the
// file's new SHA-256, so that only the value is wrong.
func putNaN(t *testing.T, dir, ck, rel string) {
	t.Helper()
	p := filepath.Join(dir, ck, rel)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	binary.LittleEndian.PutUint64(b[10+hl:], math.Float64bits(math.NaN()))
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := exec.Command("sha256sum", p).Output()
	if err != nil {
		t.Skipf("sha256sum: %v", err)
	}
	editState(t, dir, ck, func(m map[string]any) { m["sha256"].(map[string]any)[rel] = strings.Fields(string(sum))[0] })
}

// readOnly makes dir unwritable even for root (chmod, then chattr +i where chmod is not enough),
// or skips the case when this machine allows neither.
func readOnly(t *testing.T, dir string) {
	t.Helper()
	os.Chmod(dir, 0o555)
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if canWrite(dir) && exec.Command("chattr", "+i", dir).Run() == nil {
		t.Cleanup(func() { exec.Command("chattr", "-i", dir).Run() })
	}
	if canWrite(dir) {
		t.Skip("cannot make a read-only directory here (root without chattr)")
	}
}

func canWrite(dir string) bool {
	f, err := os.CreateTemp(dir, "probe")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

func init() {
	state := []string{"ck/ckpt-00000020/state.json"}
	hostileCases = append(hostileCases,
		hostileCase{name: "train-locked-dir", setup: func(t *testing.T, dir string) {
			trainCkpt(t, dir)
			d, err := train.OpenDir(filepath.Join(dir, "ck"), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
		}, args: []string{"train", "--ckpt", "{dir}/ck", "--steps", "40", "--quiet"},
			code: 1, want: "ck is held by another trainer (pid " + strconv.Itoa(os.Getpid()), untouched: append(state, "ck/.lock")},
		hostileCase{name: "train-truncated-tensor-falls-back", setup: func(t *testing.T, dir string) {
			trainCkpt(t, dir, "--checkpoint-every", "10")
			os.Truncate(filepath.Join(dir, "ck", "ckpt-00000020", "params", "dense1.W.npy"), 300)
		}, args: []string{"train", "--ckpt", "{dir}/ck", "--quiet"},
			code: 0, want: "dense1.W.npy has 300 bytes, want 640 for a float64 array of shape [8 8]: the file is truncated): renamed it ckpt-00000020.bad; resuming from ckpt-00000010",
			untouched: []string{"ck/ckpt-00000010/state.json", "ck/ckpt-00000010/params/dense1.W.npy"}},
		hostileCase{name: "train-truncated-only-checkpoint", setup: func(t *testing.T, dir string) {
			trainCkpt(t, dir)
			os.Truncate(filepath.Join(dir, "ck", "ckpt-00000020", "ema", "dense0.W.npy"), 1000)
		}, args: []string{"train", "--ckpt", "{dir}/ck", "--quiet"},
			code: 1, want: "ck holds no intact checkpoint: ", untouched: append(state, "ck/ckpt-00000020/ema/dense0.W.npy")},
		hostileCase{name: "train-changed-tensor", setup: func(t *testing.T, dir string) {
			trainCkpt(t, dir)
			p := filepath.Join(dir, "ck", "ckpt-00000020", "adam-v", "dense2.W.npy")
			b, _ := os.ReadFile(p)
			b[len(b)-5] ^= 0x10
			os.WriteFile(p, b, 0o644)
		}, args: []string{"train", "--ckpt", "{dir}/ck", "--quiet"},
			code: 1, want: "state.json records", untouched: state},
		hostileCase{name: "train-conflict-beta-max", setup: func(t *testing.T, dir string) { trainCkpt(t, dir, "--sde", "vp") },
			args: []string{"train", "--ckpt", "{dir}/ck", "--beta-max", "10", "--steps", "40", "--quiet"},
			code: 2, want: "--beta-max 10 conflicts with the checkpoint ", untouched: state},
		hostileCase{name: "train-conflict-beta-max-value", setup: func(t *testing.T, dir string) { trainCkpt(t, dir, "--sde", "vp") },
			args: []string{"train", "--ckpt", "{dir}/ck", "--beta-max", "10", "--quiet"},
			code: 2, want: "trained with --beta-max 20: leave the flag out", untouched: state},
		hostileCase{name: "train-conflict-hidden", setup: func(t *testing.T, dir string) { trainCkpt(t, dir) },
			args: []string{"train", "--ckpt", "{dir}/ck", "--hidden", "32,32", "--quiet"},
			code: 2, want: "--hidden 32,32 conflicts with the checkpoint", untouched: state},
		hostileCase{name: "train-conflict-data", setup: func(t *testing.T, dir string) { trainCkpt(t, dir) },
			args: []string{"train", "--ckpt", "{dir}/ck", "--data", "8gaussians", "--quiet"},
			code: 2, want: "--data 8gaussians conflicts with the checkpoint", untouched: state},
		hostileCase{name: "train-conflict-loss", setup: func(t *testing.T, dir string) { trainCkpt(t, dir) },
			args: []string{"train", "--ckpt", "{dir}/ck", "--loss", "ssm", "--quiet"},
			code: 2, want: "--loss ssm conflicts with the checkpoint", untouched: state},
		hostileCase{name: "train-read-only-dir", setup: func(t *testing.T, dir string) {
			trainCkpt(t, dir)
			readOnly(t, filepath.Join(dir, "ck"))
		}, args: []string{"train", "--ckpt", "{dir}/ck", "--steps", "40", "--quiet"},
			code: 1, want: "ck is not writable", untouched: state},
		hostileCase{name: "train-read-only-fresh-dir", setup: func(t *testing.T, dir string) {
			os.Mkdir(filepath.Join(dir, "ck"), 0o755)
			readOnly(t, filepath.Join(dir, "ck"))
		}, args: tinyTrain("{dir}"), code: 1, want: "ck is not writable", untouched: []string{"ck/.lock"}},
		hostileCase{name: "train-ckpt-is-file", setup: func(t *testing.T, dir string) { writeFile(t, dir, "ck", []byte("x")) },
			args: tinyTrain("{dir}"), code: 1, want: "ck is a file: give a directory", untouched: []string{"ck"}},
		hostileCase{name: "train-crafted-short-shapes", setup: func(t *testing.T, dir string) {
			trainCkpt(t, dir)
			editState(t, dir, "ck/ckpt-00000020", func(m map[string]any) { m["shapes"] = m["shapes"].([]any)[:2] })
		}, args: []string{"train", "--ckpt", "{dir}/ck", "--quiet"},
			code: 1, want: "state.json: shapes has 2 entries, names has 7", untouched: state},
		hostileCase{name: "train-crafted-short-frozen", setup: func(t *testing.T, dir string) {
			trainCkpt(t, dir)
			editState(t, dir, "ck/ckpt-00000020", func(m map[string]any) { m["frozen"] = []any{true} })
		}, args: []string{"train", "--ckpt", "{dir}/ck", "--quiet"},
			code: 1, want: "state.json: frozen has 1 entries, names has 7", untouched: state},
		hostileCase{name: "train-crafted-rng", setup: func(t *testing.T, dir string) {
			trainCkpt(t, dir)
			editState(t, dir, "ck/ckpt-00000020", func(m map[string]any) { m["rng"] = []any{} })
		}, args: []string{"train", "--ckpt", "{dir}/ck", "--quiet"},
			code: 1, want: "state.json: rng has 0 values, want 3", untouched: state},
		hostileCase{name: "train-crafted-huge-shape", setup: func(t *testing.T, dir string) {
			trainCkpt(t, dir)
			editState(t, dir, "ck/ckpt-00000020", func(m map[string]any) { m["shapes"].([]any)[0] = []any{1e15, 1e15} })
		}, args: []string{"train", "--ckpt", "{dir}/ck", "--quiet"},
			code: 1, want: "state.json: shapes[0]: shape [1000000000000000 1000000000000000] holds more than", untouched: state},
		hostileCase{name: "train-crafted-not-json", setup: func(t *testing.T, dir string) {
			trainCkpt(t, dir)
			writeFile(t, dir, "ck/ckpt-00000020/state.json", []byte("{\"step\": 20, "))
		}, args: []string{"train", "--ckpt", "{dir}/ck", "--quiet"},
			code: 1, want: "state.json: not valid JSON", untouched: state},
		hostileCase{name: "train-nan-weights", setup: func(t *testing.T, dir string) {
			trainCkpt(t, dir)
			putNaN(t, dir, "ck/ckpt-00000020", "params/dense0.W.npy")
		}, args: []string{"train", "--ckpt", "{dir}/ck", "--quiet"},
			code: 1, want: "params/dense0.W.npy holds NaN at index 0", untouched: state},
		hostileCase{name: "train-nan-weights-sample", setup: func(t *testing.T, dir string) {
			trainCkpt(t, dir)
			putNaN(t, dir, "ck/ckpt-00000020", "ema/dense1.b.npy")
		}, args: []string{"sample", "--score", "{dir}/ck", "--n", "10", "--out", "{dir}/x.npy"},
			code: 1, want: "ema/dense1.b.npy holds NaN at index 0", untouched: append(state, "x.npy")},
		hostileCase{name: "train-diverges-after-resume", setup: func(t *testing.T, dir string) { trainCkpt(t, dir, "--steps", "120", "--checkpoint-every", "10") },
			args: []string{"train", "--ckpt", "{dir}/ck", "--steps", "300", "--lr", "100", "--grad-clip", "0", "--keep", "1", "--quiet"},
			code: 1, want: "training diverged: the loss is",
			untouched: []string{"ck/ckpt-00000100/state.json", "ck/ckpt-00000110/params/dense0.W.npy", "ck/ckpt-00000120/state.json", "ck/ckpt-00000130/state.json"}},
		hostileCase{name: "train-diverge-factor", args: []string{"train", "--diverge-factor", "0.5", "--steps", "1"},
			code: 2, want: "diverge-factor=0.5, want a finite factor > 1"},
		hostileCase{name: "train-grad-clip-inf", args: []string{"train", "--grad-clip", "+Inf", "--steps", "1"},
			code: 2, want: "grad-clip=+Inf: give a finite threshold"},
	)
}

// TestTrainFreshDirLeftClean: a training command that fails on a usage error after creating its
// checkpoint directory leaves no directory behind.
func TestTrainFreshDirLeftClean(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run(tinyTrain(dir, "--loss", "smld", "--sde", "vp"), &out, &errb); code != 2 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "ck")); !os.IsNotExist(err) {
		t.Errorf("the failed run left its checkpoint directory: %v", err)
	}
}

// TestTrainResumeAdoptsCheckpoint: a resumed run given only --ckpt goes on with the settings the
// checkpoint was trained with (here --steps, --lr and --hidden), and an explicit tunable flag
// (--steps, --lr) is taken.
func TestTrainResumeAdoptsCheckpoint(t *testing.T) {
	dir := t.TempDir()
	trainCkpt(t, dir, "--lr", "1e-3", "--steps", "10")
	var out, errb bytes.Buffer
	if code := run([]string{"train", "--ckpt", filepath.Join(dir, "ck"), "--steps", "15", "--quiet"}, &out, &errb); code != 0 {
		t.Fatalf("resume: exit %d: %s", code, errb.String())
	}
	ck, err := train.LoadDir(filepath.Join(dir, "ck"))
	if err != nil {
		t.Fatal(err)
	}
	if ck.State.Step != 15 || ck.Config.LR != 1e-3 || !slices.Equal(ck.Net.Spec().Hidden, []int{8, 8}) || ck.Config.Batch != 16 || ck.Config.Data != "ncsn" {
		t.Errorf("resumed run: step %d, lr %g, hidden %v, batch %d, data %q", ck.State.Step, ck.Config.LR, ck.Net.Spec().Hidden, ck.Config.Batch, ck.Config.Data)
	}
}

// buildScoresde builds the command into a temporary directory, once per test.
func buildScoresde(t *testing.T) (bin string, env []string) {
	t.Helper()
	bin = filepath.Join(t.TempDir(), "scoresde")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "GOEXPERIMENT=simd")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin, append(os.Environ(), "GOEXPERIMENT=simd", "GOMLX_BACKEND=go:parallelism=-1")
}

// newestStep is the step of the newest ckpt-* in dir (-1: none).
func newestStep(dir string) int {
	names, _ := filepath.Glob(filepath.Join(dir, "ckpt-*"))
	best := -1
	for _, n := range names {
		if s, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(n), "ckpt-")); err == nil && s > best {
			best = s
		}
	}
	return best
}

// tree reads every file under dir (relative path → bytes).
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if !e.IsDir() {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(dir, p)
			out[rel] = b
		}
		return nil
	})
	return out
}

// TestTrainProcesses runs the built command as separate processes: a trainer killed with SIGKILL
// at random moments (during start-up, steps and saves) and resumed each time ends with the very
// bytes of an uninterrupted run; and a second trainer on a directory in use is refused, naming the
// first one's pid, while a kill -9 leaves no stale lock.
func TestTrainProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and kills trainers")
	}
	bin, env := buildScoresde(t)
	const steps = 400
	args := func(dir string, extra ...string) []string {
		a := []string{"train", "--data", "ncsn", "--steps", strconv.Itoa(steps), "--batch", "32", "--hidden", "8,8",
			"--checkpoint-every", "10", "--keep", "2", "--seed", "3", "--quiet", "--ckpt", dir}
		return append(a, extra...)
	}
	start := func(a []string) (*exec.Cmd, *bytes.Buffer, chan error) {
		cmd := exec.Command(bin, a...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		return cmd, &stderr, done
	}

	t.Run("kill-9-resume", func(t *testing.T) {
		ref := filepath.Join(t.TempDir(), "ref")
		t0 := time.Now()
		if _, stderr, done := start(args(ref)); <-done != nil {
			t.Fatalf("uninterrupted run: %s", stderr)
		}
		tref := time.Since(t0)
		seed := uint64(time.Now().UnixNano())
		r := rand.New(rand.NewPCG(seed, 1))
		t.Logf("uninterrupted run %v; kill moments drawn with seed %d", tref.Round(time.Millisecond), seed)
		dir := filepath.Join(t.TempDir(), "killed")
		var reached []int
		for kill := 0; kill < 12; kill++ {
			from := newestStep(dir)
			cmd, stderr, done := start(args(dir))
			if kill%3 == 0 {
				// Any moment of the first eighth of a run: often start-up, lock, clean-up, resume.
				time.Sleep(time.Duration(r.Float64() * float64(tref) / 8))
			} else {
				// A moment soon after the trainer writes a checkpoint: mid-step or mid-save.
				deadline := time.Now().Add(10 * time.Second)
				for newestStep(dir) <= from && time.Now().Before(deadline) && len(done) == 0 {
					time.Sleep(time.Millisecond)
				}
				time.Sleep(time.Duration(r.Float64() * float64(15*time.Millisecond)))
			}
			cmd.Process.Signal(syscall.SIGKILL)
			if err := <-done; err == nil {
				t.Fatalf("kill %d came after the run finished (%s): the run is too short for this machine", kill+1, stderr)
			}
			reached = append(reached, newestStep(dir))
		}
		t.Logf("newest checkpoint after each kill: %v", reached)
		if reached[len(reached)-1] <= 0 {
			t.Fatalf("the killed runs made no progress: %v", reached)
		}
		if _, stderr, done := start(args(dir)); <-done != nil {
			t.Fatalf("final resumed run: %s", stderr)
		}
		if left, _ := filepath.Glob(filepath.Join(dir, ".tmp-ckpt-*")); len(left) > 0 {
			t.Errorf("temporary folders left: %v", left)
		}
		if bad, _ := filepath.Glob(filepath.Join(dir, "*.bad*")); len(bad) > 0 {
			t.Errorf("a kill damaged a checkpoint: %v", bad)
		}
		final := fmt.Sprintf("ckpt-%08d", steps)
		want, got := tree(t, filepath.Join(ref, final)), tree(t, filepath.Join(dir, final))
		if len(want) == 0 || len(got) != len(want) {
			t.Fatalf("%s: %d files uninterrupted, %d after the kills", final, len(want), len(got))
		}
		for rel, b := range want {
			if !bytes.Equal(got[rel], b) {
				t.Errorf("%s/%s differs from the uninterrupted run's (%d vs %d bytes)", final, rel, len(got[rel]), len(b))
			}
		}
		refNames, _ := filepath.Glob(filepath.Join(ref, "ckpt-*"))
		gotNames, _ := filepath.Glob(filepath.Join(dir, "ckpt-*"))
		if len(refNames) != len(gotNames) {
			t.Errorf("checkpoints kept: %v uninterrupted, %v after the kills", refNames, gotNames)
		}
	})

	t.Run("second-trainer", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "ck")
		first, stderr1, done1 := start(args(dir, "--steps", "1000000"))
		defer func() {
			first.Process.Signal(syscall.SIGKILL)
		}()
		pid := "pid " + strconv.Itoa(first.Process.Pid)
		deadline := time.Now().Add(20 * time.Second)
		for {
			if b, _ := os.ReadFile(filepath.Join(dir, train.LockFile)); strings.Contains(string(b), pid+"\n") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the first trainer did not take the lock: %s", stderr1)
			}
			time.Sleep(5 * time.Millisecond)
		}
		_, stderr2, done2 := start(args(dir))
		select {
		case err := <-done2:
			if err == nil {
				t.Fatal("the second trainer ran on a directory in use")
			}
			msg := stderr2.String()
			if !strings.Contains(msg, dir+" is held by another trainer ("+pid+" ") || strings.Count(strings.TrimSpace(msg), "\n") > 0 {
				t.Errorf("second trainer's message %q, want one line naming %s and %s", msg, dir, pid)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the second trainer waited instead of refusing")
		}
		first.Process.Signal(syscall.SIGKILL)
		<-done1
		// No stale lock: a trainer starts at once after the kill.
		if _, stderr3, done3 := start(args(dir, "--steps", "1")); <-done3 != nil {
			t.Fatalf("a trainer after the kill -9: %s", stderr3)
		}
	})
}
