// Package npy reads and writes NumPy .npy arrays, so samples, trajectories and
// log-likelihoods open in NumPy, Julia, R and any other tool.
//
// [Write] stores float64 arrays (format 1.0, little-endian, C order) through
// [fileio.WriteFile]: a regular file is replaced atomically (a crash never leaves a
// half-written array), a special file such as /dev/null is written in place.
//
// [Read] loads arrays of the real dtypes NumPy writes — float64, float32, float16, signed and
// unsigned integers of 8 to 64 bits, and bool, in either byte order ('<f8', '>f4', '|u1', …)
// — as float64 (integers beyond 2^53 are rounded to the nearest float64). Format versions
// 1.0, 2.0 and 3.0 are read. Fortran-ordered arrays (fortran_order True) are transposed into C
// order on the way in, so the values always come back in C order for the shape in the header.
// Complex, string, object and structured dtypes are refused with a message saying how to
// convert them. A file must hold exactly the data its header describes: truncated data,
// trailing bytes, and arrays of more than [MaxValues] values are errors, and the header is
// checked against the file's size before anything is allocated for it, so a hostile file
// cannot make Read allocate more than about eight times its own size.
//
// Read keeps NaN and ±Inf values (callers decide); [ReadPoints] refuses them, and
// [CheckFinite] reports the first one, for writers of results.
package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/scoresde/scoresde/lib/fileio"
)

// MaxValues is the most values Read accepts in one array: 2^31 (16 GiB as float64).
const MaxValues = 1 << 31

// MaxHeaderLen is the longest .npy header Read accepts, in bytes. NumPy's headers for real
// dtypes are under 200 bytes (NumPy itself refuses headers over 10,000 bytes by default).
const MaxHeaderLen = 1 << 20

// magic starts every .npy file.
const magic = "\x93NUMPY"

// saveHint ends the messages about files that are not well-formed .npy arrays.
const saveHint = "save the array with numpy.save"

// Write stores data (C order) with the given shape as a little-endian float64 .npy file
// (format 1.0; 2.0 when the header needs more than 65535 bytes) through [fileio.WriteFile].
func Write(path string, data []float64, shape ...int) error {
	n, err := count(shape)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if n != int64(len(data)) {
		return fmt.Errorf("writing %s: shape %s holds %d values, got %d", path, tuple(shape), n, len(data))
	}
	return fileio.WriteFile(path, func(w io.Writer) error { return encode(w, data, shape) })
}

// encode writes the .npy bytes of data with shape (checked by the caller) to w.
func encode(w io.Writer, data []float64, shape []int) error {
	header := fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': %s, }", tuple(shape))
	version, prefix := byte(1), 10 // magic (6) + version (2) + header length (2 or 4)
	if len(header)+1+10 > math.MaxUint16 {
		version, prefix = 2, 12
	}
	// Header padded with spaces and ended by '\n' so that the data starts 64-byte aligned.
	total := prefix + len(header) + 1
	header += strings.Repeat(" ", (64-total%64)%64) + "\n"
	pre := make([]byte, 0, prefix)
	pre = append(pre, magic...)
	pre = append(pre, version, 0)
	if version == 1 {
		pre = binary.LittleEndian.AppendUint16(pre, uint16(len(header)))
	} else {
		pre = binary.LittleEndian.AppendUint32(pre, uint32(len(header)))
	}
	if _, err := w.Write(pre); err != nil {
		return err
	}
	if _, err := io.WriteString(w, header); err != nil {
		return err
	}
	buf := make([]byte, 0, 8<<10)
	for len(data) > 0 {
		k := min(len(data), cap(buf)/8)
		buf = buf[:0]
		for _, v := range data[:k] {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
		data = data[k:]
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

// CheckFinite returns an error naming the index and value of the first NaN or ±Inf in data,
// nil when every value is finite. Writers of results call it before writing, so that a
// diverged run fails with a message instead of leaving an array of NaNs.
func CheckFinite(data []float64) error {
	for i, v := range data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("value %d of %d is %v (not finite)", i, len(data), v)
		}
	}
	return nil
}

// Read loads a .npy array of a real dtype as float64, returning the values in C order and the
// shape (see the package documentation for what is accepted). Every error names path: a file
// that cannot be opened gives os.Open's *fs.PathError ("open PATH: no such file or
// directory", matching fs.ErrNotExist), the others start with "reading PATH: ".
func Read(path string) (data []float64, shape []int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err // "open PATH: no such file or directory"
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, unwrapPath(err))
	}
	if info.IsDir() {
		return nil, nil, fmt.Errorf("reading %s: is a directory: pass a .npy file", path)
	}
	size := int64(-1) // a FIFO or device: the size is known only at the end
	if info.Mode().IsRegular() {
		size = info.Size()
	}
	data, shape, err = decode(bufio.NewReaderSize(f, 1<<16), size)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
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

// decode reads one .npy array from r, which holds size bytes (-1: unknown). It allocates
// nothing larger than the header before checking it against size, and never more than eight
// bytes per byte of input for the values.
func decode(r io.Reader, size int64) ([]float64, []int, error) {
	var pre [12]byte
	if n, err := io.ReadFull(r, pre[:8]); err != nil {
		if n == 0 {
			return nil, nil, fmt.Errorf("the file is empty: not a NumPy .npy file: %s", saveHint)
		}
		if !bytes.HasPrefix([]byte(magic), pre[:min(n, 6)]) {
			return nil, nil, fmt.Errorf("not a NumPy .npy file (it does not start with \\x93NUMPY): %s", saveHint)
		}
		return nil, nil, fmt.Errorf("not a NumPy .npy file: only %d bytes, cut short inside the preamble: %s", n, saveHint)
	}
	if string(pre[:6]) != magic {
		return nil, nil, fmt.Errorf("not a NumPy .npy file (it does not start with \\x93NUMPY): %s", saveHint)
	}
	major, minor := pre[6], pre[7]
	if major < 1 || major > 3 || minor != 0 {
		return nil, nil, fmt.Errorf(".npy format version %d.%d is not supported (want 1.0, 2.0 or 3.0): %s", major, minor, saveHint)
	}
	prefix := 10
	if major > 1 {
		prefix = 12
	}
	if _, err := io.ReadFull(r, pre[8:prefix]); err != nil {
		return nil, nil, fmt.Errorf("the .npy preamble is cut short before the header length: the file is truncated")
	}
	var hlen int64
	if major == 1 {
		hlen = int64(binary.LittleEndian.Uint16(pre[8:10]))
	} else {
		hlen = int64(binary.LittleEndian.Uint32(pre[8:12]))
	}
	if size >= 0 && int64(prefix)+hlen > size {
		return nil, nil, fmt.Errorf("the header claims %d bytes but the file has only %d after the %d-byte preamble: the file is truncated or not a .npy file", hlen, size-int64(prefix), prefix)
	}
	if hlen > MaxHeaderLen {
		return nil, nil, fmt.Errorf("the header claims %d bytes, more than the limit of %d: %s", hlen, MaxHeaderLen, saveHint)
	}
	hdr := make([]byte, hlen)
	if n, err := io.ReadFull(r, hdr); err != nil {
		return nil, nil, fmt.Errorf("the header is cut short: %d of the %d bytes it claims: the file is truncated", n, hlen)
	}
	h, err := parseHeader(hdr)
	if err != nil {
		return nil, nil, fmt.Errorf("malformed .npy header: %w: %s", err, saveHint)
	}
	dt, err := parseDescr(h.descr)
	if err != nil {
		return nil, nil, err
	}
	n, err := count(h.shape)
	if err != nil {
		return nil, nil, fmt.Errorf("malformed .npy header: %w: %s", err, saveHint)
	}
	need := n * int64(dt.size) // no overflow: count keeps n·8 within int64
	if size >= 0 {
		have := size - int64(prefix) - hlen
		switch {
		case have < need:
			return nil, nil, fmt.Errorf("the data is truncated: shape %s of %s needs %d bytes, the file holds %d bytes after the header", tuple(h.shape), h.descr, need, have)
		case have > need:
			return nil, nil, fmt.Errorf("%d bytes of trailing data: shape %s of %s needs %d bytes, the file holds %d bytes after the header (the header claims fewer values than the file holds)", have-need, tuple(h.shape), h.descr, need, have)
		}
	}
	if n > MaxValues {
		return nil, nil, fmt.Errorf("shape %s holds %d values, more than the limit of %d (2^31) values: split the array into smaller files", tuple(h.shape), n, int64(MaxValues))
	}
	if size < 0 {
		// Unknown size: read what is really there (growing as it arrives), then check it.
		raw, err := io.ReadAll(io.LimitReader(r, need+1))
		if err != nil {
			return nil, nil, unwrapPath(err)
		}
		switch {
		case int64(len(raw)) < need:
			return nil, nil, fmt.Errorf("the data is truncated: shape %s of %s needs %d bytes, the input holds %d bytes after the header", tuple(h.shape), h.descr, need, len(raw))
		case int64(len(raw)) > need:
			return nil, nil, fmt.Errorf("trailing data: shape %s of %s needs %d bytes, the input holds more after the header (the header claims fewer values than it holds)", tuple(h.shape), h.descr, need)
		}
		r = bytes.NewReader(raw)
	}
	data := make([]float64, n)
	if err := readValues(r, data, dt, h.fortran, h.shape); err != nil {
		return nil, nil, err
	}
	return data, h.shape, nil
}

// readValues fills data from r, converting dtype dt; fortran-ordered values are placed at
// their C-order positions for shape.
func readValues(r io.Reader, data []float64, dt dtype, fortran bool, shape []int) error {
	// pos walks the C-order offsets of Fortran-ordered values: idx is the multi-index, first
	// dimension fastest, and cs the C strides.
	var idx, cs []int
	off := 0
	if fortran && len(shape) > 1 {
		idx, cs = make([]int, len(shape)), make([]int, len(shape))
		s := 1
		for j := len(shape) - 1; j >= 0; j-- {
			cs[j] = s
			s *= shape[j]
		}
	}
	buf := make([]byte, min(64<<10, len(data)*dt.size))
	per := max(1, len(buf)/dt.size)
	for done := 0; done < len(data); {
		k := min(per, len(data)-done)
		chunk := buf[:k*dt.size]
		if n, err := io.ReadFull(r, chunk); err != nil {
			return fmt.Errorf("the data ends after %d of %d bytes: the file is truncated (or shrank while being read)", done*dt.size+n, len(data)*dt.size)
		}
		if idx == nil {
			dt.convert(data[done:done+k], chunk)
		} else {
			for i := range k {
				data[off] = dt.one(chunk[i*dt.size:])
				for j := 0; j < len(idx); j++ { // next Fortran-order index
					idx[j]++
					off += cs[j]
					if idx[j] < shape[j] {
						break
					}
					off -= idx[j] * cs[j]
					idx[j] = 0
				}
			}
		}
		done += k
	}
	return nil
}

// count returns the number of values of shape, refusing negative dimensions and products
// whose float64 bytes would overflow an int64.
func count(shape []int) (int64, error) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d in shape %s", d, tuple(shape))
		}
	}
	for _, d := range shape {
		if d == 0 {
			return 0, nil
		}
	}
	for _, d := range shape {
		if int64(d) > math.MaxInt64/8/n {
			return 0, fmt.Errorf("shape %s holds more values than fit in memory (the product of the dimensions overflows)", tuple(shape))
		}
		n *= int64(d)
	}
	return n, nil
}

// tuple formats shape as NumPy does: (), (3,), (2, 3).
func tuple(shape []int) string {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	s := strings.Join(dims, ", ")
	if len(shape) == 1 {
		s += ","
	}
	return "(" + s + ")"
}

// unwrapPath drops the path of an *fs.PathError (the caller names the file), keeping the
// cause, which still matches fs.ErrNotExist and the like.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
