package plots_test

import (
	"fmt"
	"math"
	"strings"

	"github.com/scoresde/scoresde/plots"
)

// A figure as one <img> element, for a live display that redraws it in
// place (gonbui.UpdateHTML(id, snippet)).
func ExampleHTML() {
	p := plots.Curves("decay", "t", "e^-t", plots.Curve{Name: "e^-t", X: []float64{0, 1, 2}, Y: []float64{1, math.Exp(-1), math.Exp(-2)}})
	snippet, err := plots.HTML(p, 300, 200)
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.HasPrefix(snippet, `<img src="data:image/svg+xml;base64,`))
	fmt.Println(snippet[strings.Index(snippet, `" width=`)+2:])
	// Output:
	// true
	// width="400" height="267" alt="decay" style="max-width:100%;height:auto">
}

// One colour scale for a field at two noise levels: the same colour is the
// same magnitude in both panels.
func ExampleShareColorScale() {
	b := plots.Square(-2, 2)
	sharp := plots.VectorField(func(x, y float64) (float64, float64) { return -x / 0.01, -y / 0.01 }, b, 9, plots.WithLogColor(true))
	broad := plots.VectorField(func(x, y float64) (float64, float64) { return -x, -y }, b, 9, plots.WithLogColor(true))
	plots.ShareColorScale(sharp, broad)
	lo1, hi1, _ := plots.ColorRange(sharp)
	lo2, hi2, _ := plots.ColorRange(broad)
	fmt.Printf("[%.3g, %.3g] [%.3g, %.3g]\n", lo1, hi1, lo2, hi2)
	// Output: [0.444, 251] [0.444, 251]
}

// Samples coloured by the class they were drawn for.
func ExampleScatterByClass() {
	points := [][]float64{{-1, 0}, {1, 0}, {0, 1}}
	classes := []int{0, 1, 1}
	p := plots.ScatterByClass(points, classes, plots.Square(-2, 2), plots.WithClassNames("left", "right"))
	p.Title.Text = "two classes"
	snippet, err := plots.HTML(p, 0, 0)
	fmt.Println(err, strings.Contains(snippet, `alt="two classes"`))
	// Output: <nil> true
}
