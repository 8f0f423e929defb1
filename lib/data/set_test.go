package data

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/scoresde/scoresde/internal/sharedtest"
)

func TestSet(t *testing.T) {
	m := &Images{H: 2, W: 2, C: 1, Pixels: []uint8{0, 255, 0, 255, 51, 51, 51, 51}, Labels: []int{3, 7}}
	s, err := NewSet(m, true)
	if err != nil {
		t.Fatal(err)
	}
	if s.Dim() != 4 {
		t.Fatalf("Dim %d, want 4", s.Dim())
	}
	r := rand.New(rand.NewPCG(1, 2))
	x, labels := s.SampleLabeled(r, 200)
	seen := map[int]int{}
	for i, row := range x {
		seen[labels[i]]++
		want := []float64{-1, 1, -1, 1}
		if labels[i] == 7 {
			v := 2*51.0/255 - 1
			want = []float64{v, v, v, v}
		}
		for j := range row {
			if math.Abs(row[j]-want[j]) > 1e-6 {
				t.Fatalf("image %d (label %d): %v, want %v", i, labels[i], row, want)
			}
		}
	}
	if seen[3] < 70 || seen[7] < 70 {
		t.Fatalf("labels drawn %v: want both images about half the time", seen)
	}
	s.Centered, s.Dequantize = false, true
	for _, row := range s.Sample(r, 50) {
		for _, v := range row {
			k := math.Floor(v * 256) // the byte's bin
			if !(k == 0 || k == 255 || k == 51) {
				t.Fatalf("dequantized value %g is outside the bins of 0, 51 and 255", v)
			}
		}
	}
	rows := s.Rows(1, 5)
	if len(rows) != 1 || math.Abs(rows[0][0]-0.2) > 1e-9 {
		t.Fatalf("Rows(1, 5) = %v, want the one image of value 0.2", rows)
	}
	if _, err := NewSet(&Images{H: 2, W: 2, C: 1}, false); err == nil {
		t.Fatal("NewSet of no images: want an error")
	}
}

func TestSetMNIST(t *testing.T) {
	m, err := LoadMNIST(sharedtest.MNISTDir(t), "train")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := NewSet(m, false)
	x := s.Sample(rand.New(rand.NewPCG(3, 4)), 64)
	mean := 0.0
	for _, row := range x {
		for _, v := range row {
			mean += v
		}
	}
	mean /= float64(64 * 784)
	// MNIST's mean pixel is 0.1307 over the full training set.
	if math.Abs(mean-0.1307) > 0.03 {
		t.Fatalf("mean pixel of 64 MNIST digits %g, want about 0.13", mean)
	}
}
