package experiments

import (
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/scoresde/scoresde/lib/metrics"
	"github.com/scoresde/scoresde/lib/sampling"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/plots"
	"github.com/scoresde/scoresde/toy"
	"gonum.org/v1/gonum/stat/distuv"
	"gonum.org/v1/plot/vg"
)

// ConvergenceOptions configures Convergence. Start from DefaultConvergence.
type ConvergenceOptions struct {
	// Methods are registered solver names (sampling.Methods); empty selects every deterministic
	// method in the registry. Stochastic methods run only when named.
	Methods []string
	// Schedules are registered grid names (sampling.Schedules), each crossed with every method.
	Schedules []string
	// Steps are the grid sizes, each ≥ 1; at least two distinct values (a fit needs two points).
	Steps []int
	// N is the number of latents x_T, drawn once from the prior and shared by every solve.
	N int
	// Seed drives the latents, the Brownian path of stochastic methods (one path for every grid)
	// and the exact data sample of the weak error.
	Seed int64
	// Eps is the grids' last time (0: the SDE's default ε).
	Eps float64
	// ReferenceTol is RK45's rtol = atol for the reference solution of deterministic methods
	// (default 1e-10, in float64).
	ReferenceTol float64
	// FineFactor sets the reference of stochastic methods: the same method on the same schedule
	// with FineFactor × the largest Steps steps, from the same latents on the same Brownian path
	// (default 8).
	FineFactor int
	// FitPoints is the number of largest-NFE rows the order fit starts from (default 3, at least 2).
	FitPoints int
	// SlopeTol extends the fit to coarser rows while the local slope of the next segment is within
	// SlopeTol·max(1, |order|) of the current fitted order (default 0.25): the fit covers the
	// asymptotic range and stops where the error falls faster (the pre-asymptotic regime, basins
	// switching back) or saturates.
	SlopeTol float64
	// FloorFactor leaves out of the fit the rows whose error is below FloorFactor × the
	// reference's own error estimate (default 10), where the reference, not the solver, is
	// measured.
	FloorFactor float64
	// OutlierFactor counts, per row, the points whose error exceeds OutlierFactor × the row's
	// median error (default 10): points near a separatrix between modes that land in the other
	// basin on a coarse grid.
	OutlierFactor float64
	// Projections is the number of directions of the weak error's sliced W2 (0:
	// metrics.DefaultProjections).
	Projections int
	// Score, when set, replaces the mixture's exact score (e.g. a learned score of the same
	// data); the mixture then serves only for the weak error's exact samples.
	Score sde.ScoreFn
	// Progress, when set, is called after each solve with the solves done and the total.
	Progress func(done, total int)
}

// DefaultConvergence returns every deterministic registered method on the uniform, log-SNR and
// Karras grids of 8, 16, 32, 64 and 128 steps, from 500 latents of seed 0, against RK45 at
// rtol = atol = 1e-10.
func DefaultConvergence() ConvergenceOptions {
	return ConvergenceOptions{
		Schedules:     []string{"uniform", "logsnr", "karras"},
		Steps:         []int{8, 16, 32, 64, 128},
		N:             500,
		ReferenceTol:  1e-10,
		FineFactor:    8,
		FitPoints:     3,
		SlopeTol:      0.25,
		FloorFactor:   10,
		OutlierFactor: 10,
	}
}

// maxConvergencePoints bounds N·d, the values of one batch (each solve holds a few such batches
// in float64): 2²⁴ values are 128 MiB.
const maxConvergencePoints = 1 << 24

// Validate reports a bad option for a study of dimension dim on s, naming it and the fix.
func (o ConvergenceOptions) Validate(s sde.SDE, dim int) error {
	if _, err := o.methods(); err != nil {
		return err
	}
	if len(o.Schedules) == 0 {
		return fmt.Errorf("no schedule: give one or more of %s", strings.Join(sampling.Schedules(), ", "))
	}
	seen := map[string]bool{}
	for _, g := range o.Schedules {
		sc, err := sampling.LookupSchedule(g)
		if err != nil {
			return err
		}
		if seen[sc.Name] {
			return fmt.Errorf("schedule %s is listed twice: list each once", sc.Name)
		}
		seen[sc.Name] = true
	}
	if len(o.Steps) < 2 {
		return fmt.Errorf("steps %v: give at least two grid sizes (the order is a slope)", o.Steps)
	}
	fine := max(o.FineFactor, 1)
	for i, n := range o.Steps {
		if n < 1 || n > sampling.MaxSteps/fine {
			return fmt.Errorf("steps=%d: want 1 ≤ steps ≤ %d (the stochastic reference takes %d× the largest)", n, sampling.MaxSteps/fine, fine)
		}
		if slices.Contains(o.Steps[:i], n) {
			return fmt.Errorf("steps=%d is listed twice: list each grid size once", n)
		}
	}
	if o.N < 2 {
		return fmt.Errorf("n=%d: use at least 2 latents (default 500)", o.N)
	}
	if dim < 1 || o.N > maxConvergencePoints/dim {
		return fmt.Errorf("n=%d points of dimension %d: at most %d values (n·d) per batch", o.N, dim, maxConvergencePoints)
	}
	if s != nil && (math.IsNaN(o.Eps) || o.Eps < 0 || o.Eps >= s.T()) {
		return fmt.Errorf("eps=%g, want 0 < eps < T=%g (0 selects the default %g)", o.Eps, s.T(), s.DefaultEps())
	}
	if !(o.ReferenceTol > 0 && o.ReferenceTol < 1) {
		return fmt.Errorf("reference tolerance %g: want 0 < tol < 1 (default 1e-10)", o.ReferenceTol)
	}
	if o.FineFactor < 2 {
		return fmt.Errorf("fine factor %d: want ≥ 2 (default 8): the stochastic reference must be finer than every grid", o.FineFactor)
	}
	if o.FitPoints < 2 {
		return fmt.Errorf("fit points %d: want ≥ 2 (default 3)", o.FitPoints)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"slope tolerance", o.SlopeTol}, {"floor factor", o.FloorFactor}, {"outlier factor", o.OutlierFactor}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return fmt.Errorf("%s %g: want a finite number ≥ 0 (see DefaultConvergence)", f.name, f.v)
		}
	}
	if o.Projections < 0 {
		return fmt.Errorf("projections=%d: use ≥ 1, or 0 for metrics.DefaultProjections", o.Projections)
	}
	return nil
}

// methods resolves o.Methods through the registry (default: every deterministic method).
func (o ConvergenceOptions) methods() ([]*sampling.Method, error) {
	names := o.Methods
	if len(names) == 0 {
		names = sampling.MethodNames(true, false)
		if len(names) == 0 {
			return nil, errors.New("no deterministic method is registered")
		}
	}
	var out []*sampling.Method
	for _, n := range names {
		m, err := sampling.LookupMethod(n)
		if err != nil {
			return nil, err
		}
		if slices.Contains(out, m) {
			return nil, fmt.Errorf("method %s is listed twice: list each once", m.Name)
		}
		out = append(out, m)
	}
	return out, nil
}

// Float is a float64 that marshals to JSON as a number, or as null when it is not finite (NaN:
// not measured, e.g. a solve that diverged; ±Inf); null reads back as NaN.
type Float float64

// MarshalJSON writes f, or null when f is NaN or infinite.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// UnmarshalJSON reads a number, or null as NaN.
func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = Float(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Float(v)
	return nil
}

// ConvergenceRow is one solve: a method on a grid of Steps steps, measured at the grid's end.
type ConvergenceRow struct {
	// Steps is the grid's number of steps; NFE the score evaluations each point received.
	Steps int `json:"steps"`
	NFE   int `json:"nfe"`
	// MeanError, MedianError and MaxError summarize the pathwise error of the N points: the
	// Euclidean distance of each solution at the grid's end to the series' reference from the
	// same latent (the strong error for stochastic methods).
	MeanError   Float `json:"mean_error"`
	MedianError Float `json:"median_error"`
	MaxError    Float `json:"max_error"`
	// Outliers counts the points whose error exceeds OutlierFactor × MedianError.
	Outliers int `json:"outliers"`
	// Switched counts the outliers whose most likely mixture component (largest posterior under
	// the data mixture) differs from their reference's: the points that crossed a separatrix
	// into another basin (a small error across overlapping components is not counted).
	Switched int `json:"switched"`
	// SW2 is the weak error: the sliced W2 of the N solutions to as many exact data samples (one
	// sample shared by every row), next to the result's SW2Floor.
	SW2 Float `json:"sw2"`
	// Failed says why the solve gave no result (its errors are then null).
	Failed string `json:"failed,omitempty"`
}

// OrderFit is the least-squares slope of −log(error) against log(NFE) over the asymptotic
// rows, with its 95% interval from the t distribution of the regression's residuals.
type OrderFit struct {
	// Order is the fitted slope (null when fewer than two rows qualify).
	Order Float `json:"order"`
	// Lo and Hi bound the 95% interval (null with two rows: no residual degree of freedom).
	Lo Float `json:"lo"`
	Hi Float `json:"hi"`
	// Rows is the number of rows fitted, from NFE NFEMin to NFEMax.
	Rows   int `json:"rows"`
	NFEMin int `json:"nfe_min"`
	NFEMax int `json:"nfe_max"`
}

// ConvergenceSeries is one method on one schedule over every Steps value.
type ConvergenceSeries struct {
	Method   string `json:"method"`
	Schedule string `json:"schedule"`
	// Stochastic methods are measured against their own fine-grid solution on the same path.
	Stochastic bool `json:"stochastic"`
	// ClaimedOrder is the registry's order (pathwise for deterministic methods, weak for
	// stochastic ones, whose fitted order here is the strong one).
	ClaimedOrder float64 `json:"claimed_order"`
	// EndTime is the grids' last time, where the errors are measured.
	EndTime float64 `json:"end_time"`
	// Reference names what the errors are measured against.
	Reference string `json:"reference"`
	// ReferenceError is the mean distance between the reference and the same solve at 10× its
	// tolerance, an upper estimate of the reference's own error (null for stochastic methods);
	// rows below FloorFactor × it are left out of the fits.
	ReferenceError Float `json:"reference_error"`
	// Rows are the solves, by increasing Steps.
	Rows []ConvergenceRow `json:"rows"`
	// Fit is the order fitted to the mean error; FitMedian to the median error (where the two
	// differ, the points that switch basins still weigh on the mean).
	Fit       OrderFit `json:"fit"`
	FitMedian OrderFit `json:"fit_median"`
}

// ConvergenceResult is the outcome of Convergence; it marshals to JSON (non-finite values as null).
type ConvergenceResult struct {
	Data string `json:"data"`
	SDE  string `json:"sde"`
	Dim  int    `json:"dim"`
	N    int    `json:"n"`
	Seed int64  `json:"seed"`
	// Steps are the grid sizes of every series.
	Steps []int `json:"steps"`
	// ReferenceTol, FineFactor, FitPoints, SlopeTol, FloorFactor and OutlierFactor are the options used.
	ReferenceTol  float64 `json:"reference_tol"`
	FineFactor    int     `json:"fine_factor"`
	FitPoints     int     `json:"fit_points"`
	SlopeTol      float64 `json:"slope_tol"`
	FloorFactor   float64 `json:"floor_factor"`
	OutlierFactor float64 `json:"outlier_factor"`
	// SW2Floor is the sliced W2 between two independent data samples of N points (what a perfect
	// sampler scores), for the rows' SW2.
	SW2Floor Float `json:"sw2_floor"`
	// Series holds one entry per method × schedule, methods in the order given.
	Series []ConvergenceSeries `json:"series"`
	// ElapsedSeconds is the wall time of the study.
	ElapsedSeconds float64 `json:"elapsed_s"`
}

// Convergence measures how the error of each method × schedule falls with the NFE on s, from the
// same N latents x_T drawn from the prior. Every solve runs in float64.
//
// Deterministic methods are measured pathwise at the grid's end time against RK45 at rtol = atol
// = ReferenceTol from the same latents to the same time; stochastic methods by their strong
// error against their own solve with FineFactor × the largest Steps steps on the same Brownian
// path (sampling's default "brownian" noise gives one path for every grid), and every row also by
// its weak error, the SW2 of its solutions to exact samples of m, next to the SW2 floor.
//
// Each series fits the order over its asymptotic range: starting from the FitPoints rows of
// largest NFE (above FloorFactor × the reference error), it extends to coarser rows while the
// next segment's slope stays within SlopeTol·max(1, |order|) of the fit. A solve that fails
// (e.g. diverges) is kept as a row with Failed set and null errors, and left out of the fit.
func Convergence(b compute.Backend, m *toy.Mixture, s sde.SDE, o ConvergenceOptions) (*ConvergenceResult, error) {
	start := time.Now()
	if m == nil || s == nil {
		return nil, errors.New("convergence: the mixture and the SDE must be given")
	}
	if err := o.Validate(s, m.Dim()); err != nil {
		return nil, fmt.Errorf("convergence: %w", err)
	}
	methods, _ := o.methods()
	score := o.Score
	if score == nil {
		score = m.ScoreFn(s)
	}
	proj := o.Projections
	if proj == 0 {
		proj = metrics.DefaultProjections
	}
	steps := slices.Clone(o.Steps)
	sort.Ints(steps)
	res := &ConvergenceResult{Data: m.Name(), SDE: s.Name(), Dim: m.Dim(), N: o.N, Seed: o.Seed, Steps: steps,
		ReferenceTol: o.ReferenceTol, FineFactor: o.FineFactor, FitPoints: o.FitPoints, SlopeTol: o.SlopeTol,
		FloorFactor: o.FloorFactor, OutlierFactor: o.OutlierFactor}

	latents, err := priorLatents(b, s, o.N, m.Dim(), int64(runSeed(o.Seed, seedSampler, 0, 0)))
	if err != nil {
		return nil, fmt.Errorf("convergence: drawing the latents: %w", err)
	}
	refSeed := runSeed(o.Seed, seedReference, 0, 0)
	data := m.Sample(toy.NewRand(refSeed), o.N)
	floor, err := metrics.SW2Floor(m, o.N, proj, runSeed(o.Seed, seedFloor, 0, 0))
	if err != nil {
		return nil, fmt.Errorf("convergence: SW2 floor: %w", err)
	}
	res.SW2Floor = Float(floor)

	// Count the solves for the progress hook: the grids' end times need one reference pair each.
	total, done := 0, 0
	ends := map[float64]bool{}
	grids := map[string][][]float64{}
	for _, g := range o.Schedules {
		sc, _ := sampling.LookupSchedule(g)
		for _, n := range steps {
			grid, err := sampling.MakeGrid(s, sc.Name, n, o.Eps)
			if err != nil {
				return nil, fmt.Errorf("convergence: %s grid of %d steps: %w", sc.Name, n, err)
			}
			grids[sc.Name] = append(grids[sc.Name], grid)
			ends[grid[len(grid)-1]] = true
		}
	}
	for _, meth := range methods {
		total += len(o.Schedules) * len(steps)
		if meth.Stochastic {
			total += len(o.Schedules)
		}
	}
	total += 2 * len(ends)
	tick := func() {
		done++
		if o.Progress != nil {
			o.Progress(done, total)
		}
	}

	type reference struct {
		points [][]float64
		err    float64
	}
	refs := map[float64]*reference{}
	flow := sde.ReverseOf(s, score, true).Drift
	rk45 := func(end, tol float64) ([][]float64, error) {
		x, err := sampling.FromPoints(latents, dtypes.Float64)
		if err != nil {
			return nil, err
		}
		out, err := sampling.Solve(b, flow, x, s.T(), end, sampling.Solver{Method: "rk45", RTol: tol, ATol: tol}, nil, sampling.Run{DType: dtypes.Float64})
		if err != nil {
			return nil, fmt.Errorf("RK45 reference (rtol = atol = %g) to t=%g: %w", tol, end, err)
		}
		tick()
		return (&sampling.Result{Samples: out}).Points(), nil
	}
	deterministicRef := func(end float64) (*reference, error) {
		if r, ok := refs[end]; ok {
			return r, nil
		}
		tight, err := rk45(end, o.ReferenceTol)
		if err != nil {
			return nil, err
		}
		loose, err := rk45(end, math.Min(10*o.ReferenceTol, 0.1))
		if err != nil {
			return nil, err
		}
		r := &reference{points: tight, err: summarizeErrors(distances(loose, tight), 0).mean}
		refs[end] = r
		return r, nil
	}
	solve := func(meth *sampling.Method, grid []float64) ([][]float64, int, error) {
		x, err := sampling.FromPoints(latents, dtypes.Float64)
		if err != nil {
			return nil, 0, err
		}
		r, err := sampling.Sample(b, s, score, nil, sampling.SolveOptions{Method: meth.Name, Grid: grid, Latent: x},
			sampling.Run{Seed: int64(runSeed(o.Seed, seedSampler, 0, 0)), DType: dtypes.Float64})
		tick()
		if err != nil {
			return nil, 0, err
		}
		return r.Points(), r.NFE, nil
	}

	for _, meth := range methods {
		for _, g := range o.Schedules {
			sc, _ := sampling.LookupSchedule(g)
			gs := grids[sc.Name]
			end := gs[len(gs)-1][len(gs[len(gs)-1])-1]
			ser := ConvergenceSeries{Method: meth.Name, Schedule: sc.Name, Stochastic: meth.Stochastic, ClaimedOrder: meth.Order, EndTime: end}
			var want [][]float64
			floorErr := math.NaN()
			if meth.Stochastic {
				n := o.FineFactor * steps[len(steps)-1]
				grid, err := sampling.MakeGrid(s, sc.Name, n, o.Eps)
				if err != nil {
					return nil, fmt.Errorf("convergence: %s fine grid of %d steps: %w", sc.Name, n, err)
				}
				if want, _, err = solve(meth, grid); err != nil {
					return nil, fmt.Errorf("convergence: %s on the %s grid, fine reference of %d steps: %w", meth.Name, sc.Name, n, err)
				}
				ser.Reference = fmt.Sprintf("%s, %d %s steps, same latents and Brownian path", meth.Name, n, sc.Name)
			} else {
				ref, err := deterministicRef(end)
				if err != nil {
					return nil, fmt.Errorf("convergence: %w", err)
				}
				want, floorErr = ref.points, ref.err
				ser.Reference = fmt.Sprintf("RK45, rtol = atol = %g, same latents", o.ReferenceTol)
			}
			ser.ReferenceError = Float(floorErr)
			wantBasin := basins(m, want)
			for k, n := range steps {
				row := ConvergenceRow{Steps: n}
				got, nfe, err := solve(meth, gs[k])
				if err != nil {
					row.Failed = err.Error()
					row.MeanError, row.MedianError, row.MaxError, row.SW2 = nanF(), nanF(), nanF(), nanF()
					ser.Rows = append(ser.Rows, row)
					continue
				}
				row.NFE = nfe
				errs := distances(got, want)
				e := summarizeErrors(errs, o.OutlierFactor)
				row.MeanError, row.MedianError, row.MaxError, row.Outliers = Float(e.mean), Float(e.median), Float(e.max), e.outliers
				if e.outliers > 0 {
					for i, k := range basins(m, got) {
						if k != wantBasin[i] && errs[i] > o.OutlierFactor*e.median {
							row.Switched++
						}
					}
				}
				sw, err := metrics.SlicedW2(got, data, proj, refSeed)
				if err != nil {
					return nil, fmt.Errorf("convergence: %s on the %s grid of %d steps: SW2: %w", meth.Name, sc.Name, n, err)
				}
				row.SW2 = Float(sw)
				ser.Rows = append(ser.Rows, row)
			}
			ser.Fit = fitOrderRange(ser.Rows, func(r ConvergenceRow) float64 { return float64(r.MeanError) }, floorErr, o)
			ser.FitMedian = fitOrderRange(ser.Rows, func(r ConvergenceRow) float64 { return float64(r.MedianError) }, floorErr, o)
			res.Series = append(res.Series, ser)
		}
	}
	res.ElapsedSeconds = time.Since(start).Seconds()
	return res, nil
}

func nanF() Float { return Float(math.NaN()) }

// priorLatents draws n points of dimension d from s's prior with seed, in float64.
func priorLatents(b compute.Backend, s sde.SDE, n, d int, seed int64) ([][]float64, error) {
	rng, err := RNGStateFromSeed(seed)
	if err != nil {
		return nil, err
	}
	x, err := ExecOnce(b, func(rng *Node) *Node {
		_, x := s.PriorSample(rng, shapes.Make(dtypes.Float64, n, d))
		return x
	}, rng)
	if err != nil {
		return nil, err
	}
	return (&sampling.Result{Samples: x}).Points(), nil
}

// basins returns the most likely component of m for each point.
func basins(m *toy.Mixture, pts [][]float64) []int {
	out := make([]int, len(pts))
	for i, x := range pts {
		post := m.Posterior(x)
		for k, p := range post {
			if p > post[out[i]] {
				out[i] = k
			}
		}
	}
	return out
}

// distances returns the Euclidean distance of each point of a to the same point of b.
func distances(a, b [][]float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		d2 := 0.0
		for j := range a[i] {
			d := a[i][j] - b[i][j]
			d2 += d * d
		}
		out[i] = math.Sqrt(d2)
	}
	return out
}

// errorSummary is the mean, median and max of per-point errors and the count above
// factor × the median.
type errorSummary struct {
	mean, median, max float64
	outliers          int
}

func summarizeErrors(e []float64, factor float64) errorSummary {
	if len(e) == 0 {
		return errorSummary{math.NaN(), math.NaN(), math.NaN(), 0}
	}
	s := slices.Clone(e)
	sort.Float64s(s)
	var sum errorSummary
	for _, v := range s {
		sum.mean += v
	}
	sum.mean /= float64(len(s))
	if n := len(s); n%2 == 1 {
		sum.median = s[n/2]
	} else {
		sum.median = (s[n/2-1] + s[n/2]) / 2
	}
	sum.max = s[len(s)-1]
	if factor > 0 && sum.median > 0 {
		for _, v := range s {
			if v > factor*sum.median {
				sum.outliers++
			}
		}
	}
	return sum
}

// fitOrderRange fits the order to the error of the rows (by increasing NFE) over the asymptotic
// range described at Convergence.
func fitOrderRange(rows []ConvergenceRow, errOf func(ConvergenceRow) float64, floorErr float64, o ConvergenceOptions) OrderFit {
	var xs, ys []float64
	var nfes []int
	idx := make([]int, 0, len(rows))
	for i, r := range rows {
		e := errOf(r)
		if r.Failed != "" || r.NFE < 1 || !(e > 0) || math.IsInf(e, 0) {
			continue
		}
		if floorErr > 0 && e < o.FloorFactor*floorErr {
			continue
		}
		idx = append(idx, i)
	}
	sort.SliceStable(idx, func(a, b int) bool { return rows[idx[a]].NFE < rows[idx[b]].NFE })
	for _, i := range idx {
		xs = append(xs, math.Log(float64(rows[i].NFE)))
		ys = append(ys, -math.Log(errOf(rows[i])))
		nfes = append(nfes, rows[i].NFE)
	}
	none := OrderFit{Order: nanF(), Lo: nanF(), Hi: nanF()}
	if len(xs) < 2 {
		return none
	}
	lo := max(0, len(xs)-o.FitPoints)
	fit := lineFit(xs[lo:], ys[lo:])
	for lo > 0 {
		if xs[lo] == xs[lo-1] {
			break
		}
		local := (ys[lo] - ys[lo-1]) / (xs[lo] - xs[lo-1])
		if math.Abs(local-fit.slope) > o.SlopeTol*math.Max(1, math.Abs(fit.slope)) {
			break
		}
		lo--
		fit = lineFit(xs[lo:], ys[lo:])
	}
	if math.IsNaN(fit.slope) {
		return none
	}
	out := OrderFit{Order: Float(fit.slope), Lo: nanF(), Hi: nanF(), Rows: len(xs) - lo, NFEMin: nfes[lo], NFEMax: nfes[len(nfes)-1]}
	if df := len(xs) - lo - 2; df >= 1 && !math.IsNaN(fit.se) {
		h := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(0.975) * fit.se
		out.Lo, out.Hi = Float(fit.slope-h), Float(fit.slope+h)
	}
	return out
}

// line is a least-squares line's slope and the slope's standard error (NaN without residual
// degrees of freedom).
type line struct{ slope, se float64 }

func lineFit(xs, ys []float64) line {
	n := float64(len(xs))
	var mx, my float64
	for i := range xs {
		mx, my = mx+xs[i], my+ys[i]
	}
	mx, my = mx/n, my/n
	var sxx, sxy float64
	for i := range xs {
		sxx += (xs[i] - mx) * (xs[i] - mx)
		sxy += (xs[i] - mx) * (ys[i] - my)
	}
	if !(sxx > 0) {
		return line{math.NaN(), math.NaN()}
	}
	slope := sxy / sxx
	if len(xs) < 3 {
		return line{slope, math.NaN()}
	}
	ssr := 0.0
	for i := range xs {
		r := ys[i] - my - slope*(xs[i]-mx)
		ssr += r * r
	}
	return line{slope, math.Sqrt(ssr / (n - 2) / sxx)}
}

// nearestNFE returns the row (not failed) whose NFE is nearest target on a log scale, or nil.
func (s *ConvergenceSeries) nearestNFE(target float64) *ConvergenceRow {
	var best *ConvergenceRow
	for i := range s.Rows {
		r := &s.Rows[i]
		if r.Failed != "" || r.NFE < 1 {
			continue
		}
		if best == nil || math.Abs(math.Log(float64(r.NFE)/target)) < math.Abs(math.Log(float64(best.NFE)/target)) {
			best = r
		}
	}
	return best
}

// fmtG prints a value with 3 significant digits, "–" when it is not finite.
func fmtG(v Float) string {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "–"
	}
	return strconv.FormatFloat(f, 'g', 3, 64)
}

// String formats a fit as "2.01 [1.95, 2.07]" (the 95% interval), "–" without a fit.
func (f OrderFit) String() string {
	if math.IsNaN(float64(f.Order)) {
		return "–"
	}
	if math.IsNaN(float64(f.Lo)) {
		return fmt.Sprintf("%.2f (2 rows: no interval)", float64(f.Order))
	}
	return fmt.Sprintf("%.2f [%.2f, %.2f]", float64(f.Order), float64(f.Lo), float64(f.Hi))
}

// String renders the order table as Markdown: per method × schedule, the order fitted to the mean
// error with its 95% interval and the NFE range of the fit, the order fitted to the median error,
// the claimed order, the mean and median errors at the rows nearest 10 and 20 NFE, and the most
// outliers and basin switches of any row.
func (r *ConvergenceResult) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "convergence on %s (d=%d), %s SDE, %d latents (seed %d), steps %v\n\n", r.Data, r.Dim, r.SDE, r.N, r.Seed, r.Steps)
	sb.WriteString("| method | schedule | order (mean err) [95%] | fit NFE | order (median err) | claimed | mean / median err @NFE≈10 | mean / median err @NFE≈20 | outliers / switched (max of a row) |\n")
	sb.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	at := func(s *ConvergenceSeries, target float64) string {
		row := s.nearestNFE(target)
		if row == nil {
			return "–"
		}
		return fmt.Sprintf("%s / %s (NFE %d)", fmtG(row.MeanError), fmtG(row.MedianError), row.NFE)
	}
	for i := range r.Series {
		s := &r.Series[i]
		fitNFE := "–"
		if s.Fit.Rows > 0 {
			fitNFE = fmt.Sprintf("%d–%d (%d rows)", s.Fit.NFEMin, s.Fit.NFEMax, s.Fit.Rows)
		}
		worst, switched, failed := 0, 0, 0
		for _, row := range s.Rows {
			worst, switched = max(worst, row.Outliers), max(switched, row.Switched)
			if row.Failed != "" {
				failed++
			}
		}
		out := fmt.Sprintf("%d / %d of %d", worst, switched, r.N)
		if failed > 0 {
			out += fmt.Sprintf("; %d solves failed", failed)
		}
		kind := ""
		if s.Stochastic {
			kind = " (strong)"
		}
		fmt.Fprintf(&sb, "| %s%s | %s | %s | %s | %s | %g | %s | %s | %s |\n", s.Method, kind, s.Schedule, s.Fit, fitNFE,
			s.FitMedian, s.ClaimedOrder, at(s, 10), at(s, 20), out)
	}
	fmt.Fprintf(&sb, "\nErrors: Euclidean distance per point at the grid's end to the reference from the same latent (deterministic: RK45 at rtol = atol = %g; stochastic: the same method on %d× the finest grid, same Brownian path). The order is the least-squares slope of −log(error) vs log(NFE) from the %d largest NFE, extended to coarser rows while the local slope stays within %g·max(1, order); rows below %g× the reference's own error are left out. Outliers: points whose error exceeds %g× the row's median; switched: the outliers whose most likely mixture component differs from their reference's (they crossed a separatrix between modes). Weak error (SW2 per row) and every row are in the JSON; SW2 floor %s.\n",
		r.ReferenceTol, r.FineFactor, r.FitPoints, r.SlopeTol, r.FloorFactor, r.OutlierFactor, fmtG(r.SW2Floor))
	return sb.String()
}

// RowsTable renders every row as Markdown: NFE, the mean, median and max errors, the outliers
// and basin switches and the SW2 (weak error) with the floor in its header.
func (r *ConvergenceResult) RowsTable() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "| method | schedule | steps | NFE | mean err | median err | max err | outliers | switched | SW2 (floor %s) |\n|---|---|---|---|---|---|---|---|---|---|\n", fmtG(r.SW2Floor))
	for _, s := range r.Series {
		for _, row := range s.Rows {
			if row.Failed != "" {
				fmt.Fprintf(&sb, "| %s | %s | %d | – | failed: %s | | | | | |\n", s.Method, s.Schedule, row.Steps, strings.ReplaceAll(row.Failed, "|", "/"))
				continue
			}
			fmt.Fprintf(&sb, "| %s | %s | %d | %d | %s | %s | %s | %d | %d | %s |\n", s.Method, s.Schedule, row.Steps, row.NFE,
				fmtG(row.MeanError), fmtG(row.MedianError), fmtG(row.MaxError), row.Outliers, row.Switched, fmtG(row.SW2))
		}
	}
	return sb.String()
}

// ConvergencePlotWidth is the width of Figure: a 12 cm column, 708 px at plots.DPI, legible
// shown 600 px wide.
const ConvergencePlotWidth = 12 * vg.Centimeter

// Figure draws the mean error against the NFE on log-log axes, one panel per schedule stacked
// in one column, one curve per method (the same colour in every panel; stochastic methods'
// strong errors dashed, as are methods past the tenth colour), with the fitted order in each
// legend entry and, for deterministic methods, the reference floor (FloorFactor × the
// reference's own error) as a black dashed line. It returns the size to save it at
// (plots.Save(g, path, width, height)): ConvergencePlotWidth wide, each panel tall enough for
// its legend beside it.
func (r *ConvergenceResult) Figure() (g *plots.Grid, width, height vg.Length) {
	var schedules, methods []string
	for _, s := range r.Series {
		if !slices.Contains(schedules, s.Schedule) {
			schedules = append(schedules, s.Schedule)
		}
		if !slices.Contains(methods, s.Method) {
			methods = append(methods, s.Method)
		}
	}
	g = &plots.Grid{Cols: 1, Title: fmt.Sprintf("%s, %s SDE: pathwise error at the grid's end", r.Data, r.SDE)}
	for _, sc := range schedules {
		var curves []plots.Curve
		floor := math.NaN()
		minX, maxX := math.Inf(1), math.Inf(-1)
		for _, s := range r.Series {
			if s.Schedule != sc {
				continue
			}
			k := slices.Index(methods, s.Method)
			cv := plots.Curve{Name: fmt.Sprintf("%s (%s)", s.Method, orderLabel(s.Fit)), Marks: true,
				Color: plots.Categorical(k), Dashed: s.Stochastic || k >= 10}
			for _, row := range s.Rows {
				if row.Failed != "" {
					continue
				}
				cv.X, cv.Y = append(cv.X, float64(row.NFE)), append(cv.Y, float64(row.MeanError))
				minX, maxX = math.Min(minX, float64(row.NFE)), math.Max(maxX, float64(row.NFE))
			}
			if e := float64(s.ReferenceError); e > 0 && !math.IsInf(e, 0) {
				floor = e * r.FloorFactor
			}
			curves = append(curves, cv)
		}
		if floor > 0 && minX < maxX {
			curves = append(curves, plots.Curve{Name: "reference floor", X: []float64{minX, maxX}, Y: []float64{floor, floor},
				Dashed: true, Color: color.Black, Width: vg.Points(0.75)})
		}
		// A short y label: gonum centres it at the arithmetic mean of the axis range, which on a
		// log axis over many decades lies near the top, and pads the data area down to fit it.
		p := plots.Curves(sc+" grid: mean pathwise error", "NFE", "error", curves...)
		plots.LogX(p)
		plots.LogY(p)
		g.Panels = append(g.Panels, p)
	}
	g.Rows = len(g.Panels)
	// The legend is right of the data area, about 13 points a line; a data area shorter than
	// the legend is pushed down, so each panel leaves room for the title and axes besides.
	panel := max(8*vg.Centimeter, vg.Length(len(methods)+1)*13+100)
	return g, ConvergencePlotWidth, vg.Length(len(g.Panels))*panel + 30
}

// orderLabel is a fit's order for a legend: "order 2.0", or "no fit".
func orderLabel(f OrderFit) string {
	if math.IsNaN(float64(f.Order)) {
		return "no fit"
	}
	return fmt.Sprintf("order %.2f", float64(f.Order))
}
