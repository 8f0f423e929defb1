package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/scoresde/scoresde/lib/sde"
)

// sdeFlags defines --sde and its hyperparameters on fs; the returned function builds the SDE.
func sdeFlags(fs *flag.FlagSet) func() (sde.SDE, error) {
	name := fs.String("sde", "ve", "forward SDE: "+strings.Join(sde.Names, ", "))
	sigmaMin := fs.Float64("sigma-min", 0.01, "VE: smallest noise scale σmin")
	sigmaMax := fs.Float64("sigma-max", 50, "VE: largest noise scale σmax (the references suggest the largest pairwise distance of the data)")
	betaMin := fs.Float64("beta-min", 0.1, "VP/sub-VP: β(0)")
	betaMax := fs.Float64("beta-max", 20, "VP/sub-VP: β(1)")
	n := fs.Int("num-scales", 1000, "N, the number of discretization steps of the SDE (the samplers' --steps overrides it)")
	return func() (sde.SDE, error) {
		var s sde.SDE
		switch strings.ToLower(*name) {
		case "ve":
			s = &sde.VE{SigmaMin: *sigmaMin, SigmaMax: *sigmaMax, NumScales: *n, EndTime: 1}
		case "vp":
			s = &sde.VP{Beta0: *betaMin, Beta1: *betaMax, NumScales: *n, EndTime: 1}
		case "subvp", "sub-vp":
			s = &sde.SubVP{Beta0: *betaMin, Beta1: *betaMax, NumScales: *n, EndTime: 1}
		default:
			return nil, usagef("--sde %q: use one of %s", *name, strings.Join(sde.Names, ", "))
		}
		if err := s.Validate(); err != nil {
			return nil, usageError{fmt.Sprint(err)}
		}
		return s, nil
	}
}
