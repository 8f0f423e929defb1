package toy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
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

// ParseSpec reads a JSON mixture spec: exactly one JSON object, with nothing after it but
// white space. Every invalid spec gives an error naming the field and the fix; the bounds of
// NewMixture (MaxDim, MaxFullDim, MaxComponents, MaxAbsMean, MinVariance, MaxVariance) apply.
// Isotropic and diagonal covariances stay O(d): no d×d matrix is built for them.
func ParseSpec(data []byte) (*Mixture, error) {
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, decodeError(err)
	}
	if rest := bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return nil, fmt.Errorf("trailing data after the JSON object at byte %d (%s): a spec is one JSON object; remove what follows it", len(data)-len(rest), quoted(rest))
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
	d, err := checkHead(s.Weights, s.Means, len(s.Covs))
	if err != nil {
		return nil, err
	}
	covs := make([]covariance, len(s.Covs))
	for k, raw := range s.Covs {
		c, err := parseCov(k, raw, d)
		if err != nil {
			return nil, err
		}
		covs[k] = c
	}
	m, err := newMixture(s.Weights, s.Means, covs)
	if err != nil {
		return nil, err
	}
	if s.Name != "" {
		m.name = s.Name
	}
	return m, nil
}

// decodeError turns an error of encoding/json into one line naming the field and the fix.
func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("invalid JSON at byte %d: %v (NaN and Infinity are not JSON numbers: use finite values)", syn.Offset, syn)
	case errors.As(err, &typ) && typ.Field == "":
		return fmt.Errorf("the spec is a JSON %s: give one JSON object {\"weights\": ..., \"means\": ..., \"covs\": ...}", typ.Value)
	case errors.As(err, &typ) && strings.HasPrefix(typ.Value, "number "):
		return fmt.Errorf("field %q holds the %s, which is out of range for a float64: use a finite number", typ.Field, typ.Value)
	case errors.As(err, &typ):
		return fmt.Errorf("field %q holds a JSON %s, want %s", typ.Field, typ.Value, typ.Type)
	case errors.Is(err, io.EOF):
		return fmt.Errorf("spec is blank: give one JSON object {\"weights\": ..., \"means\": ..., \"covs\": ...}")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("the JSON ends too early (truncated file?): close every bracket and brace")
	case strings.Contains(err.Error(), "unknown field"):
		return fmt.Errorf("%v: the fields are name, weights, means and covs", err)
	}
	return fmt.Errorf("invalid spec: %w", err)
}

// notNumber says why json.Unmarshal refused a value meant as numbers: out of range or not numbers.
func notNumber(err error) string {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && strings.HasPrefix(typ.Value, "number ") {
		return "out of range for a float64"
	}
	return "not a number"
}

// quoted quotes the start of b for an error message, at most 32 bytes.
func quoted(b []byte) string {
	const max = 32
	if len(b) > max {
		return fmt.Sprintf("%q...", b[:max])
	}
	return fmt.Sprintf("%q", b)
}

// excerpt is the start of a JSON value for an error message: on one line, at most 40 bytes.
func excerpt(raw []byte) string {
	const max = 40
	s := strings.Join(strings.Fields(string(raw)), " ")
	if len(s) > max {
		return strings.ToValidUTF8(s[:max], "") + "..."
	}
	return s
}

// parseCov reads a scalar variance, a diagonal list or a full d×d matrix. A scalar becomes d
// equal variances; neither it nor a diagonal becomes a matrix. Values are checked by newMixture.
func parseCov(k int, raw json.RawMessage, d int) (covariance, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '[' {
		var v float64
		if err := json.Unmarshal(t, &v); err != nil {
			if notNumber(err) != "not a number" {
				return covariance{}, fmt.Errorf("covs[%d]: %s is out of range for a float64: give a finite variance", k, excerpt(t))
			}
			return covariance{}, fmt.Errorf("covs[%d]: %s is not a number, a list of numbers or a list of lists: give a variance, a diagonal or a matrix", k, excerpt(t))
		}
		if !(v > 0) {
			return covariance{}, fmt.Errorf("covs[%d]: variance %g must be > 0", k, v)
		}
		if err := checkVariance(fmt.Sprintf("covs[%d]: variance", k), v); err != nil {
			return covariance{}, err
		}
		diag := make([]float64, d)
		for i := range diag {
			diag[i] = v
		}
		return covariance{diag: diag}, nil
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(t, &rows); err != nil {
		return covariance{}, fmt.Errorf("covs[%d]: %s is not a list of numbers or a list of lists: give a variance, a diagonal or a matrix", k, excerpt(t))
	}
	if len(rows) == 0 {
		return covariance{}, fmt.Errorf("covs[%d] is an empty list: give a variance, %d variances or a %d×%d matrix", k, d, d, d)
	}
	if r := bytes.TrimSpace(rows[0]); len(r) == 0 || r[0] != '[' { // a diagonal
		diag := make([]float64, len(rows))
		for i, r := range rows {
			if err := json.Unmarshal(r, &diag[i]); err != nil {
				return covariance{}, fmt.Errorf("covs[%d]: diagonal entry [%d] is %s, %s: give a list of finite variances", k, i, excerpt(bytes.TrimSpace(r)), notNumber(err))
			}
		}
		if len(diag) != d {
			return covariance{}, fmt.Errorf("covs[%d]: diagonal has %d variances, want %d (the dimension of means[0])", k, len(diag), d)
		}
		return covariance{diag: diag}, nil
	}
	if len(rows) != d {
		return covariance{}, fmt.Errorf("covs[%d] has %d rows, want %d (the dimension of means[0])", k, len(rows), d)
	}
	if d > MaxFullDim {
		return covariance{}, fmt.Errorf("covs[%d]: a full %d×%d matrix is beyond the %d×%d allowed (MaxFullDim): give a diagonal list or a scalar variance", k, d, d, MaxFullDim, MaxFullDim)
	}
	full := make([][]float64, d)
	for i, r := range rows {
		if err := json.Unmarshal(r, &full[i]); err != nil {
			return covariance{}, fmt.Errorf("covs[%d][%d] is %s, %s: give %d finite numbers per row", k, i, excerpt(bytes.TrimSpace(r)), notNumber(err), d)
		}
		if len(full[i]) != d {
			return covariance{}, fmt.Errorf("covs[%d][%d] has %d values, want %d (row %d of a %d×%d matrix)", k, i, len(full[i]), d, i, d, d)
		}
	}
	return covariance{full: full}, nil
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

// Spec returns the JSON form of m: a scalar variance for an isotropic component, a diagonal
// list for a diagonal one and the matrix for a full one, so ParseSpec(Spec) rebuilds m in O(K·d)
// numbers for diagonal mixtures.
func (m *Mixture) Spec() Spec {
	s := Spec{Name: m.name, Weights: m.Weights(), Means: m.Means()}
	for k := range m.weights {
		var v any = m.covs[k]
		if m.diagonal(k) {
			v = m.eigval[k]
			if iso := m.eigval[k][0]; !slices.ContainsFunc(m.eigval[k], func(x float64) bool { return x != iso }) {
				v = iso
			}
		}
		raw, _ := json.Marshal(v) // finite float64s always marshal
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
