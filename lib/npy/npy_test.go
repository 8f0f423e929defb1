package npy

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.npy")
	data := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	for _, shape := range [][]int{{12}, {3, 4}, {2, 3, 2}} {
		if err := Write(p, data, shape...); err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile(p)
		if (len(raw)-len(data)*8)%64 != 0 {
			t.Errorf("header of %d bytes is not 64-aligned", len(raw)-len(data)*8)
		}
		got, gotShape, err := Read(p)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, data) || !slices.Equal(gotShape, shape) {
			t.Errorf("shape %v: read %v %v", shape, got, gotShape)
		}
	}
	pts := [][]float64{{1, 2}, {3, 4}, {5, 6}}
	if err := WritePoints(p, pts); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPoints(p)
	if err != nil || len(got) != 3 || got[2][1] != 6 {
		t.Fatalf("ReadPoints = %v, %v", got, err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if info, _ := os.Stat(p); info.Mode().Perm()&0o044 == 0 {
		t.Errorf("written with mode %v: others cannot read it", info.Mode())
	}
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	nan := filepath.Join(dir, "nan.npy")
	if err := Write(nan, []float64{1, math.NaN()}, 1, 2); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "text.npy")
	os.WriteFile(text, []byte("hello"), 0o644)
	cube := filepath.Join(dir, "cube.npy")
	Write(cube, make([]float64, 8), 2, 2, 2)
	cases := []struct{ path, want string }{
		{nan, "point 0, coordinate 1 is NaN"},
		{text, "not a NumPy .npy file"},
		{cube, "array of shape [2 2 2], want (n, d) points"},
		{filepath.Join(dir, "missing.npy"), "no such file"},
		{dir, "is a directory"},
	}
	for _, c := range cases {
		_, err := ReadPoints(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.path, err, c.want)
		}
	}
	if _, _, err := Read(filepath.Join(dir, "missing.npy")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v does not match fs.ErrNotExist", err)
	}
	for _, shape := range [][]int{{2}, {-1, -1}, {1 << 62, 1 << 62}} {
		if err := Write(filepath.Join(dir, "x.npy"), []float64{1}, shape...); err == nil {
			t.Errorf("shape %v for 1 value accepted", shape)
		}
	}
}

// writeCase stores b as dir/name.npy and returns its path.
func writeCase(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name+".npy")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sameBits reports whether a and b hold the same float64 bits (NaN equals NaN).
func sameBits(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

func TestReadValid(t *testing.T) {
	dir := t.TempDir()
	for _, c := range validCases() {
		t.Run(c.name, func(t *testing.T) {
			got, shape, err := Read(writeCase(t, dir, c.name, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if !sameBits(got, c.want) || !slices.Equal(shape, c.shape) {
				t.Errorf("read %v shape %v, want %v shape %v", got, shape, c.want, c.shape)
			}
		})
	}
}

func TestReadHostile(t *testing.T) {
	dir := t.TempDir()
	for _, c := range badCases() {
		t.Run(c.name, func(t *testing.T) {
			p := writeCase(t, dir, c.name, c.file)
			_, _, err := Read(p)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) {
				t.Errorf("error %q lacks %q", msg, c.want)
			}
			if !strings.HasPrefix(msg, "reading "+p+": ") || strings.Contains(msg, "\n") {
				t.Errorf("error %q is not one line starting with the file's name", msg)
			}
		})
	}
}

// TestReadFIFO reads an array from a FIFO, whose size is known only at its end: the same
// checks hold (trailing data, truncation).
func TestReadFIFO(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		file []byte
		want string // "" for success
	}{
		{"valid", file(1, hdr("<f8", true, "(2, 2)"), f8(1, 3, 2, 4)), ""},
		{"trailing", file(1, hdr("<f8", false, "(1,)"), f8(1, 2)), "trailing data"},
		{"truncated", file(1, hdr("<f8", false, "(3,)"), f8(1, 2)), "the data is truncated"},
		{"over-limit", file(1, hdr("<f8", false, "(65536, 32769)"), f8(1)), "more than the limit of 2147483648 (2^31) values"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name)
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skip("no FIFOs here:", err)
			}
			go func() {
				f, err := os.OpenFile(p, os.O_WRONLY, 0)
				if err != nil {
					return
				}
				f.Write(c.file)
				f.Close()
			}()
			got, _, err := Read(p)
			if c.want == "" {
				if err != nil || !slices.Equal(got, []float64{1, 2, 3, 4}) {
					t.Errorf("read %v, %v", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

// TestMaxValues checks the limit on a regular file without writing 16 GiB: a sparse file of
// the right size.
func TestMaxValues(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.npy")
	b := file(1, hdr("|u1", false, "(2147483649,)"), nil)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, int64(len(b))+MaxValues+1); err != nil {
		t.Skip("no sparse files here:", err)
	}
	_, _, err := Read(p)
	if err == nil || !strings.Contains(err.Error(), "more than the limit of 2147483648 (2^31) values") {
		t.Errorf("error %v, want the limit", err)
	}
}

func TestCheckFinite(t *testing.T) {
	for _, c := range []struct {
		name string
		data []float64
		want string
	}{
		{"finite", []float64{1, -2, 1e308}, ""},
		{"empty", nil, ""},
		{"nan", []float64{1, math.NaN(), math.Inf(1)}, "value 1 of 3 is NaN"},
		{"inf", []float64{math.Inf(-1)}, "value 0 of 1 is -Inf"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckFinite(c.data)
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Errorf("CheckFinite(%v) = %v, want %q", c.data, err, c.want)
			}
		})
	}
}

// TestWriteSpecial writes to /dev/null (left a device) and /dev/full (a clear error).
func TestWriteSpecial(t *testing.T) {
	if err := Write("/dev/null", []float64{1, 2}, 2); err != nil {
		t.Errorf("/dev/null: %v", err)
	}
	if info, err := os.Stat("/dev/null"); err != nil || info.Mode()&fs.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is no longer a device")
	}
	if _, err := os.Stat("/dev/full"); err == nil {
		err := Write("/dev/full", make([]float64, 100), 100)
		if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "/dev/full") {
			t.Errorf("/dev/full: error %v, want ENOSPC naming it", err)
		}
	}
}
