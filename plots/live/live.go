// Package live draws a figure with controls in a GoNB notebook: sliders and selects that redraw
// the figure in place as they move, for ablating samplers and their settings interactively.
//
//	must.M(live.New("PC sampler", draw).
//		Select("predictor", "predictor", []string{"reverse_diffusion", "euler_maruyama"}, "reverse_diffusion").
//		Slider("snr", "SNR r", live.LogSpace(0.01, 1, 21), 0.16).
//		Done())
//
// where draw is a func(live.Values) (figure any, status string, err error) that returns a
// *plot.Plot, *plots.Grid or image.Image and one line of numbers shown under it.
//
// GoNB's widgets answer only while the cell's program runs and only in a browser, so in a
// headless run (nbconvert: `make test`, `make notebooks`, which set SCORESDE_HEADLESS=1) or outside
// a notebook Done draws once with the default values, shows that figure and returns at once.
// In a browser the controls stay live until the Done button is pressed, the kernel is
// interrupted or nothing moved for [Panel.IdleTimeout]; the last figure stays in the output.
//
// In the page every control has the element id "live-" + its name, the Done button "live-done",
// the figure sits in an element of class "scoresde-live-figure" and the status line in one of
// class "scoresde-live-status" (the browser test drives them by these names).
package live

import (
	"errors"
	"fmt"
	"html"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/comms"
	"github.com/janpfeifer/gonb/gonbui/dom"
	"github.com/janpfeifer/gonb/gonbui/widgets"
	"github.com/scoresde/scoresde/plots"
	"gonum.org/v1/plot/vg"
)

// DrawFunc draws the figure for one setting of the controls: a *plot.Plot, a *plots.Grid or an
// image.Image, and a status line (plain text, may be empty) shown under the figure.
type DrawFunc func(v Values) (figure any, status string, err error)

// control is one slider or select.
type control struct {
	name, label string
	// options are the labels of the positions; values the numbers behind them (sliders only).
	options []string
	values  []float64
	def     int // default position
	slider  bool
}

// Panel is a figure with controls, configured by its builder methods and run by Done.
type Panel struct {
	title    string
	draw     DrawFunc
	controls []*control
	width    vg.Length
	height   vg.Length
	idle     time.Duration
	wait     time.Duration
	err      error
}

// New returns a panel titled title whose figure draw draws; add controls with the builder
// methods and run it with Done. The default figure size is 360×300 points.
func New(title string, draw DrawFunc) *Panel {
	return &Panel{title: title, draw: draw, width: 360, height: 300, idle: 10 * time.Minute, wait: 20 * time.Second}
}

// Slider adds a slider over the given values (in order), starting at the value closest to def.
// The widget is integer-only, so it moves over positions 0 … len(values)−1; use [LogSpace] for a
// log-scale slider.
func (p *Panel) Slider(name, label string, values []float64, def float64) *Panel {
	if len(values) == 0 {
		p.fail(fmt.Errorf("live: slider %q has no values", name))
		return p
	}
	c := &control{name: name, label: label, values: values, slider: true}
	best := math.Inf(1)
	for i, v := range values {
		c.options = append(c.options, formatValue(v))
		if d := math.Abs(v - def); d < best {
			best, c.def = d, i
		}
	}
	return p.add(c)
}

// IntSlider adds a slider over the given integers, starting at the one closest to def; read it
// with [Values.Int].
func (p *Panel) IntSlider(name, label string, values []int, def int) *Panel {
	fs := make([]float64, len(values))
	for i, v := range values {
		fs[i] = float64(v)
	}
	return p.Slider(name, label, fs, float64(def))
}

// Select adds a drop-down list of options starting at def (which must be one of them).
func (p *Panel) Select(name, label string, options []string, def string) *Panel {
	c := &control{name: name, label: label, options: options, def: -1}
	for i, o := range options {
		if o == def {
			c.def = i
		}
	}
	if c.def < 0 {
		p.fail(fmt.Errorf("live: select %q: default %q is not one of %v", name, def, options))
		return p
	}
	return p.add(c)
}

// Size sets the figure's size in points (vg units); the image scales down to the column.
func (p *Panel) Size(width, height vg.Length) *Panel {
	p.width, p.height = width, height
	return p
}

// IdleTimeout sets how long the controls stay live without a change (default 10 minutes).
func (p *Panel) IdleTimeout(d time.Duration) *Panel {
	p.idle = d
	return p
}

func (p *Panel) add(c *control) *Panel {
	for _, o := range p.controls {
		if o.name == c.name {
			p.fail(fmt.Errorf("live: two controls named %q", c.name))
			return p
		}
	}
	if c.name == "" || strings.ContainsAny(c.name, " \"'<>&") {
		p.fail(fmt.Errorf("live: control name %q: want a non-empty name without spaces, quotes or <>&", c.name))
		return p
	}
	p.controls = append(p.controls, c)
	return p
}

func (p *Panel) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// Defaults returns the values of every control at its default position.
func (p *Panel) Defaults() Values {
	pos := make(map[string]int, len(p.controls))
	for _, c := range p.controls {
		pos[c.name] = c.def
	}
	return p.values(pos)
}

func (p *Panel) values(pos map[string]int) Values {
	v := Values{order: p.controls, controls: map[string]*control{}, pos: map[string]int{}}
	for _, c := range p.controls {
		i := min(max(pos[c.name], 0), len(c.options)-1)
		v.controls[c.name], v.pos[c.name] = c, i
	}
	return v
}

// Headless reports whether controls cannot answer here: outside a notebook, or when
// SCORESDE_HEADLESS=1 (set by scripts/run-notebooks for nbconvert runs).
func Headless() bool {
	return !gonbui.IsNotebook || os.Getenv("SCORESDE_HEADLESS") == "1"
}

// Done runs the panel: headless, it draws the defaults once and returns; in a browser it shows
// the controls and redraws on every change until Done is pressed, the kernel is interrupted or
// the idle timeout passes. It returns the first error of the builder or of a drawing.
func (p *Panel) Done() error {
	if p.err != nil {
		return p.err
	}
	if p.draw == nil {
		return errors.New("live: New needs a draw function")
	}
	if Headless() {
		return p.drawStatic(p.Defaults(), "")
	}
	return p.runLive()
}

// drawStatic draws v once as ordinary (saved) output.
func (p *Panel) drawStatic(v Values, note string) error {
	fig, status, err := p.draw(v)
	if err != nil {
		return fmt.Errorf("live: %s with %s: %w", p.title, v, err)
	}
	if err := plots.Show(fig, p.width, p.height); err != nil {
		return fmt.Errorf("live: %s: %w", p.title, err)
	}
	line := v.String()
	if status != "" {
		line += " — " + status
	}
	fmt.Println(line)
	if note != "" {
		fmt.Println(note)
	} else if len(p.controls) > 0 && gonbui.IsNotebook {
		names := make([]string, len(p.controls))
		for i, c := range p.controls {
			names[i] = c.label
		}
		fmt.Printf("(run this cell in Jupyter for live controls: %s)\n", strings.Join(names, ", "))
	}
	return nil
}

// widgetSet is the controls once built in the page.
type widgetSet struct {
	sliders map[string]*widgets.SliderBuilder
	selects map[string]*widgets.SelectBuilder
	done    *widgets.ButtonBuilder
}

func (p *Panel) runLive() error {
	uid := gonbui.UniqueID()
	boxID := "scoresde_live_box_" + uid
	ctlDisplay := "scoresde_live_controls_" + uid
	figDisplay := "scoresde_live_figure_" + uid

	// The controls: one row per control (label, widget, value), then the Done button.
	var sb strings.Builder
	fmt.Fprintf(&sb, `<style>#%s input[type=range]{display:inline-block;width:260px;max-width:60%%;vertical-align:middle}</style>`, boxID)
	fmt.Fprintf(&sb, `<div id="%s" style="font-family:sans-serif;font-size:13px;line-height:1.9">`, boxID)
	fmt.Fprintf(&sb, `<div style="font-weight:bold">%s</div>`, html.EscapeString(p.title))
	for _, c := range p.controls {
		fmt.Fprintf(&sb, `<div id="%s-row"><span style="display:inline-block;min-width:11em">%s</span> `,
			c.htmlID(), html.EscapeString(c.label))
		fmt.Fprintf(&sb, `<span id="%s-value" style="font-family:monospace;display:inline-block;min-width:5em"></span></div>`, c.htmlID())
	}
	fmt.Fprintf(&sb, `<div id="live-done-row"></div></div>`)
	gonbui.UpdateHTML(ctlDisplay, sb.String())

	// Draw the defaults first, so the figure shows while the widgets connect.
	pos := map[string]int{}
	for _, c := range p.controls {
		pos[c.name] = c.def
	}
	figHTML, err := p.render(p.values(pos), time.Time{})
	if err != nil {
		gonbui.UpdateHTML(ctlDisplay, "")
		return err
	}
	gonbui.UpdateHTML(figDisplay, figHTML)

	// Building a widget waits for the browser to answer; without one (an nbconvert run that did
	// not set SCORESDE_HEADLESS) give up after p.wait and keep the default figure.
	built := make(chan *widgetSet, 1)
	go func() { built <- p.buildWidgets() }()
	var ws *widgetSet
	select {
	case ws = <-built:
	case <-time.After(p.wait):
		gonbui.UpdateHTML(ctlDisplay, "")
		fmt.Printf("%s — no browser answered within %s: showing the defaults (SCORESDE_HEADLESS=1 skips the wait)\n",
			p.values(pos), p.wait)
		return nil
	}

	// Every change of a control lands here; redraws coalesce to the latest positions.
	var mu sync.Mutex
	changed := make(chan struct{}, 1)
	signalChange := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	var chans []*comms.AddressChan[int]
	listen := func(name string, ch *comms.AddressChan[int]) {
		chans = append(chans, ch)
		go func() {
			for v := range ch.C {
				mu.Lock()
				pos[name] = v
				mu.Unlock()
				signalChange()
			}
		}()
	}
	for _, c := range p.controls {
		if c.slider {
			listen(c.name, ws.sliders[c.name].Listen().LatestOnly())
		} else {
			listen(c.name, ws.selects[c.name].Listen().LatestOnly())
		}
		dom.SetInnerText(c.htmlID()+"-value", c.options[c.def])
	}
	doneClicks := ws.done.Listen()
	defer func() {
		for _, ch := range chans {
			ch.Close()
		}
		doneClicks.Close()
	}()
	interrupt := make(chan os.Signal, 1)
	signal.Notify(interrupt, os.Interrupt)
	defer signal.Stop(interrupt)

	shown := map[string]int{}
	for k, v := range pos {
		shown[k] = v
	}
	idle := time.NewTimer(p.idle)
	defer idle.Stop()
	why := ""
loop:
	for {
		select {
		case <-changed:
			mu.Lock()
			cur := map[string]int{}
			for k, v := range pos {
				cur[k] = v
			}
			mu.Unlock()
			start := time.Now()
			for _, c := range p.controls {
				if cur[c.name] != shown[c.name] {
					dom.SetInnerText(c.htmlID()+"-value", c.options[min(max(cur[c.name], 0), len(c.options)-1)])
				}
			}
			figHTML, err := p.render(p.values(cur), start)
			if err != nil {
				figHTML = fmt.Sprintf(`<div class="scoresde-live-status" style="color:#b00">%s</div>`, html.EscapeString(err.Error()))
			}
			gonbui.UpdateHTML(figDisplay, figHTML)
			shown = cur
			idle.Reset(p.idle)
		case <-doneClicks.C:
			why = "Done pressed"
			break loop
		case <-interrupt:
			why = "interrupted"
			break loop
		case <-idle.C:
			why = fmt.Sprintf("no change for %s", p.idle)
			break loop
		}
	}
	gonbui.UpdateHTML(ctlDisplay, "")
	fmt.Printf("final setting: %s (controls closed: %s)\n", p.values(shown), why)
	return nil
}

// buildWidgets creates the widgets in their rows; each Done waits for the browser.
func (p *Panel) buildWidgets() *widgetSet {
	ws := &widgetSet{sliders: map[string]*widgets.SliderBuilder{}, selects: map[string]*widgets.SelectBuilder{}}
	for _, c := range p.controls {
		row := c.htmlID() + "-row"
		if c.slider {
			ws.sliders[c.name] = widgets.Slider(0, len(c.options)-1, c.def).
				WithHtmlId(c.htmlID()).AppendTo(row).Done()
		} else {
			ws.selects[c.name] = widgets.Select(c.options).SetDefault(c.def).
				WithHtmlId(c.htmlID()).AppendTo(row).Done()
		}
	}
	ws.done = widgets.Button("Done").WithHtmlId("live-done").AppendTo("live-done-row").Done()
	return ws
}

// render draws v and returns the HTML of the figure and its status line. start, when set, is
// when the change arrived, to report the redraw time.
func (p *Panel) render(v Values, start time.Time) (string, error) {
	if start.IsZero() {
		start = time.Now()
	}
	fig, status, err := p.draw(v)
	if err != nil {
		return "", fmt.Errorf("live: %s with %s: %w", p.title, v, err)
	}
	img, err := plots.HTML(fig, p.width, p.height)
	if err != nil {
		return "", fmt.Errorf("live: %s: %w", p.title, err)
	}
	if status != "" {
		status += " · "
	}
	status += fmt.Sprintf("drawn in %.2f s", time.Since(start).Seconds())
	return fmt.Sprintf(`<div class="scoresde-live-figure">%s</div><div class="scoresde-live-status" style="font-family:monospace;font-size:12px">%s</div>`,
		img, html.EscapeString(status)), nil
}

func (c *control) htmlID() string { return "live-" + c.name }

// Values are the current settings of a panel's controls, read by name.
type Values struct {
	order    []*control
	controls map[string]*control
	pos      map[string]int
}

func (v Values) get(name string) *control {
	c, ok := v.controls[name]
	if !ok {
		panic(fmt.Sprintf("live: no control named %q", name))
	}
	return c
}

// Float returns the value of slider name; it panics if there is no such slider.
func (v Values) Float(name string) float64 {
	c := v.get(name)
	if !c.slider {
		panic(fmt.Sprintf("live: control %q is a select, not a slider", name))
	}
	return c.values[v.pos[name]]
}

// Int returns the value of slider name rounded to an integer.
func (v Values) Int(name string) int { return int(math.Round(v.Float(name))) }

// Choice returns the option chosen in select name (for a slider, its value as text).
func (v Values) Choice(name string) string { return v.get(name).options[v.pos[name]] }

// Index returns the position of control name: the option's index for a select.
func (v Values) Index(name string) int {
	v.get(name)
	return v.pos[name]
}

// String lists every setting as "name=value", in the order the controls were added.
func (v Values) String() string {
	parts := make([]string, len(v.order))
	for i, c := range v.order {
		parts[i] = c.name + "=" + c.options[v.pos[c.name]]
	}
	return strings.Join(parts, " ")
}

// formatValue prints a slider value compactly.
func formatValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e9 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// LogSpace returns n values from lo to hi evenly spaced in log scale (lo, hi > 0), each rounded
// to 3 significant digits, for a log-scale [Panel.Slider].
func LogSpace(lo, hi float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		f := 0.0
		if n > 1 {
			f = float64(i) / float64(n-1)
		}
		v := math.Exp(math.Log(lo) + f*(math.Log(hi)-math.Log(lo)))
		out[i], _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
	}
	return out
}
