package sampling

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/sde"
)

// Method is a solver of the reverse process on a time grid, registered by name so that the CLI,
// the notebooks and the docs list the same table. A new solver is one file: a New function that
// returns its Stepper, and a RegisterMethod call in that file's init.
type Method struct {
	// Name is the registry name (lower case, dashes: "dpmpp-2m").
	Name string
	// Aliases are other accepted names.
	Aliases []string
	// Summary is one line: what the method is and where it comes from.
	Summary string
	// Order is the claimed order of convergence: pathwise (global) order for deterministic
	// solvers, weak order for stochastic ones.
	Order float64
	// Stochastic methods inject noise; deterministic ones solve the probability-flow ODE.
	Stochastic bool
	// EvalsPerStep is the score evaluations of a typical step (the NFE of n steps is about
	// EvalsPerStep·n; Result.NFE counts exactly).
	EvalsPerStep int
	// DefaultSteps and DefaultSchedule are the method's recommended grid.
	DefaultSteps    int
	DefaultSchedule string
	// Params are the method's own options with their defaults.
	Params []Param
	// New prepares the solver for a problem.
	New func(p *Problem) (*Stepper, error)
}

// Param is a named float option of a method (e.g. EDM's churn), with its default.
type Param struct {
	Name    string
	Default float64
	Help    string
}

// Problem is what a solver is asked to solve: the SDE, the score, the grid and the method's params.
type Problem struct {
	SDE   sde.SDE
	Score sde.ScoreFn
	// Grid is the decreasing list of times t_0 = T > … > t_N (N steps).
	Grid []float64
	// Params holds every Param of the method, defaults filled in.
	Params map[string]float64
}

// Steps is the number of steps of the grid.
func (p *Problem) Steps() int { return len(p.Grid) - 1 }

// Coeffs returns, for time t, the kernel coefficients α = m(t), σ = s(t) (std) and the noise
// level σ̃ = σ/α of the scaled state.
func (p *Problem) Coeffs(t float64) (alpha, std, sigma float64) {
	return p.SDE.MeanCoeff(t), p.SDE.Std(t), p.SDE.Sigma(t)
}

// Stepper is a method's part of the common sampling loop: the loop compiles Step once per
// variant, keeps x and the history on the backend, and calls Plan on the host for each step's
// coefficients (times, α, σ, multistep weights), which it passes as one vector.
type Stepper struct {
	// History is the number of tensors shaped like x carried from step to step (zeros at first):
	// previous denoiser outputs of multistep methods.
	History int
	// Noise: Step takes a standard normal tensor z shaped like x.
	Noise bool
	// Variants is the number of compiled variants of Step (default 1), e.g. UniPC's last step
	// without a corrector.
	Variants int
	// Plan returns the variant, the coefficient vector and the score evaluations of step i, from
	// Grid[i] to Grid[i+1].
	Plan func(i int) (variant int, coeffs []float64, nfe int)
	// Step is the graph of one step: from x, the history and the coefficients c (shape [k], x's
	// dtype) and z (nil without Noise), the next x and the next history.
	Step func(variant int, x *Node, hist []*Node, c *Node, z *Node) (next *Node, nextHist []*Node)
}

// methods is the registry, by name and alias.
var (
	methods     = map[string]*Method{}
	methodNames []string
)

// RegisterMethod adds a solver to the registry (at init time). It panics on a duplicate name,
// a programming error.
func RegisterMethod(m Method) {
	for _, n := range append([]string{m.Name}, m.Aliases...) {
		if _, dup := methods[n]; dup {
			panic("sampling: method " + n + " registered twice")
		}
		methods[n] = &m
	}
	methodNames = append(methodNames, m.Name)
	sort.Strings(methodNames)
}

// Methods lists the registered solvers, sorted by name.
func Methods() []*Method {
	out := make([]*Method, len(methodNames))
	for i, n := range methodNames {
		out[i] = methods[n]
	}
	return out
}

// MethodNames lists the registered solver names; deterministic selects the ODE solvers only,
// stochastic the others (both false: all).
func MethodNames(deterministic, stochastic bool) []string {
	var out []string
	for _, m := range Methods() {
		if (!deterministic && !stochastic) || (deterministic && !m.Stochastic) || (stochastic && m.Stochastic) {
			out = append(out, m.Name)
		}
	}
	return out
}

// LookupMethod returns the solver of that name (dashes and underscores alike, any case).
func LookupMethod(name string) (*Method, error) {
	key := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "_", "-")
	if m, ok := methods[key]; ok {
		return m, nil
	}
	return nil, fmt.Errorf("unknown method %q: use one of %s", name, strings.Join(MethodNames(false, false), ", "))
}

// SolveOptions configures Sample. Zero values select the method's defaults.
type SolveOptions struct {
	// Method is a registered solver name (see Methods).
	Method string
	// Grid, when set, is the time grid (decreasing from T); otherwise Schedule builds one of Steps
	// steps from T to Eps.
	Grid []float64
	// Schedule is a registered grid name (default: the method's).
	Schedule string
	// Steps is the number of grid steps (default: the method's).
	Steps int
	// Eps is the grid's last time (0: the SDE's default).
	Eps float64
	// Params overrides the method's params by name; unknown names are an error.
	Params map[string]float64
	// Denoise ends with the reverse-diffusion predictor's noise-free mean at the last time
	// (x − f + G²·s, the references' noise_removal; one more score evaluation).
	Denoise bool
	// Noise is "brownian" (default for stochastic methods: noise from one Brownian path in σ, so a
	// finer grid refines the same path) or "rng" (independent draws on the backend).
	Noise string
	// Latent, when set, is the starting batch x_T [n, ...] instead of a prior sample.
	Latent *tensors.Tensor
}

// Prepare resolves the options for s: the method, the grid and the params, each checked.
func (o SolveOptions) Prepare(s sde.SDE, score sde.ScoreFn) (*Method, *Problem, error) {
	m, err := LookupMethod(o.Method)
	if err != nil {
		return nil, nil, err
	}
	grid := o.Grid
	if grid == nil {
		sched, steps := o.Schedule, o.Steps
		if sched == "" {
			sched = m.DefaultSchedule
		}
		if steps == 0 {
			steps = m.DefaultSteps
		}
		if grid, err = MakeGrid(s, sched, steps, o.Eps); err != nil {
			return nil, nil, err
		}
	} else if err := CheckGrid(s, grid); err != nil {
		return nil, nil, err
	}
	params := map[string]float64{}
	for _, p := range m.Params {
		params[p.Name] = p.Default
	}
	for k, v := range o.Params {
		if _, ok := params[k]; !ok {
			var known []string
			for _, p := range m.Params {
				known = append(known, p.Name)
			}
			if len(known) == 0 {
				return nil, nil, fmt.Errorf("method %s takes no option %q (it has none)", m.Name, k)
			}
			return nil, nil, fmt.Errorf("method %s takes no option %q: it has %s", m.Name, k, strings.Join(known, ", "))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, nil, fmt.Errorf("method %s: %s=%g, want a finite number", m.Name, k, v)
		}
		params[k] = v
	}
	p := &Problem{SDE: s, Score: score, Grid: grid, Params: params}
	if _, err := m.New(p); err != nil { // the method's own checks of its params
		return nil, nil, fmt.Errorf("%s: %w", m.Name, err)
	}
	return m, p, nil
}

// Sample draws samples of shape [n, ...] with a registered solver: x_T from the prior (or
// o.Latent), then the method's steps along the grid, each compiled once; it fails, naming the
// step, as soon as a value is not finite.
func Sample(b compute.Backend, s sde.SDE, score sde.ScoreFn, shape []int, o SolveOptions, run Run) (*Result, error) {
	m, p, err := o.Prepare(s, score)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	x, rng := o.Latent, (*tensors.Tensor)(nil)
	if x == nil {
		if x, rng, err = priorSample(b, s, shape, run); err != nil {
			return nil, err
		}
	} else if rng, err = RNGStateFromSeed(run.Seed); err != nil {
		return nil, err
	}
	st, err := m.New(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Name, err)
	}
	noise := o.Noise
	if noise == "" {
		noise = "brownian"
	}
	if noise != "brownian" && noise != "rng" {
		return nil, fmt.Errorf("noise %q: use brownian or rng", o.Noise)
	}
	res := &Result{}
	x, err = runSteps(b, m.Name, p, st, x, rng, noise == "brownian", run, res)
	if err != nil {
		return nil, err
	}
	if o.Denoise {
		if x, err = denoiseStep(b, s, score, x, p.Grid[len(p.Grid)-1]); err != nil {
			return nil, err
		}
		res.NFE++
	}
	res.Samples = x
	res.ReferenceNFE = res.NFE
	res.Elapsed = time.Since(start)
	return res, nil
}

// runSteps is the common loop of every registered solver.
func runSteps(b compute.Backend, name string, p *Problem, st *Stepper, x, rng *tensors.Tensor, brownian bool, run Run, res *Result) (*tensors.Tensor, error) {
	variants := max(st.Variants, 1)
	execs := make([]*Exec, variants)
	nh := st.History
	build := func(v int) (*Exec, error) {
		return NewExec(b, func(in []*Node) []*Node {
			x := in[0]
			hist := in[1 : 1+nh]
			c := ConvertDType(in[1+nh], x.DType())
			var z, newRng *Node
			if st.Noise {
				if brownian {
					z = ConvertDType(in[2+nh], x.DType())
				} else {
					newRng, z = RandomNormal(in[2+nh], x.Shape())
				}
			}
			next, nextHist := st.Step(v, x, hist, c, z)
			out := append([]*Node{next}, nextHist...)
			if newRng != nil {
				out = append(out, newRng)
			}
			return append(out, LogicalAll(IsFinite(next)))
		})
	}
	hist := make([]*tensors.Tensor, nh)
	if nh > 0 {
		zeros, err := ExecOnce(b, func(x *Node) *Node { return ZerosLike(x) }, x)
		if err != nil {
			return nil, err
		}
		for i := range hist {
			hist[i] = zeros
		}
	}
	var bt *Brownian
	if st.Noise && brownian {
		dims := x.Shape().Dimensions
		var err error
		if bt, err = NewBrownian(p.SDE.Sigma(p.SDE.T()), dims, x.DType(), run.Seed); err != nil {
			return nil, err
		}
	}
	n := p.Steps()
	rec := recorder{every: run.RecordEvery, res: res}
	rec.record(0, n, p.Grid[0], x)
	for i := range n {
		v, coeffs, nfe := st.Plan(i)
		if execs[v] == nil {
			var err error
			if execs[v], err = build(v); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		args := []any{x}
		for _, h := range hist {
			args = append(args, h)
		}
		args = append(args, coeffs)
		if st.Noise {
			if bt != nil {
				z, err := bt.Increment(p.SDE.Sigma(p.Grid[i]), p.SDE.Sigma(p.Grid[i+1]))
				if err != nil {
					return nil, err
				}
				args = append(args, z)
			} else {
				args = append(args, rng)
			}
		}
		outs, err := execs[v].Call(args...)
		if err != nil {
			return nil, fmt.Errorf("%s step %d (t=%g): %w", name, i, p.Grid[i], err)
		}
		if !outs[len(outs)-1].Value().(bool) {
			return nil, fmt.Errorf("%s step %d of %d (t=%g → %g): the samples became non-finite (NaN or ±Inf): check the score (a model with NaN weights, a spec whose scale overflows %s) and the method's options",
				name, i+1, n, p.Grid[i], p.Grid[i+1], x.DType())
		}
		x = outs[0]
		copy(hist, outs[1:1+nh])
		if st.Noise && bt == nil {
			rng = outs[1+nh]
		}
		res.NFE += nfe
		rec.record(i+1, n, p.Grid[i+1], x)
		if run.Progress != nil {
			run.Progress(i+1, n)
		}
	}
	return x, nil
}

// denoiseStep returns the noise-free mean of one reverse-diffusion predictor step of the reverse
// SDE (not its probability-flow form) at time t: x − f + G²·s, as the references' ODE sampler denoises.
func denoiseStep(b compute.Backend, s sde.SDE, score sde.ScoreFn, x *tensors.Tensor, t float64) (*tensors.Tensor, error) {
	rsde := sde.ReverseOf(s, score, false)
	out, err := ExecOnce(b, func(x, t *Node) *Node {
		f, _ := rsde.Discretize(x, ConvertDType(t, x.DType()))
		return Sub(x, f)
	}, x, t)
	if err != nil {
		return nil, fmt.Errorf("denoising at t=%g: %w", t, err)
	}
	return out, nil
}

// coeff returns element i of the coefficient vector c as a scalar node.
func coeff(c *Node, i int) *Node { return Reshape(Slice(c, AxisElem(i))) }

// Denoised is the posterior mean of x_0 given x at time t (Tweedie): (x + s(t)²·score(x, t))/m(t),
// with the scalars t, alpha = m(t) and std = s(t) given as nodes. Every σ-space solver (EDM,
// DPM-Solver++, UniPC, DDIM) is written with it.
func Denoised(score sde.ScoreFn, x, t, alpha, std *Node) *Node {
	return Div(Add(x, Mul(Square(std), score(x, t))), alpha)
}
