package train

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/nets"
	"github.com/scoresde/scoresde/lib/npy"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/toy"
)

// tinyConfig is a fast run: an 8×8 MLP on the ncsn mixture, batch 16, a checkpoint every `every`
// steps.
func tinyConfig(steps, every int) (nets.Net, sde.SDE, Data, Config) {
	m, _ := toy.LoadMixture("ncsn")
	s := sde.NewVE()
	cfg := Default(s)
	cfg.Steps, cfg.Batch, cfg.CheckpointEvery, cfg.Seed = steps, 16, every, 7
	net := nets.NewMLP(2)
	net.Hidden = []int{8, 8}
	return net, s, m, cfg
}

// tinyRun trains tinyConfig to steps in dir (resuming what dir holds) and releases the directory.
func tinyRun(t *testing.T, dir string, steps, every int) *Trainer {
	t.Helper()
	net, s, data, cfg := tinyConfig(steps, every)
	tr, err := New(backend.MustNew(), net, s, data, cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := tr.Run(nil); err != nil {
		t.Fatal(err)
	}
	return tr
}

// ckpts lists the checkpoint directory names of dir.
func ckpts(t *testing.T, dir string) []string {
	t.Helper()
	all, err := list(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range all {
		out = append(out, filepath.Base(p))
	}
	return out
}

// snapshot reads every file under dir (relative path → bytes) but the lock file, which each
// trainer rewrites with its own pid.
func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || e.Name() == LockFile {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLockRefusesSecondTrainer: while one trainer holds a directory, a second is refused with
// ErrLocked and a message naming the directory and the holder's pid; once the first closes, the
// directory opens again.
func TestLockRefusesSecondTrainer(t *testing.T) {
	dir := t.TempDir()
	first, err := OpenDir(dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	net, s, data, cfg := tinyConfig(5, 0)
	_, err = New(backend.MustNew(), net, s, data, cfg, dir)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second trainer on a locked directory: %v, want ErrLocked", err)
	}
	for _, want := range []string{dir, "held by another trainer", "pid " + strconv.Itoa(os.Getpid())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	first.Close()
	second, err := OpenDir(dir, io.Discard)
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	second.Close()
}

// sameState reports whether two states hold bit-identical steps, weights, EMA, Adam moments and
// losses.
func sameState(a, b *State) bool {
	if a.Step != b.Step || len(a.Losses) != len(b.Losses) || len(a.Params) != len(b.Params) {
		return false
	}
	for i := range a.Losses {
		if a.Losses[i] != b.Losses[i] {
			return false
		}
	}
	for _, g := range [][2][]*tensors.Tensor{{a.Params, b.Params}, {a.EMA, b.EMA}, {a.M, b.M}, {a.V, b.V}} {
		for i := range g[0] {
			x, y := tensors.MustCopyFlatData[float32](g[0][i]), tensors.MustCopyFlatData[float32](g[1][i])
			if len(x) != len(y) {
				return false
			}
			for j := range x {
				if math.Float32bits(x[j]) != math.Float32bits(y[j]) {
					return false
				}
			}
		}
	}
	return true
}

// TestDamagedNewestFallsBack: a truncated tensor, a changed byte, a broken state.json or NaN
// weights in the newest checkpoint make training resume from the previous intact one with a
// warning; the damaged one is renamed *.bad, and the good ones are never pruned in its favor.
func TestDamagedNewestFallsBack(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, ck string)
		want   string
	}{
		{"truncated", func(t *testing.T, ck string) {
			if err := os.Truncate(filepath.Join(ck, "params", "dense0.W.npy"), 200); err != nil {
				t.Fatal(err)
			}
		}, "the file is truncated"},
		{"flipped-byte", func(t *testing.T, ck string) {
			p := filepath.Join(ck, "ema", "dense1.W.npy")
			b, _ := os.ReadFile(p)
			b[len(b)-3] ^= 0x40
			os.WriteFile(p, b, 0o644)
		}, "state.json records"},
		{"state-json", func(t *testing.T, ck string) {
			os.WriteFile(filepath.Join(ck, "state.json"), []byte(`{"step": 30, "names": ["a"]}`), 0o644)
		}, "shapes has 0 entries, names has 1"},
		{"nan-weights", func(t *testing.T, ck string) { setValue(t, ck, "params/dense1.b.npy", 2, math.NaN()) }, "holds NaN at index 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			tinyRun(t, dir, 30, 10)
			if got := strings.Join(ckpts(t, dir), " "); got != "ckpt-00000010 ckpt-00000020 ckpt-00000030" {
				t.Fatalf("checkpoints %s", got)
			}
			c.damage(t, filepath.Join(dir, "ckpt-00000030"))
			var warn bytes.Buffer
			d, err := OpenDir(dir, &warn)
			if err != nil {
				t.Fatal(err)
			}
			if d.Latest == nil || d.Latest.State.Step != 20 {
				t.Fatalf("resumed from %+v, want step 20", d.Latest)
			}
			w := warn.String()
			for _, want := range []string{"ckpt-00000030 is damaged", c.want, "renamed it ckpt-00000030.bad", "resuming from ckpt-00000020"} {
				if !strings.Contains(w, want) {
					t.Errorf("warning %q lacks %q", w, want)
				}
			}
			if strings.Count(w, "\n") != 1 {
				t.Errorf("warning is not one line: %q", w)
			}
			net, s, data, cfg := tinyConfig(40, 10)
			cfg.Keep = 2
			tr, err := NewFromDir(backend.MustNew(), net, s, data, cfg, d)
			if err != nil {
				t.Fatal(err)
			}
			if err := tr.Run(nil); err != nil {
				t.Fatal(err)
			}
			tr.Close()
			if got := strings.Join(ckpts(t, dir), " "); got != "ckpt-00000030 ckpt-00000040" {
				t.Errorf("after resuming to 40 with keep 2: %s", got)
			}
			if _, err := os.Stat(filepath.Join(dir, "ckpt-00000030.bad")); err != nil {
				t.Errorf("the damaged checkpoint was not kept aside: %v", err)
			}
			// The run from step 20 equals an uninterrupted one.
			whole := tinyRun(t, t.TempDir(), 40, 10)
			ck, err := LoadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !sameState(whole.State, ck.State) {
				t.Error("the run resumed from the fallback checkpoint differs from an uninterrupted one")
			}
		})
	}
}

// TestPruneKeepsGoodWhileNewestBad: pruning never removes older checkpoints when the newest one
// does not read back with its checksums.
func TestPruneKeepsGoodWhileNewestBad(t *testing.T) {
	dir := t.TempDir()
	tr := tinyRun(t, dir, 40, 10)
	before := snapshot(t, dir)
	p := filepath.Join(dir, "ckpt-00000040", "adam-v", "dense0.b.npy")
	b, _ := os.ReadFile(p)
	b[len(b)-1] ^= 1
	os.WriteFile(p, b, 0o644)
	tr.Config.Keep = 1
	err := tr.prune()
	if err == nil || !strings.Contains(err.Error(), "older ones are kept") {
		t.Fatalf("prune with a bad newest checkpoint: %v", err)
	}
	if got := strings.Join(ckpts(t, dir), " "); got != "ckpt-00000020 ckpt-00000030 ckpt-00000040" {
		t.Errorf("checkpoints after a refused prune: %s", got)
	}
	for rel, data := range before {
		if strings.HasPrefix(rel, "ckpt-00000040") {
			continue
		}
		if now, err := os.ReadFile(filepath.Join(dir, rel)); err != nil || !bytes.Equal(now, data) {
			t.Errorf("%s changed or vanished: %v", rel, err)
		}
	}
}

// TestNoIntactCheckpoint: a directory whose only checkpoint is damaged is refused (training does
// not start from scratch over it), naming the file and the problem.
func TestNoIntactCheckpoint(t *testing.T) {
	dir := t.TempDir()
	tinyRun(t, dir, 10, 0)
	os.Truncate(filepath.Join(dir, "ckpt-00000010", "losses.npy"), 90)
	net, s, data, cfg := tinyConfig(20, 0)
	_, err := New(backend.MustNew(), net, s, data, cfg, dir)
	if err == nil || !strings.Contains(err.Error(), "holds no intact checkpoint") || !strings.Contains(err.Error(), "losses.npy has 90 bytes") {
		t.Fatalf("error %v", err)
	}
	if got := strings.Join(ckpts(t, dir), " "); got != "ckpt-00000010" {
		t.Errorf("checkpoints after the refusal: %s", got)
	}
	if _, err := LoadDir(dir); err == nil {
		t.Error("LoadDir loaded a damaged checkpoint")
	}
}

// setValue writes v at index i of the tensor file rel of the checkpoint ck and records the file's
// new checksum in state.json, so that only the value itself is wrong.
func setValue(t *testing.T, ck, rel string, i int, v float64) {
	t.Helper()
	p := filepath.Join(ck, rel)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	off := len(b) - 8*(countValues(b)) + 8*i
	binary.LittleEndian.PutUint64(b[off:], math.Float64bits(v))
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var sf map[string]any
	sp := filepath.Join(ck, "state.json")
	raw, _ := os.ReadFile(sp)
	if err := json.Unmarshal(raw, &sf); err != nil {
		t.Fatal(err)
	}
	sum, _ := fileSum(p)
	sf["sha256"].(map[string]any)[rel] = sum
	raw, _ = json.Marshal(sf)
	os.WriteFile(sp, raw, 0o644)
}

// countValues is the number of float64 values of a .npy file written by writeTensor.
func countValues(b []byte) int {
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	return (len(b) - 10 - hl) / 8
}

// TestNaNWeightsRefused: a checkpoint with a NaN (or ±Inf, or beyond float32) weight whose
// checksum matches is refused at load, naming the tensor file and the index.
func TestNaNWeightsRefused(t *testing.T) {
	dir := t.TempDir()
	tinyRun(t, dir, 5, 0)
	ck := filepath.Join(dir, "ckpt-00000005")
	for _, c := range []struct {
		rel  string
		v    float64
		want string
	}{
		{"params/dense0.W.npy", math.NaN(), "params/dense0.W.npy holds NaN at index 3"},
		{"adam-m/dense2.b.npy", math.Inf(-1), "adam-m/dense2.b.npy holds -Inf at index 1"},
		{"ema/fourier.W.npy", 1e300, "ema/fourier.W.npy holds 1e+300 at index 0, beyond float32"},
		{"losses.npy", math.Inf(1), "losses.npy holds +Inf at index 4"},
	} {
		t.Run(strings.ReplaceAll(c.rel, "/", "-"), func(t *testing.T) {
			idx := map[string]int{"params/dense0.W.npy": 3, "adam-m/dense2.b.npy": 1, "ema/fourier.W.npy": 0, "losses.npy": 4}[c.rel]
			orig := snapshot(t, ck)
			defer func() {
				for rel, b := range orig {
					os.WriteFile(filepath.Join(ck, rel), b, 0o644)
				}
			}()
			setValue(t, ck, c.rel, idx, c.v)
			_, err := Load(ck)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load: %v, want %q", err, c.want)
			}
		})
	}
	if _, err := Load(ck); err != nil {
		t.Fatalf("the restored checkpoint does not load: %v", err)
	}
}

// TestCraftedState: every malformed state.json is an error naming the field and the file, never a
// panic.
func TestCraftedState(t *testing.T) {
	good := validState(t)
	mod := func(f func(m map[string]any)) []byte {
		var m map[string]any
		json.Unmarshal(good, &m)
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	cases := []struct {
		name string
		raw  []byte
		want string
	}{
		{"short-shapes", mod(func(m map[string]any) { m["shapes"] = m["shapes"].([]any)[:2] }), "shapes has 2 entries, names has 7"},
		{"short-frozen", mod(func(m map[string]any) { m["frozen"] = m["frozen"].([]any)[:1] }), "frozen has 1 entries, names has 7"},
		{"no-names", mod(func(m map[string]any) { m["names"] = []any{} }), "names is empty"},
		{"dup-names", mod(func(m map[string]any) { n := m["names"].([]any); n[1] = n[0] }), "share the file"},
		{"slash-dot-clash", mod(func(m map[string]any) { n := m["names"].([]any); n[0], n[1] = "a/b", "a.b" }), "share the file"},
		{"empty-name", mod(func(m map[string]any) { m["names"].([]any)[2] = "" }), "names[2]=\"\" is not a parameter name"},
		{"negative-dim", mod(func(m map[string]any) { m["shapes"].([]any)[0] = []any{-1, 3} }), "shapes[0]: negative dimension"},
		{"huge-dims", mod(func(m map[string]any) { m["shapes"].([]any)[0] = []any{1 << 40, 1 << 40} }), "shapes[0]: shape"},
		{"negative-step", mod(func(m map[string]any) { m["step"] = -3 }), "step=-3"},
		{"short-rng", mod(func(m map[string]any) { m["rng"] = []any{1} }), "rng has 1 values, want 3"},
		{"bad-data-rng", mod(func(m map[string]any) { m["data_rng"] = "!!" }), "data_rng is not base64"},
		{"short-data-rng", mod(func(m map[string]any) { m["data_rng"] = "AAAA" }), "data_rng:"},
		{"unknown-net", mod(func(m map[string]any) { m["net"].(map[string]any)["kind"] = "transformer" }), "net: unknown network kind"},
		{"bad-net", mod(func(m map[string]any) { m["net"].(map[string]any)["hidden"] = []any{} }), "net: mlp: no hidden layers"},
		{"ncsnpp-huge-blocks", mod(func(m map[string]any) {
			m["net"] = map[string]any{"kind": "ncsnpp", "image": []any{8, 8, 1}, "nf": 8, "ch_mult": []any{1}, "num_res_blocks": 1e12,
				"resblock_type": "biggan", "embedding_type": "positional"}
		}), "net: num_res_blocks=1000000000000, want 0 to 256"},
		{"huge-hidden", mod(func(m map[string]any) { m["net"].(map[string]any)["hidden"] = []any{1e12} }), "net: size 1000000000000 in [1000000000000] is out of range"},
		{"unknown-sde", mod(func(m map[string]any) { m["sde"].(map[string]any)["name"] = "cosine" }), "sde: unknown SDE"},
		{"bad-sde", mod(func(m map[string]any) { m["sde"].(map[string]any)["sigma_max"] = -1 }), "sde:"},
		{"bad-config", mod(func(m map[string]any) { m["config"].(map[string]any)["Batch"] = 0 }), "config: batch=0"},
		{"sha-missing", mod(func(m map[string]any) { delete(m["sha256"].(map[string]any), "losses.npy") }), "sha256 lacks losses.npy"},
		{"sha-extra", mod(func(m map[string]any) { m["sha256"].(map[string]any)["x.npy"] = strings.Repeat("0", 64) }), "sha256 lists 30 files"},
		{"sha-not-hex", mod(func(m map[string]any) { m["sha256"].(map[string]any)["losses.npy"] = "xyz" }), "sha256 of losses.npy is \"xyz\""},
		{"wrong-types", []byte(`{"step": "ten"}`), "not valid JSON"},
		{"trailing", append(append([]byte(nil), good...), []byte(`{}`)...), "trailing data"},
		{"not-json", []byte("\x93NUMPY"), "not valid JSON"},
		{"empty", nil, "not valid JSON"},
	}
	if _, err := parseState(good, "ck/state.json"); err != nil {
		t.Fatalf("the valid state does not parse: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseState(c.raw, "ck/state.json")
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "ck/state.json") {
				t.Fatalf("parseState: %v, want an error naming ck/state.json and %q", err, c.want)
			}
		})
	}
}

// validState returns the state.json of a tiny checkpoint saved before its first step (no graph
// is compiled, so fuzzing workers start fast).
func validState(t testing.TB) []byte {
	dir := t.TempDir()
	net, s, data, cfg := tinyConfig(5, 0)
	tr, err := New(backend.MustNew(), net, s, data, cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := tr.Save(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "ckpt-00000000", "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// FuzzState: the state.json parser and validator never panics, and what it accepts is
// consistent (one shape and flag per name, a checksum per file) and survives a round trip.
func FuzzState(f *testing.F) {
	good := validState(f)
	f.Add(good)
	for _, s := range []string{
		`{"step": 1, "names": ["a", "b"], "shapes": [[1]], "frozen": [false, false]}`,
		`{"step": 1, "names": ["a", "b"], "shapes": [[1], [2]], "frozen": [false]}`,
		`{"step": 1, "names": ["a"], "shapes": [[-1]], "frozen": [false]}`,
		`{"step": 1, "names": ["a"], "shapes": [[4294967296, 4294967296]], "frozen": [false]}`,
		`{"step": -1}`, `{}`, `null`, `[]`, `{"names": null}`, `{"sha256": {"a": "b"}}`,
	} {
		f.Add([]byte(s))
	}
	for _, cut := range []int{len(good) / 2, len(good) - 2} {
		f.Add(good[:cut])
	}
	f.Add(bytes.Replace(good, []byte(`"frozen": [`), []byte(`"frozen": [true, `), 1))
	f.Add(bytes.Replace(good, []byte(`"kind": "mlp"`), []byte(`"kind": "ncsnpp", "image": [8, 8, 1], "nf": 8, "ch_mult": [1, 2], "num_res_blocks": 2, "resblock_type": "biggan", "embedding_type": "fourier"`), 1))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := parseState(raw, "state.json")
		if err != nil {
			if !strings.Contains(err.Error(), "state.json") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if len(p.Shapes) != len(p.Names) || len(p.Frozen) != len(p.Names) || p.net == nil || p.sde == nil || p.dataRNG == nil {
			t.Fatalf("accepted an inconsistent state: %+v", p.stateFile)
		}
		paths, shapes := p.tensorFiles()
		if len(paths) != len(shapes) || (p.SHA256 != nil && len(p.SHA256) != len(paths)) {
			t.Fatalf("files %d, shapes %d, checksums %d", len(paths), len(shapes), len(p.SHA256))
		}
		again, err := json.Marshal(p.stateFile)
		if err != nil {
			t.Fatalf("an accepted state does not marshal: %v", err)
		}
		if _, err := parseState(again, "state.json"); err != nil {
			t.Fatalf("an accepted state fails after a round trip: %v\n%s", err, again)
		}
	})
}

// TestTensorFileFormat: checkpoint tensors have exactly lib/npy's bytes (NumPy reads them), and
// the reader refuses files of the wrong size or header before reading more than the shape holds.
func TestTensorFileFormat(t *testing.T) {
	dir := t.TempDir()
	for _, dims := range [][]int{{3}, {2, 5}, {0}, {1, 1, 7}, {}} {
		n, _ := numElems(dims)
		data := make([]float64, n)
		for i := range data {
			data[i] = float64(i) - 0.5
		}
		a, b := filepath.Join(dir, "a.npy"), filepath.Join(dir, "b.npy")
		os.Remove(a)
		if err := npy.Write(a, data, dims...); err != nil {
			t.Fatal(err)
		}
		os.Remove(b)
		if _, err := writeTensor(b, data, dims); err != nil {
			t.Fatal(err)
		}
		ab, _ := os.ReadFile(a)
		bb, _ := os.ReadFile(b)
		if !bytes.Equal(ab, bb) {
			t.Fatalf("shape %v: writeTensor's bytes differ from npy.Write's", dims)
		}
		got, err := readTensor(a, dims, "")
		if err != nil || len(got) != n {
			t.Fatalf("shape %v: reading lib/npy's file: %v", dims, err)
		}
	}
	p := filepath.Join(dir, "c.npy")
	writeTensor(p, []float64{1, 2, 3, 4}, []int{2, 2})
	for _, c := range []struct {
		dims []int
		want string
	}{
		{[]int{4}, "not a float64 C-order .npy array of shape [4]"},
		{[]int{2, 3}, "has 160 bytes, want 176"},
		{[]int{1 << 30, 1 << 30}, "holds more than"},
	} {
		if _, err := readTensor(p, c.dims, ""); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("shape %v: %v, want %q", c.dims, err, c.want)
		}
	}
}

// TestOpenDirCleansAndPermissions: opening a directory removes the .tmp-ckpt-* folders of killed
// saves, and checkpoints are written 0644/0755 less the umask (not 0600/0700).
func TestOpenDirCleansAndPermissions(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, ".tmp-ckpt-123-deadbeef")
	os.MkdirAll(filepath.Join(stale, "params"), 0o700)
	os.WriteFile(filepath.Join(stale, "params", "x.npy"), []byte("half"), 0o600)
	var warn bytes.Buffer
	d, err := OpenDir(dir, &warn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the killed save's folder is still there: %v", err)
	}
	if !strings.Contains(warn.String(), "removed 1 unfinished checkpoint") {
		t.Errorf("warning %q", warn.String())
	}
	net, s, data, cfg := tinyConfig(3, 0)
	tr, err := NewFromDir(backend.MustNew(), net, s, data, cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(nil); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	umask := syscall.Umask(0)
	syscall.Umask(umask)
	filepath.WalkDir(filepath.Join(dir, "ckpt-00000003"), func(p string, e os.DirEntry, err error) error {
		fi, _ := e.Info()
		want := os.FileMode(0o644 &^ umask)
		if e.IsDir() {
			want = os.FileMode(0o755&^umask) | os.ModeDir
		}
		if fi.Mode() != want {
			t.Errorf("%s has mode %v, want %v", p, fi.Mode(), want)
		}
		return nil
	})
	left, _ := filepath.Glob(filepath.Join(dir, ".tmp-ckpt-*"))
	if len(left) > 0 {
		t.Errorf("temporary folders left after saving: %v", left)
	}
}

// makeReadOnly makes dir unwritable even for root (chmod, then chattr +i where chmod is not
// enough), or skips the test when this machine allows neither.
func makeReadOnly(t *testing.T, dir string) {
	t.Helper()
	os.Chmod(dir, 0o555)
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if writable(dir) {
		if exec.Command("chattr", "+i", dir).Run() == nil {
			t.Cleanup(func() { exec.Command("chattr", "-i", dir).Run() })
		}
	}
	if writable(dir) {
		t.Skip("cannot make a read-only directory here (root without chattr)")
	}
}

func writable(dir string) bool {
	f, err := os.CreateTemp(dir, "probe")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

// TestReadOnlyDirFailsAtStart: a read-only checkpoint directory (fresh, or holding a checkpoint
// and its lock file) is refused when the trainer starts, not at the first save.
func TestReadOnlyDirFailsAtStart(t *testing.T) {
	for _, withCkpt := range []bool{false, true} {
		t.Run(map[bool]string{false: "empty", true: "with-checkpoint"}[withCkpt], func(t *testing.T) {
			dir := t.TempDir()
			if withCkpt {
				tinyRun(t, dir, 5, 0)
			}
			makeReadOnly(t, dir)
			net, s, data, cfg := tinyConfig(10, 0)
			_, err := New(backend.MustNew(), net, s, data, cfg, dir)
			if err == nil || !strings.Contains(err.Error(), dir+" is not writable") {
				t.Fatalf("error %v, want %q", err, dir+" is not writable")
			}
		})
	}
}
