package plots

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// outDir returns the directory for test figures: $PLOTS_TEST_OUT when set
// (to look at them), a fresh temporary directory otherwise.
func outDir(t testing.TB) string {
	if d := os.Getenv("PLOTS_TEST_OUT"); d != "" {
		return d
	}
	return t.TempDir()
}

// mixtureLogp is the log-density of an equal mixture of two isotropic
// Gaussians (σ = 0.5) at (±1, 0).
func mixtureLogp(x, y float64) float64 {
	const s2 = 0.25
	a := -((x-1)*(x-1) + y*y) / (2 * s2)
	b := -((x+1)*(x+1) + y*y) / (2 * s2)
	m := math.Max(a, b)
	return m + math.Log(0.5*math.Exp(a-m)+0.5*math.Exp(b-m)) - math.Log(2*math.Pi*s2)
}

// mixtureScore is the gradient of mixtureLogp.
func mixtureScore(x, y float64) (u, v float64) {
	const s2 = 0.25
	a := -((x-1)*(x-1) + y*y) / (2 * s2)
	b := -((x+1)*(x+1) + y*y) / (2 * s2)
	wa := 1 / (1 + math.Exp(b-a))
	return (wa*(1-x) + (1-wa)*(-1-x)) / s2, -y / s2
}

func gaussianCloud(n int, seed uint64) [][]float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	pts := make([][]float64, n)
	for i := range pts {
		cx := 1.0
		if i%2 == 0 {
			cx = -1
		}
		pts[i] = []float64{cx + 0.5*r.NormFloat64(), 0.5 * r.NormFloat64()}
	}
	return pts
}

// checkSaved saves fig under dir/name and checks both files.
func checkSaved(t *testing.T, fig any, dir, name string, w, h vg.Length) (pngPath, svgPath string) {
	t.Helper()
	paths, err := Save(fig, filepath.Join(dir, name), w, h)
	if err != nil {
		t.Fatalf("Save(%s): %v", name, err)
	}
	if len(paths) != 2 || !strings.HasSuffix(paths[0], ".png") || !strings.HasSuffix(paths[1], ".svg") {
		t.Fatalf("Save(%s) wrote %v, want a .png and a .svg", name, paths)
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil || st.Size() == 0 {
			t.Fatalf("%s: missing or empty (%v)", p, err)
		}
	}
	f, err := os.Open(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", paths[0], err)
	}
	wantW, wantH := int(math.Round(w.Dots(DPI))), int(math.Round(h.Dots(DPI)))
	if b := img.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
		t.Errorf("%s: %d×%d pixels, want %d×%d", paths[0], b.Dx(), b.Dy(), wantW, wantH)
	}
	svg, err := os.ReadFile(paths[1])
	if err != nil || !bytes.Contains(svg, []byte("<svg")) {
		t.Errorf("%s: not an SVG (%v)", paths[1], err)
	}
	// No temporary file may be left behind.
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
	return paths[0], paths[1]
}

func TestBuilders(t *testing.T) {
	dir := outDir(t)
	b := Square(-3, 3)

	field := VectorField(mixtureScore, b, 21)
	field.Title.Text = "score of a two-Gaussian mixture"

	density := LogDensity(mixtureLogp, b, 80)
	density.Title.Text = "log-density"
	if err := AddScatter(density, gaussianCloud(60, 3), "samples", color.RGBA{R: 230, G: 50, B: 40, A: 255}); err != nil {
		t.Fatal(err)
	}

	// Paths of an Ornstein–Uhlenbeck process dx = -x dt + √2 dW.
	r := rand.New(rand.NewPCG(7, 7))
	const steps = 200
	times := make([]float64, steps)
	for k := range times {
		times[k] = float64(k) / (steps - 1)
	}
	paths := make([][][]float64, 20)
	for i := range paths {
		x, y := 2.5*math.Cos(float64(i)), 2.5*math.Sin(float64(i))
		for range steps {
			paths[i] = append(paths[i], []float64{x, y})
			dt := 1.0 / (steps - 1)
			x += -x*dt + math.Sqrt(2*dt)*r.NormFloat64()
			y += -y*dt + math.Sqrt(2*dt)*r.NormFloat64()
		}
	}
	traj := Trajectories(paths, times, b)
	traj.Title.Text = "trajectories"

	// Figure 1: a VE-like SDE on a two-point mixture at ±1, σ_t² = 0.01 + 4t.
	sigma2 := func(t float64) float64 { return 0.01 + 4*t }
	dens := func(t, x float64) float64 {
		s2 := sigma2(t)
		g := func(m float64) float64 { return math.Exp(-(x-m)*(x-m)/(2*s2)) / math.Sqrt(2*math.Pi*s2) }
		return 0.5*g(-1) + 0.5*g(1)
	}
	fwd, rev := make([][]float64, 6), make([][]float64, 6)
	for i := range fwd {
		x := float64(2*(i%2) - 1)
		for range steps {
			fwd[i] = append(fwd[i], x)
			x += math.Sqrt(4.0/(steps-1)) * r.NormFloat64()
		}
		// Reverse paths: pin to the data mode at t = 0 along a Brownian bridge.
		end := float64(2*((i+1)%2) - 1)
		rev[i] = make([]float64, steps)
		w := 0.0
		for k := steps - 1; k >= 0; k-- {
			tk := times[k]
			rev[i][k] = end*(1-tk) + w*math.Sqrt(tk)
			w = 0.95*w + 0.3*r.NormFloat64()
		}
	}
	fig1 := Figure1(dens, -5, 5, times, fwd, rev)
	fig1.Title = "forward and reverse SDE"

	ns := []float64{10, 30, 100, 300, 1000, 3000}
	errs := make([]float64, len(ns))
	for i, n := range ns {
		errs[i] = 1 / math.Sqrt(n)
	}
	curves := Curves("error against N", "N", "error",
		Curve{Name: "measured", X: ns, Y: errs},
		Curve{Name: "1/√N", X: ns, Y: []float64{0.3, 0.18, 0.1, 0.058, 0.032, 0.018}, Dashed: true})
	LogX(curves)
	LogY(curves)

	grid := &Grid{Rows: 1, Cols: 3, Title: "score field over time", Panels: []*plot.Plot{
		VectorField(mixtureScore, b, 13), VectorField(func(x, y float64) (float64, float64) { return -x, -y }, b, 13), nil,
	}}
	grid.Panels[0].Title.Text = "t = 0"
	grid.Panels[1].Title.Text = "t = 1"

	for _, c := range []struct {
		name string
		fig  any
		w, h vg.Length
	}{
		{"field", field, DefaultWidth, DefaultHeight},
		{"density", density, DefaultWidth, DefaultHeight},
		{"scatter", Scatter(gaussianCloud(100, 1), b, WithName("data")), DefaultWidth, DefaultHeight},
		{"trajectories", traj, DefaultWidth, DefaultHeight},
		{"figure1", fig1, WideWidth, 1.6 * WideHeight},
		{"curves", curves, DefaultWidth, DefaultHeight},
		{"grid", grid, 3 * DefaultWidth * 0.8, DefaultHeight * 0.8},
	} {
		checkSaved(t, c.fig, dir, c.name, c.w, c.h)
	}
}

func TestScatterRasterizes(t *testing.T) {
	dir := outDir(t)
	b := Square(-3, 3)
	_, big := checkSaved(t, Scatter(gaussianCloud(10000, 2), b), dir, "scatter10k", DefaultWidth, DefaultHeight)
	data, err := os.ReadFile(big)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 300<<10 {
		t.Errorf("SVG of 10,000 points is %d bytes, want < 300 KiB", len(data))
	}
	if !bytes.Contains(data, []byte("<image")) {
		t.Errorf("SVG of 10,000 points has no raster image")
	}

	_, small := checkSaved(t, Scatter(gaussianCloud(100, 1), b), dir, "scatter100", DefaultWidth, DefaultHeight)
	data, err = os.ReadFile(small)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("<image")) {
		t.Errorf("SVG of 100 points holds a raster image")
	}
	// Each point is a circle path filled on its own.
	if n := bytes.Count(data, []byte("<path")); n < 100 {
		t.Errorf("SVG of 100 points has %d paths, want ≥ 100", n)
	}
}

func TestImageGrid(t *testing.T) {
	const h, w = 8, 6
	grey := make([][]float64, 10)
	for i := range grey {
		grey[i] = make([]float64, h*w)
		for k := range grey[i] {
			grey[i][k] = float64(k) / (h * w)
		}
	}
	img, err := ImageGrid(grey, h, w, 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	// 4 columns, 3 rows.
	if b := img.Bounds(); b.Dx() != 4*w+5*ImageGridPad || b.Dy() != 3*h+4*ImageGridPad {
		t.Errorf("grey grid is %d×%d, want %d×%d", b.Dx(), b.Dy(), 4*w+5*ImageGridPad, 3*h+4*ImageGridPad)
	}
	if _, ok := img.(*image.Gray); !ok {
		t.Errorf("grey grid is %T, want *image.Gray", img)
	}

	rgb := [][]float64{make([]float64, h*w*3), make([]float64, h*w*3)}
	rgb[1][0], rgb[1][1], rgb[1][2] = 1, 0.5, 2 // top-left pixel of image 1, 2 is clamped
	img, err = ImageGrid(rgb, h, w, 3, 5)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 2*w+3*ImageGridPad || b.Dy() != h+2*ImageGridPad {
		t.Errorf("RGB grid is %d×%d, want %d×%d", b.Dx(), b.Dy(), 2*w+3*ImageGridPad, h+2*ImageGridPad)
	}
	got := color.RGBAModel.Convert(img.At(2*ImageGridPad+w, ImageGridPad)).(color.RGBA)
	if want := (color.RGBA{R: 255, G: 128, B: 255, A: 255}); got != want {
		t.Errorf("pixel = %v, want %v", got, want)
	}
	paths, err := Save(img, filepath.Join(outDir(t), "sub", "images"), 0, 0)
	if err != nil || len(paths) != 1 || !strings.HasSuffix(paths[0], ".png") {
		t.Errorf("Save(image) = %v, %v; want one .png", paths, err)
	}

	for _, bad := range []struct {
		images        [][]float64
		h, w, c, cols int
	}{
		{nil, h, w, 1, 2},
		{grey, h, w, 2, 2},
		{grey, h, w, 3, 2},
		{grey, h, w, 1, 0},
		{grey, 0, w, 1, 2},
	} {
		if _, err := ImageGrid(bad.images, bad.h, bad.w, bad.c, bad.cols); err == nil {
			t.Errorf("ImageGrid(%d images, %d, %d, %d, %d) succeeded", len(bad.images), bad.h, bad.w, bad.c, bad.cols)
		}
	}
}

func TestSaveRejects(t *testing.T) {
	dir := t.TempDir()
	_, err := Save(42, filepath.Join(dir, "x"), 0, 0)
	if err == nil || !strings.Contains(err.Error(), "unsupported figure type int") {
		t.Errorf("Save(int) error = %v, want unsupported figure type", err)
	}
	if _, err := Save(&Grid{Rows: 1, Cols: 1, Panels: make([]*plot.Plot, 2)}, filepath.Join(dir, "g"), 0, 0); err == nil {
		t.Errorf("Save of an overfull grid succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed saves left files: %v", entries)
	}
}

func TestShowOutsideNotebook(t *testing.T) {
	if err := Show(Scatter(gaussianCloud(10, 1), Square(-3, 3)), 0, 0); err != nil {
		t.Errorf("Show outside a notebook = %v, want nil", err)
	}
	if err := Show("not a figure", 0, 0); err != nil {
		t.Errorf("Show outside a notebook = %v, want nil", err)
	}
}

func TestEqualAspect(t *testing.T) {
	p := Scatter(nil, Bounds{XMin: 0, XMax: 2, YMin: 0, YMax: 1})
	if !EqualAspect(p) {
		t.Fatal("2-D plot without equal aspect")
	}
	c := vgimgCanvas(DefaultWidth, DefaultHeight)
	size := p.DataCanvas(fitAspect(p, c)).Size()
	if r := size.X / size.Y; math.Abs(float64(r)-2) > 1e-6 {
		t.Errorf("data area aspect %v, want 2", r)
	}
	SetEqualAspect(p, false)
	if EqualAspect(p) {
		t.Error("SetEqualAspect(p, false) did not turn it off")
	}
}

func BenchmarkVectorField(b *testing.B) {
	for b.Loop() {
		p := VectorField(mixtureScore, Square(-3, 3), 25)
		if _, err := render(p, "png", DefaultWidth, DefaultHeight); err != nil {
			b.Fatal(err)
		}
	}
}

func vgimgCanvas(w, h vg.Length) draw.Canvas { return draw.New(vgimg.New(w, h)) }

func TestBoundsOf(t *testing.T) {
	b := BoundsOf([][]float64{{0, 1}, {2, -1}, {math.NaN(), 5}}, 0.1)
	want := Bounds{XMin: -0.2, XMax: 2.2, YMin: -1.2, YMax: 1.2}
	for _, d := range []float64{b.XMin - want.XMin, b.XMax - want.XMax, b.YMin - want.YMin, b.YMax - want.YMax} {
		if math.Abs(d) > 1e-12 {
			t.Fatalf("BoundsOf = %+v, want %+v", b, want)
		}
	}
	if got := BoundsOf(nil, 0.1); got != Square(-1, 1) {
		t.Errorf("BoundsOf(nil) = %+v, want [-1, 1]²", got)
	}
}
