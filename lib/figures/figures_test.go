package figures

import (
	"bytes"
	"os"
	"path/filepath"
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
		if !strings.HasSuffix(f, ".svg") {
			continue
		}
		svg, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(svg, []byte("data:image/jpg;base64,iVBOR")) {
			t.Errorf("%s: PNG raster labelled image/jpg", f)
		}
		if n, m := bytes.Count(svg, []byte("<image ")), bytes.Count(svg, []byte(`<image preserveAspectRatio="none" `)); n != m {
			t.Errorf("%s: %d of %d rasters lack preserveAspectRatio=\"none\"", f, n-m, n)
		}
	}
	if _, err := Write(backend.MustNew(), dir, []string{"kernels", "nope"}, nil); err == nil || !strings.Contains(err.Error(), "unknown figure(s) nope") {
		t.Errorf("unknown figure: %v", err)
	}
}

// TestWriteDeterministic writes figures with contours, rasters and simulated paths twice and
// compares the files byte for byte.
func TestWriteDeterministic(t *testing.T) {
	names := []string{"density-ncsn", "densities-8gaussians-vp", "score-fields-ncsn-ve", "figure1-bimodal-vp"}
	b := backend.MustNew()
	a, c := t.TempDir(), t.TempDir()
	first, err := Write(b, a, names, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Write(b, c, names, nil); err != nil {
		t.Fatal(err)
	}
	for _, f := range first {
		t.Run(filepath.Base(f), func(t *testing.T) {
			x, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			y, err := os.ReadFile(filepath.Join(c, filepath.Base(f)))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(x, y) {
				t.Errorf("two runs differ (%d and %d bytes)", len(x), len(y))
			}
		})
	}
}
