package toy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Spec is the JSON form of a mixture:
//
//	{"name": "two blobs",
//	 "weights": [0.3, 0.7],
//	 "means":   [[0, 0], [4, 1]],
//	 "covs":    [0.5, [[1, 0.2], [0.2, 2]]]}
//
// Each entry of covs is a scalar variance (σ²·I), a list of d variances (a diagonal matrix) or a
// full d×d matrix. Name is optional.
type Spec struct {
	Name    string            `json:"name,omitempty"`
	Weights []float64         `json:"weights"`
	Means   [][]float64       `json:"means"`
	Covs    []json.RawMessage `json:"covs"`
}

// ParseSpec reads a JSON mixture spec. Every invalid spec gives an error naming the field and the fix.
func ParseSpec(data []byte) (*Mixture, error) {
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return nil, fmt.Errorf("invalid JSON at byte %d: %v (NaN and Infinity are not JSON numbers: use finite values)", syn.Offset, syn)
		case errors.As(err, &typ):
			return nil, fmt.Errorf("field %q holds a JSON %s, want %s", typ.Field, typ.Value, typ.Type)
		case strings.Contains(err.Error(), "unknown field"):
			return nil, fmt.Errorf("%v: the fields are name, weights, means and covs", err)
		}
		return nil, fmt.Errorf("invalid spec: %v", err)
	}
	if len(s.Weights) == 0 && len(s.Means) == 0 && len(s.Covs) == 0 {
		return nil, fmt.Errorf("spec is empty: give weights, means and covs, e.g. {\"weights\": [1], \"means\": [[0, 0]], \"covs\": [1]}")
	}
	if len(s.Weights) == 0 {
		return nil, fmt.Errorf("weights is missing or empty: give at least one component, e.g. \"weights\": [1]")
	}
	if len(s.Means) == 0 {
		return nil, fmt.Errorf("means is missing or empty: give one mean per weight, e.g. \"means\": [[0, 0]]")
	}
	if len(s.Covs) == 0 {
		return nil, fmt.Errorf("covs is missing or empty: give one covariance per weight (a variance, a diagonal list or a matrix)")
	}
	d := len(s.Means[0])
	covs := make([][][]float64, len(s.Covs))
	for k, raw := range s.Covs {
		c, err := parseCov(raw, d)
		if err != nil {
			return nil, fmt.Errorf("covs[%d]: %v", k, err)
		}
		covs[k] = c
	}
	m, err := NewMixture(s.Weights, s.Means, covs)
	if err != nil {
		return nil, err
	}
	if s.Name != "" {
		m.name = s.Name
	}
	return m, nil
}

// parseCov turns a scalar variance, a diagonal list or a full matrix into a d×d matrix.
func parseCov(raw json.RawMessage, d int) ([][]float64, error) {
	full := func(diag []float64) [][]float64 {
		c := make([][]float64, d)
		for i := range d {
			c[i] = make([]float64, d)
			c[i][i] = diag[i]
		}
		return c
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err == nil {
		if !(v > 0) {
			return nil, fmt.Errorf("variance %g must be > 0", v)
		}
		diag := make([]float64, d)
		for i := range diag {
			diag[i] = v
		}
		return full(diag), nil
	}
	var diag []float64
	if err := json.Unmarshal(raw, &diag); err == nil {
		if len(diag) != d {
			return nil, fmt.Errorf("diagonal has %d variances, want %d (the dimension of means[0])", len(diag), d)
		}
		for i, v := range diag {
			if !(v > 0) {
				return nil, fmt.Errorf("variance [%d] is %g: variances must be > 0", i, v)
			}
		}
		return full(diag), nil
	}
	var m [][]float64
	if err := json.Unmarshal(raw, &m); err == nil {
		return m, nil // shape, symmetry and definiteness are checked by NewMixture
	}
	return nil, fmt.Errorf("%s is not a number, a list of numbers or a list of lists: give a variance, a diagonal or a matrix", string(raw))
}

// LoadSpec reads a JSON mixture spec from a file.
func LoadSpec(path string) (*Mixture, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := ParseSpec(data)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return m, nil
}

// Spec returns the JSON form of m, with full covariance matrices.
func (m *Mixture) Spec() Spec {
	s := Spec{Name: m.name, Weights: m.Weights(), Means: m.Means()}
	for _, c := range m.covs {
		raw, _ := json.Marshal(c)
		s.Covs = append(s.Covs, raw)
	}
	return s
}

// Load returns a preset by name, or reads a JSON mixture spec when ref is a path to a file.
func Load(ref string) (Distribution, error) {
	if d, err := Preset(ref); err == nil {
		return d, nil
	}
	if _, err := os.Stat(ref); err != nil {
		return nil, fmt.Errorf("unknown data %q: use a preset (%s) or the path of a JSON mixture spec", ref, strings.Join(PresetNames(), ", "))
	}
	return LoadSpec(ref)
}

// LoadMixture is Load restricted to mixtures, which have exact scores; sample-only shapes are refused.
func LoadMixture(ref string) (*Mixture, error) {
	d, err := Load(ref)
	if err != nil {
		return nil, err
	}
	m, ok := d.(*Mixture)
	if !ok {
		return nil, fmt.Errorf("data %q has no exact score (it is a sample-only shape): use a mixture preset (%s) or a JSON spec", ref, strings.Join(MixtureNames(), ", "))
	}
	return m, nil
}
