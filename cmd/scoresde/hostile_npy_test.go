package main

import (
	"bytes"
	"encoding/binary"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/scoresde/scoresde/lib/npy"
	"github.com/scoresde/scoresde/lib/npy/npytest"
)

// npyFile and npyRaw build .npy files byte by byte (npytest.File and npytest.Raw).
var npyFile, npyRaw = npytest.File, npytest.Raw

// npyHdr is the header NumPy writes for descr, fortran order and a shape tuple.
func npyHdr(descr, fortran, shape string) string {
	return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }"
}

// npyF8 is the little-endian float64 bytes of vs.
func npyF8(vs ...float64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

// hostileNpy are .npy files that every command reading points must refuse with one clear line.
var hostileNpy = []struct {
	name string
	file []byte
	want string
}{
	{"empty", nil, "the file is empty: not a NumPy .npy file"},
	{"text", []byte("x,y\n1,2\n"), "not a NumPy .npy file"},
	{"version-4", append([]byte("\x93NUMPY\x04\x00"), npyFile(1, npyHdr("<f8", "False", "(1, 2)"), npyF8(1, 2))[8:]...), "version 4.0 is not supported"},
	{"header-4gib", npyRaw(2, math.MaxUint32, "{'descr'", nil), "the header claims 4294967295 bytes but the file has only 8"},
	{"no-newline", npyRaw(1, uint32(len(npyHdr("<f8", "False", "(1, 2)"))), npyHdr("<f8", "False", "(1, 2)"), npyF8(1, 2)), "does not end in a newline"},
	{"no-closing-brace", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), ", npyF8(1, 2)), "no closing '}'"},
	{"unknown-key", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), 'x': 1}", npyF8(1, 2)), `unknown key "x"`},
	{"missing-key", npyFile(1, "{'descr': '<f8', 'shape': (1, 2)}", npyF8(1, 2)), `lacks the key "fortran_order"`},
	{"negative-shape", npyFile(1, npyHdr("<f8", "False", "(-1, 2)"), npyF8(1, 2)), "negative dimension"},
	{"product-overflow", npyFile(1, npyHdr("<f8", "False", "(4294967296, 4294967296)"), npyF8(1, 2)), "the product of the dimensions overflows"},
	{"huge-claim", npyFile(1, npyHdr("<f8", "False", "(1000000000, 2)"), npyF8(1, 2)), "the data is truncated: shape (1000000000, 2) of <f8 needs 16000000000 bytes, the file holds 16 bytes"},
	{"truncated", npyFile(1, npyHdr("<f8", "False", "(2, 2)"), npyF8(1, 2, 3)), "the data is truncated"},
	{"trailing", npyFile(1, npyHdr("<f8", "False", "(1, 2)"), npyF8(1, 2, 3, 4)), "16 bytes of trailing data"},
	{"complex", npyFile(1, npyHdr("<c16", "False", "(1, 2)"), make([]byte, 32)), "complex numbers"},
	{"structured", npyFile(1, "{'descr': [('x', '<f8'), ('y', '<f8')], 'fortran_order': False, 'shape': (1,)}", npyF8(1, 2)), "structured arrays are not supported"},
}

// mkfifo makes a FIFO at p, skipping the test where there are none.
func mkfifo(t *testing.T, p string) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
}

// oldReport is the content of a previous eval report that failing runs must leave alone.
const oldReport = `{"sw2": 0.1, "note": "the previous report"}` + "\n"

func init() {
	// Each hostile file where eval, likelihood and fd read it; the old report stays.
	for _, h := range hostileNpy {
		setup := func(t *testing.T, dir string) {
			writeFile(t, dir, "bad.npy", h.file)
			writeFile(t, dir, "rep.json", []byte(oldReport))
		}
		hostileCases = append(hostileCases,
			hostileCase{name: "npy-eval-" + h.name, setup: setup,
				args: []string{"eval", "--data", "ncsn", "--samples", "{dir}/bad.npy", "--json", "{dir}/rep.json"},
				code: 1, want: h.want, untouched: []string{"bad.npy", "rep.json"}},
		)
	}
	for _, h := range hostileNpy[len(hostileNpy)-4:] {
		setup := func(t *testing.T, dir string) { writeFile(t, dir, "bad.npy", h.file) }
		hostileCases = append(hostileCases,
			hostileCase{name: "npy-likelihood-" + h.name, setup: setup,
				args: []string{"likelihood", "--points", "{dir}/bad.npy", "--out", "{dir}/logp.npy"},
				code: 1, want: h.want, untouched: []string{"bad.npy", "logp.npy"}},
			hostileCase{name: "npy-fd-" + h.name, setup: setup,
				args: []string{"fd", "--samples", "{dir}/bad.npy", "--json", "{dir}/fd.json"},
				code: 1, want: h.want, untouched: []string{"bad.npy", "fd.json"}},
		)
	}
	samples := func(t *testing.T, dir string) {
		if err := npy.WritePoints(filepath.Join(dir, "s.npy"), [][]float64{{1, 2}, {-3, 4}, {5, -6}, {0, 1}}); err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, "rep.json", []byte(oldReport))
	}
	hostileCases = append(hostileCases,
		hostileCase{name: "npy-directory", setup: samples,
			args: []string{"eval", "--samples", "{dir}", "--json", "{dir}/rep.json"},
			code: 1, want: "is a directory: pass a .npy file", untouched: []string{"rep.json"}},
		// NumPy's other layouts are read: float32, Fortran order, big-endian, version 2.0.
		hostileCase{name: "npy-layouts-accepted", setup: func(t *testing.T, dir string) {
			f4 := binary.LittleEndian.AppendUint32(nil, math.Float32bits(1))
			for _, v := range []float32{3, 2, 4} { // [[1 2] [3 4]] stored column by column
				f4 = binary.LittleEndian.AppendUint32(f4, math.Float32bits(v))
			}
			writeFile(t, dir, "f4.npy", npyFile(2, "{'shape':(2,2),'fortran_order':True,'descr':'<f4'}", f4))
		}, args: []string{"eval", "--samples", "{dir}/f4.npy", "--floor=false"}, code: 0},
		// A metric that is not finite: the report is not written, the old one stays.
		hostileCase{name: "out-json-nonfinite", setup: func(t *testing.T, dir string) {
			huge := [][]float64{{1e200, 1e200}, {-1e200, 1e200}, {1e200, -1e200}, {3, 4}}
			if err := npy.WritePoints(filepath.Join(dir, "huge.npy"), huge); err != nil {
				t.Fatal(err)
			}
			writeFile(t, dir, "rep.json", []byte(oldReport))
		}, args: []string{"eval", "--samples", "{dir}/huge.npy", "--json", "{dir}/rep.json", "--floor=false"},
			code: 1, want: "is +Inf, which JSON cannot hold", untouched: []string{"rep.json", "huge.npy"}},
		hostileCase{name: "out-json-is-samples", setup: samples,
			args: []string{"eval", "--samples", "{dir}/s.npy", "--json", "{dir}/./s.npy"},
			code: 2, want: "is the --samples file: name another file", untouched: []string{"s.npy"}},
		hostileCase{name: "out-json-directory", setup: func(t *testing.T, dir string) {
			samples(t, dir)
			writeFile(t, dir, "reports/keep.txt", []byte("keep"))
		}, args: []string{"eval", "--samples", "{dir}/s.npy", "--json", "{dir}/reports", "--floor=false"},
			code: 1, want: "is a directory: name a file inside it", untouched: []string{"reports/keep.txt"}},
		hostileCase{name: "out-json-dev-full", setup: samples,
			args: []string{"eval", "--samples", "{dir}/s.npy", "--json", "/dev/full", "--floor=false"},
			code: 1, want: "writing /dev/full: no space left on device"},
		hostileCase{name: "out-json-dev-null", setup: samples,
			args: []string{"eval", "--samples", "{dir}/s.npy", "--json", "/dev/null", "--floor=false"}, code: 0},
		hostileCase{name: "out-sample-dev-full",
			args: []string{"sample", "--n", "8", "--steps", "3", "--out", "/dev/full", "--quiet"},
			code: 1, want: "writing /dev/full: no space left on device"},
	)
}

// TestOutSpecialFiles writes command outputs to /dev/null and to a FIFO: the bytes arrive and
// the special files stay special (an atomic rename would replace them by regular files).
func TestOutSpecialFiles(t *testing.T) {
	special := func(t *testing.T, p string, mode fs.FileMode) {
		t.Helper()
		info, err := os.Lstat(p)
		if err != nil || info.Mode()&mode == 0 {
			t.Fatalf("%s is no longer special: %v %v", p, info.Mode(), err)
		}
	}
	t.Run("out-sample-dev-null", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"sample", "--n", "8", "--steps", "3", "--out", "/dev/null", "--quiet"}, &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		special(t, "/dev/null", fs.ModeCharDevice)
	})
	t.Run("out-sample-fifo", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "pipe.npy")
		mkfifo(t, p)
		got := make(chan []byte, 1)
		go func() {
			f, err := os.Open(p)
			if err != nil {
				got <- nil
				return
			}
			b, _ := io.ReadAll(f)
			f.Close()
			got <- b
		}()
		var stdout, stderr bytes.Buffer
		code := run([]string{"sample", "--n", "8", "--steps", "3", "--out", p, "--quiet"}, &stdout, &stderr)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		b := <-got
		special(t, p, fs.ModeNamedPipe)
		q := filepath.Join(dir, "copy.npy")
		os.WriteFile(q, b, 0o644)
		if pts, err := npy.ReadPoints(q); err != nil || len(pts) != 8 || len(pts[0]) != 2 {
			t.Errorf("the FIFO's reader got %d bytes: %v", len(b), err)
		}
		if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) > 0 {
			t.Errorf("temporary files left: %v", left)
		}
	})
}

// TestWriteJSONRefusesNonFinite checks that writeJSON names the first non-finite metric, even
// inside a list, and leaves the old report as it was; finite reports are written.
func TestWriteJSONRefusesNonFinite(t *testing.T) {
	type report struct {
		N       int       `json:"n"`
		SW2     float64   `json:"sw2"`
		Modes   []float64 `json:"mode_weights,omitempty"`
		Skipped float64   `json:"-"`
		Plain   float64
	}
	for _, c := range []struct {
		name string
		rep  any
		want string // "" for a report that is written
	}{
		{"finite", &report{N: 3, SW2: 0.5, Modes: []float64{0.2, 0.8}, Skipped: math.NaN()}, ""},
		{"nan", report{SW2: math.NaN()}, "metric sw2 is NaN"},
		{"inf-in-list", &report{Modes: []float64{0.5, math.Inf(-1)}}, "metric mode_weights[1] is -Inf"},
		{"untagged", report{Plain: math.Inf(1)}, "metric Plain is +Inf"},
		{"nested", struct {
			Inner report `json:"inner"`
		}{report{SW2: math.NaN()}}, "metric inner.sw2 is NaN"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "rep.json")
			os.WriteFile(p, []byte(oldReport), 0o644)
			err := writeJSON(p, c.rep)
			b, _ := os.ReadFile(p)
			if c.want == "" {
				if err != nil || !bytes.Contains(b, []byte(`"sw2": 0.5`)) {
					t.Errorf("writeJSON: %v; file %q", err, b)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
			if string(b) != oldReport {
				t.Errorf("the old report changed to %q", b)
			}
		})
	}
}
