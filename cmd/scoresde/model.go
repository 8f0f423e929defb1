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
	ref     [][]float64  // data points for plot bounds (may be empty)
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
			return &model{score: m.ScoreFn(s), sde: s, dim: m.Dim(), name: m.Name(), mixture: m, exact: true, ref: m.Sample(toy.NewRand(1), 500)}, nil
		}
		ck, err := train.LoadDir(*score)
		if err != nil {
			return nil, fmt.Errorf("--score: %w", err)
		}
		md := &model{score: ck.ScoreFn(true), sde: ck.SDE, dim: ck.Net.Spec().Dim, name: fmt.Sprintf("%s (step %d)", ck.Path, ck.State.Step),
			image: ck.Net.Spec().Image, centered: ck.Config.Centered, dataName: ck.Config.Data}
		fmt.Fprintf(stderr, "score: %s network of %s on the %s SDE (%s), EMA weights\n", ck.Net.Spec().Kind, ck.Path, md.sde.Name(), md.sde)
		if d, err := toy.Load(*data); err == nil && d.Dim() == md.dim {
			md.ref = d.Sample(toy.NewRand(1), 500)
			md.mixture, _ = d.(*toy.Mixture)
		}
		return md, nil
	}
}
