package figures

import (
	"os"
	"strings"
	"testing"

	"github.com/scoresde/scoresde/lib/backend"
)

// TestWriteAll builds every figure of the set and checks that each PNG and SVG is written.
func TestWriteAll(t *testing.T) {
	dir := t.TempDir()
	var log strings.Builder
	files, err := Write(backend.MustNew(), dir, nil, &log)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2*len(Set()) {
		t.Errorf("wrote %d files for %d figures", len(files), len(Set()))
	}
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.Size() < 1000 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := Write(backend.MustNew(), dir, []string{"kernels", "nope"}, nil); err == nil || !strings.Contains(err.Error(), "unknown figure(s) nope") {
		t.Errorf("unknown figure: %v", err)
	}
}
