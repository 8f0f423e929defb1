// Package plots draws the figures of the score-based generative modeling
// workbench: vector fields (scores, drifts), log-densities, point clouds,
// sample trajectories, the time/space picture of the paper's Figure 1,
// line plots, panel grids and image grids.
//
// The package takes plain Go values and functions and returns
// [gonum.org/v1/plot] plots, so callers can still adjust titles, labels or
// axes before writing them with [Save] or displaying them in a GoNB notebook
// with [Show]. Show sends an <img> with a data URL (see [HTML]), which an
// untrusted notebook still displays and which shrinks to the column width;
// SVG and PNG output is the same byte for byte on every run.
//
// Panels that are compared share one colour scale through [ShareColorScale]
// or [WithRange]; legends stay off the data ([SetLegend], [LegendAuto]).
//
// Conventions:
//   - Points in the plane are []float64 of length 2 (x, y), in data units.
//   - Figure sizes are [vg.Length] values (1 vg.Length is one typographic
//     point, 1/72 inch); see [DefaultWidth] and [DefaultHeight].
//   - 2-D plots are drawn with equal aspect ratio (one data unit has the same
//     length on both axes) when rendered through [Save], [Show] or a [Grid];
//     see [SetEqualAspect].
//   - Builders that cannot return an error panic on malformed input
//     (wrong slice shapes, empty bounds), with a message starting "plots:".
package plots
