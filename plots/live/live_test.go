package live

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/scoresde/scoresde/plots"
)

func TestLogSpace(t *testing.T) {
	got := LogSpace(0.01, 1, 5)
	want := []float64{0.01, 0.0316, 0.1, 0.316, 1}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("LogSpace(0.01, 1, 5) = %v, want %v", got, want)
		}
	}
}

func TestDefaults(t *testing.T) {
	p := New("t", nil).
		Select("predictor", "predictor", []string{"a", "b", "c"}, "b").
		Slider("snr", "SNR", LogSpace(0.01, 1, 21), 0.16).
		IntSlider("steps", "N", []int{50, 100, 200, 500}, 180)
	v := p.Defaults()
	if got := v.Choice("predictor"); got != "b" {
		t.Errorf("predictor = %q, want b", got)
	}
	if got := v.Index("predictor"); got != 1 {
		t.Errorf("predictor index = %d, want 1", got)
	}
	if got := v.Float("snr"); math.Abs(got-0.158) > 1e-9 {
		t.Errorf("snr = %g, want the grid value closest to 0.16 (0.158)", got)
	}
	if got := v.Int("steps"); got != 200 {
		t.Errorf("steps = %d, want 200 (closest to 180)", got)
	}
	if got, want := v.String(), "predictor=b snr=0.158 steps=200"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestBuilderErrors(t *testing.T) {
	draw := func(Values) (any, string, error) { return nil, "", nil }
	for _, c := range []struct {
		name string
		p    *Panel
		want string
	}{
		{"bad default", New("t", draw).Select("s", "s", []string{"a"}, "z"), `default "z" is not one of`},
		{"no values", New("t", draw).Slider("x", "x", nil, 0), `slider "x" has no values`},
		{"duplicate", New("t", draw).Slider("x", "x", []float64{1}, 1).Slider("x", "x", []float64{1}, 1), `two controls named "x"`},
		{"bad name", New("t", draw).Slider("a b", "x", []float64{1}, 1), `control name "a b"`},
		{"no draw", New("t", nil), "needs a draw function"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.p.Done()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Done() = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// Outside a notebook Done draws the defaults once and returns; a drawing error comes back wrapped.
func TestHeadlessDrawsDefaultsOnce(t *testing.T) {
	calls := 0
	var seen Values
	p := New("t", func(v Values) (any, string, error) {
		calls++
		seen = v
		return plots.Curves("c", "x", "y", plots.Curve{Name: "a", X: []float64{0, 1}, Y: []float64{0, 1}}), "ok", nil
	}).Slider("snr", "SNR", []float64{0.1, 0.2}, 0.2)
	if err := p.Done(); err != nil {
		t.Fatal(err)
	}
	if calls != 1 || seen.Float("snr") != 0.2 {
		t.Fatalf("draw called %d times with snr=%g, want once with 0.2", calls, seen.Float("snr"))
	}
	boom := errors.New("boom")
	err := New("t", func(Values) (any, string, error) { return nil, "", boom }).Done()
	if !errors.Is(err, boom) {
		t.Fatalf("Done() = %v, want it to wrap the drawing error", err)
	}
}

func TestProgressLine(t *testing.T) {
	p := NewProgress("train", 200).Unit("runs").Note(func() string { return "loss 0.5" })
	p.Update(0)
	p.start = p.start.Add(-10 * time.Second)
	p.done = 100
	got := p.line(p.start.Add(10 * time.Second))
	want := "train  100/200 (50%)  10.0 s, 10 runs/s, 10.0 s left  loss 0.5"
	if got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	r := NewProgress("resumed", 50)
	r.Update(50)
	if got := r.line(r.start); !strings.Contains(got, "already finished") {
		t.Errorf("a loop resumed at its end reports %q, want it to say it was already finished", got)
	}
}
