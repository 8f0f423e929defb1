package live

import (
	"fmt"
	"html"
	"os"
	"strings"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/scoresde/scoresde/plots"
	"gonum.org/v1/plot/vg"
)

// Progress reports a long loop (training, sampling) in a notebook: one line with steps, elapsed
// time, rate, time left and a note (e.g. the loss), and optionally a figure (e.g. the loss curve),
// both redrawn in place at most every [Progress.Every]. Outside a notebook it prints the line to
// stderr at every tenth of the way. Build it with [NewProgress], then call Update from the loop
// and Finish after it.
type Progress struct {
	label  string
	unit   string
	total  int
	every  time.Duration
	note   func() string
	figure func() any
	width  vg.Length
	height vg.Length

	id        string
	start     time.Time
	last      time.Time
	lastTenth int
	done      int
	first     int
	finished  bool
}

// NewProgress returns a progress report for a loop of total steps labelled label, redrawn at most
// every 2 s.
func NewProgress(label string, total int) *Progress {
	return &Progress{label: label, unit: "steps", total: total, every: 2 * time.Second, width: 420, height: 220,
		id: "scoresde_progress_" + gonbui.UniqueID(), lastTenth: -1, first: -1}
}

// Note sets a function whose text ends the progress line (e.g. the current loss).
func (p *Progress) Note(f func() string) *Progress { p.note = f; return p }

// Figure sets a function drawing a figure (a *plot.Plot, *plots.Grid or image.Image) shown under
// the line and redrawn with it, at width × height points.
func (p *Progress) Figure(f func() any, width, height vg.Length) *Progress {
	p.figure, p.width, p.height = f, width, height
	return p
}

// Unit names what the loop counts in the rate (default "steps", e.g. "runs").
func (p *Progress) Unit(unit string) *Progress { p.unit = unit; return p }

// Every sets the least time between two redraws (default 2 s).
func (p *Progress) Every(d time.Duration) *Progress { p.every = d; return p }

// Update reports that done of the total steps are finished; it is cheap between redraws. The
// first call sets where the rate is counted from, so a resumed loop reports its own speed.
func (p *Progress) Update(done int) {
	if p == nil || p.finished {
		return
	}
	now := time.Now()
	if p.first < 0 {
		p.first, p.start = done, now
	}
	p.done = done
	if gonbui.IsNotebook {
		if done < p.total && now.Sub(p.last) < p.every {
			return
		}
		p.last = now
		p.redraw(now)
		return
	}
	if tenth := 10 * done / max(p.total, 1); tenth != p.lastTenth && (tenth > 0 || done == p.total) {
		p.lastTenth = tenth
		fmt.Fprintln(os.Stderr, p.line(now))
	}
}

// Func returns Update as a callback of the form samplers take (Run.Progress).
func (p *Progress) Func() func(done, total int) {
	return func(done, total int) {
		p.total = total
		p.Update(done)
	}
}

// Finish draws the final state and leaves it in the output.
func (p *Progress) Finish() {
	if p == nil || p.finished {
		return
	}
	now := time.Now()
	if gonbui.IsNotebook {
		p.redraw(now)
	} else if p.lastTenth < 10 {
		fmt.Fprintln(os.Stderr, p.line(now))
	}
	p.finished = true
}

// line is the progress line: "label  1234/2000 (62%)  8 min 32 s, 2.41 steps/s, 5 min 18 s left  note".
func (p *Progress) line(now time.Time) string {
	var sb strings.Builder
	pct := 100.0
	if p.total > 0 {
		pct = 100 * float64(p.done) / float64(p.total)
	}
	fmt.Fprintf(&sb, "%s  %d/%d (%.0f%%)", p.label, p.done, p.total, pct)
	el := now.Sub(p.start).Seconds()
	fmt.Fprintf(&sb, "  %s", formatSeconds(el))
	if ran := p.done - p.first; ran > 0 && el > 0 {
		rate := float64(ran) / el
		fmt.Fprintf(&sb, ", %.3g %s/s", rate, p.unit)
		if p.done < p.total {
			fmt.Fprintf(&sb, ", %s left", formatSeconds(float64(p.total-p.done)/rate))
		}
	} else if p.first == p.total {
		sb.WriteString(" (already finished: nothing to run)")
	}
	if p.note != nil {
		if n := p.note(); n != "" {
			sb.WriteString("  " + n)
		}
	}
	return sb.String()
}

func (p *Progress) redraw(now time.Time) {
	var sb strings.Builder
	frac := 1.0
	if p.total > 0 {
		frac = min(1, float64(p.done)/float64(p.total))
	}
	fmt.Fprintf(&sb, `<div style="font-family:monospace;font-size:12px">%s</div>`, html.EscapeString(p.line(now)))
	fmt.Fprintf(&sb, `<div style="width:360px;max-width:100%%;height:6px;background:#e4e4e4"><div style="width:%.1f%%;height:6px;background:#3b75af"></div></div>`, 100*frac)
	if p.figure != nil {
		if fig := p.figure(); fig != nil {
			if img, err := plots.HTML(fig, p.width, p.height); err == nil {
				sb.WriteString(img)
			} else {
				fmt.Fprintf(&sb, `<div>%s</div>`, html.EscapeString(err.Error()))
			}
		}
	}
	gonbui.UpdateHTML(p.id, sb.String())
}

// formatSeconds prints a duration in seconds as "42 s", "12 min 5 s" or "1 h 3 min".
func formatSeconds(s float64) string {
	switch {
	case s < 60:
		return fmt.Sprintf("%.1f s", s)
	case s < 3600:
		return fmt.Sprintf("%d min %d s", int(s)/60, int(s)%60)
	default:
		return fmt.Sprintf("%d h %d min", int(s)/3600, (int(s)%3600)/60)
	}
}
