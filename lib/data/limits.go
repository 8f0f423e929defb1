package data

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// DefaultMaxDecompressedBytes is the default of MaxDecompressedBytes: 256 MiB.
//
// It is derived from the largest official files this package reads, with
// margin: the CIFAR-10 binary archive unpacks to a 184 MB tar (six batches of
// 30,730,000 bytes plus two small text files), about 70% of the limit, and the
// largest MNIST file, train-images-idx3-ubyte, is 47,040,016 bytes.
const DefaultMaxDecompressedBytes int64 = 256 << 20

// MaxDecompressedBytes caps how many bytes one input may expand to: the
// decompressed content of one IDX file (and the size its header claims), the
// size of one CIFAR-10 batch file, and the total decompressed size of an
// archive unpacked by ExtractTarGz (headers and member data together, holes
// of sparse members included). Inputs beyond it are refused with a
// *LimitError before they are read further. A value ≤ 0 means
// DefaultMaxDecompressedBytes. The environment variable named by MaxBytesEnv,
// when set, takes precedence; that is the way to lift the limit from the
// command line.
var MaxDecompressedBytes = DefaultMaxDecompressedBytes

// MaxBytesEnv names the environment variable that, when set to a positive
// number of bytes, overrides MaxDecompressedBytes.
const MaxBytesEnv = "SCORESDE_DATA_MAX_BYTES"

// MaxArchiveMembers caps the number of members (files, folders and
// metadata entries) ExtractTarGz accepts in one archive; the official
// CIFAR-10 archive has 9. A value ≤ 0 means 10000.
var MaxArchiveMembers = 10000

// LimitError reports an input that expands beyond the decompressed-size
// limit (MaxDecompressedBytes, or the environment variable MaxBytesEnv).
type LimitError struct {
	// What says what went beyond the limit, e.g. "the IDX header claims 10000000000 bytes".
	What string
	// Limit is the limit in bytes that was in force.
	Limit int64
}

// Error says what crossed the limit, the limit, and how to lift it.
func (e *LimitError) Error() string {
	return fmt.Sprintf("%s, more than the limit of %d bytes (%s) on decompressed data: if the file is genuine, raise the limit with %s=<bytes> in the environment (or data.MaxDecompressedBytes in Go)",
		e.What, e.Limit, humanBytes(e.Limit), MaxBytesEnv)
}

// humanBytes writes n in MiB or KiB, for messages.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return strconv.FormatFloat(float64(n)/(1<<30), 'f', 1, 64) + " GiB"
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'g', 4, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'g', 4, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

// decompressedLimit returns the limit in force: $SCORESDE_DATA_MAX_BYTES when
// set, else MaxDecompressedBytes (DefaultMaxDecompressedBytes when ≤ 0).
func decompressedLimit() (int64, error) {
	if s := strings.TrimSpace(os.Getenv(MaxBytesEnv)); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v <= 0 {
			return 0, fmt.Errorf("data: %s=%q is not a positive number of bytes: unset it, or give the limit in bytes (the default is %d)", MaxBytesEnv, s, DefaultMaxDecompressedBytes)
		}
		return v, nil
	}
	if MaxDecompressedBytes <= 0 {
		return DefaultMaxDecompressedBytes, nil
	}
	return MaxDecompressedBytes, nil
}

// maxArchiveMembers returns MaxArchiveMembers, or 10000 when it is ≤ 0.
func maxArchiveMembers() int {
	if MaxArchiveMembers <= 0 {
		return 10000
	}
	return MaxArchiveMembers
}

// maxDeflateRatio bounds how many times larger than its compressed form a
// deflate stream can inflate to (the format's maximum is 1032:1); it bounds
// what a gzip file of a given size can really hold.
const maxDeflateRatio = 1032

// gzipCapacity returns the most bytes a gzip file of size bytes can
// decompress to (saturating instead of overflowing).
func gzipCapacity(size int64) int64 {
	const slack = 1 << 16
	if size > (1<<62)/maxDeflateRatio {
		return 1 << 62
	}
	return size*maxDeflateRatio + slack
}

// cappedReader reads from r but fails with a *LimitError once more than
// limit bytes have been read through it.
type cappedReader struct {
	r     io.Reader
	limit int64
	n     int64
	what  string
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.n > c.limit {
		return 0, &LimitError{What: c.what, Limit: c.limit}
	}
	if room := c.limit + 1 - c.n; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		return n, &LimitError{What: c.what, Limit: c.limit}
	}
	return n, err
}

// openRegular opens path for reading after checking that it is a regular
// file (following symbolic links), so that a device or FIFO put in place of
// a data file is refused instead of read without end or blocked on. It
// returns the file and its size; what names the file's role in messages.
func openRegular(path, what string) (*os.File, int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, fmt.Errorf("data: %s: not found: %w", path, err)
		}
		return nil, 0, fmt.Errorf("data: %s: %w: check that the file exists and is readable", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("data: %s: not a regular file (%s): put the %s itself there", path, st.Mode().Type(), what)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("data: %s: %w: check that the file is readable", path, err)
	}
	return f, st.Size(), nil
}
