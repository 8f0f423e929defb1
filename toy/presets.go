package toy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
)

// presets maps names to constructors. Mixtures have exact scores; shapes only sample.
var presets = map[string]func() Distribution{
	// ncsn is the NCSN toy 0.8·N((5,5), I) + 0.2·N((−5,−5), I).
	"ncsn": func() Distribution {
		return mustMixture("ncsn", []float64{0.8, 0.2}, [][]float64{{5, 5}, {-5, -5}}, isoCovs(2, 2, 1))
	},
	// 8gaussians: eight equal components on a circle of radius 4, std 0.5.
	"8gaussians": func() Distribution {
		var means [][]float64
		for k := range 8 {
			a := float64(k) * math.Pi / 4
			means = append(means, []float64{4 * math.Cos(a), 4 * math.Sin(a)})
		}
		return mustMixture("8gaussians", equal(8), means, isoCovs(8, 2, 0.25))
	},
	// 25gaussians: a 5×5 grid of equal components at {−4,−2,0,2,4}², std 0.3.
	"25gaussians": func() Distribution {
		var means [][]float64
		for i := -2; i <= 2; i++ {
			for j := -2; j <= 2; j++ {
				means = append(means, []float64{2 * float64(i), 2 * float64(j)})
			}
		}
		return mustMixture("25gaussians", equal(25), means, isoCovs(25, 2, 0.09))
	},
	// bimodal1d: the 1-D data of the paper's Figure 1, 0.4·N(−1, 0.2²) + 0.6·N(1, 0.2²), on the scale of VP's unit prior.
	"bimodal1d": func() Distribution {
		return mustMixture("bimodal1d", []float64{0.4, 0.6}, [][]float64{{-1}, {1}}, isoCovs(2, 1, 0.04))
	},
	// colorblocks: 8×8 colour images of two flat colour blocks (d = 192), see ColorBlocks.
	"colorblocks": func() Distribution {
		m, err := ColorBlocks(8, 8)
		if err != nil {
			panic(err)
		}
		return m.WithName("colorblocks")
	},
	"moons":        func() Distribution { return shape{"moons", moons} },
	"swissroll":    func() Distribution { return shape{"swissroll", swissRoll} },
	"rings":        func() Distribution { return shape{"rings", rings} },
	"checkerboard": func() Distribution { return shape{"checkerboard", checkerboard} },
}

// Preset returns the named toy distribution; see PresetNames.
func Preset(name string) (Distribution, error) {
	f, ok := presets[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("unknown preset %q: use one of %s", name, strings.Join(PresetNames(), ", "))
	}
	return f(), nil
}

// PresetNames lists the preset names, mixtures first.
func PresetNames() []string {
	names := MixtureNames()
	var shapes []string
	for n, f := range presets {
		if _, ok := f().(*Mixture); !ok {
			shapes = append(shapes, n)
		}
	}
	sort.Strings(shapes)
	return append(names, shapes...)
}

// MixtureNames lists the presets that are Gaussian mixtures (with exact scores).
func MixtureNames() []string {
	var names []string
	for n, f := range presets {
		if _, ok := f().(*Mixture); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func mustMixture(name string, w []float64, means [][]float64, covs []covariance) *Mixture {
	m, err := newMixture(w, means, covs)
	if err != nil {
		panic(fmt.Sprintf("preset %s: %v", name, err))
	}
	return m.WithName(name)
}

func equal(k int) []float64 {
	w := make([]float64, k)
	for i := range w {
		w[i] = 1 / float64(k)
	}
	return w
}

// isoCovs is k isotropic covariances v·I in dimension d, kept as their diagonals.
func isoCovs(k, d int, v float64) []covariance {
	out := make([]covariance, k)
	for i := range out {
		diag := make([]float64, d)
		for j := range diag {
			diag[j] = v
		}
		out[i] = covariance{diag: diag}
	}
	return out
}

// shape is a sample-only 2-D distribution.
type shape struct {
	name   string
	sample func(r *rand.Rand) (x, y float64)
}

func (s shape) Name() string { return s.name }
func (s shape) Dim() int     { return 2 }
func (s shape) Sample(r *rand.Rand, n int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		x, y := s.sample(r)
		out[i] = []float64{x, y}
	}
	return out
}

// moons: two interleaved half circles (radius 1, noise 0.05), centred and scaled by 2.
func moons(r *rand.Rand) (float64, float64) {
	a := math.Pi * r.Float64()
	var x, y float64
	if r.IntN(2) == 0 {
		x, y = math.Cos(a), math.Sin(a)
	} else {
		x, y = 1-math.Cos(a), 0.5-math.Sin(a)
	}
	x += 0.05 * r.NormFloat64()
	y += 0.05 * r.NormFloat64()
	return 2 * (x - 0.5), 2 * (y - 0.25)
}

// swissRoll: the 2-D swiss roll (t sin t, t cos t) / 3 for t ∈ [1.5π, 4.5π], noise 0.1.
func swissRoll(r *rand.Rand) (float64, float64) {
	t := 1.5 * math.Pi * (1 + 2*r.Float64())
	return t*math.Cos(t)/3 + 0.1*r.NormFloat64(), t*math.Sin(t)/3 + 0.1*r.NormFloat64()
}

// rings: three concentric circles of radius 1, 2.5 and 4 (mass ∝ radius), noise 0.08.
func rings(r *rand.Rand) (float64, float64) {
	radii := []float64{1, 2.5, 4}
	u := r.Float64() * 7.5
	rad := radii[2]
	if u < 1 {
		rad = radii[0]
	} else if u < 3.5 {
		rad = radii[1]
	}
	a := 2 * math.Pi * r.Float64()
	return rad*math.Cos(a) + 0.08*r.NormFloat64(), rad*math.Sin(a) + 0.08*r.NormFloat64()
}

// checkerboard: uniform on the black squares of a 4×4 board covering [−4, 4]².
func checkerboard(r *rand.Rand) (float64, float64) {
	for {
		x, y := 8*r.Float64()-4, 8*r.Float64()-4
		if (int(math.Floor(x/2))+int(math.Floor(y/2)))%2 == 0 {
			return x, y
		}
	}
}

// NewRand returns a reproducible random source for a seed.
func NewRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5c0e5de)) }
