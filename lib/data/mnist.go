package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
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
// The result has H = W = 28 (as given by the file) and C = 1.
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
	imgs.Labels = labels
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

// readMaybeGzip returns the contents of path, decompressed when the file
// starts with the gzip magic bytes.
func readMaybeGzip(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %v: check that the file exists and is readable", path, err)
	}
	if len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("data: %s: corrupt gzip header: %v: delete the file and download it again", path, err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("data: %s: corrupt or truncated gzip stream after %d bytes: %v: delete the file and download it again", path, len(out), err)
		}
		return out, nil
	}
	return raw, nil
}

// ReadIDXImages reads an IDX3 image file (gzip-compressed or raw): magic
// 0x00000803, then big-endian uint32 count, rows and columns, then
// count·rows·cols pixel bytes. The result has H = rows, W = cols, C = 1 and
// no labels.
func ReadIDXImages(path string) (*Images, error) {
	b, err := readMaybeGzip(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 16 {
		return nil, fmt.Errorf("data: %s: truncated IDX header: expected 16 bytes, found %d: delete the file and download it again", path, len(b))
	}
	if m := binary.BigEndian.Uint32(b); m != IDXImagesMagic {
		return nil, fmt.Errorf("data: %s: bad magic number 0x%08x, expected 0x%08x for an IDX image file: check that it is an MNIST *-images-idx3-ubyte file, or delete it and download it again", path, m, IDXImagesMagic)
	}
	n := int64(binary.BigEndian.Uint32(b[4:]))
	rows := int64(binary.BigEndian.Uint32(b[8:]))
	cols := int64(binary.BigEndian.Uint32(b[12:]))
	if rows == 0 || cols == 0 || rows > 1<<16 || cols > 1<<16 {
		return nil, fmt.Errorf("data: %s: implausible image size %d×%d in the IDX header: delete the file and download it again", path, rows, cols)
	}
	want := 16 + n*rows*cols
	if int64(len(b)) != want {
		if int64(len(b)) < want {
			return nil, fmt.Errorf("data: %s: truncated: expected %d bytes for %d images of %d×%d, found %d: delete the file and download it again", path, want, n, rows, cols, len(b))
		}
		return nil, fmt.Errorf("data: %s: %d trailing bytes: expected %d bytes for %d images of %d×%d, found %d: delete the file and download it again", path, int64(len(b))-want, want, n, rows, cols, len(b))
	}
	return &Images{Pixels: b[16:], H: int(rows), W: int(cols), C: 1}, nil
}

// ReadIDXLabels reads an IDX1 label file (gzip-compressed or raw): magic
// 0x00000801, then a big-endian uint32 count, then count label bytes.
func ReadIDXLabels(path string) ([]int, error) {
	b, err := readMaybeGzip(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 8 {
		return nil, fmt.Errorf("data: %s: truncated IDX header: expected 8 bytes, found %d: delete the file and download it again", path, len(b))
	}
	if m := binary.BigEndian.Uint32(b); m != IDXLabelsMagic {
		return nil, fmt.Errorf("data: %s: bad magic number 0x%08x, expected 0x%08x for an IDX label file: check that it is an MNIST *-labels-idx1-ubyte file, or delete it and download it again", path, m, IDXLabelsMagic)
	}
	n := int64(binary.BigEndian.Uint32(b[4:]))
	want := 8 + n
	if int64(len(b)) < want {
		return nil, fmt.Errorf("data: %s: truncated: expected %d bytes for %d labels, found %d: delete the file and download it again", path, want, n, len(b))
	}
	if int64(len(b)) > want {
		return nil, fmt.Errorf("data: %s: %d trailing bytes: expected %d bytes for %d labels, found %d: delete the file and download it again", path, int64(len(b))-want, want, n, len(b))
	}
	labels := make([]int, n)
	for i, v := range b[8:] {
		labels[i] = int(v)
	}
	return labels, nil
}
