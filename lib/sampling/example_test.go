package sampling_test

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/scoresde/scoresde/lib/backend"
	"github.com/scoresde/scoresde/lib/sampling"
	"github.com/scoresde/scoresde/lib/sde"
	"github.com/scoresde/scoresde/toy"
)

// A grid is built outside the solver: here Karras et al.'s ρ = 7 grid of 4 steps for the VP SDE,
// printed as times and as the noise levels σ(t) the SDE maps them to.
func ExampleMakeGrid() {
	s := sde.NewVP()
	ts, err := sampling.MakeGrid(s, "karras", 4, 0)
	if err != nil {
		panic(err)
	}
	for _, t := range ts {
		fmt.Printf("t=%.4f σ=%.4g\n", t, s.Sigma(t))
	}
	// Output:
	// t=1.0000 σ=152.2
	// t=0.8434 σ=35.91
	// t=0.5921 σ=5.809
	// t=0.1426 σ=0.4919
	// t=0.0010 σ=0.01049
}

// Sample runs a registered solver on a grid: EDM's Heun sampler with 18 steps of the Karras grid
// (its defaults) decodes fixed latents of the 8-Gaussians mixture with its exact score.
func ExampleSample() {
	b := backend.MustNew()
	m, _ := toy.LoadMixture("8gaussians")
	s := sde.NewVP()
	z, _ := sampling.FromPoints([][]float64{{0.5, -1}, {-1.2, 0.3}}, dtypes.Float64)
	res, err := sampling.Sample(b, s, m.ScoreFn(s), nil, sampling.SolveOptions{Method: "edm-heun", Latent: z},
		sampling.Run{DType: dtypes.Float64})
	if err != nil {
		panic(err)
	}
	fmt.Println("NFE", res.NFE)
	for _, p := range res.Points() {
		fmt.Printf("(%.2f, %.2f)\n", p[0], p[1])
	}
	// Output:
	// NFE 36
	// (2.32, -3.25)
	// (-4.11, 0.44)
}
