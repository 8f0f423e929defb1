package data

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzLimit is the decompressed-size limit under fuzzing, small so that bombs are cheap.
const fuzzLimit = 256 << 10

// FuzzIDX feeds arbitrary bytes to the IDX decoder, as an image file and as a label file.
// Properties: it never panics; what it accepts has positive dimensions, exactly as many data
// bytes as they claim, within the limit; what it refuses is one line of error.
func FuzzIDX(f *testing.F) {
	px := make([]byte, 2*3*4)
	good := idxFile(IDXImagesMagic, []uint32{2, 3, 4}, px)
	goodLabels := idxFile(IDXLabelsMagic, []uint32{3}, []byte{1, 2, 3})
	for _, seed := range [][]byte{
		good, goodLabels,
		gzipBytes(f, good), gzipBytes(f, goodLabels),
		good[:7], good[:15], goodLabels[:6], // truncated headers
		idxFile(0x00000804, []uint32{2, 3, 4, 1}, px),                           // wrong magic (dimensions)
		idxFile(0x00000D03, []uint32{2, 3, 4}, px),                              // wrong dtype code
		idxFile(0x01000803, []uint32{2, 3, 4}, px),                              // not IDX
		idxFile(IDXImagesMagic, []uint32{0xffffffff, 0xffff, 0xffff}, px),       // huge dims
		idxFile(IDXImagesMagic, []uint32{0xffffffff, 0x10000, 0x10000}, px),     // product overflows
		gzipBytes(f, idxFile(IDXImagesMagic, []uint32{0xffffffff, 28, 28}, px)), // huge dims, gzip
		idxFile(IDXImagesMagic, []uint32{0, 3, 4}, nil),                         // zero count
		idxFile(IDXImagesMagic, []uint32{2, 0, 4}, nil),                         // zero dims
		idxFile(IDXLabelsMagic, []uint32{0}, nil),                               // zero labels
		good[:len(good)-1], gzipBytes(f, good[:len(good)-1]), // short data
		append(append([]byte(nil), good...), 9), gzipBytes(f, append(good, 9, 9)), // trailing data
		gzipZeros(f, idxFile(IDXImagesMagic, []uint32{1, 2, 2}, nil), 1<<20), // gzip bomb
		{0x1f, 0x8b}, {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, // broken gzip
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, b []byte, labels bool) {
		magic := uint32(IDXImagesMagic)
		if labels {
			magic = IDXLabelsMagic
		}
		dims, body, err := decodeIDX(bytes.NewReader(b), int64(len(b)), magic, fuzzLimit)
		if err != nil {
			if dims != nil || body != nil {
				t.Fatalf("error %v with a result", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
			return
		}
		if len(dims) != int(magic&0xff) {
			t.Fatalf("%d dimensions for magic 0x%08x", len(dims), magic)
		}
		n := 1
		for _, d := range dims {
			if d <= 0 {
				t.Fatalf("accepted dimensions %v", dims)
			}
			n *= d
		}
		if len(body) != n || cap(body) > fuzzLimit {
			t.Fatalf("dimensions %v but %d data bytes in a buffer of %d (limit %d)", dims, len(body), cap(body), fuzzLimit)
		}
		if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
			if int64(n) > gzipCapacity(int64(len(b))) {
				t.Fatalf("%d bytes out of a %d-byte gzip stream", n, len(b))
			}
		} else if len(b) != 4+4*len(dims)+n {
			t.Fatalf("accepted %d bytes for dimensions %v", len(b), dims)
		}
	})
}

// FuzzExtract unpacks arbitrary bytes as a tar or tar.gz archive into a fresh folder.
// Properties: it never panics; nothing is written outside the folder; a refused archive leaves
// the folder empty; an accepted one leaves only folders and regular files (no links), whose sizes
// add up to at most the limit.
func FuzzExtract(f *testing.F) {
	reg := func(name, body string) member { return member{name: name, typ: tar.TypeReg, body: body} }
	ok := []member{{name: CIFARBinDir + "/", typ: tar.TypeDir}, reg(CIFARBinDir+"/test_batch.bin", "abc"), reg("readme.html", "<p>")}
	var seeds [][]byte
	for _, gz := range []bool{false, true} {
		seeds = append(seeds,
			tarBytes(f, gz, ok),
			tarBytes(f, gz, []member{{name: "a/", typ: tar.TypeDir}, {name: "a/b", typ: tar.TypeSymlink, link: ".."}, {name: "x", typ: tar.TypeSymlink, link: "a/b/../outside"}, {name: "x/", typ: tar.TypeDir}}),
			tarBytes(f, gz, []member{reg("f", "x"), {name: "h", typ: tar.TypeLink, link: "f"}}),
			tarBytes(f, gz, []member{{name: "h", typ: tar.TypeLink, link: "../../etc/passwd"}}),
			tarBytes(f, gz, []member{reg("../evil", "x")}),
			tarBytes(f, gz, []member{reg("a/../../evil", "x")}),
			tarBytes(f, gz, []member{reg("/abs/evil", "x")}),
			tarBytes(f, gz, []member{{name: "d", typ: tar.TypeDir}, reg("d", "file over folder")}),
			tarBytes(f, gz, []member{reg("f", "x"), reg("f/g", "file under file")}),
		)
		// Huge headers: a long PAX record, a GNU long name, deep folders.
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(&tar.Header{Name: "p", Typeflag: tar.TypeReg, PAXRecords: map[string]string{"comment": strings.Repeat("c", 8<<10)}, Format: tar.FormatPAX})
		tw.WriteHeader(&tar.Header{Name: strings.Repeat("n", 300), Typeflag: tar.TypeReg, Format: tar.FormatGNU})
		tw.WriteHeader(&tar.Header{Name: strings.Repeat("d/", 40) + "f", Typeflag: tar.TypeReg, Format: tar.FormatGNU})
		tw.Close()
		h := buf.Bytes()
		if gz {
			h = gzipBytes(f, h)
		}
		seeds = append(seeds, h)
		// A declared size beyond the limit, with no data behind it (truncated).
		buf.Reset()
		tw = tar.NewWriter(&buf)
		tw.WriteHeader(&tar.Header{Name: "big", Typeflag: tar.TypeReg, Size: 1 << 40})
		h = buf.Bytes()
		if gz {
			h = gzipBytes(f, h)
		}
		seeds = append(seeds, h)
	}
	full := tarBytes(f, false, ok)
	seeds = append(seeds, full[:600], full[:1024+100], gzipBytes(f, full)[:40], // truncated archives
		gzipZeros(f, tarBytes(f, false, []member{reg("a", "a")}), 1<<20), // gzip bomb after a valid archive
		gzipZeros(f, nil, 1<<20), // gzip bomb of zero blocks
		[]byte("not an archive at all"))
	for _, s := range seeds {
		f.Add(s)
	}
	savedMembers := MaxArchiveMembers
	f.Cleanup(func() { MaxArchiveMembers = savedMembers })
	MaxArchiveMembers = 64
	f.Fuzz(func(t *testing.T, b []byte) {
		base := t.TempDir()
		dest := filepath.Join(base, "dest")
		if err := os.Mkdir(dest, 0o755); err != nil {
			t.Fatal(err)
		}
		err := extractArchive(bytes.NewReader(b), "fuzz.tar", dest, fuzzLimit)
		if top, _ := os.ReadDir(base); len(top) != 1 {
			t.Fatalf("wrote outside the folder: %v", top)
		}
		var total int64
		var paths []string
		filepath.WalkDir(dest, func(p string, d fs.DirEntry, werr error) error {
			if werr != nil || p == dest {
				return nil
			}
			paths = append(paths, p)
			if !d.IsDir() && !d.Type().IsRegular() {
				t.Errorf("left %s of type %v", p, d.Type())
			}
			if strings.HasPrefix(d.Name(), ".extract-") && filepath.Dir(p) == dest {
				t.Errorf("left the staging folder %s", p)
			}
			if info, ierr := d.Info(); ierr == nil && d.Type().IsRegular() {
				total += info.Size()
			}
			return nil
		})
		if err != nil {
			if len(paths) != 0 {
				t.Fatalf("refused (%v) but left %v", err, paths)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
			return
		}
		if total > fuzzLimit {
			t.Fatalf("wrote %d bytes, limit %d", total, fuzzLimit)
		}
	})
}
