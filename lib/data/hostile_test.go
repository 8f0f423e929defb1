package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// idxFile builds an IDX file: magic, big-endian dims, then data.
func idxFile(magic uint32, dims []uint32, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

// gzipBytes compresses b.
func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gzipZeros compresses head followed by n zero bytes, without holding the zeros in memory.
func gzipZeros(t testing.TB, head []byte, n int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(head)
	chunk := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, int64(len(chunk)))
		zw.Write(chunk[:k])
		n -= k
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// allocated returns the bytes allocated on the heap while f runs.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestIDXHostile feeds crafted IDX files to ReadIDXImages and ReadIDXLabels: every one is refused
// with a message naming the file and the defect, within bounded memory.
func TestIDXHostile(t *testing.T) {
	px := make([]byte, 2*3*4)
	for i := range px {
		px[i] = byte(i)
	}
	good := idxFile(IDXImagesMagic, []uint32{2, 3, 4}, px)
	for _, tc := range []struct {
		name   string
		labels bool
		file   []byte
		want   []string
		limit  bool // a *LimitError is wanted
	}{
		{name: "empty", file: nil, want: []string{"truncated IDX header: expected 16 bytes, found 0"}},
		{name: "truncated-header", file: good[:10], want: []string{"truncated IDX header: expected 16 bytes, found 10"}},
		{name: "truncated-header-labels", labels: true, file: []byte{0, 0, 8, 1, 0}, want: []string{"truncated IDX header: expected 8 bytes, found 5"}},
		{name: "wrong-magic-ndims", file: idxFile(0x00000804, []uint32{2, 3, 4, 1}, px), want: []string{"bad magic number 0x00000804, expected 0x00000803", "4 dimensions, expected 3"}},
		{name: "labels-as-images", file: idxFile(IDXLabelsMagic, []uint32{2}, []byte{1, 2}), want: []string{"bad magic number 0x00000801", "1 dimensions, expected 3"}},
		{name: "images-as-labels", labels: true, file: good, want: []string{"bad magic number 0x00000803, expected 0x00000801", "*-labels-idx1-ubyte"}},
		{name: "float-dtype", file: idxFile(0x00000D03, []uint32{2, 3, 4}, px), want: []string{"data type code 0x0d (float32)", "only 0x08 (unsigned byte)"}},
		{name: "unknown-dtype", file: idxFile(0x00004203, []uint32{2, 3, 4}, px), want: []string{"data type code 0x42 (unknown)"}},
		{name: "not-idx", file: []byte("\x89PNG\r\n\x1a\n0123456789abcdef"), want: []string{"not an IDX file"}},
		{name: "zero-count", file: idxFile(IDXImagesMagic, []uint32{0, 28, 28}, nil), want: []string{"holds 0 images"}},
		{name: "zero-labels", labels: true, file: idxFile(IDXLabelsMagic, []uint32{0}, nil), want: []string{"holds 0 labels"}},
		{name: "zero-rows", file: idxFile(IDXImagesMagic, []uint32{5, 0, 28}, nil), want: []string{"dimension 1 the size 0"}},
		{name: "huge-side", file: idxFile(IDXImagesMagic, []uint32{1, 1 << 20, 1}, px), want: []string{"implausible image size 1048576×1"}},
		{name: "huge-count-raw", file: idxFile(IDXImagesMagic, []uint32{0xffffffff, 28, 28}, px), want: []string{"truncated: expected 3367254359296 bytes for 4294967295 images of 28×28, found 40"}},
		{name: "huge-count-labels", labels: true, file: idxFile(IDXLabelsMagic, []uint32{0xffffffff}, []byte{1}), want: []string{"truncated: expected 4294967303 bytes for 4294967295 labels, found 9"}},
		{name: "product-overflows", file: idxFile(IDXImagesMagic, []uint32{0xffffffff, 65536, 65536}, px), want: []string{"over 2^62 bytes"}, limit: true},
		{name: "huge-count-gzip", file: gzipBytes(t, idxFile(IDXImagesMagic, []uint32{0xffffffff, 28, 28}, px)), want: []string{"more than a", "gzip file can hold"}},
		{name: "short-data", file: good[:len(good)-3], want: []string{"truncated: expected 40 bytes for 2 images of 3×4, found 37"}},
		{name: "short-data-gzip", file: gzipBytes(t, good[:len(good)-3]), want: []string{"truncated: expected 40 bytes for 2 images of 3×4, found 37 after decompression"}},
		{name: "trailing-data", file: append(append([]byte(nil), good...), 1, 2), want: []string{"2 trailing bytes: expected 40 bytes"}},
		{name: "trailing-data-gzip", file: gzipBytes(t, append(append([]byte(nil), good...), 1, 2, 3)), want: []string{"3 trailing bytes: expected 40 bytes", "after decompression"}},
		{name: "trailing-labels", labels: true, file: idxFile(IDXLabelsMagic, []uint32{2}, []byte{1, 2, 3}), want: []string{"1 trailing bytes"}},
		{name: "corrupt-gzip-crc", file: func() []byte {
			b := gzipBytes(t, good)
			b[len(b)-6] ^= 0xff // the CRC-32 in the trailer
			return b
		}(), want: []string{"corrupt or truncated gzip stream"}},
		{name: "bad-gzip-header", file: []byte{0x1f, 0x8b, 0, 0, 0}, want: []string{"corrupt gzip header"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "x-idx3-ubyte")
			if err := os.WriteFile(p, tc.file, 0o644); err != nil {
				t.Fatal(err)
			}
			var err error
			alloc := allocated(func() {
				if tc.labels {
					_, err = ReadIDXLabels(p)
				} else {
					_, err = ReadIDXImages(p)
				}
			})
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			for _, w := range append(tc.want, p) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			var lim *LimitError
			if errors.As(err, &lim) != tc.limit {
				t.Errorf("LimitError %v, want %v: %v", !tc.limit, tc.limit, err)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			if alloc > 1<<20 {
				t.Errorf("allocated %d bytes for a %d-byte file", alloc, len(tc.file))
			}
		})
	}

	// The well-formed file still loads, raw and compressed.
	for _, b := range [][]byte{good, gzipBytes(t, good)} {
		p := filepath.Join(t.TempDir(), "ok")
		os.WriteFile(p, b, 0o644)
		m, err := ReadIDXImages(p)
		if err != nil || m.Len() != 2 || m.H != 3 || m.W != 4 || !bytes.Equal(m.Pixels, px) {
			t.Fatalf("good file: %v", err)
		}
	}
}

// TestIDXGzipBomb: a small gzip file that inflates far beyond its header's claim, or whose
// header claims more than the limit, is refused without inflating it into memory.
func TestIDXGzipBomb(t *testing.T) {
	dir := t.TempDir()
	t.Run("trailing-bomb-default-limit", func(t *testing.T) {
		if testing.Short() {
			t.Skip("inflates 300 MB")
		}
		// One 28×28 image, then 300 MB of zeros: about 300 KB compressed.
		p := filepath.Join(dir, "bomb.gz")
		os.WriteFile(p, gzipZeros(t, idxFile(IDXImagesMagic, []uint32{1, 28, 28}, nil), 784+300<<20), 0o644)
		var err error
		alloc := allocated(func() { _, err = ReadIDXImages(p) })
		var lim *LimitError
		if !errors.As(err, &lim) || lim.Limit != DefaultMaxDecompressedBytes {
			t.Fatalf("got %v, want a LimitError at the default limit", err)
		}
		for _, w := range []string{p, "268435456 bytes (256 MiB)", MaxBytesEnv + "=<bytes>", "data.MaxDecompressedBytes"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
		if alloc > 8<<20 {
			t.Errorf("allocated %d bytes", alloc)
		}
	})
	t.Run("claim-over-limit", func(t *testing.T) {
		// The header claims 400000 images (313 MB) and the file could hold them: refused
		// before allocating, by the limit.
		// 400 KB of incompressible bytes make a gzip file that could hold 313 MB.
		noise := make([]byte, 400<<10)
		rand.NewChaCha8([32]byte{1}).Read(noise)
		p := filepath.Join(dir, "claim.gz")
		os.WriteFile(p, gzipBytes(t, idxFile(IDXImagesMagic, []uint32{400000, 28, 28}, noise)), 0o644)
		fi, _ := os.Stat(p)
		if gzipCapacity(fi.Size()) < 400000*784 {
			t.Fatalf("the test file (%d bytes) is too small to make the claim plausible", fi.Size())
		}
		t.Setenv(MaxBytesEnv, "100000000")
		var err error
		alloc := allocated(func() { _, err = ReadIDXImages(p) })
		var lim *LimitError
		if !errors.As(err, &lim) || lim.Limit != 100000000 || !strings.Contains(err.Error(), "claims 313600000 bytes (400000 images of 28×28)") {
			t.Fatalf("got %v", err)
		}
		if alloc > 1<<20 {
			t.Errorf("allocated %d bytes", alloc)
		}
	})
	t.Run("env-lifts-limit", func(t *testing.T) {
		body := make([]byte, 3*100*100)
		p := filepath.Join(dir, "big.gz")
		os.WriteFile(p, gzipBytes(t, idxFile(IDXImagesMagic, []uint32{3, 100, 100}, body)), 0o644)
		t.Setenv(MaxBytesEnv, "20000")
		if _, err := ReadIDXImages(p); err == nil || !strings.Contains(err.Error(), "limit of 20000 bytes") {
			t.Fatalf("under a 20000-byte limit: %v", err)
		}
		t.Setenv(MaxBytesEnv, "30000")
		if m, err := ReadIDXImages(p); err != nil || m.Len() != 3 {
			t.Fatalf("under a 30000-byte limit: %v", err)
		}
		t.Setenv(MaxBytesEnv, "lots")
		if _, err := ReadIDXImages(p); err == nil || !strings.Contains(err.Error(), MaxBytesEnv+`="lots" is not a positive number`) {
			t.Fatalf("bad env value: %v", err)
		}
	})
	t.Run("device", func(t *testing.T) {
		if _, err := os.Stat("/dev/zero"); err != nil {
			t.Skip("no /dev/zero")
		}
		p := filepath.Join(dir, "t10k-images-idx3-ubyte")
		if err := os.Symlink("/dev/zero", p); err != nil {
			t.Skip(err)
		}
		if _, err := ReadIDXImages(p); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("got %v", err)
		}
	})
}

// writeMNIST writes the four MNIST files of a tiny set into dir: n images of 2×2 per split,
// with the given test labels.
func writeMNIST(t *testing.T, dir string, n int, testLabels []byte) {
	t.Helper()
	lbl := make([]byte, n)
	for _, pre := range []string{"train", "t10k"} {
		os.WriteFile(filepath.Join(dir, pre+"-images-idx3-ubyte"), idxFile(IDXImagesMagic, []uint32{uint32(n), 2, 2}, make([]byte, 4*n)), 0o644)
		l := lbl
		if pre == "t10k" {
			l = testLabels
		}
		os.WriteFile(filepath.Join(dir, pre+"-labels-idx1-ubyte"), idxFile(IDXLabelsMagic, []uint32{uint32(len(l))}, l), 0o644)
	}
}

// TestMNISTLabels: labels outside 0..9 and label counts that differ from the image count are
// refused, naming the file (and the first bad index).
func TestMNISTLabels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels []byte
		want   string
	}{
		{"digits", []byte{0, 9, 3, 4}, ""},
		{"ten", []byte{0, 1, 2, 10}, "label 10 at index 3 is not a digit 0..9"},
		{"255", []byte{255, 1, 200, 3}, "label 255 at index 0 is not a digit 0..9"},
		{"fewer", []byte{1, 2, 3}, "has 3 labels but"},
		{"more", []byte{1, 2, 3, 4, 5}, "has 5 labels but"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeMNIST(t, dir, 4, tc.labels)
			m, err := LoadMNIST(dir, "test")
			if tc.want == "" {
				if err != nil || m.Len() != 4 || len(m.Labels) != 4 {
					t.Fatalf("got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), filepath.Join(dir, "t10k-labels-idx1-ubyte")) {
				t.Fatalf("got %v, want %q naming the label file", err, tc.want)
			}
		})
	}
}

// TestCIFARHostile: CIFAR batches that are not regular files, too large, or carry bad labels.
func TestCIFARHostile(t *testing.T) {
	rec := make([]byte, CIFARRecord)
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, bin string)
		want  string
	}{
		{"label-10", func(t *testing.T, bin string) {
			r := append(append([]byte(nil), rec...), rec...)
			r[CIFARRecord] = 10
			os.WriteFile(filepath.Join(bin, "test_batch.bin"), r, 0o644)
		}, "corrupt record 1 at byte 3073: label 10 is not in 0..9"},
		{"empty", func(t *testing.T, bin string) {
			os.WriteFile(filepath.Join(bin, "test_batch.bin"), nil, 0o644)
		}, "empty file"},
		{"device", func(t *testing.T, bin string) {
			if err := os.Symlink("/dev/zero", filepath.Join(bin, "test_batch.bin")); err != nil {
				t.Skip(err)
			}
		}, "not a regular file"},
		{"folder", func(t *testing.T, bin string) {
			os.Mkdir(filepath.Join(bin, "test_batch.bin"), 0o755)
		}, "not a regular file"},
		{"over-limit", func(t *testing.T, bin string) {
			t.Setenv(MaxBytesEnv, "5000")
			os.WriteFile(filepath.Join(bin, "test_batch.bin"), append(append([]byte(nil), rec...), rec...), 0o644)
		}, "the batch file holds 6146 bytes, more than the limit of 5000 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, CIFARBinDir)
			os.MkdirAll(bin, 0o755)
			tc.setup(t, bin)
			_, err := LoadCIFAR10(dir, "test")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), filepath.Join(bin, "test_batch.bin")) {
				t.Fatalf("got %v, want %q naming the file", err, tc.want)
			}
		})
	}
}

// tarBytes builds a tar archive of members, gzip-compressed when gz.
func tarBytes(t testing.TB, gz bool, members []member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		h := &tar.Header{Name: m.name, Linkname: m.link, Typeflag: m.typ, Mode: 0o644, Size: int64(len(m.body))}
		if m.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if m.typ == tar.TypeReg {
			tw.Write([]byte(m.body))
		}
	}
	tw.Close()
	if gz {
		return gzipBytes(t, buf.Bytes())
	}
	return buf.Bytes()
}

// listTree returns the paths under root (relative, sorted), links marked with " -> target".
func listTree(t testing.TB, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if d.Type()&fs.ModeSymlink != 0 {
			l, _ := os.Readlink(p)
			rel += " -> " + l
		}
		out = append(out, rel)
		return nil
	})
	sort.Strings(out)
	return out
}

// TestExtractSymlinkChain: an archive whose links chain out of the data folder (a/b -> ..,
// then cifar-10-batches-bin -> a/b/../outside) is refused, nothing appears outside the data
// folder, and the CIFAR-10 loader cannot be led to read the files outside.
func TestExtractSymlinkChain(t *testing.T) {
	base := t.TempDir()
	dataDir := filepath.Join(base, "data")
	outside := filepath.Join(base, "outside")
	os.MkdirAll(filepath.Join(outside, CIFARBinDir), 0o755)
	os.WriteFile(filepath.Join(outside, CIFARBinDir, "test_batch.bin"), make([]byte, CIFARRecord), 0o644)
	// The planted folder: the loader would read outside/cifar-10-batches-bin through it.
	os.Symlink(".", filepath.Join(outside, "planted"))
	os.MkdirAll(dataDir, 0o755)
	before := listTree(t, base)
	for _, tc := range []struct {
		name    string
		members []member
		want    string
	}{
		{"loader-escape", []member{
			{name: "a/", typ: tar.TypeDir},
			{name: "a/b", typ: tar.TypeSymlink, link: ".."},
			{name: CIFARBinDir, typ: tar.TypeSymlink, link: "a/b/../outside/" + CIFARBinDir},
		}, `refusing member "a/b": symbolic link (to "..")`},
		{"plant-folder", []member{
			{name: "a/", typ: tar.TypeDir},
			{name: "a/b", typ: tar.TypeSymlink, link: ".."},
			{name: "x", typ: tar.TypeSymlink, link: "a/b/../planted"},
			{name: "x/", typ: tar.TypeDir},
			{name: "x/" + CIFARBinDir + "/", typ: tar.TypeDir},
		}, `refusing member "a/b"`},
		{"hard-link-out", []member{
			{name: "h", typ: tar.TypeLink, link: "../outside/" + CIFARBinDir + "/test_batch.bin"},
		}, `refusing member "h": hard link`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, gz := range []bool{true, false} {
				arch := filepath.Join(t.TempDir(), "cifar.tar")
				os.WriteFile(arch, tarBytes(t, gz, tc.members), 0o644)
				os.MkdirAll(dataDir, 0o755)
				err := ExtractTarGz(arch, dataDir)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("gz=%v: got %v, want %q", gz, err, tc.want)
				}
				if got := listTree(t, base); strings.Join(got, "\n") != strings.Join(before, "\n") {
					t.Errorf("gz=%v: the tree changed:\nbefore %q\nafter  %q", gz, before, got)
				}
				if _, err := LoadCIFAR10(dataDir, "test"); err == nil || !strings.Contains(err.Error(), "not found") {
					t.Errorf("gz=%v: the loader read the files outside: %v", gz, err)
				}
				os.RemoveAll(dataDir)
			}
		})
	}
}

// TestExtractBombs: archives that expand beyond the limit (in bytes, declared sizes or member
// count) are refused with the limit and how to lift it, and leave the folder as it was.
func TestExtractBombs(t *testing.T) {
	zeros := func(n int64) []byte { return make([]byte, n) }
	for _, tc := range []struct {
		name  string
		env   string
		build func(t *testing.T) []byte
		want  string
	}{
		{"member-bomb", "1048576", func(t *testing.T) []byte {
			return tarBytes(t, true, []member{{name: "cifar-10-batches-bin/", typ: tar.TypeDir}, {name: "cifar-10-batches-bin/big.bin", typ: tar.TypeReg, body: string(zeros(8 << 20))}})
		}, "its files declare 8388608 bytes in all so far, more than the limit of 1048576 bytes (1 MiB)"},
		{"many-small-files", "1048576", func(t *testing.T) []byte {
			var ms []member
			for i := 0; i < 9; i++ {
				ms = append(ms, member{name: "f" + string(rune('0'+i)), typ: tar.TypeReg, body: string(zeros(200 << 10))})
			}
			return tarBytes(t, true, ms)
		}, "more than the limit of 1048576 bytes"},
		{"declared-size-default-limit", "", func(t *testing.T) []byte {
			// A header declaring 300 MB with no data behind it: refused from the header alone.
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			tw.WriteHeader(&tar.Header{Name: "huge.bin", Typeflag: tar.TypeReg, Mode: 0o644, Size: 300 << 20})
			return gzipBytes(t, buf.Bytes())
		}, "its files declare 314572800 bytes in all so far, more than the limit of 268435456 bytes (256 MiB)"},
		{"stream-bomb", "1048576", func(t *testing.T) []byte {
			// A valid tiny archive followed by 8 MB of zeros inside the same gzip stream.
			head := tarBytes(t, false, []member{{name: "a.txt", typ: tar.TypeReg, body: "a"}})
			return gzipZeros(t, head, 8<<20)
		}, "the archive decompresses to more bytes, more than the limit of 1048576 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			arch := filepath.Join(base, "bomb.tar.gz")
			os.WriteFile(arch, tc.build(t), 0o644)
			dest := filepath.Join(base, "data")
			t.Setenv(MaxBytesEnv, tc.env)
			var err error
			alloc := allocated(func() { err = ExtractTarGz(arch, dest) })
			var lim *LimitError
			if !errors.As(err, &lim) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), MaxBytesEnv) || !strings.Contains(err.Error(), arch) {
				t.Fatalf("got %v, want a LimitError with %q", err, tc.want)
			}
			if got := listTree(t, dest); len(got) != 0 {
				t.Errorf("left behind: %q", got)
			}
			if alloc > 4<<20 {
				t.Errorf("allocated %d bytes", alloc)
			}
		})
	}
	t.Run("member-count", func(t *testing.T) {
		saved := MaxArchiveMembers
		defer func() { MaxArchiveMembers = saved }()
		MaxArchiveMembers = 5
		var ms []member
		for i := 0; i < 6; i++ {
			ms = append(ms, member{name: "d" + string(rune('0'+i)) + "/", typ: tar.TypeDir})
		}
		base := t.TempDir()
		arch := filepath.Join(base, "many.tar.gz")
		os.WriteFile(arch, tarBytes(t, true, ms), 0o644)
		err := ExtractTarGz(arch, filepath.Join(base, "data"))
		if err == nil || !strings.Contains(err.Error(), "more than 5 members") {
			t.Fatalf("got %v", err)
		}
		if got := listTree(t, filepath.Join(base, "data")); len(got) != 0 {
			t.Errorf("left behind: %q", got)
		}
	})
}

// TestExtractAllOrNothing: a truncated or corrupt archive leaves the folder as it was (no
// partial batches, no temporary folder); a good plain tar extracts and merges with what is there.
func TestExtractAllOrNothing(t *testing.T) {
	good := tarBytes(t, false, []member{
		{name: "cifar-10-batches-bin/", typ: tar.TypeDir},
		{name: "cifar-10-batches-bin/data_batch_1.bin", typ: tar.TypeReg, body: strings.Repeat("1", 5000)},
		{name: "cifar-10-batches-bin/test_batch.bin", typ: tar.TypeReg, body: strings.Repeat("t", 5000)},
	})
	gz := gzipBytes(t, good)
	crc := append([]byte(nil), gz...)
	crc[len(crc)-6] ^= 0xff
	for _, tc := range []struct {
		name string
		arch []byte
		want string
	}{
		{"truncated-tar", good[:512+3000], "truncated archive"},
		{"truncated-gzip", gz[:len(gz)/2], "corrupt or truncated archive"},
		{"bad-gzip-crc", crc, "corrupt or truncated archive"},
		{"not-tar", []byte(strings.Repeat("no tar here ", 100)), "corrupt or truncated archive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			dest := filepath.Join(base, "data")
			os.MkdirAll(filepath.Join(dest, "keep"), 0o755)
			arch := filepath.Join(base, "a.tar")
			os.WriteFile(arch, tc.arch, 0o644)
			err := ExtractTarGz(arch, dest)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), arch) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if got := listTree(t, dest); strings.Join(got, ",") != "keep" {
				t.Errorf("left behind: %q", got)
			}
		})
	}
	base := t.TempDir()
	dest := filepath.Join(base, "data")
	os.MkdirAll(filepath.Join(dest, CIFARBinDir), 0o755)
	os.WriteFile(filepath.Join(dest, CIFARBinDir, "mine.txt"), []byte("mine"), 0o644)
	arch := filepath.Join(base, "a.tar")
	os.WriteFile(arch, good, 0o644)
	if err := ExtractTarGz(arch, dest); err != nil {
		t.Fatal(err)
	}
	want := []string{CIFARBinDir, CIFARBinDir + "/data_batch_1.bin", CIFARBinDir + "/mine.txt", CIFARBinDir + "/test_batch.bin"}
	if got := listTree(t, dest); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("extracted %q, want %q", got, want)
	}
	// A file where the archive has a folder: refused before anything moves.
	dest2 := filepath.Join(base, "data2")
	os.MkdirAll(dest2, 0o755)
	os.WriteFile(filepath.Join(dest2, CIFARBinDir), []byte("x"), 0o644)
	if err := ExtractTarGz(arch, dest2); err == nil || !strings.Contains(err.Error(), "exists and is not a folder") {
		t.Fatalf("conflict: got %v", err)
	}
	if got := listTree(t, dest2); strings.Join(got, ",") != CIFARBinDir {
		t.Errorf("conflict left %q", got)
	}
}

// TestEnsureCIFAR10VerifiesCache: an archive already in the cache is checked against its
// SHA-256 before it is extracted; a mismatch names the file, both sums and the fix.
func TestEnsureCIFAR10VerifiesCache(t *testing.T) {
	rec := make([]byte, CIFARRecord)
	official := tarBytes(t, true, []member{
		{name: CIFARBinDir + "/", typ: tar.TypeDir},
		{name: CIFARBinDir + "/test_batch.bin", typ: tar.TypeReg, body: string(rec)},
	})
	sum := sha256.Sum256(official)
	want := hex.EncodeToString(sum[:])
	saved := Sources
	defer func() { Sources = saved }()
	Sources = map[string]Source{"cifar-10-binary.tar.gz": {Name: "cifar-10-binary.tar.gz", SHA256: want}}

	forged := append([]byte(nil), official...)
	forged[len(forged)/2] ^= 1
	fsum := sha256.Sum256(forged)
	dir := t.TempDir()
	arch := filepath.Join(dir, "cifar-10-binary.tar.gz")
	os.WriteFile(arch, forged, 0o644)
	_, err := EnsureCIFAR10(context.Background(), dir, nil)
	if err == nil {
		t.Fatal("a cached archive with the wrong SHA-256 was extracted")
	}
	for _, w := range []string{arch, "SHA-256 mismatch", "expected " + want, "got " + hex.EncodeToString(fsum[:]), "delete it"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if got := listTree(t, dir); strings.Join(got, ",") != "cifar-10-binary.tar.gz" {
		t.Errorf("extracted %q from a forged archive", got)
	}

	os.WriteFile(arch, official, 0o644)
	if _, err := EnsureCIFAR10(context.Background(), dir, nil); err != nil {
		t.Fatal(err)
	}
	if m, err := LoadCIFAR10(dir, "test"); err != nil || m.Len() != 1 {
		t.Fatalf("after extracting the verified archive: %v", err)
	}
}
