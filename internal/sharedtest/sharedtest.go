// Package sharedtest finds the data that tests read from beside the checkout.
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// MNISTDir returns the folder of the 10,000-digit MNIST sample (IDX files, 9,000 train and 1,000
// test) at <x>/shared/data/mnist10k for a checkout in <x>/main, searching the parents of the
// working directory; the test is skipped when there is none.
func MNISTDir(tb testing.TB) string {
	tb.Helper()
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "data", "mnist10k")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		if filepath.Dir(d) == d {
			tb.Skip("shared/data/mnist10k not found in any parent folder of the working directory: clone the repository as <x>/main with the shared data in <x>/shared to run this test")
		}
	}
}
