package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/scoresde/scoresde/lib/data"
	"github.com/scoresde/scoresde/lib/fd"
	"github.com/scoresde/scoresde/lib/train"
)

// dataIDX builds an IDX file: magic, big-endian dims, then body.
func dataIDX(magic uint32, dims []uint32, body []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, body...)
}

// dataGzip compresses b.
func dataGzip(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// dataMNIST writes a small synthetic MNIST set (n 28×28 digits per split, labels i mod 10) into
// dir, raw, then lets edit change the files (keyed by base name) before they are written.
func dataMNIST(t *testing.T, dir string, n int, edit func(files map[string][]byte)) {
	t.Helper()
	px := make([]byte, n*28*28)
	for i := range px {
		px[i] = byte(i * 7)
	}
	lbl := make([]byte, n)
	for i := range lbl {
		lbl[i] = byte(i % 10)
	}
	files := map[string][]byte{}
	for _, pre := range []string{"train", "t10k"} {
		files[pre+"-images-idx3-ubyte"] = dataIDX(data.IDXImagesMagic, []uint32{uint32(n), 28, 28}, px)
		files[pre+"-labels-idx1-ubyte"] = dataIDX(data.IDXLabelsMagic, []uint32{uint32(n)}, lbl)
	}
	if edit != nil {
		edit(files)
	}
	for name, b := range files {
		if b != nil {
			writeFile(t, dir, name, b)
		}
	}
}

// dataTrainArgs is a train command line on the MNIST files in {dir}, checkpointing to {dir}/ckpt.
var dataTrainArgs = []string{"train", "--data", "mnist", "--data-dir", "{dir}", "--steps", "1", "--ckpt", "{dir}/ckpt", "--quiet"}

// dataFDArgs is an fd-classifier command line on the MNIST files in {dir}, writing to {dir}/clf.
var dataFDArgs = []string{"fd-classifier", "--data-dir", "{dir}", "--out", "{dir}/clf", "--epochs", "1", "--quiet"}

// dataOutputs are the files a failing train or fd-classifier run must not create.
var dataOutputs = []string{"ckpt/" + train.LockFile, "clf/" + fd.ManifestName}

func init() {
	hostileCases = append(hostileCases,
		hostileCase{name: "data-mnist-label-10", args: dataTrainArgs, code: 1,
			setup: func(t *testing.T, dir string) {
				dataMNIST(t, dir, 20, func(f map[string][]byte) { f["train-labels-idx1-ubyte"][8+13] = 10 })
			},
			want: "train-labels-idx1-ubyte: label 10 at index 13 is not a digit 0..9", untouched: dataOutputs},
		hostileCase{name: "data-mnist-label-255-gzip", args: dataFDArgs, code: 1,
			setup: func(t *testing.T, dir string) {
				dataMNIST(t, dir, 20, func(f map[string][]byte) {
					l := f["train-labels-idx1-ubyte"]
					l[8] = 255
					f["train-labels-idx1-ubyte"] = nil
					writeFile(t, dir, "train-labels-idx1-ubyte.gz", dataGzip(t, l))
				})
			},
			want: "train-labels-idx1-ubyte.gz: label 255 at index 0 is not a digit 0..9", untouched: dataOutputs},
		hostileCase{name: "data-mnist-count-mismatch", args: dataTrainArgs, code: 1,
			setup: func(t *testing.T, dir string) {
				dataMNIST(t, dir, 20, func(f map[string][]byte) {
					f["train-labels-idx1-ubyte"] = dataIDX(data.IDXLabelsMagic, []uint32{19}, make([]byte, 19))
				})
			},
			want: "has 19 labels but", untouched: dataOutputs},
		hostileCase{name: "data-mnist-bad-magic", args: dataTrainArgs, code: 1,
			setup: func(t *testing.T, dir string) {
				dataMNIST(t, dir, 20, func(f map[string][]byte) { f["train-images-idx3-ubyte"][3] = 1 })
			},
			want: "train-images-idx3-ubyte: bad magic number 0x00000801, expected 0x00000803", untouched: dataOutputs},
		hostileCase{name: "data-mnist-float-dtype", args: dataFDArgs, code: 1,
			setup: func(t *testing.T, dir string) {
				dataMNIST(t, dir, 20, func(f map[string][]byte) { f["train-images-idx3-ubyte"][2] = 0x0D })
			},
			want: "data type code 0x0d (float32)", untouched: dataOutputs},
		hostileCase{name: "data-mnist-truncated-header", args: dataTrainArgs, code: 1,
			setup: func(t *testing.T, dir string) {
				dataMNIST(t, dir, 20, func(f map[string][]byte) { f["train-images-idx3-ubyte"] = f["train-images-idx3-ubyte"][:9] })
			},
			want: "truncated IDX header: expected 16 bytes, found 9", untouched: dataOutputs},
		hostileCase{name: "data-mnist-huge-dims", args: dataTrainArgs, code: 1,
			setup: func(t *testing.T, dir string) {
				dataMNIST(t, dir, 20, func(f map[string][]byte) {
					binary.BigEndian.PutUint32(f["train-images-idx3-ubyte"][4:], 0xffffffff)
				})
			},
			want: "truncated: expected 3367254359296 bytes for 4294967295 images of 28×28, found 15696", untouched: dataOutputs},
		hostileCase{name: "data-mnist-huge-dims-gzip", args: dataFDArgs, code: 1,
			setup: func(t *testing.T, dir string) {
				dataMNIST(t, dir, 20, func(f map[string][]byte) {
					b := f["train-images-idx3-ubyte"]
					binary.BigEndian.PutUint32(b[4:], 400000)
					f["train-images-idx3-ubyte"] = nil
					writeFile(t, dir, "train-images-idx3-ubyte.gz", dataGzip(t, b))
				})
			},
			want: "claims 313600000 bytes (400000 images of 28×28), more than a", untouched: dataOutputs},
		hostileCase{name: "data-mnist-zero-rows", args: dataTrainArgs, code: 1,
			setup: func(t *testing.T, dir string) {
				dataMNIST(t, dir, 20, func(f map[string][]byte) {
					f["train-images-idx3-ubyte"] = dataIDX(data.IDXImagesMagic, []uint32{20, 0, 28}, nil)
				})
			},
			want: "dimension 1 the size 0", untouched: dataOutputs},
		hostileCase{name: "data-mnist-trailing", args: dataTrainArgs, code: 1,
			setup: func(t *testing.T, dir string) {
				dataMNIST(t, dir, 20, func(f map[string][]byte) {
					f["train-images-idx3-ubyte"] = append(f["train-images-idx3-ubyte"], 1, 2, 3)
				})
			},
			want: "3 trailing bytes", untouched: dataOutputs},
		hostileCase{name: "data-mnist-gzip-bomb", args: dataTrainArgs, code: 1,
			setup: func(t *testing.T, dir string) {
				// 20 digits, then 8 MB of zeros in the same gzip stream (8 KB on disk), under a 1 MiB limit.
				t.Setenv(data.MaxBytesEnv, "1048576")
				dataMNIST(t, dir, 20, func(f map[string][]byte) {
					b := append(f["train-images-idx3-ubyte"], make([]byte, 8<<20)...)
					f["train-images-idx3-ubyte"] = nil
					writeFile(t, dir, "train-images-idx3-ubyte.gz", dataGzip(t, b))
				})
			},
			want: "more than the limit of 1048576 bytes (1 MiB) on decompressed data: if the file is genuine, raise the limit with SCORESDE_DATA_MAX_BYTES=<bytes>", untouched: dataOutputs},
		hostileCase{name: "data-mnist-bad-limit-env", args: dataTrainArgs, code: 1,
			setup: func(t *testing.T, dir string) {
				t.Setenv(data.MaxBytesEnv, "1GB")
				dataMNIST(t, dir, 20, nil)
			},
			want: `SCORESDE_DATA_MAX_BYTES="1GB" is not a positive number of bytes`, untouched: dataOutputs},
		hostileCase{name: "data-mnist-device", args: dataFDArgs, code: 1,
			setup: func(t *testing.T, dir string) {
				dataMNIST(t, dir, 20, func(f map[string][]byte) { f["train-images-idx3-ubyte"] = nil })
				if err := os.Symlink("/dev/zero", filepath.Join(dir, "train-images-idx3-ubyte")); err != nil {
					t.Skip(err)
				}
			},
			want: "train-images-idx3-ubyte: not a regular file", untouched: dataOutputs},
		hostileCase{name: "data-cifar-label-10", args: []string{"train", "--data", "cifar10", "--data-dir", "{dir}", "--steps", "1", "--ckpt", "{dir}/ckpt", "--quiet"}, code: 1,
			setup: func(t *testing.T, dir string) {
				rec := make([]byte, data.CIFARRecord)
				for _, name := range []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"} {
					b := append(append([]byte(nil), rec...), rec...)
					if name == "data_batch_2.bin" {
						b[data.CIFARRecord] = 10
					}
					writeFile(t, dir, filepath.Join(data.CIFARBinDir, name), b)
				}
			},
			want: "data_batch_2.bin: corrupt record 1 at byte 3073: label 10 is not in 0..9", untouched: dataOutputs},
		hostileCase{name: "data-cifar-forged-archive", args: []string{"train", "--data", "cifar10", "--data-dir", "{dir}", "--steps", "1", "--ckpt", "{dir}/ckpt", "--quiet"}, code: 1,
			setup: func(t *testing.T, dir string) {
				// A cached archive that is not the official one (and would plant a link): refused
				// by its SHA-256 before anything is extracted.
				var buf bytes.Buffer
				tw := tar.NewWriter(&buf)
				tw.WriteHeader(&tar.Header{Name: "a/b", Typeflag: tar.TypeSymlink, Linkname: ".."})
				tw.WriteHeader(&tar.Header{Name: data.CIFARBinDir, Typeflag: tar.TypeSymlink, Linkname: "a/b/../outside"})
				tw.Close()
				writeFile(t, dir, "cifar-10-binary.tar.gz", dataGzip(t, buf.Bytes()))
			},
			want:      "cifar-10-binary.tar.gz: SHA-256 mismatch: expected c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
			untouched: append([]string{"cifar-10-binary.tar.gz", data.CIFARBinDir + "/test_batch.bin"}, dataOutputs...)},
	)
}
