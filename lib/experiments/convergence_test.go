package experiments

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/sampling"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/plots"
	"github.com/scoresde/scoresde/toy"
)

// nearGaussian is a small mixture of two overlapping components: nearly a Gaussian, so that
// the probability-flow ODE is smooth and every solver is in its asymptotic range from a few
// dozen steps.
func nearGaussian(t *testing.T) *toy.Mixture {
	t.Helper()
	m, err := toy.ParseSpec([]byte(`{"name":"near-gaussian","weights":[0.6,0.4],"means":[[1,0],[1.4,0.5]],"covs":[0.3,[0.4,0.2]]}`))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestConvergenceOrders: on a near-Gaussian mixture, Euler's fitted order is 1 and Heun's 2
// (±0.3) on the VP SDE, with intervals that are finite and hold the estimate; the errors fall
// with the steps, no point switches basins, and the JSON of the result round-trips.
func TestConvergenceOrders(t *testing.T) {
	b := backend.MustNew()
	o := DefaultConvergence()
	o.Methods = []string{"euler", "heun"}
	o.Schedules = []string{"uniform"}
	o.Steps = []int{16, 32, 64, 128}
	o.N = 64
	calls := 0
	o.Progress = func(done, total int) {
		calls++
		if done != calls || done > total {
			t.Errorf("progress %d/%d after %d calls", done, total, calls)
		}
	}
	res, err := Convergence(b, nearGaussian(t), sde.NewVP(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s\n%s", res, res.RowsTable())
	// 2 methods × 4 steps, plus the reference and its 10× check for the one end time.
	if calls != 2*4+2 {
		t.Errorf("%d progress calls, want %d", calls, 2*4+2)
	}
	want := map[string]float64{"euler": 1, "heun": 2}
	if len(res.Series) != 2 {
		t.Fatalf("%d series, want 2", len(res.Series))
	}
	for _, s := range res.Series {
		t.Run(s.Method, func(t *testing.T) {
			order := float64(s.Fit.Order)
			if math.Abs(order-want[s.Method]) > 0.3 {
				t.Errorf("fitted order %.2f, want %g ± 0.3", order, want[s.Method])
			}
			if s.Fit.Rows < 3 || !(float64(s.Fit.Lo) < order && order < float64(s.Fit.Hi)) {
				t.Errorf("fit over %d rows, interval [%g, %g] around %g: want ≥ 3 rows and a finite interval", s.Fit.Rows, s.Fit.Lo, s.Fit.Hi, order)
			}
			if !(float64(s.ReferenceError) > 0 && float64(s.ReferenceError) < 1e-6) {
				t.Errorf("reference error %g, want a small positive estimate", s.ReferenceError)
			}
			for i, r := range s.Rows {
				if r.Failed != "" || r.Switched != 0 || r.NFE < r.Steps {
					t.Errorf("row %+v: want a solve with NFE ≥ steps and no basin switch", r)
				}
				if !(r.MedianError <= r.MeanError*1.5 && r.MeanError <= r.MaxError) {
					t.Errorf("row %d: mean %g, median %g, max %g out of order", i, r.MeanError, r.MedianError, r.MaxError)
				}
				if i > 0 && !(r.MeanError < s.Rows[i-1].MeanError) {
					t.Errorf("row %d: error %g did not fall from %g", i, r.MeanError, s.Rows[i-1].MeanError)
				}
			}
		})
	}
	raw, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back ConvergenceResult
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	again, err := json.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, again) {
		t.Errorf("JSON does not round-trip:\n%s\n%s", raw, again)
	}
	if back.Series[1].Fit.Order != res.Series[1].Fit.Order || back.Series[0].Rows[2].MeanError != res.Series[0].Rows[2].MeanError {
		t.Errorf("values changed in the round trip")
	}
	fig, w, h := res.Figure()
	if len(fig.Panels) != 1 || w != ConvergencePlotWidth || !(h > 0) {
		t.Errorf("figure of %d panels, %g × %g: want one panel %g wide", len(fig.Panels), w, h, ConvergencePlotWidth)
	}
	files, err := plots.Save(fig, filepath.Join(t.TempDir(), "conv.png"), w, h)
	if err != nil || len(files) != 2 {
		t.Errorf("saving the figure: %v %v", files, err)
	}
}

// TestConvergenceStochastic: a stochastic method's strong error against its own fine grid on the
// same Brownian path falls with the steps, and every row has a weak error next to the floor.
func TestConvergenceStochastic(t *testing.T) {
	var name string
	for _, m := range sampling.Methods() {
		if m.Stochastic {
			name = m.Name
			break
		}
	}
	if name == "" {
		t.Skip("no stochastic method is registered")
	}
	o := DefaultConvergence()
	o.Methods = []string{name}
	o.Schedules = []string{"karras"}
	o.Steps = []int{8, 32}
	o.FineFactor = 4
	o.N = 32
	res, err := Convergence(backend.MustNew(), nearGaussian(t), sde.NewVE(), o)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Series[0]
	t.Logf("\n%s", res.RowsTable())
	if !s.Stochastic || !strings.Contains(s.Reference, "128 karras steps") || !math.IsNaN(float64(s.ReferenceError)) {
		t.Errorf("series %+v: want a stochastic series against 128 steps and no reference error", s)
	}
	if !(s.Rows[1].MeanError < s.Rows[0].MeanError) {
		t.Errorf("strong error %g at 32 steps did not fall from %g at 8", s.Rows[1].MeanError, s.Rows[0].MeanError)
	}
	if !(res.SW2Floor > 0) || !(s.Rows[0].SW2 > 0) || !(s.Rows[1].SW2 > 0) {
		t.Errorf("SW2 %g, %g, floor %g: want positive weak errors and floor", s.Rows[0].SW2, s.Rows[1].SW2, res.SW2Floor)
	}
}

// TestFloatJSON: non-finite values are written as null and null reads back as NaN.
func TestFloatJSON(t *testing.T) {
	for _, c := range []struct {
		name string
		v    float64
		want string
	}{
		{"finite", 1.5e-7, "1.5e-07"},
		{"zero", 0, "0"},
		{"nan", math.NaN(), "null"},
		{"inf", math.Inf(1), "null"},
		{"-inf", math.Inf(-1), "null"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := json.Marshal(struct{ V Float }{Float(c.v)})
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != `{"V":`+c.want+`}` {
				t.Errorf("marshal %g: %s, want %s", c.v, b, c.want)
			}
			var back struct{ V Float }
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if got := float64(back.V); !(got == c.v || (math.IsNaN(got) && (math.IsNaN(c.v) || math.IsInf(c.v, 0)))) {
				t.Errorf("read back %g, want %g (NaN for non-finite)", got, c.v)
			}
		})
	}
	var f Float
	if err := json.Unmarshal([]byte(`"x"`), &f); err == nil {
		t.Error(`a string read as a Float without an error`)
	}
}

// TestConvergenceValidate: each bad option is refused before any solve, naming the option.
func TestConvergenceValidate(t *testing.T) {
	vp := sde.NewVP()
	for _, c := range []struct {
		name string
		edit func(o *ConvergenceOptions)
		dim  int
		want string
	}{
		{"unknown method", func(o *ConvergenceOptions) { o.Methods = []string{"heun", "nope"} }, 2, `unknown method "nope"`},
		{"method twice", func(o *ConvergenceOptions) { o.Methods = []string{"heun", "HEUN"} }, 2, "listed twice"},
		{"unknown schedule", func(o *ConvergenceOptions) { o.Schedules = []string{"cosine"} }, 2, `unknown schedule "cosine"`},
		{"no schedule", func(o *ConvergenceOptions) { o.Schedules = nil }, 2, "no schedule"},
		{"schedule twice", func(o *ConvergenceOptions) { o.Schedules = []string{"karras", "karras"} }, 2, "listed twice"},
		{"one step value", func(o *ConvergenceOptions) { o.Steps = []int{16} }, 2, "at least two"},
		{"zero steps", func(o *ConvergenceOptions) { o.Steps = []int{0, 16} }, 2, "steps=0"},
		{"huge steps", func(o *ConvergenceOptions) { o.Steps = []int{16, sampling.MaxSteps} }, 2, "steps=1000000"},
		{"steps twice", func(o *ConvergenceOptions) { o.Steps = []int{16, 32, 16} }, 2, "listed twice"},
		{"one latent", func(o *ConvergenceOptions) { o.N = 1 }, 2, "n=1"},
		{"too many values", func(o *ConvergenceOptions) { o.N = 1 << 20 }, 1000, "at most"},
		{"eps past T", func(o *ConvergenceOptions) { o.Eps = 2 }, 2, "eps=2"},
		{"eps NaN", func(o *ConvergenceOptions) { o.Eps = math.NaN() }, 2, "eps=NaN"},
		{"reference tol", func(o *ConvergenceOptions) { o.ReferenceTol = 0 }, 2, "reference tolerance"},
		{"fine factor", func(o *ConvergenceOptions) { o.FineFactor = 1 }, 2, "fine factor"},
		{"fit points", func(o *ConvergenceOptions) { o.FitPoints = 1 }, 2, "fit points"},
		{"slope tol", func(o *ConvergenceOptions) { o.SlopeTol = math.Inf(1) }, 2, "slope tolerance"},
		{"projections", func(o *ConvergenceOptions) { o.Projections = -1 }, 2, "projections"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := DefaultConvergence()
			c.edit(&o)
			err := o.Validate(vp, c.dim)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error with %q", err, c.want)
			}
		})
	}
	if err := DefaultConvergence().Validate(vp, 2); err != nil {
		t.Errorf("the defaults are refused: %v", err)
	}
}

// TestFitOrderRange: the fit starts from the largest NFE, extends over rows on the same slope,
// and leaves out the pre-asymptotic rows (falling faster), rows at the reference floor and
// failed rows.
func TestFitOrderRange(t *testing.T) {
	o := DefaultConvergence()
	rows := func(errs ...float64) []ConvergenceRow {
		var out []ConvergenceRow
		for i, e := range errs {
			r := ConvergenceRow{Steps: 8 << i, NFE: 8 << i, MeanError: Float(e)}
			if math.IsNaN(e) {
				r.Failed = "diverged"
			}
			out = append(out, r)
		}
		return out
	}
	mean := func(r ConvergenceRow) float64 { return float64(r.MeanError) }
	for _, c := range []struct {
		name     string
		rows     []ConvergenceRow
		floor    float64
		order    float64
		fitted   int
		min, max int
	}{
		{"clean order 2", rows(1, 0.25, 1.0/16, 1.0/64, 1.0/256), 0, 2, 5, 8, 128},
		{"basins switch back", rows(10, 0.3, 0.15, 0.075, 0.0375), 0, 1, 4, 16, 128},
		{"reference floor", rows(0.1, 0.05, 0.025, 0.0125, 5e-10), 1e-10, 1, 4, 8, 64},
		{"failed row", rows(math.NaN(), 0.25, 1.0/16, 1.0/64), 0, 2, 3, 16, 64},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := fitOrderRange(c.rows, mean, c.floor, o)
			if math.Abs(float64(f.Order)-c.order) > 1e-9 || f.Rows != c.fitted || f.NFEMin != c.min || f.NFEMax != c.max {
				t.Errorf("fit %+v, want order %g over %d rows, NFE %d–%d", f, c.order, c.fitted, c.min, c.max)
			}
			if !(float64(f.Lo) <= c.order+1e-9 && c.order-1e-9 <= float64(f.Hi)) {
				t.Errorf("interval [%g, %g] misses %g", f.Lo, f.Hi, c.order)
			}
		})
	}
	if f := fitOrderRange(rows(1, math.NaN()), mean, 0, o); !math.IsNaN(float64(f.Order)) {
		t.Errorf("one usable row gave order %g, want none", f.Order)
	}
	if f := fitOrderRange(rows(1, 0.5), mean, 0, o); math.Abs(float64(f.Order)-1) > 1e-9 || !math.IsNaN(float64(f.Lo)) {
		t.Errorf("two rows: %+v, want order 1 without an interval", f)
	}
}

// TestSummarizeErrors: mean, median (odd and even counts) and max, and the outliers above
// factor × the median.
func TestSummarizeErrors(t *testing.T) {
	for _, c := range []struct {
		name               string
		e                  []float64
		mean, median, maxv float64
		outliers           int
	}{
		{"odd", []float64{3, 1, 2}, 2, 2, 3, 0},
		{"even", []float64{1, 2, 3, 4}, 2.5, 2.5, 4, 0},
		{"one basin switch", []float64{0.01, 0.012, 0.011, 5}, (0.033 + 5) / 4, 0.0115, 5, 1},
		{"all zero", []float64{0, 0}, 0, 0, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := summarizeErrors(c.e, 10)
			if math.Abs(s.mean-c.mean) > 1e-12 || math.Abs(s.median-c.median) > 1e-12 || s.max != c.maxv || s.outliers != c.outliers {
				t.Errorf("got %+v, want mean %g median %g max %g outliers %d", s, c.mean, c.median, c.maxv, c.outliers)
			}
		})
	}
}

// TestConvergenceDefaultMethods: without Methods the study takes every deterministic method of
// the registry, in its order, and no stochastic one.
func TestConvergenceDefaultMethods(t *testing.T) {
	ms, err := DefaultConvergence().methods()
	if err != nil {
		t.Fatal(err)
	}
	want := sampling.MethodNames(true, false)
	if len(ms) != len(want) || len(want) == 0 {
		t.Fatalf("%d methods, want the %d deterministic ones %v", len(ms), len(want), want)
	}
	for i, m := range ms {
		if m.Name != want[i] || m.Stochastic {
			t.Errorf("method %d is %s (stochastic %v), want %s", i, m.Name, m.Stochastic, want[i])
		}
	}
}

// FuzzFloatJSON: any JSON value reads as a Float or fails with an error, never a panic, and a
// Float read writes back as JSON that reads to the same value (null for NaN).
func FuzzFloatJSON(f *testing.F) {
	for _, s := range []string{"1.5", "null", "NaN", "1e400", "-0", `"1"`, "[1]", "", "1e-400", "0x10", "true"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v Float
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal %g: %v", float64(v), err)
		}
		var back Float
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s does not read back: %v", b, err)
		}
		if !(back == v || (math.IsNaN(float64(back)) && math.IsNaN(float64(v)))) {
			t.Errorf("%q read %g, wrote %s, read back %g", s, float64(v), b, float64(back))
		}
	})
}
