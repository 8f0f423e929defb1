package train

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/scoresde/scoresde/lib/nets"
	"github.com/scoresde/scoresde/lib/sde"
)

// maxStateBytes bounds state.json: it lists names, shapes and checksums, never values.
const maxStateBytes = 16 << 20

// tensorGroups are the folders of a checkpoint, one file per parameter in each.
var tensorGroups = []string{"params", "ema", "adam-m", "adam-v"}

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
	// Objective names a replaced training objective (Trainer.ObjectiveName, e.g. "cross-entropy");
	// empty for the score-matching loss of Config.Loss.
	Objective string `json:"objective,omitempty"`
	// SHA256 maps each tensor file (relative path, "params/dense0.W.npy", "losses.npy") to the
	// SHA-256 of its bytes. Checkpoints written before checksums have none; their files are still
	// checked for size, header and finite values.
	SHA256 map[string]string `json:"sha256,omitempty"`
}

// stateParsed is a validated state.json with what it describes already built.
type stateParsed struct {
	stateFile
	net     nets.Net
	sde     sde.SDE
	dataRNG *rand.PCG
}

// tensorFiles lists the tensor files of the checkpoint (relative paths, "params/x.npy", …,
// "losses.npy") with their shapes.
func (sf *stateFile) tensorFiles() (paths []string, shapes [][]int) {
	for i, name := range sf.Names {
		for _, g := range tensorGroups {
			paths = append(paths, g+"/"+fileName(name))
			shapes = append(shapes, sf.Shapes[i])
		}
	}
	return append(paths, "losses.npy"), append(shapes, []int{sf.Step})
}

// parseState decodes and validates the bytes of a state.json (file names it in errors): every
// list has one entry per parameter, names are distinct file names, shapes are sane, the network,
// SDE, configuration and random states rebuild. It never panics and allocates only what raw holds.
func parseState(raw []byte, file string) (*stateParsed, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s: the checkpoint is damaged or was not written by scoresde", file, fmt.Sprintf(format, args...))
	}
	if len(raw) > maxStateBytes {
		return nil, bad("%d bytes, more than the %d a state.json can hold", len(raw), maxStateBytes)
	}
	var p stateParsed
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&p.stateFile); err != nil {
		return nil, bad("not valid JSON (%v)", err)
	}
	if dec.More() {
		return nil, bad("trailing data after the JSON object")
	}
	sf := &p.stateFile
	if sf.Step < 0 || sf.Step > maxTensorElems {
		return nil, bad("step=%d, want 0 ≤ step ≤ %d", sf.Step, maxTensorElems)
	}
	np := len(sf.Names)
	if np == 0 {
		return nil, bad("names is empty: a network has at least one parameter")
	}
	if len(sf.Shapes) != np {
		return nil, bad("shapes has %d entries, names has %d: want one shape per parameter", len(sf.Shapes), np)
	}
	if len(sf.Frozen) != np {
		return nil, bad("frozen has %d entries, names has %d: want one flag per parameter", len(sf.Frozen), np)
	}
	files := map[string]string{}
	total := 0
	for i, name := range sf.Names {
		if name == "" || len(name) > 200 || strings.IndexFunc(name, func(r rune) bool { return r < ' ' || r == '\\' || r == 0x7f }) >= 0 {
			return nil, bad("names[%d]=%q is not a parameter name (1 to 200 printable characters, no backslash)", i, name)
		}
		if prev, dup := files[fileName(name)]; dup {
			return nil, bad("names[%d]=%q and %q share the file %s", i, name, prev, fileName(name))
		}
		files[fileName(name)] = name
		if len(sf.Shapes[i]) > 8 {
			return nil, bad("shapes[%d] has %d dimensions, want at most 8", i, len(sf.Shapes[i]))
		}
		n, err := numElems(sf.Shapes[i])
		if err != nil {
			return nil, bad("shapes[%d]: %v", i, err)
		}
		if total += n; total > maxTensorElems {
			return nil, bad("shapes hold more than %d values in all", maxTensorElems)
		}
	}
	if want := RNGStateShape.Size(); len(sf.RNG) != want {
		return nil, bad("rng has %d values, want %d", len(sf.RNG), want)
	}
	pcg, err := base64.StdEncoding.DecodeString(sf.DataRNG)
	if err != nil {
		return nil, bad("data_rng is not base64 (%v)", err)
	}
	p.dataRNG = &rand.PCG{}
	if err := p.dataRNG.UnmarshalBinary(pcg); err != nil {
		return nil, bad("data_rng: %v", err)
	}
	if err := specWithinBounds(sf.Net); err != nil {
		return nil, bad("net: %v", err)
	}
	if p.net, err = netFromSpec(sf.Net); err != nil {
		return nil, bad("net: %v", err)
	}
	if p.sde, err = sf.SDE.SDE(); err != nil {
		return nil, bad("sde: %v", err)
	}
	if err := sf.Config.Validate(p.sde); err != nil {
		return nil, bad("config: %v", err)
	}
	paths, _ := sf.tensorFiles()
	if sf.SHA256 != nil {
		for _, rel := range paths {
			s, ok := sf.SHA256[rel]
			if !ok {
				return nil, bad("sha256 lacks %s", rel)
			}
			if len(s) != 64 || strings.Trim(s, "0123456789abcdef") != "" {
				return nil, bad("sha256 of %s is %q, want 64 hex digits", rel, s)
			}
		}
		if len(sf.SHA256) != len(paths) {
			return nil, bad("sha256 lists %d files, the checkpoint has %d", len(sf.SHA256), len(paths))
		}
	}
	return &p, nil
}

// specWithinBounds refuses network sizes far beyond any network here before nets.FromSpec sees
// them: its validation walks the architecture (NCSN++ counts its parameters block by block), so a
// crafted NumResBlocks of 10¹² would hang it. The state's shapes bound the real sizes anyway.
func specWithinBounds(s nets.Spec) error {
	const big = 1 << 20
	ints := []struct {
		name   string
		v, max int
	}{
		{"dim", s.Dim, 1 << 24}, {"fourier_features", s.FourierFeatures, big}, {"levels", s.Levels, 1 << 24},
		{"embed_dim", s.EmbedDim, big}, {"out", s.Out, big}, {"classes", s.Classes, big}, {"nf", s.NF, 1 << 16},
		{"num_res_blocks", s.NumResBlocks, 256}, {"hidden (layers)", len(s.Hidden), 1024}, {"ch_mult (levels)", len(s.ChMult), 16},
		{"attn_resolutions (entries)", len(s.AttnResolutions), 64}, {"image (entries)", len(s.Image), 3},
	}
	for _, l := range [][]int{s.Hidden, s.ChMult, s.Image, s.AttnResolutions} {
		for _, v := range l {
			if v < 0 || v > big {
				return fmt.Errorf("size %d in %v is out of range", v, l)
			}
		}
	}
	for _, c := range ints {
		if c.v < 0 || c.v > c.max {
			return fmt.Errorf("%s=%d, want 0 to %d", c.name, c.v, c.max)
		}
	}
	return nil
}

// netFromSpec is nets.FromSpec with a panic inside a network's validation turned into an error.
func netFromSpec(s nets.Spec) (n nets.Net, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return nets.FromSpec(s)
}
