// Package progress draws a text progress bar for long loops (sampling, training, likelihoods).
// On a terminal it redraws one line in place; elsewhere (logs, CI) it prints a line every 10%.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Bar reports the progress of a loop of Total steps on W.
type Bar struct {
	Label string
	Total int
	W     io.Writer
	// Extra, when set, is appended to each report (e.g. "loss 0.123").
	Extra func() string

	start    time.Time
	last     time.Time
	lastDec  int
	terminal bool
	done     bool
}

// New returns a bar writing to w (nil means os.Stderr).
func New(label string, total int, w io.Writer) *Bar {
	if w == nil {
		w = os.Stderr
	}
	b := &Bar{Label: label, Total: total, W: w, start: time.Now(), lastDec: -1}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			b.terminal = true
		}
	}
	return b
}

// Update reports that done steps of Total are finished; it is cheap to call every step.
func (b *Bar) Update(done int) {
	if b == nil || b.done || b.Total <= 0 {
		return
	}
	now := time.Now()
	frac := float64(done) / float64(b.Total)
	if b.terminal {
		if done < b.Total && now.Sub(b.last) < 100*time.Millisecond {
			return
		}
		const width = 30
		fill := int(frac * width)
		fmt.Fprintf(b.W, "\r%s [%s%s] %3.0f%% %s", b.Label, strings.Repeat("=", fill), strings.Repeat(" ", width-fill), 100*frac, b.stats(done, now))
	} else {
		dec := int(frac * 10)
		if dec == b.lastDec || (dec < 10 && done < b.Total && dec == 0) {
			return
		}
		b.lastDec = dec
		fmt.Fprintf(b.W, "%s %3.0f%% %s\n", b.Label, 100*frac, b.stats(done, now))
	}
	b.last = now
	if done >= b.Total {
		b.Finish()
	}
}

func (b *Bar) stats(done int, now time.Time) string {
	el := now.Sub(b.start).Seconds()
	s := fmt.Sprintf("%d/%d %.1fs", done, b.Total, el)
	if el > 0 && done > 0 {
		rate := float64(done) / el
		s += fmt.Sprintf(" %.1f/s", rate)
		if done < b.Total {
			s += fmt.Sprintf(" eta %.0fs", float64(b.Total-done)/rate)
		}
	}
	if b.Extra != nil {
		s += " " + b.Extra()
	}
	return s
}

// Finish ends the bar's line (on a terminal).
func (b *Bar) Finish() {
	if b == nil || b.done {
		return
	}
	b.done = true
	if b.terminal {
		fmt.Fprintln(b.W)
	}
}

// Func returns b.Update as a callback of the form the samplers take.
func (b *Bar) Func() func(done, total int) {
	return func(done, total int) {
		b.Total = total
		b.Update(done)
	}
}
