package train

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/nets"
	"github.com/scoresde/scoresde/lib/npy"
	"github.com/scoresde/scoresde/lib/sde"
)

// A checkpoint is a directory <dir>/ckpt-<step> holding state.json and one .npy file per tensor
// (params/, ema/, adam-m/, adam-v/ with the parameters' names, and losses.npy), so that NumPy can
// read the weights too. It is written to a temporary directory and renamed, so a crash never
// leaves a half-written checkpoint.

// SDESpec is the JSON form of an SDE.
type SDESpec struct {
	Name     string  `json:"name"`
	SigmaMin float64 `json:"sigma_min,omitempty"`
	SigmaMax float64 `json:"sigma_max,omitempty"`
	Beta0    float64 `json:"beta_min,omitempty"`
	Beta1    float64 `json:"beta_max,omitempty"`
	N        int     `json:"n"`
	T        float64 `json:"t"`
}

// SpecOfSDE describes an SDE.
func SpecOfSDE(s sde.SDE) SDESpec {
	switch s := s.(type) {
	case *sde.VE:
		return SDESpec{Name: "ve", SigmaMin: s.SigmaMin, SigmaMax: s.SigmaMax, N: s.NumScales, T: s.EndTime}
	case *sde.VP:
		return SDESpec{Name: "vp", Beta0: s.Beta0, Beta1: s.Beta1, N: s.NumScales, T: s.EndTime}
	case *sde.SubVP:
		return SDESpec{Name: "subvp", Beta0: s.Beta0, Beta1: s.Beta1, N: s.NumScales, T: s.EndTime}
	}
	return SDESpec{Name: s.Name(), N: s.N(), T: s.T()}
}

// SDE rebuilds the SDE.
func (s SDESpec) SDE() (sde.SDE, error) {
	var out sde.SDE
	switch s.Name {
	case "ve":
		out = &sde.VE{SigmaMin: s.SigmaMin, SigmaMax: s.SigmaMax, NumScales: s.N, EndTime: s.T}
	case "vp":
		out = &sde.VP{Beta0: s.Beta0, Beta1: s.Beta1, NumScales: s.N, EndTime: s.T}
	case "subvp":
		out = &sde.SubVP{Beta0: s.Beta0, Beta1: s.Beta1, NumScales: s.N, EndTime: s.T}
	default:
		return nil, fmt.Errorf("unknown SDE %q", s.Name)
	}
	return out, out.Validate()
}

// stateFile is the JSON part of a checkpoint.
type stateFile struct {
	Step    int       `json:"step"`
	Net     nets.Spec `json:"net"`
	SDE     SDESpec   `json:"sde"`
	Config  Config    `json:"config"`
	Names   []string  `json:"names"`
	Frozen  []bool    `json:"frozen"`
	Shapes  [][]int   `json:"shapes"`
	RNG     []uint64  `json:"rng"`
	DataRNG string    `json:"data_rng"`
}

// Checkpoint is a loaded checkpoint.
type Checkpoint struct {
	Path   string
	Net    nets.Net
	SDE    sde.SDE
	Config Config
	Names  []string
	Frozen []bool
	State  *State
}

// ScoreFn returns the checkpoint's score with its EMA weights (ema = true, as the references
// sample) or its raw weights.
func (c *Checkpoint) ScoreFn(ema bool) sde.ScoreFn {
	vals := c.State.Params
	if ema {
		vals = c.State.EMA
	}
	return scoreFromValues(c.Net, c.SDE, vals, c.Config.ScaleBySigma)
}

// fileName turns a parameter name into a file name ("dense0/W" → "dense0.W.npy").
func fileName(name string) string { return strings.ReplaceAll(name, "/", ".") + ".npy" }

func toFloat64(t *tensors.Tensor) []float64 {
	switch t.DType() {
	case dtypes.Float32:
		v := tensors.MustCopyFlatData[float32](t)
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	case dtypes.Float64:
		return tensors.MustCopyFlatData[float64](t)
	}
	panic(fmt.Sprintf("checkpoint: unsupported dtype %s", t.DType()))
}

// Save writes a checkpoint of the current state and keeps the newest Config.Keep ones.
func (t *Trainer) Save() error {
	st := t.State
	final := filepath.Join(t.Dir, fmt.Sprintf("ckpt-%08d", st.Step))
	if _, err := os.Stat(final); err == nil {
		return nil // already saved at this step
	}
	if err := os.MkdirAll(t.Dir, 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	tmp, err := os.MkdirTemp(t.Dir, ".tmp-ckpt-")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer os.RemoveAll(tmp)
	dataRNG, err := st.DataRNG.MarshalBinary()
	if err != nil {
		return err
	}
	sf := stateFile{Step: st.Step, Net: t.Net.Spec(), SDE: SpecOfSDE(t.SDE), Config: t.Config, Names: t.Names, Frozen: t.Frozen,
		RNG: tensors.MustCopyFlatData[uint64](st.RNG), DataRNG: base64.StdEncoding.EncodeToString(dataRNG)}
	for i, name := range t.Names {
		sf.Shapes = append(sf.Shapes, st.Params[i].Shape().Dimensions)
		for _, g := range []struct {
			dir string
			v   *tensors.Tensor
		}{{"params", st.Params[i]}, {"ema", st.EMA[i]}, {"adam-m", st.M[i]}, {"adam-v", st.V[i]}} {
			if err := npy.Write(filepath.Join(tmp, g.dir, fileName(name)), toFloat64(g.v), g.v.Shape().Dimensions...); err != nil {
				return fmt.Errorf("checkpoint: %w", err)
			}
		}
	}
	if err := npy.Write(filepath.Join(tmp, "losses.npy"), st.Losses, len(st.Losses)); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	raw, _ := json.MarshalIndent(sf, "", "  ")
	if err := os.WriteFile(filepath.Join(tmp, "state.json"), raw, 0o644); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return t.prune()
}

// prune removes all but the newest Keep checkpoints.
func (t *Trainer) prune() error {
	all, err := list(t.Dir)
	if err != nil {
		return err
	}
	keep := max(t.Config.Keep, 1)
	for len(all) > keep {
		if err := os.RemoveAll(all[0]); err != nil {
			return err
		}
		all = all[1:]
	}
	return nil
}

// list returns the checkpoint directories of dir, oldest first.
func list(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "ckpt-") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

// Latest loads the newest checkpoint in dir, or returns nil when there is none.
func Latest(dir string) (*Checkpoint, error) {
	all, err := list(dir)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	return Load(all[len(all)-1])
}

// LoadDir loads the newest checkpoint of a training directory, or the checkpoint at path itself.
func LoadDir(path string) (*Checkpoint, error) {
	if _, err := os.Stat(filepath.Join(path, "state.json")); err == nil {
		return Load(path)
	}
	ck, err := Latest(path)
	if err != nil {
		return nil, err
	}
	if ck == nil {
		return nil, fmt.Errorf("%s holds no checkpoint (ckpt-*/state.json): train one with scoresde train --ckpt %s", path, path)
	}
	return ck, nil
}

// Load reads one checkpoint directory.
func Load(path string) (*Checkpoint, error) {
	raw, err := os.ReadFile(filepath.Join(path, "state.json"))
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint: %w", err)
	}
	var sf stateFile
	if err := json.Unmarshal(raw, &sf); err != nil {
		return nil, fmt.Errorf("reading checkpoint %s: state.json: %v", path, err)
	}
	net, err := nets.FromSpec(sf.Net)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	s, err := sf.SDE.SDE()
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	st := &State{Step: sf.Step}
	read := func(dir, name string, dims []int) (*tensors.Tensor, error) {
		p := filepath.Join(path, dir, fileName(name))
		data, shape, err := npy.Read(p)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: %w", err)
		}
		if fmt.Sprint(shape) != fmt.Sprint(dims) {
			return nil, fmt.Errorf("checkpoint: %s has shape %v, want %v", p, shape, dims)
		}
		f32 := make([]float32, len(data))
		for i, v := range data {
			f32[i] = float32(v)
		}
		return tensors.FromFlatDataAndDimensions(f32, dims...), nil
	}
	for i, name := range sf.Names {
		for _, g := range []struct {
			dir string
			dst *[]*tensors.Tensor
		}{{"params", &st.Params}, {"ema", &st.EMA}, {"adam-m", &st.M}, {"adam-v", &st.V}} {
			v, err := read(g.dir, name, sf.Shapes[i])
			if err != nil {
				return nil, err
			}
			*g.dst = append(*g.dst, v)
		}
	}
	if st.Losses, _, err = npy.Read(filepath.Join(path, "losses.npy")); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	st.RNG = tensors.FromFlatDataAndDimensions(sf.RNG, len(sf.RNG))
	pcgState, err := base64.StdEncoding.DecodeString(sf.DataRNG)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: data_rng: %v", path, err)
	}
	st.DataRNG = &rand.PCG{}
	if err := st.DataRNG.UnmarshalBinary(pcgState); err != nil {
		return nil, fmt.Errorf("checkpoint %s: data_rng: %v", path, err)
	}
	return &Checkpoint{Path: path, Net: net, SDE: s, Config: sf.Config, Names: sf.Names, Frozen: sf.Frozen, State: st}, nil
}
