package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/lib/train"
	"github.com/scoresde/scoresde/toy"
)

// model is a score to sample from or to evaluate: a toy mixture's exact score or a checkpoint's.
type model struct {
	score   sde.ScoreFn
	sde     sde.SDE
	dim     int
	name    string
	mixture *toy.Mixture // the --data mixture when it is one (nil for shapes and .npy data)
	exact   bool         // score is the mixture's exact score
	ref     [][]float64  // data points for the bounds of 2-D plots (empty in other dimensions)
	// image is [H, W, C] for image models (nil for points); centered says the model's pixels lie
	// in [−1, 1] (else [0, 1]); dataName is its training data ("mnist").
	image    []int
	centered bool
	dataName string
}

// modelFlags defines --data, the SDE flags and --score on fs; the returned function resolves them.
func modelFlags(fs *flag.FlagSet) func(stderr io.Writer) (*model, error) {
	data := fs.String("data", "ncsn", "toy data: a mixture preset ("+strings.Join(toy.MixtureNames(), ", ")+") or a JSON spec; with --score DIR it is optional")
	buildSDE := sdeFlags(fs)
	score := fs.String("score", "exact", "score model: exact (the --data mixture's exact score) or a checkpoint directory of scoresde train (its EMA weights and SDE)")
	return func(stderr io.Writer) (*model, error) {
		if *score == "exact" {
			m, err := toy.LoadMixture(*data)
			if err != nil {
				return nil, usageError{"--data: " + err.Error()}
			}
			s, err := buildSDE()
			if err != nil {
				return nil, err
			}
			return &model{score: m.ScoreFn(s), sde: s, dim: m.Dim(), name: m.Name(), mixture: m, exact: true, ref: plotRef(m)}, nil
		}
		dataSet := false
		fs.Visit(func(f *flag.Flag) { dataSet = dataSet || f.Name == "data" })
		var d toy.Distribution
		if dataSet { // checked before the checkpoint is read: a bad --data is a usage error
			var err error
			if d, err = toy.Load(*data); err != nil {
				return nil, usageError{"--data: " + err.Error()}
			}
		}
		ck, err := train.LoadDir(*score)
		if err != nil {
			return nil, fmt.Errorf("--score: %w", err)
		}
		md := &model{score: ck.ScoreFn(true), sde: ck.SDE, dim: ck.Net.Spec().Dim, name: fmt.Sprintf("%s (step %d)", ck.Path, ck.State.Step),
			image: ck.Net.Spec().Image, centered: ck.Config.Centered, dataName: ck.Config.Data}
		fmt.Fprintf(stderr, "score: %s network of %s on the %s SDE (%s), EMA weights\n", ck.Net.Spec().Kind, ck.Path, md.sde.Name(), md.sde)
		switch {
		case d != nil && d.Dim() != md.dim:
			return nil, usagef("--data %s has dimension %d, but the network of %s has dimension %d: give data of the checkpoint's dimension or leave --data out", *data, d.Dim(), ck.Path, md.dim)
		case d == nil: // the default --data is used only where it fits
			if def, err := toy.Load(*data); err == nil && def.Dim() == md.dim {
				d = def
			}
		}
		if d != nil {
			md.ref = plotRef(d)
			md.mixture, _ = d.(*toy.Mixture)
		}
		return md, nil
	}
}

// plotRef draws the reference points that set the bounds of a 2-D plot; other dimensions get
// none, so a high-dimensional spec costs no 500·d sample.
func plotRef(d toy.Distribution) [][]float64 {
	if d.Dim() != 2 {
		return nil
	}
	return d.Sample(toy.NewRand(1), 500)
}
