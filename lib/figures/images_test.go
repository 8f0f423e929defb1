package figures

import (
	"math"
	"testing"

	"github.com/scoresde/scoresde/lib/sde"
)

func TestImagesAndDiffusion(t *testing.T) {
	x0 := [][]float64{{-1, 1, 0, 0.5}, {1, 1, 1, 1}}
	s := sde.NewVP()
	rows := Diffusion(s, x0, []float64{0, 0.5, 1}, 1)
	if len(rows) != 6 {
		t.Fatalf("%d rows, want 2 images × 3 times", len(rows))
	}
	for j, v := range rows[0] {
		if v != x0[0][j] {
			t.Fatalf("t = 0 must return the image unchanged: %v", rows[0])
		}
	}
	// One noise draw per image across its times: (x_t − m(t)·x0)/s(t) is the same z at t = 0.5 and 1.
	for i := range x0 {
		for j := range x0[i] {
			z1 := (rows[3*i+1][j] - s.MeanCoeff(0.5)*x0[i][j]) / s.Std(0.5)
			z2 := (rows[3*i+2][j] - s.MeanCoeff(1)*x0[i][j]) / s.Std(1)
			if math.Abs(z1-z2) > 1e-9 || z1 == 0 {
				t.Fatalf("image %d pixel %d: noise %g at t=0.5 and %g at t=1, want the same nonzero draw", i, j, z1, z2)
			}
		}
	}
	img, err := Images(x0, []int{2, 2, 1}, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	big := Enlarge(img, 3)
	if big.Bounds().Dx() != 3*img.Bounds().Dx() || big.Bounds().Dy() != 3*img.Bounds().Dy() {
		t.Fatalf("Enlarge ×3 of %v gave %v", img.Bounds(), big.Bounds())
	}
	// The first image's first pixel is −1 (centered) → black; its second is 1 → white.
	r0, _, _, _ := big.At(3*2, 3*2).RGBA()
	r1, _, _, _ := big.At(3*3, 3*2).RGBA()
	if r0 != 0 || r1 != 0xffff {
		t.Fatalf("pixels %d and %d, want black then white", r0, r1)
	}
	if _, err := Images(x0, []int{2, 2}, false, 2); err == nil {
		t.Fatal("a 2-value shape must be refused")
	}
}
