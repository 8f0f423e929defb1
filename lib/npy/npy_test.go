package npy

import (
	"math"
	"os"
	"path/filepath"
	"strings"
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
		if len(got) != len(data) || got[11] != 12 || len(gotShape) != len(shape) {
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
	}
	for _, c := range cases {
		_, err := ReadPoints(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.path, err, c.want)
		}
	}
	if err := Write(filepath.Join(dir, "x.npy"), []float64{1}, 2); err == nil {
		t.Error("shape mismatch accepted")
	}
}
