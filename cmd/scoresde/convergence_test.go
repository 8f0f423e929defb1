package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scoresde/scoresde/lib/experiments"
)

// TestConvergenceCommand runs a small study (a 2-D spec file, two methods, two schedules) and
// checks the order table on stdout, the JSON (it parses, with one series per method ×
// schedule and one row per steps value) and the plot (a PNG of the figure's width).
func TestConvergenceCommand(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "mix.json")
	if err := os.WriteFile(spec, []byte(`{"weights":[0.5,0.5],"means":[[1,0],[-1,0.5]],"covs":[0.3,0.3]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	jsonPath, plotPath := filepath.Join(dir, "out", "conv.json"), filepath.Join(dir, "out", "conv.png")
	var stdout, stderr bytes.Buffer
	code := run([]string{"convergence", "--data", spec, "--sde", "vp", "--methods", "euler,heun", "--schedule", "uniform,karras",
		"--steps", "8,16,32", "--n", "32", "--quiet", "--rows", "--json", jsonPath, "--plot", plotPath}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"| euler | uniform |", "| heun | karras |", "order (mean err) [95%]", "wrote " + jsonPath, "wrote " + plotPath} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	raw, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var res experiments.ConvergenceResult
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("the JSON does not parse: %v", err)
	}
	if res.SDE != "vp" || res.N != 32 || len(res.Series) != 4 {
		t.Fatalf("JSON: sde %q, n %d, %d series; want vp, 32, 4", res.SDE, res.N, len(res.Series))
	}
	for _, s := range res.Series {
		if len(s.Rows) != 3 || s.Rows[0].Steps != 8 || s.Rows[2].NFE < 32 {
			t.Errorf("series %s/%s: rows %+v, want steps 8, 16, 32", s.Method, s.Schedule, s.Rows)
		}
	}
	f, err := os.Open(plotPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("the plot is not a PNG: %v", err)
	}
	if cfg.Width < 600 || cfg.Width > 800 || cfg.Height < cfg.Width {
		t.Errorf("plot %d×%d px: want a column 600–800 px wide, one panel per schedule", cfg.Width, cfg.Height)
	}
	if _, err := os.Stat(strings.TrimSuffix(plotPath, ".png") + ".svg"); err != nil {
		t.Errorf("no SVG beside the PNG: %v", err)
	}
}

// TestParseInts: comma lists of integers, and the hostile ones refused with the value named.
func TestParseInts(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
		err  string
	}{
		{"8,16,32", []int{8, 16, 32}, ""},
		{" 8 , 16 ", []int{8, 16}, ""},
		{"", nil, "empty"},
		{"8,,16", nil, `value 2 ("")`},
		{"8,x", nil, `value 2 ("x")`},
		{"1e3", nil, `value 1 ("1e3")`},
		{"99999999999999999999", nil, "not an integer"},
		{strings.Repeat("1,", maxListItems) + "1", nil, "at most"},
	} {
		t.Run(c.in[:min(len(c.in), 20)], func(t *testing.T) {
			got, err := parseInts(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("parseInts(%q) = %v, %v; want an error with %q", c.in, got, err, c.err)
				}
				return
			}
			if err != nil || len(got) != len(c.want) {
				t.Fatalf("parseInts(%q) = %v, %v; want %v", c.in, got, err, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("parseInts(%q) = %v, want %v", c.in, got, c.want)
				}
			}
		})
	}
}

// FuzzParseInts: any string gives integers or one error line, never a panic, and a list that
// parses prints back to the same integers.
func FuzzParseInts(f *testing.F) {
	for _, s := range []string{"8,16,32", "", ",", "8,,16", "-1,0", "1e3", "99999999999999999999", " 8 ,\t16", "\x00", "８,16", strings.Repeat("1,", 1100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseInts(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err)
			}
			return
		}
		if len(v) == 0 || len(v) > maxListItems {
			t.Errorf("parseInts(%q) = %d values", s, len(v))
		}
		back, err := parseInts(joinInts(v))
		if err != nil || len(back) != len(v) {
			t.Fatalf("round trip of %v: %v, %v", v, back, err)
		}
		for i := range v {
			if back[i] != v[i] {
				t.Errorf("round trip of %v gave %v", v, back)
			}
		}
	})
}
