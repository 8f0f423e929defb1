package train

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// Checkpoint tensors are little-endian float64 .npy files (format 1.0, C order), the same bytes as
// lib/npy writes, so NumPy reads them. They are written and read here rather than through lib/npy
// because a checkpoint needs more than an array file: the SHA-256 of the bytes while they are
// written, an fsync before the checkpoint directory is renamed into place, permissions 0644
// (less the umask), and a reader that knows the exact size to expect from state.json, so that it
// reads no byte more than the shape can hold and refuses a truncated or padded file.

// maxTensorElems bounds the values one checkpoint tensor may hold (2³¹, 16 GiB as float64): far
// above any network here, and small enough that sizes never overflow.
const maxTensorElems = 1 << 31

// npyHeader returns the .npy preamble (magic, version 1.0, header length, header dict padded to a
// multiple of 64 bytes) of a float64 C-order array of the given shape, byte for byte as lib/npy
// writes it.
func npyHeader(dims []int) []byte {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = fmt.Sprint(d)
	}
	tuple := strings.Join(s, ", ")
	if len(dims) == 1 {
		tuple += ","
	}
	header := fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': (%s), }", tuple)
	total := 10 + len(header) + 1
	header += strings.Repeat(" ", (64-total%64)%64) + "\n"
	out := make([]byte, 0, 10+len(header))
	out = append(out, "\x93NUMPY\x01\x00"...)
	out = binary.LittleEndian.AppendUint16(out, uint16(len(header)))
	return append(out, header...)
}

// numElems is the number of values of shape dims, or an error for a negative dimension or a
// shape beyond maxTensorElems.
func numElems(dims []int) (int, error) {
	n := 1
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", dims)
		}
		if d > 0 && n > maxTensorElems/d {
			return 0, fmt.Errorf("shape %v holds more than %d values", dims, maxTensorElems)
		}
		n *= d
	}
	return n, nil
}

// writeTensor writes data with the given shape to path (creating its folder), fsyncs it, and
// returns the SHA-256 of its bytes in hex.
func writeTensor(path string, data []float64, dims []int) (string, error) {
	if n, err := numElems(dims); err != nil || n != len(data) {
		return "", fmt.Errorf("writing %s: shape %v does not hold %d values", path, dims, len(data))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<16)
	w.Write(npyHeader(dims))
	var buf [8]byte
	for _, v := range data {
		binary.LittleEndian.PutUint64(buf[:], math.Float64bits(v))
		w.Write(buf[:])
	}
	err = w.Flush()
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// readTensor reads the float64 array of shape dims that writeTensor wrote to path. It checks the
// file's size before reading it, its SHA-256 against wantSum (unless wantSum is empty: checkpoints
// written before checksums were recorded), its header, and that every value is finite.
func readTensor(path string, dims []int, wantSum string) ([]float64, error) {
	n, err := numElems(dims)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	hdr := npyHeader(dims)
	want := int64(len(hdr)) + 8*int64(n)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Size() != want {
		what := "truncated"
		if fi.Size() > want {
			what = "longer than its shape"
		}
		return nil, fmt.Errorf("%s has %d bytes, want %d for a float64 array of shape %v: the file is %s", path, fi.Size(), want, dims, what)
	}
	raw := make([]byte, want)
	if _, err := io.ReadFull(f, raw); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if wantSum != "" {
		if got := sum(sha256.New(), raw); got != wantSum {
			return nil, fmt.Errorf("%s has SHA-256 %.12s…, state.json records %.12s…: the file changed after it was written", path, got, wantSum)
		}
	}
	if string(raw[:len(hdr)]) != string(hdr) {
		return nil, fmt.Errorf("%s is not a float64 C-order .npy array of shape %v as checkpoints store them", path, dims)
	}
	out := make([]float64, n)
	body := raw[len(hdr):]
	for i := range out {
		v := math.Float64frombits(binary.LittleEndian.Uint64(body[8*i:]))
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s holds %v at index %d: the run that wrote it had diverged; resume from an earlier checkpoint", path, v, i)
		}
		out[i] = v
	}
	return out, nil
}

// fileSum returns the SHA-256 of the file at path in hex.
func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sum(h hash.Hash, b []byte) string {
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// writeFileSync writes data to path (0644 less the umask, a new file) and fsyncs it.
func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir fsyncs a directory, so that the entries created or renamed in it are on disk.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
