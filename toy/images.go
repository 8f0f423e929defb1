package toy

import "fmt"

// ColorBlocks is a Gaussian mixture over small h×w×3 colour images (flat channel-last rows of
// h·w·3 values in [0, 1]), for colorization and inpainting with exact scores: each of its six equally
// weighted components is an image whose left half has one colour and right half another (pairs of
// red, green, blue, yellow, cyan and magenta), with isotropic pixel noise of std 0.05. Its gray
// images (channel means) leave the hues ambiguous, so colorization has several right answers.
func ColorBlocks(h, w int) (*Mixture, error) {
	if h < 1 || w < 2 {
		return nil, fmt.Errorf("ColorBlocks: %d×%d images, want h ≥ 1 and w ≥ 2", h, w)
	}
	colors := map[string][3]float64{
		"red": {0.9, 0.15, 0.1}, "green": {0.15, 0.75, 0.2}, "blue": {0.15, 0.25, 0.9},
		"yellow": {0.95, 0.85, 0.15}, "cyan": {0.1, 0.8, 0.85}, "magenta": {0.85, 0.2, 0.8},
	}
	pairs := [][2]string{{"red", "cyan"}, {"green", "magenta"}, {"blue", "yellow"}, {"yellow", "blue"}, {"cyan", "red"}, {"magenta", "green"}}
	d := h * w * 3
	means := make([][]float64, len(pairs))
	for k, p := range pairs {
		mu := make([]float64, d)
		for y := range h {
			for x := range w {
				c := colors[p[0]]
				if x >= w/2 {
					c = colors[p[1]]
				}
				copy(mu[(y*w+x)*3:], c[:])
			}
		}
		means[k] = mu
	}
	m, err := newMixture(equal(len(pairs)), means, isoCovs(len(pairs), d, 0.05*0.05))
	if err != nil {
		return nil, err
	}
	return m.WithName(fmt.Sprintf("colorblocks-%dx%d", h, w)), nil
}

// ImageShape is the [H, W, C] shape of the presets whose points are images (colorblocks: 8×8×3),
// nil for the others.
func ImageShape(preset string) []int {
	if preset == "colorblocks" {
		return []int{8, 8, 3}
	}
	return nil
}
