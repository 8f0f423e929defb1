package plots

import (
	"bytes"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestSaveThroughSymlink saves a figure whose .png path is a symbolic link (to a file, and to
// /dev/null): the link stays a link and the bytes reach its target.
func TestSaveThroughSymlink(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 4, 4))
	for _, c := range []struct{ name, target string }{
		{"to-file", "real.png"},
		{"to-dev-null", "/dev/null"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			link := filepath.Join(dir, "fig.png")
			if err := os.Symlink(c.target, link); err != nil {
				t.Skip("no symbolic links here:", err)
			}
			if _, err := Save(img, filepath.Join(dir, "fig"), 0, 0); err != nil {
				t.Fatal(err)
			}
			if info, err := os.Lstat(link); err != nil || info.Mode()&fs.ModeSymlink == 0 {
				t.Fatalf("fig.png is no longer a symbolic link")
			}
			if c.target == "/dev/null" {
				if info, err := os.Stat("/dev/null"); err != nil || info.Mode()&fs.ModeCharDevice == 0 {
					t.Fatalf("/dev/null is no longer a device")
				}
				return
			}
			b, err := os.ReadFile(filepath.Join(dir, c.target))
			if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
				t.Errorf("the link's target holds no PNG: %v", err)
			}
		})
	}
}
