package npy

import (
	"path/filepath"
	"testing"
)

// BenchmarkRead reads a 40 MB (5,000,000 × float64) array, as samples of a large run are.
func BenchmarkRead(b *testing.B) {
	p := filepath.Join(b.TempDir(), "big.npy")
	data := make([]float64, 5_000_000)
	for i := range data {
		data[i] = float64(i)
	}
	if err := Write(p, data, len(data)/2, 2); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(8 * len(data)))
	b.ResetTimer()
	for b.Loop() {
		got, _, err := Read(p)
		if err != nil || len(got) != len(data) {
			b.Fatal(len(got), err)
		}
	}
}
