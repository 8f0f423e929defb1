// Package npy reads and writes NumPy .npy arrays of float64, so samples, trajectories and
// log-likelihoods open in NumPy, Julia, R and any other tool. Files are written to a temporary
// file in the same directory and renamed, so a crash never leaves a half-written array.
package npy

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/sbinet/npyio"
)

// Write stores data (C order) with the given shape as a little-endian float64 .npy file (format 1.0).
func Write(path string, data []float64, shape ...int) error {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("writing %s: negative dimension in shape %v", path, shape)
		}
		n *= d
	}
	if n != len(data) {
		return fmt.Errorf("writing %s: shape %v holds %d values, got %d", path, shape, n, len(data))
	}
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	header := fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': (%s), }", tuple)
	// Magic (6) + version (2) + header length (2) + header + '\n', padded to a multiple of 64.
	total := 10 + len(header) + 1
	header += strings.Repeat(" ", (64-total%64)%64) + "\n"

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(f.Name()) // no-op after the rename
	w := bufio.NewWriter(f)
	w.WriteString("\x93NUMPY\x01\x00")
	binary.Write(w, binary.LittleEndian, uint16(len(header)))
	w.WriteString(header)
	buf := make([]byte, 8)
	for _, v := range data {
		binary.LittleEndian.PutUint64(buf, math.Float64bits(v))
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// WritePoints stores points [n][d] as an (n, d) float64 array.
func WritePoints(path string, points [][]float64) error {
	if len(points) == 0 {
		return Write(path, nil, 0, 0)
	}
	d := len(points[0])
	flat := make([]float64, 0, len(points)*d)
	for i, p := range points {
		if len(p) != d {
			return fmt.Errorf("writing %s: point %d has %d values, want %d", path, i, len(p), d)
		}
		flat = append(flat, p...)
	}
	return Write(path, flat, len(points), d)
}

// Read loads a .npy array of any real dtype as float64, returning the values in C order and the shape.
func Read(path string) (data []float64, shape []int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	r, err := npyio.NewReader(f)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: not a NumPy .npy file (%v): save arrays with numpy.save", path, err)
	}
	if r.Header.Descr.Fortran {
		return nil, nil, fmt.Errorf("reading %s: Fortran-ordered array: save it with numpy.save(path, numpy.ascontiguousarray(a))", path)
	}
	shape = append([]int(nil), r.Header.Descr.Shape...)
	if err := r.Read(&data); err != nil {
		return nil, nil, fmt.Errorf("reading %s: %v (dtype %s, shape %v): store real numbers (float32/float64)", path, err, r.Header.Descr.Type, shape)
	}
	return data, shape, nil
}

// ReadPoints loads an (n, d) array (or a 1-D array of n values, read as (n, 1)) as points [n][d].
// Non-finite values are refused with the index of the first one.
func ReadPoints(path string) ([][]float64, error) {
	data, shape, err := Read(path)
	if err != nil {
		return nil, err
	}
	switch len(shape) {
	case 1:
		shape = []int{shape[0], 1}
	case 2:
	default:
		return nil, fmt.Errorf("reading %s: array of shape %v, want (n, d) points", path, shape)
	}
	n, d := shape[0], shape[1]
	if n == 0 || d == 0 {
		return nil, fmt.Errorf("reading %s: array of shape %v holds no points", path, shape)
	}
	out := make([][]float64, n)
	for i := range out {
		out[i] = data[i*d : (i+1)*d : (i+1)*d]
		for j, v := range out[i] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("reading %s: point %d, coordinate %d is %v: remove or fix non-finite values", path, i, j, v)
			}
		}
	}
	return out, nil
}
