package sde

import "fmt"

// Spec is the JSON form of an SDE (checkpoints store it): its name and hyperparameters.
type Spec struct {
	Name     string  `json:"name"`
	SigmaMin float64 `json:"sigma_min,omitempty"`
	SigmaMax float64 `json:"sigma_max,omitempty"`
	Beta0    float64 `json:"beta_min,omitempty"`
	Beta1    float64 `json:"beta_max,omitempty"`
	N        int     `json:"n"`
	T        float64 `json:"t"`
}

// SpecOf describes an SDE of this package as a Spec.
func SpecOf(s SDE) Spec {
	switch s := s.(type) {
	case *VE:
		return Spec{Name: "ve", SigmaMin: s.SigmaMin, SigmaMax: s.SigmaMax, N: s.NumScales, T: s.EndTime}
	case *VP:
		return Spec{Name: "vp", Beta0: s.Beta0, Beta1: s.Beta1, N: s.NumScales, T: s.EndTime}
	case *SubVP:
		return Spec{Name: "subvp", Beta0: s.Beta0, Beta1: s.Beta1, N: s.NumScales, T: s.EndTime}
	}
	return Spec{Name: s.Name(), N: s.N(), T: s.T()}
}

// SDE rebuilds the SDE of the spec, validated.
func (s Spec) SDE() (SDE, error) {
	var out SDE
	switch s.Name {
	case "ve":
		out = &VE{SigmaMin: s.SigmaMin, SigmaMax: s.SigmaMax, NumScales: s.N, EndTime: s.T}
	case "vp":
		out = &VP{Beta0: s.Beta0, Beta1: s.Beta1, NumScales: s.N, EndTime: s.T}
	case "subvp":
		out = &SubVP{Beta0: s.Beta0, Beta1: s.Beta1, NumScales: s.N, EndTime: s.T}
	default:
		return nil, fmt.Errorf("unknown SDE %q: use one of %v", s.Name, Names)
	}
	return out, out.Validate()
}

// SMLDChain is implemented by the SDEs whose discrete chain is SMLD's noise ladder (VE): the
// NCSN loss and noise-conditional networks index it.
type SMLDChain interface {
	SDE
	// DiscreteSigma is σ_i of the ladder, i in [0, N).
	DiscreteSigma(i int) float64
}

// DDPMChain is implemented by the SDEs whose discrete chain is DDPM's (VP): the DDPM loss uses
// its β_i.
type DDPMChain interface {
	SDE
	// DiscreteBeta is β_i of the chain, i in [0, N).
	DiscreteBeta(i int) float64
}
