package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scoresde/scoresde/internal/sharedtest"
)

func TestLoadMNISTReal(t *testing.T) {
	dir := sharedtest.MNISTDir(t)
	for _, tc := range []struct {
		split string
		n     int
	}{{"train", 9000}, {"test", 1000}} {
		m, err := LoadMNIST(dir, tc.split)
		if err != nil {
			t.Fatal(err)
		}
		if m.Len() != tc.n || m.H != 28 || m.W != 28 || m.C != 1 || len(m.Labels) != tc.n {
			t.Fatalf("%s: got %d images %d×%d×%d, %d labels; want %d of 28×28×1", tc.split, m.Len(), m.H, m.W, m.C, len(m.Labels), tc.n)
		}
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
		var seen [10]int
		for _, l := range m.Labels {
			if l < 0 || l > 9 {
				t.Fatalf("%s: label %d outside 0..9", tc.split, l)
			}
			seen[l]++
		}
		for c, k := range seen {
			if k == 0 {
				t.Errorf("%s: class %d never appears", tc.split, c)
			}
		}
		lo, hi := uint8(255), uint8(0)
		for _, v := range m.Pixels {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo != 0 || hi != 255 {
			t.Errorf("%s: pixels span %d..%d, want 0..255", tc.split, lo, hi)
		}
	}
}

func gunzipFile(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadMNISTErrors(t *testing.T) {
	src := sharedtest.MNISTDir(t)
	imgs := gunzipFile(t, filepath.Join(src, "t10k-images-idx3-ubyte.gz"))
	lbls := gunzipFile(t, filepath.Join(src, "t10k-labels-idx1-ubyte.gz"))

	// Raw (uncompressed) files load as well as gzip ones.
	dir := t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("t10k-images-idx3-ubyte", imgs)
	write("t10k-labels-idx1-ubyte", lbls)
	if m, err := LoadMNIST(dir, "test"); err != nil || m.Len() != 1000 {
		t.Fatalf("raw files: %v", err)
	}

	// Bad magic.
	bad := append([]byte(nil), imgs...)
	bad[3] = 0x01
	write("t10k-images-idx3-ubyte", bad)
	_, err := LoadMNIST(dir, "test")
	if err == nil || !strings.Contains(err.Error(), "bad magic number 0x00000801") || !strings.Contains(err.Error(), "t10k-images-idx3-ubyte") {
		t.Fatalf("bad magic: got %v", err)
	}

	// Truncated.
	cut := imgs[:len(imgs)-100]
	write("t10k-images-idx3-ubyte", cut)
	_, err = LoadMNIST(dir, "test")
	if err == nil || !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), "expected 784016 bytes") || !strings.Contains(err.Error(), "found 783916") {
		t.Fatalf("truncated: got %v", err)
	}

	// Truncated gzip stream.
	gz, err := os.ReadFile(filepath.Join(src, "t10k-images-idx3-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	write("t10k-images-idx3-ubyte.gz", gz[:len(gz)/2])
	_, err = LoadMNIST(dir, "test")
	if err == nil || !strings.Contains(err.Error(), "t10k-images-idx3-ubyte.gz: corrupt or truncated gzip stream") {
		t.Fatalf("truncated gzip: got %v", err)
	}
	os.Remove(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"))

	// Count mismatch: 999 labels for 1000 images.
	write("t10k-images-idx3-ubyte", imgs)
	short := append([]byte(nil), lbls[:len(lbls)-1]...)
	short[7] = byte(999 & 0xff)
	short[6] = byte(999 >> 8)
	write("t10k-labels-idx1-ubyte", short)
	_, err = LoadMNIST(dir, "test")
	if err == nil || !strings.Contains(err.Error(), "999 labels") || !strings.Contains(err.Error(), "1000 images") {
		t.Fatalf("mismatch: got %v", err)
	}

	// Missing folder.
	missing := filepath.Join(t.TempDir(), "nope")
	_, err = LoadMNIST(missing, "train")
	if err == nil || !strings.Contains(err.Error(), "not found: put the MNIST IDX files in "+missing) {
		t.Fatalf("missing: got %v", err)
	}

	// Unknown split.
	if _, err := LoadMNIST(dir, "valid"); err == nil || !strings.Contains(err.Error(), `use "train" or "test"`) {
		t.Fatalf("split: got %v", err)
	}
}

func TestCIFAR10Synthetic(t *testing.T) {
	const plane = 32 * 32
	var raw []byte
	for r := 0; r < 3; r++ {
		rec := make([]byte, CIFARRecord)
		rec[0] = byte(r + 4)
		for p := 0; p < plane; p++ {
			rec[1+p] = byte(p % 251)               // R
			rec[1+plane+p] = byte((p + r) % 13)    // G
			rec[1+2*plane+p] = byte(200 + r + p%7) // B
		}
		raw = append(raw, rec...)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, CIFARBinDir)
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "test_batch.bin"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := LoadCIFAR10(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 3 || m.H != 32 || m.W != 32 || m.C != 3 {
		t.Fatalf("got %d images %d×%d×%d", m.Len(), m.H, m.W, m.C)
	}
	for r := 0; r < 3; r++ {
		if m.Labels[r] != r+4 {
			t.Errorf("label %d = %d, want %d", r, m.Labels[r], r+4)
		}
		for _, yx := range [][2]int{{0, 0}, {0, 31}, {5, 17}, {31, 31}} {
			p := yx[0]*32 + yx[1]
			off := ((r*32+yx[0])*32 + yx[1]) * 3
			got := m.Pixels[off : off+3]
			want := []byte{byte(p % 251), byte((p + r) % 13), byte(200 + r + p%7)}
			if !bytes.Equal(got, want) {
				t.Errorf("image %d pixel %v = %v, want %v", r, yx, got, want)
			}
		}
	}
	// Truncated record.
	if err := os.WriteFile(filepath.Join(bin, "test_batch.bin"), raw[:len(raw)-5], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadCIFAR10(dir, "test")
	if err == nil || !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), "test_batch.bin") {
		t.Fatalf("truncated: got %v", err)
	}
	// Corrupt label.
	bad := append([]byte(nil), raw...)
	bad[CIFARRecord] = 17
	os.WriteFile(filepath.Join(bin, "test_batch.bin"), bad, 0o644)
	if _, err = LoadCIFAR10(dir, "test"); err == nil || !strings.Contains(err.Error(), "label 17") {
		t.Fatalf("corrupt label: got %v", err)
	}
	// Missing train batches.
	if _, err = LoadCIFAR10(dir, "train"); err == nil || !strings.Contains(err.Error(), "data_batch_1.bin: not found") {
		t.Fatalf("missing: got %v", err)
	}
}

type member struct {
	name, link string
	typ        byte
	body       string
}

func makeTarGz(t *testing.T, path string, members []member) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, m := range members {
		h := &tar.Header{Name: m.name, Linkname: m.link, Typeflag: m.typ, Mode: 0o644, Size: int64(len(m.body))}
		if m.typ != tar.TypeReg {
			h.Size = 0
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if m.typ == tar.TypeReg {
			tw.Write([]byte(m.body))
		}
	}
	tw.Close()
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestExtractTarGz(t *testing.T) {
	base := t.TempDir()
	dest := filepath.Join(base, "dest")
	ok := filepath.Join(base, "ok.tar.gz")
	makeTarGz(t, ok, []member{
		{name: "cifar-10-batches-bin/", typ: tar.TypeDir},
		{name: "cifar-10-batches-bin/test_batch.bin", typ: tar.TypeReg, body: "hello"},
		{name: "./top.txt", typ: tar.TypeReg, body: "top"},
	})
	if err := ExtractTarGz(ok, dest); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dest, "cifar-10-batches-bin", "test_batch.bin")); err != nil || string(b) != "hello" {
		t.Fatalf("extracted file: %q %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(dest, "top.txt")); err != nil || string(b) != "top" {
		t.Fatalf("extracted file: %q %v", b, err)
	}

	for _, tc := range []struct {
		m    member
		want string
	}{
		{member{name: "../evil", typ: tar.TypeReg, body: "x"}, `"../evil"`},
		{member{name: "sub/../../evil", typ: tar.TypeReg, body: "x"}, `"sub/../../evil"`},
		{member{name: "/abs/evil", typ: tar.TypeReg, body: "x"}, `"/abs/evil"`},
		{member{name: "etc", typ: tar.TypeSymlink, link: "/etc"}, `"etc"`},
		{member{name: "up", typ: tar.TypeSymlink, link: "../.."}, `"up"`},
		{member{name: "alias", typ: tar.TypeSymlink, link: "top.txt"}, `"alias": symbolic link`},
		{member{name: "hard", typ: tar.TypeLink, link: "top.txt"}, `"hard": hard link`},
	} {
		d := t.TempDir()
		arch := filepath.Join(d, "bad.tar.gz")
		out := filepath.Join(d, "out")
		makeTarGz(t, arch, []member{tc.m})
		err := ExtractTarGz(arch, out)
		if err == nil || !strings.Contains(err.Error(), "refusing member "+tc.want) {
			t.Errorf("%s: got %v", tc.m.name, err)
		}
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if e.Name() != "bad.tar.gz" && e.Name() != "out" {
				t.Errorf("%s: wrote %s outside the destination", tc.m.name, e.Name())
			}
		}
		if entries, _ := os.ReadDir(out); len(entries) != 0 {
			t.Errorf("%s: destination not empty: %v", tc.m.name, entries)
		}
	}

	// A chain of in-tree symlinks is refused at its first link.
	d := t.TempDir()
	arch := filepath.Join(d, "chain.tar.gz")
	makeTarGz(t, arch, []member{
		{name: "self", typ: tar.TypeSymlink, link: "."},
		{name: "self/x", typ: tar.TypeSymlink, link: "../escape"},
	})
	if err := ExtractTarGz(arch, filepath.Join(d, "out")); err == nil || !strings.Contains(err.Error(), `refusing member "self"`) {
		t.Errorf("symlink chain: got %v", err)
	}
}

func TestDownload(t *testing.T) {
	body := bytes.Repeat([]byte("scoresde"), 4096)
	sum := sha256.Sum256(body)
	good := hex.EncodeToString(sum[:])
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/f.bin" {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	ctx := context.Background()
	var log bytes.Buffer

	dir := t.TempDir()
	dest := filepath.Join(dir, "f.bin")
	if err := Download(ctx, srv.URL+"/f.bin", dest, strings.ToUpper(good), &log); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(dest); err != nil || !bytes.Equal(b, body) {
		t.Fatalf("downloaded content differs: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("leftover files: %v", entries)
	}

	dir2 := t.TempDir()
	dest2 := filepath.Join(dir2, "f.bin")
	wrong := strings.Repeat("0", 64)
	err := Download(ctx, srv.URL+"/f.bin", dest2, wrong, &log)
	if err == nil || !strings.Contains(err.Error(), wrong) || !strings.Contains(err.Error(), good) || !strings.Contains(err.Error(), dest2) || !strings.Contains(err.Error(), "delete") {
		t.Fatalf("wrong checksum: got %v", err)
	}
	if entries, _ := os.ReadDir(dir2); len(entries) != 0 {
		t.Fatalf("files left after a failed download: %v", entries)
	}

	if err := Download(ctx, srv.URL+"/f.bin", dest2, "", &log); err == nil || !strings.Contains(err.Error(), "AllowUnverified") {
		t.Fatalf("empty checksum: got %v", err)
	}
	if err := Download(ctx, srv.URL+"/missing", dest2, good, &log); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("404: got %v", err)
	}

	// EnsureMNIST downloads only what is missing, from Sources.
	saved := Sources
	defer func() { Sources = saved }()
	Sources = map[string]Source{}
	files := map[string][]byte{}
	for _, n := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		b := []byte("content of " + n)
		files[n] = b
		s := sha256.Sum256(b)
		Sources[n] = Source{Name: n, URLs: []string{srv.URL + "/missing", srv.URL + "/m/" + n}, SHA256: hex.EncodeToString(s[:])}
	}
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[strings.TrimPrefix(r.URL.Path, "/m/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	})
	mdir := t.TempDir()
	os.WriteFile(filepath.Join(mdir, "train-images-idx3-ubyte"), []byte("local"), 0o644)
	if got, err := EnsureMNIST(ctx, mdir, &log); err != nil || got != mdir {
		t.Fatalf("EnsureMNIST: %q %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(mdir, "train-images-idx3-ubyte.gz")); err == nil {
		t.Error("EnsureMNIST downloaded a file that was present raw")
	}
	if b, err := os.ReadFile(filepath.Join(mdir, "t10k-labels-idx1-ubyte.gz")); err != nil || string(b) != "content of t10k-labels-idx1-ubyte.gz" {
		t.Errorf("EnsureMNIST: %q %v", b, err)
	}
}

func TestCacheDir(t *testing.T) {
	t.Setenv("SCORESDE_DATA_DIR", "/some/where")
	if d, err := CacheDir(); err != nil || d != "/some/where" {
		t.Fatalf("got %q %v", d, err)
	}
	t.Setenv("SCORESDE_DATA_DIR", "")
	if d, err := CacheDir(); err == nil && filepath.Base(d) != "scoresde" {
		t.Fatalf("got %q", d)
	}
}

func TestFloatDequantizeFlip(t *testing.T) {
	m := &Images{H: 2, W: 3, C: 2, Pixels: make([]uint8, 2*12), Labels: []int{3, 7}}
	for i := range m.Pixels {
		m.Pixels[i] = uint8(i * 11)
	}
	m.Pixels[0], m.Pixels[1] = 0, 255
	c := m.Float(0, true)
	if c[0] != -1 || c[1] != 1 {
		t.Fatalf("centered: 0→%v, 255→%v", c[0], c[1])
	}
	u := m.Float(0, false)
	if u[0] != 0 || u[1] != 1 {
		t.Fatalf("uncentered: 0→%v, 255→%v", u[0], u[1])
	}
	if m.Float(2, false) != nil {
		t.Fatal("out-of-range image should be nil")
	}
	b := m.Batch([]int{1, 0}, false)
	if len(b) != 24 || b[12] != u[0] || b[0] != float32(m.Pixels[12])/255 {
		t.Fatalf("batch layout wrong")
	}
	if l := m.BatchLabels([]int{1, 0}); l[0] != 7 || l[1] != 3 {
		t.Fatalf("labels %v", l)
	}

	// Dequantization keeps each byte k inside [k/256, (k+1)/256).
	all := &Images{H: 16, W: 16, C: 1, Pixels: make([]uint8, 256)}
	for i := range all.Pixels {
		all.Pixels[i] = uint8(i)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for rep := 0; rep < 200; rep++ {
		x := all.Float(0, false)
		Dequantize(x, r)
		for k, v := range x {
			if v < float32(k)/256 || v >= float32(k+1)/256 {
				t.Fatalf("byte %d dequantized to %v, outside [%v, %v)", k, v, float32(k)/256, float32(k+1)/256)
			}
		}
	}

	// RandomFlip on a known 2×3×2 image.
	img := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	flipped := []float32{5, 6, 3, 4, 1, 2, 11, 12, 9, 10, 7, 8}
	var nFlip int
	for rep := 0; rep < 64; rep++ {
		x := append([]float32(nil), img...)
		RandomFlip(x, 1, 2, 3, 2, r)
		switch {
		case equal(x, flipped):
			nFlip++
		case equal(x, img):
		default:
			t.Fatalf("RandomFlip gave %v", x)
		}
	}
	if nFlip == 0 || nFlip == 64 {
		t.Fatalf("flipped %d of 64 times", nFlip)
	}
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
