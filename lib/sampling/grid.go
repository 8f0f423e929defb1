package sampling

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/scoresde/scoresde/lib/sde"
)

// A time grid is the sequence of times a solver visits, t_0 = T > t_1 > … > t_N = ε: N steps,
// N+1 times, decreasing. It is built outside the solver and passed in (as k-diffusion passes σ),
// so every grid works with every solver and every SDE: each SDE maps between t and the noise
// level σ(t) = s(t)/m(t) (sde.SDE.Sigma, TimeOf), and the half log-SNR is λ = −log σ.

// Schedule builds a grid of n steps from T down to eps for an SDE.
type Schedule struct {
	// Name is the registry name ("uniform", "logsnr", "karras", "edm").
	Name string
	// Summary is one line for listings.
	Summary string
	// Build returns the n+1 times.
	Build func(s sde.SDE, n int, eps float64) []float64
}

// schedules is the registry of grids, by name.
var schedules = map[string]Schedule{}

// RegisterSchedule adds a grid builder to the registry (at init time).
func RegisterSchedule(g Schedule) { schedules[g.Name] = g }

// Schedules lists the registered grid names, sorted.
func Schedules() []string {
	out := make([]string, 0, len(schedules))
	for n := range schedules {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// LookupSchedule returns the grid builder of that name.
func LookupSchedule(name string) (Schedule, error) {
	g, ok := schedules[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Schedule{}, fmt.Errorf("unknown schedule %q: use one of %s", name, strings.Join(Schedules(), ", "))
	}
	return g, nil
}

// MakeGrid builds the named grid of n steps from T to eps (0 selects the SDE's default ε) and
// checks it.
func MakeGrid(s sde.SDE, schedule string, n int, eps float64) ([]float64, error) {
	g, err := LookupSchedule(schedule)
	if err != nil {
		return nil, err
	}
	if n < 1 {
		return nil, fmt.Errorf("steps=%d, want ≥ 1", n)
	}
	if n > MaxSteps {
		return nil, fmt.Errorf("steps=%d exceeds the limit of %d steps: no solver needs more", n, MaxSteps)
	}
	if eps == 0 {
		eps = s.DefaultEps()
	}
	if math.IsNaN(eps) || eps <= 0 || eps >= s.T() {
		return nil, fmt.Errorf("eps=%g, want 0 < eps < T=%g (0 selects the default %g)", eps, s.T(), s.DefaultEps())
	}
	ts := g.Build(s, n, eps)
	return ts, CheckGrid(s, ts)
}

// MaxSteps bounds the steps of a grid (and of every sampler loop): 10⁶ steps already take hours
// on a toy and a grid of them holds 8 MB.
const MaxSteps = 1_000_000

// CheckGrid reports a grid that is not a decreasing sequence of at least two finite times in [0, T].
func CheckGrid(s sde.SDE, ts []float64) error {
	if len(ts) < 2 {
		return fmt.Errorf("time grid of %d times: want at least 2 (one step)", len(ts))
	}
	for i, t := range ts {
		if math.IsNaN(t) || t < 0 || t > s.T() {
			return fmt.Errorf("time grid: t[%d]=%g outside [0, T=%g]", i, t, s.T())
		}
		if i > 0 && !(t < ts[i-1]) {
			return fmt.Errorf("time grid: t[%d]=%g is not below t[%d]=%g: grids decrease from T to ε", i, t, i-1, ts[i-1])
		}
	}
	return nil
}

// UniformTime is the references' grid: n+1 times equally spaced in t from T to eps.
func UniformTime(s sde.SDE, n int, eps float64) []float64 { return Linspace(s.T(), eps, n+1) }

// UniformLogSNR spaces the times equally in the half log-SNR λ(t) = −log σ(t), from λ(T) to λ(eps)
// (DPM-Solver's grid).
func UniformLogSNR(s sde.SDE, n int, eps float64) []float64 {
	ls := Linspace(sde.LogSNR(s, s.T()), sde.LogSNR(s, eps), n+1)
	return fromSigmas(s, ls, func(l float64) float64 { return math.Exp(-l) }, eps)
}

// Karras is the grid of Karras et al. (2022) with exponent rho: σ_i = (σmax^{1/ρ} + i/n·(σmin^{1/ρ} −
// σmax^{1/ρ}))^ρ between σ(T) and σ(eps), mapped to times (ρ = 7 is EDM's choice).
func Karras(s sde.SDE, n int, eps, rho float64) []float64 {
	hi, lo := math.Pow(s.Sigma(s.T()), 1/rho), math.Pow(s.Sigma(eps), 1/rho)
	return fromSigmas(s, Linspace(hi, lo, n+1), func(u float64) float64 { return math.Pow(u, rho) }, eps)
}

// EDM is the Karras ρ = 7 grid over EDM's noise range σ ∈ [0.002, 80], clipped to the SDE's own
// range [σ(eps), σ(T)].
func EDM(s sde.SDE, n int, eps float64) []float64 {
	hi := math.Min(80, s.Sigma(s.T()))
	lo := math.Max(0.002, s.Sigma(eps))
	if lo >= hi {
		lo = s.Sigma(eps)
	}
	ts := fromSigmas(s, Linspace(math.Pow(hi, 1/7.0), math.Pow(lo, 1/7.0), n+1), func(u float64) float64 { return math.Pow(u, 7) }, -1)
	ts[0] = s.T() // start at the prior, whose σ(T) is at least hi
	return ts
}

// fromSigmas maps grid values u through sigma(u) and the SDE's TimeOf to times; the first time is
// T and the last is end (unless end < 0), so round-off never moves the ends.
func fromSigmas(s sde.SDE, us []float64, sigma func(float64) float64, end float64) []float64 {
	ts := make([]float64, len(us))
	for i, u := range us {
		ts[i] = s.TimeOf(sigma(u))
	}
	ts[0] = s.T()
	if end >= 0 {
		ts[len(ts)-1] = end
	}
	return ts
}

func init() {
	RegisterSchedule(Schedule{Name: "uniform", Summary: "equal steps in t (the references' linspace(T, ε, N))", Build: UniformTime})
	RegisterSchedule(Schedule{Name: "logsnr", Summary: "equal steps in the log-SNR λ = −log σ (DPM-Solver)", Build: UniformLogSNR})
	RegisterSchedule(Schedule{Name: "karras", Summary: "Karras et al. ρ = 7 steps in σ between σ(T) and σ(ε)", Build: func(s sde.SDE, n int, eps float64) []float64 {
		return Karras(s, n, eps, 7)
	}})
	RegisterSchedule(Schedule{Name: "edm", Summary: "EDM's ρ = 7 steps over σ ∈ [0.002, 80], clipped to the SDE's range", Build: EDM})
}
