package npy

import (
	"bytes"
	"io"
	"math"
	"runtime"
	"slices"
	"testing"
)

// onlyReader hides the size of a reader, as a FIFO does.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// FuzzRead feeds arbitrary bytes to the reader. Properties: it never panics; with the size
// known (a regular file) it allocates at most 8 bytes per input byte plus a constant; reading
// the same bytes as a stream of unknown size (a FIFO) agrees; and a successful read, written
// by Write's encoder and read again, gives the same shape and the same float64 bits.
func FuzzRead(f *testing.F) {
	for _, c := range validCases() {
		f.Add(c.file)
	}
	for _, c := range badCases() {
		if len(c.file) < 1<<16 { // the 1 MiB header case is covered by TestReadHostile
			f.Add(c.file)
		}
	}
	var good bytes.Buffer
	encode(&good, []float64{1, math.NaN(), -0.0, math.Inf(1)}, []int{2, 2})
	f.Add(good.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		data, shape, err := decode(bytes.NewReader(b), int64(len(b)))
		runtime.ReadMemStats(&after)
		if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(8*len(b)+1<<20); got > limit {
			t.Fatalf("read of %d bytes allocated %d bytes, more than %d", len(b), got, limit)
		}
		sdata, sshape, serr := decode(onlyReader{bytes.NewReader(b)}, -1)
		if (err == nil) != (serr == nil) {
			t.Fatalf("as a file: %v; as a stream: %v", err, serr)
		}
		if err != nil {
			if data != nil || shape != nil {
				t.Fatalf("error %v with data", err)
			}
			return
		}
		if !sameBits(data, sdata) || !slices.Equal(shape, sshape) {
			t.Fatalf("as a file: %v %v; as a stream: %v %v", data, shape, sdata, sshape)
		}
		n := int64(1)
		for _, d := range shape {
			n *= int64(d)
		}
		if len(shape) > 0 && slices.Contains(shape, 0) {
			n = 0
		}
		if int64(len(data)) != n {
			t.Fatalf("shape %v but %d values", shape, len(data))
		}
		var buf bytes.Buffer
		if err := encode(&buf, data, shape); err != nil {
			t.Fatal(err)
		}
		again, ashape, err := decode(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("re-reading what was written: %v", err)
		}
		if !sameBits(data, again) || !slices.Equal(shape, ashape) {
			t.Fatalf("round trip changed %v %v into %v %v", data, shape, again, ashape)
		}
	})
}
