package guidance

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pixelMask checks that a mask row is 0/1, equal over the channels of each pixel, and returns the
// known flag of each pixel.
func pixelMask(t *testing.T, m []float64, h, w, c int) []bool {
	t.Helper()
	if len(m) != h*w*c {
		t.Fatalf("mask has %d values, want %d", len(m), h*w*c)
	}
	known := make([]bool, h*w)
	for p := range known {
		for j := range c {
			v := m[p*c+j]
			if v != 0 && v != 1 {
				t.Fatalf("mask value %g at pixel %d, want 0 or 1", v, p)
			}
			if v != m[p*c] {
				t.Fatalf("pixel %d: channels differ", p)
			}
		}
		known[p] = m[p*c] == 1
	}
	return known
}

func TestMaskFromName(t *testing.T) {
	const h, w, c = 6, 8, 3
	cases := []struct {
		name string
		want func(y, x int) bool
	}{
		{"left", func(_, x int) bool { return x < 4 }},
		{"right", func(_, x int) bool { return x >= 4 }},
		{"top", func(y, _ int) bool { return y < 3 }},
		{"bottom", func(y, _ int) bool { return y >= 3 }},
		{"center", func(y, x int) bool { return !(y >= 1 && y < 4 && x >= 2 && x < 6) }},
		{"checkerboard", func(y, x int) bool { return (y+x)%2 == 0 }}, // side min(6, 8)/4 = 1
		{"checkerboard:2", func(y, x int) bool { return (y/2+x/2)%2 == 0 }},
	}
	for _, tc := range cases {
		m, err := MaskFromName(tc.name, h, w, c)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		known := pixelMask(t, m, h, w, c)
		for y := range h {
			for x := range w {
				if known[y*w+x] != tc.want(y, x) {
					t.Errorf("%s: pixel (y=%d, x=%d) known=%v", tc.name, y, x, known[y*w+x])
				}
			}
		}
	}
	// 32×32 checkerboard: 8-pixel blocks.
	m, _ := MaskFromName("checkerboard", 32, 32, 1)
	for _, p := range [][3]int{{0, 0, 1}, {7, 7, 1}, {0, 8, 0}, {8, 0, 0}, {8, 8, 1}, {31, 31, 1}, {31, 16, 0}} {
		if m[p[0]*32+p[1]] != float64(p[2]) {
			t.Errorf("checkerboard 32×32 at (%d, %d) = %g, want %d", p[0], p[1], m[p[0]*32+p[1]], p[2])
		}
	}
	// Random masks: the fraction, determinism, and the seed.
	a, err := MaskFromName("random:0.3", 64, 64, 2)
	if err != nil {
		t.Fatal(err)
	}
	known := pixelMask(t, a, 64, 64, 2)
	share := 0.0
	for _, k := range known {
		if k {
			share += 1 / float64(len(known))
		}
	}
	if math.Abs(share-0.3) > 0.03 { // 4.2 standard deviations
		t.Errorf("random:0.3 knows %.3f of the pixels", share)
	}
	b, _ := MaskFromName("random:0.3", 64, 64, 2)
	c2, _ := MaskFromName("random:0.3:7", 64, 64, 2)
	same, diff := true, false
	for i := range a {
		same = same && a[i] == b[i]
		diff = diff || a[i] != c2[i]
	}
	if !same || !diff {
		t.Errorf("random masks: same seed equal %v, other seed differs %v", same, diff)
	}
	for _, p := range []string{"random:0", "random:1"} {
		m, _ := MaskFromName(p, 4, 4, 1)
		for _, v := range m {
			if v != float64(p[len(p)-1]-'0') {
				t.Errorf("%s has a value %g", p, v)
			}
		}
	}
	for _, bad := range []string{"", "middle", "left:2", "random", "random:1.5", "random:x", "random:0.5:-1", "checkerboard:0", "checkerboard:a"} {
		if _, err := MaskFromName(bad, h, w, c); err == nil {
			t.Errorf("mask %q accepted", bad)
		} else if !strings.Contains(err.Error(), "mask") {
			t.Errorf("mask %q: error %q does not say it is about a mask", bad, err)
		}
	}
	if _, err := MaskFromName("left", 0, 4, 1); err == nil {
		t.Error("a 0×4 image accepted")
	}
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestMaskFromPNG(t *testing.T) {
	dir := t.TempDir()
	const h, w = 5, 7
	gray := image.NewGray(image.Rect(0, 0, w, h))
	rgb := image.NewRGBA(image.Rect(0, 0, w, h))
	want := make([]bool, h*w)
	for y := range h {
		for x := range w {
			k := (x+2*y)%3 != 0
			want[y*w+x] = k
			v := uint8(20)
			if k {
				v = 230
			}
			gray.SetGray(x, y, color.Gray{Y: v})
			rgb.Set(x, y, color.RGBA{v, v, v, 255})
		}
	}
	for name, img := range map[string]image.Image{"gray.png": gray, "rgb.png": rgb} {
		path := filepath.Join(dir, name)
		writePNG(t, path, img)
		m, err := MaskFromPNG(path, h, w, 3)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		known := pixelMask(t, m, h, w, 3)
		for i := range want {
			if known[i] != want[i] {
				t.Errorf("%s: pixel %d known=%v, want %v", name, i, known[i], want[i])
			}
		}
	}
	// A mask read from a file equals the named one drawn the same way.
	left, _ := MaskFromName("left", h, w, 1)
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i, v := range left {
		img.Pix[i] = uint8(255 * v)
	}
	path := filepath.Join(dir, "left.png")
	writePNG(t, path, img)
	if m, err := MaskFromPNG(path, h, w, 1); err != nil {
		t.Fatal(err)
	} else {
		for i := range m {
			if m[i] != left[i] {
				t.Fatalf("left.png differs from the named mask at %d", i)
			}
		}
	}
	// Errors name the file and the problem.
	colour := image.NewRGBA(image.Rect(0, 0, w, h))
	colour.Set(3, 2, color.RGBA{255, 0, 0, 255})
	writePNG(t, filepath.Join(dir, "colour.png"), colour)
	if err := os.WriteFile(filepath.Join(dir, "text.png"), []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, says string }{
		{"gray.png", "5×7"}, // asked for 7×5 below
		{"colour.png", "x=3, y=2"},
		{"text.png", "not a readable PNG"},
		{"missing.png", "missing.png"},
	} {
		hh, ww := h, w
		if tc.file == "gray.png" {
			hh, ww = w, h
		}
		_, err := MaskFromPNG(filepath.Join(dir, tc.file), hh, ww, 1)
		if err == nil {
			t.Errorf("%s accepted", tc.file)
			continue
		}
		if !strings.Contains(err.Error(), tc.file) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: error %q should name the file and say %q", tc.file, err, tc.says)
		}
	}
}
