package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// idxUbyte is the IDX data type code of unsigned bytes, the only type of the
// MNIST files.
const idxUbyte = 0x08

// idxTypeNames names the IDX data type codes, for messages.
var idxTypeNames = map[byte]string{
	0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16",
	0x0C: "int32", 0x0D: "float32", 0x0E: "float64",
}

// ReadIDXImages reads an IDX3 image file (gzip-compressed or raw): magic
// 0x00000803, then big-endian uint32 count, rows and columns, then
// count·rows·cols pixel bytes. The result has H = rows, W = cols, C = 1 and
// no labels.
//
// The file is streamed: the size its header claims is checked against what
// the file can hold (its size, or for a gzip file the most its size can
// inflate to) and against MaxDecompressedBytes before anything is allocated.
// The count must be positive, rows and columns in 1..65536, and the data
// exactly as long as the header says.
func ReadIDXImages(path string) (*Images, error) {
	dims, body, err := readIDXFile(path, IDXImagesMagic)
	if err != nil {
		return nil, err
	}
	return &Images{Pixels: body, H: dims[1], W: dims[2], C: 1}, nil
}

// ReadIDXLabels reads an IDX1 label file (gzip-compressed or raw): magic
// 0x00000801, then a big-endian uint32 count, then count label bytes. It is
// streamed and bounded as ReadIDXImages; the labels are returned as they are
// (0..255), LoadMNIST checks that they are digits.
func ReadIDXLabels(path string) ([]int, error) {
	_, body, err := readIDXFile(path, IDXLabelsMagic)
	if err != nil {
		return nil, err
	}
	labels := make([]int, len(body))
	for i, v := range body {
		labels[i] = int(v)
	}
	return labels, nil
}

// readIDXFile opens path (a regular file) and decodes it with decodeIDX.
func readIDXFile(path string, magic uint32) ([]int, []byte, error) {
	limit, err := decompressedLimit()
	if err != nil {
		return nil, nil, err
	}
	kind := "an MNIST " + idxKind(magic) + " IDX file"
	f, size, err := openRegular(path, kind)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	dims, body, err := decodeIDX(f, size, magic, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return dims, body, nil
}

// idxKind names the kind of IDX file a magic number stands for.
func idxKind(magic uint32) string {
	switch magic {
	case IDXImagesMagic:
		return "image"
	case IDXLabelsMagic:
		return "label"
	}
	return "IDX"
}

// idxPattern names the MNIST files of a kind, for messages.
func idxPattern(magic uint32) string {
	if magic == IDXImagesMagic {
		return "*-images-idx3-ubyte"
	}
	return "*-labels-idx1-ubyte"
}

// errRedownload is the fix named by messages about a damaged IDX file.
const errRedownload = "delete the file and download it again"

// decodeIDX reads an unsigned-byte IDX stream of the given magic number
// (whose low byte is the number of dimensions) from r, decompressing it when
// it starts with the gzip magic bytes; size is the length of r in bytes. It
// returns the dimensions and the data. The size the header claims is checked
// against what r can hold and against limit before the data is allocated;
// the data must end exactly where the header says.
func decodeIDX(r io.Reader, size int64, magic uint32, limit int64) ([]int, []byte, error) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	gz := false
	capacity := size // most bytes the (decompressed) stream can hold
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("corrupt gzip header: %w: %s", err, errRedownload)
		}
		defer zr.Close()
		src, gz = zr, true
		capacity = gzipCapacity(size)
	}
	ndims := int(magic & 0xff)
	hlen := 4 + 4*ndims
	hdr := make([]byte, hlen)
	got, err := io.ReadFull(src, hdr)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, nil, fmt.Errorf("corrupt or truncated gzip stream after %d bytes: %w: %s", got, err, errRedownload)
	}
	if got >= 4 {
		if m := binary.BigEndian.Uint32(hdr); m != magic {
			return nil, nil, fmt.Errorf("bad magic number 0x%08x, expected 0x%08x for an IDX %s file (%s): check that it is an MNIST %s file, or %s",
				m, magic, idxKind(magic), magicMismatch(m, magic), idxPattern(magic), errRedownload)
		}
	}
	if got < hlen {
		return nil, nil, fmt.Errorf("truncated IDX header: expected %d bytes, found %d: %s", hlen, got, errRedownload)
	}
	dims := make([]int, ndims)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(hdr[4+4*i:]))
	}
	need := int64(1) // data bytes the header claims, unless big
	big := false
	for i := range dims {
		d := int64(dims[i])
		if d == 0 {
			if i == 0 {
				return nil, nil, fmt.Errorf("the IDX header says the file holds 0 %ss: %s", idxItem(magic), errRedownload)
			}
			return nil, nil, fmt.Errorf("the IDX header gives dimension %d the size 0 (dimensions %s): %s", i, fmtDims(dims[:i+1]), errRedownload)
		}
		if i > 0 && d > 1<<16 {
			return nil, nil, fmt.Errorf("implausible image size %s in the IDX header (at most 65536 per side): %s", fmtDims(dims[1:]), errRedownload)
		}
		if !big && need > (1<<62)/d {
			big = true
		}
		if !big {
			need *= d
		}
	}
	what := describeIDX(magic, dims)
	if big {
		return nil, nil, &LimitError{What: fmt.Sprintf("the IDX header claims %s, over 2^62 bytes", what), Limit: limit}
	}
	if !gz {
		// A raw file: its size says exactly what it holds.
		have := size - int64(hlen)
		switch {
		case have < need:
			return nil, nil, fmt.Errorf("truncated: expected %d bytes for %s, found %d: %s", int64(hlen)+need, what, size, errRedownload)
		case have > need:
			return nil, nil, fmt.Errorf("%d trailing bytes: expected %d bytes for %s, found %d: %s", have-need, int64(hlen)+need, what, size, errRedownload)
		}
		if need > limit {
			return nil, nil, &LimitError{What: fmt.Sprintf("the IDX header claims %d bytes (%s)", need, what), Limit: limit}
		}
		body := make([]byte, need)
		if n, err := io.ReadFull(src, body); err != nil {
			return nil, nil, fmt.Errorf("truncated while reading: expected %d bytes for %s, found %d: %w: %s", int64(hlen)+need, what, int64(hlen)+int64(n), err, errRedownload)
		}
		return dims, body, nil
	}
	if need > capacity-int64(hlen) {
		return nil, nil, fmt.Errorf("truncated or corrupt: the IDX header claims %d bytes (%s), more than a %d-byte gzip file can hold: %s", need, what, size, errRedownload)
	}
	if need > limit {
		return nil, nil, &LimitError{What: fmt.Sprintf("the IDX header claims %d bytes (%s)", need, what), Limit: limit}
	}
	buf := bytes.NewBuffer(make([]byte, 0, need))
	n, err := io.CopyN(buf, src, need)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, fmt.Errorf("truncated: expected %d bytes for %s, found %d after decompression: %s", int64(hlen)+need, what, int64(hlen)+n, errRedownload)
		}
		return nil, nil, fmt.Errorf("corrupt or truncated gzip stream after %d bytes: %w: %s", int64(hlen)+n, err, errRedownload)
	}
	// Read on to the end, bounded by the limit, so that the gzip checksum is
	// verified and trailing data is found.
	rest := limit - need
	extra, err := io.Copy(io.Discard, io.LimitReader(src, rest+1))
	if err != nil {
		return nil, nil, fmt.Errorf("corrupt or truncated gzip stream after %d bytes: %w: %s", int64(hlen)+need+extra, err, errRedownload)
	}
	if extra > rest {
		return nil, nil, &LimitError{What: fmt.Sprintf("the file decompresses to more than the %d bytes its IDX header claims (%s)", int64(hlen)+need, what), Limit: limit}
	}
	if extra > 0 {
		return nil, nil, fmt.Errorf("%d trailing bytes: expected %d bytes for %s, found %d after decompression: %s", extra, int64(hlen)+need, what, int64(hlen)+need+extra, errRedownload)
	}
	return dims, buf.Bytes(), nil
}

// magicMismatch says how magic number m differs from want.
func magicMismatch(m, want uint32) string {
	if m>>16 != 0 {
		return "not an IDX file: its first two bytes must be 0"
	}
	if dt := byte(m >> 8); dt != idxUbyte {
		name := idxTypeNames[dt]
		if name == "" {
			name = "unknown"
		}
		return fmt.Sprintf("data type code 0x%02x (%s), this reader takes only 0x%02x (unsigned byte)", dt, name, idxUbyte)
	}
	return fmt.Sprintf("%d dimensions, expected %d", m&0xff, want&0xff)
}

// idxItem names one item of an IDX file of a kind.
func idxItem(magic uint32) string {
	if magic == IDXImagesMagic {
		return "image"
	}
	return "label"
}

// describeIDX describes the content the header dims claim, for messages.
func describeIDX(magic uint32, dims []int) string {
	switch {
	case magic == IDXImagesMagic && len(dims) == 3:
		return fmt.Sprintf("%d images of %d×%d", dims[0], dims[1], dims[2])
	case magic == IDXLabelsMagic && len(dims) == 1:
		return fmt.Sprintf("%d labels", dims[0])
	}
	return "dimensions " + fmtDims(dims)
}

// fmtDims writes dimensions as a×b×c.
func fmtDims(dims []int) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = fmt.Sprint(d)
	}
	return strings.Join(s, "×")
}
