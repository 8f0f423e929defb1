package data

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
// 10000 in the official files. Each batch must be a regular file of whole
// records, no larger than MaxDecompressedBytes, with labels in 0..9; it is
// streamed record by record, so memory holds only the decoded pixels.
func LoadCIFAR10(dir, split string) (*Images, error) {
	names, err := CIFAR10Files(split)
	if err != nil {
		return nil, err
	}
	limit, err := decompressedLimit()
	if err != nil {
		return nil, err
	}
	out := &Images{H: CIFARSide, W: CIFARSide, C: 3}
	for _, name := range names {
		p := filepath.Join(dir, CIFARBinDir, name)
		f, size, err := openRegular(p, "CIFAR-10 batch file")
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("data: %s: not found: extract cifar-10-binary.tar.gz into %s (see ExtractTarGz) or run with network access to download it", p, dir)
			}
			return nil, err
		}
		if size > limit {
			f.Close()
			return nil, fmt.Errorf("data: %s: %w", p, &LimitError{What: fmt.Sprintf("the batch file holds %d bytes", size), Limit: limit})
		}
		px, labels, err := decodeCIFAR(f, size)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("data: %s: %w", p, err)
		}
		out.Pixels = append(out.Pixels, px...)
		out.Labels = append(out.Labels, labels...)
	}
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("data: %s: %w", filepath.Join(dir, CIFARBinDir), err)
	}
	return out, nil
}

// DecodeCIFAR10 decodes the records of one CIFAR-10 binary batch into
// channel-last pixels (shape [n, 32, 32, 3], flat) and labels (len n).
// The data must be a whole number of CIFARRecord-byte records with labels in
// 0..9.
func DecodeCIFAR10(raw []byte) (pixels []uint8, labels []int, err error) {
	return decodeCIFAR(bytes.NewReader(raw), int64(len(raw)))
}

// decodeCIFAR decodes size bytes of CIFAR-10 records from r, one record at a
// time; size is checked to be a whole number of records before anything is
// allocated.
func decodeCIFAR(r io.Reader, size int64) (pixels []uint8, labels []int, err error) {
	if size == 0 {
		return nil, nil, fmt.Errorf("empty file: delete it and extract cifar-10-binary.tar.gz again")
	}
	if size%CIFARRecord != 0 {
		n := size / CIFARRecord
		return nil, nil, fmt.Errorf("truncated: %d bytes is not a whole number of %d-byte records (expected %d bytes for %d records or %d for %d, found %d): delete it and extract cifar-10-binary.tar.gz again",
			size, CIFARRecord, n*CIFARRecord, n, (n+1)*CIFARRecord, n+1, size)
	}
	n := int(size / CIFARRecord)
	const plane = CIFARSide * CIFARSide
	pixels = make([]uint8, n*3*plane)
	labels = make([]int, n)
	br := bufio.NewReaderSize(r, 1<<16)
	rec := make([]byte, CIFARRecord)
	for i := 0; i < n; i++ {
		if _, err := io.ReadFull(br, rec); err != nil {
			return nil, nil, fmt.Errorf("truncated while reading record %d of %d: %w: delete it and extract cifar-10-binary.tar.gz again", i, n, err)
		}
		if rec[0] > 9 {
			return nil, nil, fmt.Errorf("corrupt record %d at byte %d: label %d is not in 0..9: delete it and extract cifar-10-binary.tar.gz again", i, int64(i)*CIFARRecord, rec[0])
		}
		labels[i] = int(rec[0])
		dst := pixels[i*3*plane : (i+1)*3*plane]
		for p := 0; p < plane; p++ {
			dst[3*p] = rec[1+p]
			dst[3*p+1] = rec[1+plane+p]
			dst[3*p+2] = rec[1+2*plane+p]
		}
	}
	if k, _ := br.Read(rec[:1]); k > 0 {
		return nil, nil, fmt.Errorf("the file grew while being read (more than %d bytes): extract cifar-10-binary.tar.gz again", size)
	}
	return pixels, labels, nil
}
