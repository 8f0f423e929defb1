package metrics

import (
	"fmt"
	"testing"

	"github.com/scoresde/scoresde/toy"
)

// benchSets returns two independent ncsn samples of n points in 2-D.
func benchSets(b *testing.B, n int) (x, y [][]float64) {
	m := ncsn(b)
	return m.Sample(toy.NewRand(1), n), m.Sample(toy.NewRand(2), n)
}

func benchMetric(b *testing.B, f func(x, y [][]float64) error) {
	for _, n := range []int{2000, 10000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			x, y := benchSets(b, n)
			for b.Loop() {
				if err := f(x, y); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSlicedW2(b *testing.B) {
	benchMetric(b, func(x, y [][]float64) error { _, err := SlicedW2(x, y, DefaultProjections, 1); return err })
}

func BenchmarkMMD(b *testing.B) {
	benchMetric(b, func(x, y [][]float64) error { _, err := MMD(x, y, 0); return err })
}

func BenchmarkMedianBandwidth(b *testing.B) {
	benchMetric(b, func(x, y [][]float64) error { _, err := MedianBandwidth(x, y); return err })
}

func BenchmarkEnergyDistance(b *testing.B) {
	benchMetric(b, func(x, y [][]float64) error { _, err := EnergyDistance(x, y); return err })
}

func BenchmarkModeWeights(b *testing.B) {
	m := ncsn(b)
	benchMetric(b, func(x, _ [][]float64) error { _, err := ModeWeights(m, x); return err })
}

func BenchmarkEvaluate(b *testing.B) {
	m := ncsn(b)
	benchMetric(b, func(x, y [][]float64) error { _, err := Evaluate(x, y, m, 1); return err })
}
