package train

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/nets"
	"github.com/scoresde/scoresde/lib/sde"
)

// A checkpoint is a directory <dir>/ckpt-<step> holding state.json and one .npy file per tensor
// (params/, ema/, adam-m/, adam-v/ with the parameters' names, and losses.npy), so that NumPy can
// read the weights too. state.json records the SHA-256 of every tensor file, and loading checks
// each file's size, checksum and finite values. A checkpoint is written to a temporary directory
// (.tmp-ckpt-*), every file and folder fsynced, then renamed into place and the parent fsynced, so
// a crash never leaves a half-written checkpoint; a trainer removes the temporary directories of
// killed runs when it opens the directory (OpenDir), under the directory's lock.

// SDESpec is the JSON form of an SDE (sde.Spec).
type SDESpec = sde.Spec

// SpecOfSDE describes an SDE (sde.SpecOf).
func SpecOfSDE(s sde.SDE) SDESpec { return sde.SpecOf(s) }

// Checkpoint is a loaded checkpoint.
type Checkpoint struct {
	Path   string
	Net    nets.Net
	SDE    sde.SDE
	Config Config
	Names  []string
	Frozen []bool
	State  *State
	// Objective names the objective that replaced the score-matching loss (e.g. "cross-entropy"
	// for a classifier); empty for a score model or a checkpoint that predates the field.
	Objective string
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

// ckptName is the directory name of the checkpoint at step.
func ckptName(step int) string { return fmt.Sprintf("ckpt-%08d", step) }

// ckptStep reads the step of a checkpoint directory name ("ckpt-00001000" → 1000).
func ckptStep(name string) (int, bool) {
	digits, ok := strings.CutPrefix(name, "ckpt-")
	if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" || len(digits) > 18 {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	return n, err == nil
}

// tempPrefix starts the names of checkpoints being written (and of old ones being deleted).
const tempPrefix = ".tmp-ckpt-"

// makeTempDir creates a fresh .tmp-ckpt-* directory in dir, 0755 less the umask.
func makeTempDir(dir string) (string, error) {
	for range 100 {
		p := filepath.Join(dir, fmt.Sprintf("%s%d-%08x", tempPrefix, os.Getpid(), randUint32()))
		err := os.Mkdir(p, 0o755)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("cannot create a temporary directory in %s", dir)
}

// Save writes a checkpoint of the current state and keeps the newest Config.Keep ones. Older
// checkpoints are removed only after the new one reads back intact.
func (t *Trainer) Save() error {
	if t.Dir == "" {
		return errors.New("checkpoint: the trainer has no checkpoint directory")
	}
	st := t.State
	final := filepath.Join(t.Dir, ckptName(st.Step))
	if _, err := os.Lstat(final); err == nil {
		return nil // already saved at this step
	}
	if err := os.MkdirAll(t.Dir, 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	tmp, err := makeTempDir(t.Dir)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer func() {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}()
	dataRNG, err := st.DataRNG.MarshalBinary()
	if err != nil {
		return fmt.Errorf("checkpoint: data random state: %w", err)
	}
	sf := stateFile{Step: st.Step, Net: t.Net.Spec(), SDE: SpecOfSDE(t.SDE), Config: t.Config, Names: t.Names, Frozen: t.Frozen,
		RNG: tensors.MustCopyFlatData[uint64](st.RNG), DataRNG: base64.StdEncoding.EncodeToString(dataRNG), SHA256: map[string]string{}}
	if t.Objective != nil {
		sf.Objective = t.objectiveName()
	}
	write := func(rel string, data []float64, dims []int) error {
		s, err := writeTensor(filepath.Join(tmp, rel), data, dims)
		if err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		sf.SHA256[rel] = s
		return nil
	}
	for i, name := range t.Names {
		dims := st.Params[i].Shape().Dimensions
		sf.Shapes = append(sf.Shapes, dims)
		for _, g := range []struct {
			dir string
			v   *tensors.Tensor
		}{{"params", st.Params[i]}, {"ema", st.EMA[i]}, {"adam-m", st.M[i]}, {"adam-v", st.V[i]}} {
			if err := write(g.dir+"/"+fileName(name), toFloat64(g.v), g.v.Shape().Dimensions); err != nil {
				return err
			}
		}
	}
	if err := write("losses.npy", st.Losses, []int{len(st.Losses)}); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(sf, "", "  ")
	if err != nil {
		return fmt.Errorf("checkpoint: state.json: %w", err)
	}
	if err := writeFileSync(filepath.Join(tmp, "state.json"), append(raw, '\n')); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	for _, g := range tensorGroups {
		if err := syncDir(filepath.Join(tmp, g)); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	if err := syncDir(tmp); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	tmp = ""
	if err := syncDir(t.Dir); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return t.prune()
}

// prune removes all but the newest Keep checkpoints, and only once the newest one reads back with
// the checksums it recorded. A checkpoint is renamed to a temporary name before it is removed, so
// a kill midway leaves no half-deleted ckpt-* behind.
func (t *Trainer) prune() error {
	all, err := list(t.Dir)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	keep := max(t.Config.Keep, 1)
	if len(all) <= keep {
		return nil
	}
	if err := verify(all[len(all)-1]); err != nil {
		return fmt.Errorf("checkpoint: the newest checkpoint does not read back, so the older ones are kept: %w", err)
	}
	for _, old := range all[:len(all)-keep] {
		gone := filepath.Join(t.Dir, tempPrefix+"old-"+filepath.Base(old))
		if err := os.Rename(old, gone); err != nil {
			return fmt.Errorf("checkpoint: removing %s: %w", old, err)
		}
		if err := os.RemoveAll(gone); err != nil {
			return fmt.Errorf("checkpoint: removing %s: %w", old, err)
		}
	}
	return nil
}

// verify checks that every file of the checkpoint at path has the SHA-256 that its state.json
// records (and, for a checkpoint without checksums, that it loads).
func verify(path string) error {
	p, err := readState(path)
	if err != nil {
		return err
	}
	if p.SHA256 == nil {
		_, err := Load(path)
		return err
	}
	paths, _ := p.tensorFiles()
	for _, rel := range paths {
		got, err := fileSum(filepath.Join(path, rel))
		if err != nil {
			return err
		}
		if got != p.SHA256[rel] {
			return fmt.Errorf("%s has SHA-256 %.12s…, state.json records %.12s…", filepath.Join(path, rel), got, p.SHA256[rel])
		}
	}
	return nil
}

// list returns the checkpoint directories of dir (ckpt-<digits>), oldest first.
func list(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	type ck struct {
		step int
		path string
	}
	var cks []ck
	for _, e := range entries {
		if n, ok := ckptStep(e.Name()); ok && e.IsDir() {
			cks = append(cks, ck{n, filepath.Join(dir, e.Name())})
		}
	}
	sort.Slice(cks, func(i, j int) bool {
		if cks[i].step != cks[j].step {
			return cks[i].step < cks[j].step
		}
		return cks[i].path < cks[j].path
	})
	out := make([]string, len(cks))
	for i, c := range cks {
		out[i] = c.path
	}
	return out, nil
}

// damaged is a checkpoint that failed to load, and why.
type damaged struct {
	path string
	err  error
}

// latest loads the newest checkpoint of dir that loads intact, returning the newer ones that did
// not (newest first). It returns nil and no error when dir holds no checkpoint, and an error when
// it holds checkpoints but none loads.
func latest(dir string) (*Checkpoint, []damaged, error) {
	all, err := list(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("listing checkpoints: %w", err)
	}
	var bad []damaged
	for i := len(all) - 1; i >= 0; i-- {
		ck, err := Load(all[i])
		if err == nil {
			return ck, bad, nil
		}
		bad = append(bad, damaged{all[i], err})
	}
	if len(bad) == 0 {
		return nil, nil, nil
	}
	more := ""
	if len(bad) > 1 {
		more = fmt.Sprintf(" (and the %d older checkpoints are damaged too)", len(bad)-1)
	}
	return nil, bad, fmt.Errorf("%s holds no intact checkpoint: %w%s; move the damaged ckpt-* directories away, or use another directory", dir, bad[0].err, more)
}

// Latest loads the newest intact checkpoint in dir, or returns nil when there is none. A newer
// checkpoint that is damaged (a truncated or changed file, a bad state.json, non-finite weights)
// is skipped with a line on warn (nil: os.Stderr) naming it and the checkpoint used instead.
func Latest(dir string, warn io.Writer) (*Checkpoint, error) {
	ck, bad, err := latest(dir)
	if err != nil {
		return nil, err
	}
	if warn == nil {
		warn = os.Stderr
	}
	for _, b := range bad {
		fmt.Fprintf(warn, "warning: skipping damaged checkpoint %s (%v); using %s\n", b.path, b.err, ck.Path)
	}
	return ck, nil
}

// LoadDir loads the newest intact checkpoint of a training directory (see Latest; warnings go to
// os.Stderr), or the checkpoint at path itself.
func LoadDir(path string) (*Checkpoint, error) {
	if _, err := os.Stat(filepath.Join(path, "state.json")); err == nil {
		return Load(path)
	}
	ck, err := Latest(path, os.Stderr)
	if err != nil {
		return nil, err
	}
	if ck == nil {
		return nil, fmt.Errorf("%s holds no checkpoint (ckpt-*/state.json): train one with scoresde train --ckpt %s", path, path)
	}
	return ck, nil
}

// readState reads and validates the state.json of the checkpoint at path.
func readState(path string) (*stateParsed, error) {
	file := filepath.Join(path, "state.json")
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxStateBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	p, err := parseState(raw, file)
	if err != nil {
		return nil, err
	}
	if n, ok := ckptStep(filepath.Base(path)); ok && n != p.Step {
		return nil, fmt.Errorf("%s: step=%d, but the directory is %s: the checkpoint was renamed or is damaged", file, p.Step, filepath.Base(path))
	}
	return p, nil
}

// Load reads one checkpoint directory, checking state.json and every tensor file (size, SHA-256,
// header, finite values); an error names the file and what is wrong with it.
func Load(path string) (*Checkpoint, error) {
	p, err := readState(path)
	if err != nil {
		return nil, err
	}
	st := &State{Step: p.Step, DataRNG: p.dataRNG, RNG: tensors.FromFlatDataAndDimensions(append([]uint64(nil), p.RNG...), len(p.RNG))}
	for i, name := range p.Names {
		for _, g := range []struct {
			dir string
			dst *[]*tensors.Tensor
		}{{"params", &st.Params}, {"ema", &st.EMA}, {"adam-m", &st.M}, {"adam-v", &st.V}} {
			rel := g.dir + "/" + fileName(name)
			file := filepath.Join(path, rel)
			data, err := readTensor(file, p.Shapes[i], p.SHA256[rel])
			if err != nil {
				return nil, err
			}
			f32 := make([]float32, len(data))
			for j, v := range data {
				f32[j] = float32(v)
				if math.IsInf(float64(f32[j]), 0) {
					return nil, fmt.Errorf("%s holds %v at index %d, beyond float32: the run that wrote it had diverged; resume from an earlier checkpoint", file, v, j)
				}
			}
			*g.dst = append(*g.dst, tensors.FromFlatDataAndDimensions(f32, p.Shapes[i]...))
		}
	}
	if st.Losses, err = readTensor(filepath.Join(path, "losses.npy"), []int{p.Step}, p.SHA256["losses.npy"]); err != nil {
		return nil, err
	}
	return &Checkpoint{Path: path, Net: p.net, SDE: p.sde, Config: p.Config, Names: p.Names, Frozen: p.Frozen, State: st, Objective: p.Objective}, nil
}
