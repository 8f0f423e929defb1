package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// CIFAR-10 binary format constants.
const (
	// CIFARSide is the height and width of a CIFAR-10 image, in pixels.
	CIFARSide = 32
	// CIFARRecord is the size in bytes of one record of the binary batches:
	// 1 label byte, then the R, G and B planes of 32×32 bytes each.
	CIFARRecord = 1 + 3*CIFARSide*CIFARSide
	// CIFARBinDir is the folder the official cifar-10-binary.tar.gz unpacks to.
	CIFARBinDir = "cifar-10-batches-bin"
)

// CIFAR10Files returns the batch file names of a CIFAR-10 split: "train"
// (data_batch_1.bin … data_batch_5.bin) or "test" (test_batch.bin).
func CIFAR10Files(split string) ([]string, error) {
	switch split {
	case "train":
		return []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}, nil
	case "test":
		return []string{"test_batch.bin"}, nil
	}
	return nil, fmt.Errorf("data: unknown CIFAR-10 split %q: use \"train\" or \"test\"", split)
}

// LoadCIFAR10 reads the CIFAR-10 split ("train" or "test") from the binary
// batches in dir/cifar-10-batches-bin/ (the layout of the official
// cifar-10-binary.tar.gz once extracted into dir). The result has
// H = W = 32 and C = 3, channel-last RGB; train has 50000 images and test
// 10000 in the official files.
func LoadCIFAR10(dir, split string) (*Images, error) {
	names, err := CIFAR10Files(split)
	if err != nil {
		return nil, err
	}
	out := &Images{H: CIFARSide, W: CIFARSide, C: 3}
	for _, name := range names {
		p := filepath.Join(dir, CIFARBinDir, name)
		raw, err := os.ReadFile(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("data: %s: not found: extract cifar-10-binary.tar.gz into %s (see ExtractTarGz) or run with network access to download it", p, dir)
			}
			return nil, fmt.Errorf("data: %s: %v: check the permissions of %s", p, err, dir)
		}
		px, labels, err := DecodeCIFAR10(raw)
		if err != nil {
			return nil, fmt.Errorf("data: %s: %v", p, err)
		}
		out.Pixels = append(out.Pixels, px...)
		out.Labels = append(out.Labels, labels...)
	}
	return out, nil
}

// DecodeCIFAR10 decodes the records of one CIFAR-10 binary batch into
// channel-last pixels (shape [n, 32, 32, 3], flat) and labels (len n).
// The data must be a whole number of CIFARRecord-byte records with labels in
// 0..9.
func DecodeCIFAR10(raw []byte) (pixels []uint8, labels []int, err error) {
	if len(raw) == 0 {
		return nil, nil, fmt.Errorf("empty file: delete it and extract cifar-10-binary.tar.gz again")
	}
	if len(raw)%CIFARRecord != 0 {
		n := len(raw) / CIFARRecord
		return nil, nil, fmt.Errorf("truncated: %d bytes is not a whole number of %d-byte records (expected %d bytes for %d records or %d for %d, found %d): delete it and extract cifar-10-binary.tar.gz again",
			len(raw), CIFARRecord, n*CIFARRecord, n, (n+1)*CIFARRecord, n+1, len(raw))
	}
	n := len(raw) / CIFARRecord
	const plane = CIFARSide * CIFARSide
	pixels = make([]uint8, n*3*plane)
	labels = make([]int, n)
	for i := 0; i < n; i++ {
		rec := raw[i*CIFARRecord : (i+1)*CIFARRecord]
		if rec[0] > 9 {
			return nil, nil, fmt.Errorf("corrupt record %d at byte %d: label %d is not in 0..9: delete it and extract cifar-10-binary.tar.gz again", i, i*CIFARRecord, rec[0])
		}
		labels[i] = int(rec[0])
		dst := pixels[i*3*plane : (i+1)*3*plane]
		for p := 0; p < plane; p++ {
			dst[3*p] = rec[1+p]
			dst[3*p+1] = rec[1+plane+p]
			dst[3*p+2] = rec[1+2*plane+p]
		}
	}
	return pixels, labels, nil
}
