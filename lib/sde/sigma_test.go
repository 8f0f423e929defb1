package sde

import (
	"math"
	"testing"
)

// TestSigmaAndTimeOf: σ(t) = s(t)/m(t) for every SDE, increasing, and TimeOf inverts it to
// 1e-9 over [1e-5, T], including the small times where samplers end.
func TestSigmaAndTimeOf(t *testing.T) {
	for _, s := range []SDE{NewVE(), NewVP(), NewSubVP(), &VP{Beta0: 1, Beta1: 1, NumScales: 10, EndTime: 2}} {
		t.Run(s.Name(), func(t *testing.T) {
			prev := 0.0
			for _, tt := range []float64{1e-5, 1e-4, 1e-3, 0.01, 0.1, 0.3, 0.5, 0.9, s.T()} {
				sig := s.Sigma(tt)
				if want := s.Std(tt) / s.MeanCoeff(tt); math.Abs(sig-want) > 1e-12*want {
					t.Errorf("Sigma(%g) = %.15g, want s/m = %.15g", tt, sig, want)
				}
				if !(sig > prev) {
					t.Errorf("Sigma(%g) = %g not above Sigma at the previous time %g", tt, sig, prev)
				}
				prev = sig
				if back := s.TimeOf(sig); math.Abs(back-tt) > 1e-9*math.Max(tt, 1e-3) {
					t.Errorf("TimeOf(Sigma(%g)) = %.12g", tt, back)
				}
				if l := LogSNR(s, tt); math.Abs(TimeOfLogSNR(s, l)-tt) > 1e-9*math.Max(tt, 1e-3) {
					t.Errorf("TimeOfLogSNR(LogSNR(%g)) = %g", tt, TimeOfLogSNR(s, l))
				}
			}
			if got := s.TimeOf(1e30); got != s.T() {
				t.Errorf("TimeOf(1e30) = %g, want T clamped", got)
			}
		})
	}
}

// TestWithN: one reflective copy serves every SDE: N changes, the rest is kept, the original is untouched.
func TestWithN(t *testing.T) {
	for _, s := range []SDE{NewVE(), NewVP(), NewSubVP()} {
		t.Run(s.Name(), func(t *testing.T) {
			c, err := WithN(s, 50)
			if err != nil {
				t.Fatal(err)
			}
			if c.N() != 50 || s.N() != 1000 || c.Name() != s.Name() || c.Sigma(0.5) != s.Sigma(0.5) {
				t.Errorf("WithN(50): N %d (original %d), name %s, σ(0.5) %g vs %g", c.N(), s.N(), c.Name(), c.Sigma(0.5), s.Sigma(0.5))
			}
			if _, err := WithN(s, 0); err == nil {
				t.Errorf("WithN(0) accepted")
			}
		})
	}
}
