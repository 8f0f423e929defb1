package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// IDX magic numbers of the MNIST files (big-endian uint32 at offset 0).
const (
	// IDXImagesMagic marks an IDX3 file of uint8 images: dims N, rows, cols follow.
	IDXImagesMagic = 0x00000803
	// IDXLabelsMagic marks an IDX1 file of uint8 labels: dim N follows.
	IDXLabelsMagic = 0x00000801
)

// MNISTFiles returns the base names (without ".gz") of the image and label
// IDX files of an MNIST split, "train" or "test".
func MNISTFiles(split string) (images, labels string, err error) {
	switch split {
	case "train":
		return "train-images-idx3-ubyte", "train-labels-idx1-ubyte", nil
	case "test":
		return "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", nil
	}
	return "", "", fmt.Errorf("data: unknown MNIST split %q: use \"train\" or \"test\"", split)
}

// LoadMNIST reads the MNIST split ("train" or "test") from dir, which must
// hold train-images-idx3-ubyte and train-labels-idx1-ubyte (or the t10k-*
// files for "test"), each gzip-compressed with a ".gz" suffix or raw.
// The result has H and W as given by the file (28 for MNIST) and C = 1.
// Labels must be digits 0..9 and as many as the images; the files are read
// within the limit of MaxDecompressedBytes (see ReadIDXImages).
func LoadMNIST(dir, split string) (*Images, error) {
	imgName, lblName, err := MNISTFiles(split)
	if err != nil {
		return nil, err
	}
	imgPath, err := findIDX(dir, imgName)
	if err != nil {
		return nil, err
	}
	lblPath, err := findIDX(dir, lblName)
	if err != nil {
		return nil, err
	}
	imgs, err := ReadIDXImages(imgPath)
	if err != nil {
		return nil, err
	}
	labels, err := ReadIDXLabels(lblPath)
	if err != nil {
		return nil, err
	}
	if len(labels) != imgs.Len() {
		return nil, fmt.Errorf("data: %s has %d labels but %s has %d images: the files come from different sets; download both files of the %s split again",
			lblPath, len(labels), imgPath, imgs.Len(), split)
	}
	for i, l := range labels {
		if l > 9 {
			return nil, fmt.Errorf("data: %s: label %d at index %d is not a digit 0..9 (the first bad one): the file is corrupt or not MNIST; delete it and download it again", lblPath, l, i)
		}
	}
	imgs.Labels = labels
	if err := imgs.Validate(); err != nil {
		return nil, fmt.Errorf("data: %s and %s: %w", imgPath, lblPath, err)
	}
	return imgs, nil
}

// findIDX returns dir/name.gz or dir/name, whichever exists (".gz" first).
func findIDX(dir, name string) (string, error) {
	for _, p := range []string{filepath.Join(dir, name+".gz"), filepath.Join(dir, name)} {
		st, err := os.Stat(p)
		if err == nil && !st.IsDir() {
			return p, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("data: %s: %v: check the permissions of %s", p, err, dir)
		}
	}
	return "", fmt.Errorf("data: %s: not found: put the MNIST IDX files in %s or run with network access to download them",
		filepath.Join(dir, name+".gz"), dir)
}
