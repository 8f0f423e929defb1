package fd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/scoresde/scoresde/lib/npy"
)

// ManifestName is the JSON file of a saved classifier that describes it and lists its weight files.
const ManifestName = "classifier.json"

// manifestFormat identifies a saved FD-MNIST classifier.
const manifestFormat = "scoresde-fd-mnist-classifier/v1"

// manifest is the JSON description of a saved classifier.
type manifest struct {
	Format       string      `json:"format"`
	Arch         Arch        `json:"arch"`
	Params       []paramFile `json:"params"`
	TestAccuracy float64     `json:"test_accuracy,omitempty"`
	Seed         uint64      `json:"seed"`
	Epochs       int         `json:"epochs,omitempty"`
}

// paramFile names one weight tensor, its .npy file (float64, C order) and its shape.
type paramFile struct {
	Name  string `json:"name"`
	File  string `json:"file"`
	Shape []int  `json:"shape"`
}

// Save writes the classifier to dir: classifier.json and one float64 .npy file per weight tensor.
// Everything is written to a temporary folder beside dir and renamed into place, so a crash never
// leaves a half-written classifier. An existing dir is replaced only when it is empty or holds a
// saved classifier.
func (c *Classifier) Save(dir string) error {
	names, dims := c.Arch.paramShapes()
	if len(c.Params) != len(names) {
		return fmt.Errorf("fd: saving %s: %d parameter tensors, want %d", dir, len(c.Params), len(names))
	}
	if st, err := os.Stat(dir); err == nil {
		if !st.IsDir() {
			return fmt.Errorf("fd: saving %s: it is a file: choose a folder name", dir)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("fd: saving %s: %w", dir, err)
		}
		if _, err := os.Stat(filepath.Join(dir, ManifestName)); len(entries) > 0 && err != nil {
			return fmt.Errorf("fd: saving %s: the folder holds other files and no %s: choose a new or empty folder", dir, ManifestName)
		}
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("fd: saving %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return fmt.Errorf("fd: saving %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	m := manifest{Format: manifestFormat, Arch: c.Arch, TestAccuracy: c.TestAccuracy, Seed: c.Seed, Epochs: c.Epochs}
	for i, p := range c.Params {
		if !slices.Equal(p.Shape().Dimensions, dims[i]) {
			return fmt.Errorf("fd: saving %s: %s has shape %v, want %v", dir, names[i], p.Shape().Dimensions, dims[i])
		}
		vals, err := tensors.CopyFlatData[float32](p)
		if err != nil {
			return fmt.Errorf("fd: saving %s: %s: %w", dir, names[i], err)
		}
		flat := make([]float64, len(vals))
		for j, v := range vals {
			flat[j] = float64(v)
		}
		file := strings.ReplaceAll(names[i], "/", "_") + ".npy"
		if err := npy.Write(filepath.Join(tmp, file), flat, dims[i]...); err != nil {
			return fmt.Errorf("fd: saving %s: %w", dir, err)
		}
		m.Params = append(m.Params, paramFile{Name: names[i], File: file, Shape: dims[i]})
	}
	raw, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(tmp, ManifestName), append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("fd: saving %s: %w", dir, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("fd: saving %s: %w", dir, err)
	}
	var old string
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("fd: saving %s: moving the previous classifier aside: %w", dir, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir)
		}
		return fmt.Errorf("fd: saving %s: %w", dir, err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}

// Load reads a classifier written by Save from dir.
func Load(dir string) (*Classifier, error) {
	raw, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("fd: %s holds no %s: train a classifier with `scoresde fd-classifier --out %s`", dir, ManifestName, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("fd: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("fd: %s: %v: the file is damaged; train the classifier again", filepath.Join(dir, ManifestName), err)
	}
	if m.Format != manifestFormat {
		return nil, fmt.Errorf("fd: %s: format %q, want %q: train the classifier again with this version", filepath.Join(dir, ManifestName), m.Format, manifestFormat)
	}
	if err := m.Arch.Validate(); err != nil {
		return nil, fmt.Errorf("fd: %s: %w", dir, err)
	}
	names, dims := m.Arch.paramShapes()
	if len(m.Params) != len(names) {
		return nil, fmt.Errorf("fd: %s lists %d weight files, want %d: train the classifier again", dir, len(m.Params), len(names))
	}
	c := &Classifier{Arch: m.Arch, Names: names, TestAccuracy: m.TestAccuracy, Seed: m.Seed, Epochs: m.Epochs}
	for i, pf := range m.Params {
		if pf.Name != names[i] || filepath.Base(pf.File) != pf.File {
			return nil, fmt.Errorf("fd: %s: weight %d is %q in %q, want %s: train the classifier again", dir, i, pf.Name, pf.File, names[i])
		}
		vals, shape, err := npy.Read(filepath.Join(dir, pf.File))
		if err != nil {
			return nil, fmt.Errorf("fd: %s: %w", dir, err)
		}
		if !slices.Equal(shape, dims[i]) {
			return nil, fmt.Errorf("fd: %s: %s has shape %v, want %v: train the classifier again", dir, pf.File, shape, dims[i])
		}
		flat := make([]float32, len(vals))
		for j, v := range vals {
			flat[j] = float32(v)
		}
		c.Params = append(c.Params, tensors.FromFlatDataAndDimensions(flat, dims[i]...))
	}
	return c, nil
}
