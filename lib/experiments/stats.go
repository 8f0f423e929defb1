package experiments

import (
	"fmt"
	"math"
)

// Stat summarizes one quantity over independent runs: its mean, sample standard deviation and
// the number of runs. The zero Stat (N = 0) stands for "no value".
type Stat struct {
	// Mean is the average over the runs (+Inf when any run diverged).
	Mean float64
	// SD is the sample standard deviation, with the n−1 divisor; NaN when N < 2.
	SD float64
	// N is the number of runs.
	N int
}

// Summarize returns the mean and sample standard deviation (divisor n−1) of xs. With one value
// SD is NaN (a spread needs two runs); with a non-finite value the mean is non-finite and SD NaN;
// with none it returns the zero Stat.
func Summarize(xs []float64) Stat {
	n := len(xs)
	if n == 0 {
		return Stat{}
	}
	mean := 0.0
	for _, x := range xs {
		mean += x
	}
	mean /= float64(n)
	if n < 2 || math.IsInf(mean, 0) || math.IsNaN(mean) {
		return Stat{Mean: mean, SD: math.NaN(), N: n}
	}
	ss := 0.0
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return Stat{Mean: mean, SD: math.Sqrt(ss / float64(n-1)), N: n}
}

// SE is the standard error of the mean, SD/√N (NaN when N < 2).
func (s Stat) SE() float64 {
	if s.N < 2 {
		return math.NaN()
	}
	return s.SD / math.Sqrt(float64(s.N))
}

// Format prints the Stat as "mean ± sd" with the verb f for both numbers (e.g. "%.3f"), only the
// mean when SD is not finite, and "–" for the zero Stat.
func (s Stat) Format(f string) string {
	switch {
	case s.N == 0 || math.IsNaN(s.Mean):
		return "–"
	case math.IsNaN(s.SD) || math.IsInf(s.SD, 0):
		return fmt.Sprintf(f, s.Mean)
	}
	return fmt.Sprintf(f+" ± "+f, s.Mean, s.SD)
}

// String is Format("%.3f"), e.g. "0.200 ± 0.058".
func (s Stat) String() string { return s.Format("%.3f") }

// Diff returns the difference of the means a − b of two independent sets of runs and its standard
// error √(SE_a² + SE_b²). A difference smaller than about two standard errors is within the
// run-to-run noise (with 5 runs per side, |d| > 2·se happens by chance about one time in 12).
func Diff(a, b Stat) (d, se float64) {
	return a.Mean - b.Mean, math.Hypot(a.SE(), b.SE())
}

// differs reports whether the means of a and b are more than z standard errors of their
// difference apart (false when either spread is unknown).
func differs(a, b Stat, z float64) bool {
	d, se := Diff(a, b)
	return se > 0 && math.Abs(d) > z*se
}
