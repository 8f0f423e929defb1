package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/scoresde/scoresde/lib/data"
	"github.com/scoresde/scoresde/lib/figures"
	"github.com/scoresde/scoresde/lib/nets"
	"github.com/scoresde/scoresde/plots"
)

// imageSets are the values of --data that name image data sets.
var imageSets = []string{"mnist", "cifar10"}

// isImageSet reports whether --data names an image data set.
func isImageSet(name string) bool {
	for _, s := range imageSets {
		if strings.EqualFold(name, s) {
			return true
		}
	}
	return false
}

// imageDir is the folder of an image set: --data-dir when given, else <cache>/<set>.
func imageDir(set, dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	c, err := data.CacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(c, strings.ToLower(set)), nil
}

// loadImages reads the split ("train" or "test") of an image set from dir (default: the cache),
// downloading missing files with checksum verification.
func loadImages(set, dir, split string, log io.Writer) (*data.Images, error) {
	dir, err := imageDir(set, dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--data-dir: %w", err)
	}
	switch strings.ToLower(set) {
	case "mnist":
		if _, err := data.EnsureMNIST(context.Background(), dir, log); err != nil {
			return nil, fmt.Errorf("%w\n(offline: pass --data-dir with a folder that holds the four MNIST IDX files, gzip-compressed or not)", err)
		}
		return data.LoadMNIST(dir, split)
	case "cifar10":
		if _, err := data.EnsureCIFAR10(context.Background(), dir, log); err != nil {
			return nil, fmt.Errorf("%w\n(offline: pass --data-dir with a folder that holds cifar-10-batches-bin/)", err)
		}
		return data.LoadCIFAR10(dir, split)
	}
	return nil, fmt.Errorf("unknown image set %q: use one of %s", set, strings.Join(imageSets, ", "))
}

// imageNetNames lists the --net values for images.
func imageNetNames() []string {
	return append([]string{"unet", "unet-small"}, nets.PresetNames()...)
}

// imageNet builds the --net network for h×w×c images.
func imageNet(name string, h, w, c int) (nets.Net, error) {
	switch name {
	case "unet", "unet-small":
		u := nets.NewTutorialUNet()
		if name == "unet-small" {
			u = nets.NewSmallUNet()
		}
		u.H, u.W, u.C = h, w, c
		return u, nil
	}
	p, err := nets.Preset(name)
	if err != nil {
		return nil, fmt.Errorf("--net %q: use one of %s", name, strings.Join(imageNetNames(), ", "))
	}
	if im := p.Spec().Image; len(im) == 3 && (im[0] != h || im[1] != w || im[2] != c) {
		return nil, fmt.Errorf("--net %s is laid out for %d×%d×%d images, the data has %d×%d×%d", name, im[0], im[1], im[2], h, w, c)
	}
	return p, nil
}

// saveImageGrid writes images (rows of h·w·c values in the model's scale) as one PNG grid with cols
// columns (0: near-square); images smaller than 16 pixels are enlarged.
func saveImageGrid(path string, pts [][]float64, image []int, centered bool, cols int) (string, error) {
	img, err := figures.Images(pts, image, centered, cols)
	if err != nil {
		return "", err
	}
	if image[0] < 16 {
		img = figures.Enlarge(img, 4)
	}
	files, err := plots.Save(img, path, 0, 0)
	if err != nil {
		return "", err
	}
	return files[0], nil
}
