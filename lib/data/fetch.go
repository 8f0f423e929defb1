package data

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/scoresde/scoresde/lib/progress"
)

// Source describes one downloadable dataset file.
type Source struct {
	// Name is the file name the download is stored under.
	Name string
	// URLs lists where to fetch the file, tried in order.
	URLs []string
	// SHA256 is the expected SHA-256 of the file, lower-case hex; empty means
	// unknown, and Download then refuses the file unless AllowUnverified is set.
	SHA256 string
	// Size is the expected size in bytes (informational; 0 if unknown).
	Size int64
}

// Sources lists the official dataset downloads, keyed by file name.
//
// The MNIST SHA-256 sums and sizes are those recorded by TensorFlow Datasets
// (tensorflow_datasets/url_checksums/mnist.txt) for the
// storage.googleapis.com/cvdf-datasets mirror of the original LeCun files;
// the CIFAR-10 sum and size are those of
// tensorflow_datasets/url_checksums/cifar10.txt for
// https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz.
var Sources = map[string]Source{
	"train-images-idx3-ubyte.gz": {
		Name:   "train-images-idx3-ubyte.gz",
		URLs:   mnistURLs("train-images-idx3-ubyte.gz"),
		SHA256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
		Size:   9912422,
	},
	"train-labels-idx1-ubyte.gz": {
		Name:   "train-labels-idx1-ubyte.gz",
		URLs:   mnistURLs("train-labels-idx1-ubyte.gz"),
		SHA256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
		Size:   28881,
	},
	"t10k-images-idx3-ubyte.gz": {
		Name:   "t10k-images-idx3-ubyte.gz",
		URLs:   mnistURLs("t10k-images-idx3-ubyte.gz"),
		SHA256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
		Size:   1648877,
	},
	"t10k-labels-idx1-ubyte.gz": {
		Name:   "t10k-labels-idx1-ubyte.gz",
		URLs:   mnistURLs("t10k-labels-idx1-ubyte.gz"),
		SHA256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
		Size:   4542,
	},
	"cifar-10-binary.tar.gz": {
		Name:   "cifar-10-binary.tar.gz",
		URLs:   []string{"https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"},
		SHA256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
		Size:   170052171,
	},
}

func mnistURLs(name string) []string {
	return []string{
		"https://storage.googleapis.com/cvdf-datasets/mnist/" + name,
		"https://ossci-datasets.s3.amazonaws.com/mnist/" + name,
	}
}

// AllowUnverified, when true, lets Download accept an empty checksum and keep
// the file without verifying it. It is false by default: every entry of
// Sources carries a published SHA-256, and a download without one is refused.
var AllowUnverified = false

// CacheDir returns the folder datasets are kept in: $SCORESDE_DATA_DIR if
// set, else os.UserCacheDir()/scoresde. It does not create the folder.
func CacheDir() (string, error) {
	if d := os.Getenv("SCORESDE_DATA_DIR"); d != "" {
		return d, nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("data: no cache folder (%v): set SCORESDE_DATA_DIR to a folder for the datasets", err)
	}
	return filepath.Join(c, "scoresde"), nil
}

// Download fetches url with an HTTP GET into dest, reporting progress on log
// (nil means os.Stderr). The body is written to a temporary file in dest's
// folder, its SHA-256 compared with sha256hex (hex, case-insensitive), and
// only then renamed to dest; on any error no dest and no temporary file are
// left. An empty sha256hex is refused unless AllowUnverified is set.
func Download(ctx context.Context, url, dest, sha256hex string, log io.Writer) error {
	want := strings.ToLower(strings.TrimSpace(sha256hex))
	if want == "" && !AllowUnverified {
		return fmt.Errorf("data: %s: no SHA-256 given for %s: pass the published checksum, or set data.AllowUnverified to keep an unverified file", dest, url)
	}
	if log == nil {
		log = os.Stderr
	}
	dir := filepath.Dir(dest)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("data: %s: cannot create the folder: %v: choose a writable folder (SCORESDE_DATA_DIR)", dir, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("data: %s: bad URL: %v", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("data: downloading %s: %v: check the network, or put %s in place by hand", url, err, dest)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("data: downloading %s: HTTP %s: try again later, or put %s in place by hand", url, resp.Status, dest)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(dest)+".part-*")
	if err != nil {
		return fmt.Errorf("data: %s: cannot create a temporary file: %v: choose a writable folder (SCORESDE_DATA_DIR)", dir, err)
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	total := resp.ContentLength
	bar := progress.New("download "+filepath.Base(dest), int(max(total, 0)), log)
	h := sha256.New()
	pw := &progressWriter{bar: bar}
	n, err := io.Copy(io.MultiWriter(tmp, h, pw), resp.Body)
	if err != nil {
		return fmt.Errorf("data: downloading %s: interrupted after %d bytes: %v: run again to retry", url, n, err)
	}
	if total > 0 && n != total {
		return fmt.Errorf("data: downloading %s: expected %d bytes, got %d: run again to retry", url, total, n)
	}
	bar.Finish()
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("data: %s: writing the download: %v: check free disk space", tmpName, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if want != "" && got != want {
		return fmt.Errorf("data: %s: SHA-256 mismatch for %s: expected %s, got %s: the download is corrupt or the mirror changed; delete any partial copy and retry", dest, url, want, got)
	}
	if err := os.Rename(tmpName, dest); err != nil {
		return fmt.Errorf("data: %s: cannot move the download into place: %v: check the permissions of %s", dest, err, dir)
	}
	ok = true
	return nil
}

type progressWriter struct {
	bar  *progress.Bar
	done int
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.done += len(b)
	p.bar.Update(p.done)
	return len(b), nil
}

// DownloadSource fetches src into dir/src.Name, trying each of src.URLs in
// turn until one succeeds; it returns the path of the file.
func DownloadSource(ctx context.Context, src Source, dir string, log io.Writer) (string, error) {
	dest := filepath.Join(dir, src.Name)
	var errs []error
	for _, u := range src.URLs {
		err := Download(ctx, u, dest, src.SHA256, log)
		if err == nil {
			return dest, nil
		}
		if ctx.Err() != nil {
			return "", err
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return "", fmt.Errorf("data: %s: no URL to download it from: add one to data.Sources", src.Name)
	}
	return "", errors.Join(errs...)
}

// EnsureMNIST returns dir after making sure it holds the four MNIST IDX files
// (gzip-compressed or raw): files already present are used as they are (not
// re-verified), missing ones are downloaded from Sources with checksum
// verification.
func EnsureMNIST(ctx context.Context, dir string, log io.Writer) (string, error) {
	for _, split := range []string{"train", "test"} {
		imgs, lbls, _ := MNISTFiles(split)
		for _, name := range []string{imgs, lbls} {
			if _, err := findIDX(dir, name); err == nil {
				continue
			}
			src, ok := Sources[name+".gz"]
			if !ok {
				return "", fmt.Errorf("data: %s.gz: no download source: add it to data.Sources or put the file in %s", name, dir)
			}
			if _, err := DownloadSource(ctx, src, dir, log); err != nil {
				return "", err
			}
		}
	}
	return dir, nil
}

// EnsureCIFAR10 returns dir after making sure dir/cifar-10-batches-bin holds
// the CIFAR-10 binary batches: if test_batch.bin is missing,
// cifar-10-binary.tar.gz is downloaded into dir (unless already there),
// verified against its SHA-256 in Sources (a copy already in dir is
// verified too, every time it is about to be extracted) and extracted.
func EnsureCIFAR10(ctx context.Context, dir string, log io.Writer) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, CIFARBinDir, "test_batch.bin")); err == nil {
		return dir, nil
	}
	src, ok := Sources["cifar-10-binary.tar.gz"]
	if !ok {
		return "", fmt.Errorf("data: cifar-10-binary.tar.gz: no download source: add it to data.Sources or extract the archive in %s", dir)
	}
	archive := filepath.Join(dir, src.Name)
	if _, err := os.Lstat(archive); err != nil {
		if archive, err = DownloadSource(ctx, src, dir, log); err != nil {
			return "", err
		}
	} else if err := VerifySHA256(archive, src.SHA256); err != nil {
		return "", err
	}
	if err := ExtractTarGz(archive, dir); err != nil {
		return "", err
	}
	return dir, nil
}

// VerifySHA256 checks that the file at path has the SHA-256 wantHex (hex,
// case-insensitive), reading it as a stream. A mismatch is an error naming
// the file, the expected and the actual sum, and the fix (delete the file so
// that it is downloaded again). An empty wantHex is refused unless
// AllowUnverified is set, in which case the file is not read.
func VerifySHA256(path, wantHex string) error {
	want := strings.ToLower(strings.TrimSpace(wantHex))
	if want == "" {
		if AllowUnverified {
			return nil
		}
		return fmt.Errorf("data: %s: no SHA-256 to check it against: add the published checksum to data.Sources, or set data.AllowUnverified to use an unverified file", path)
	}
	f, _, err := openRegular(path, "downloaded archive")
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("data: %s: reading it to check its SHA-256: %w: delete it and run again to download it afresh", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("data: %s: SHA-256 mismatch: expected %s, got %s: the file is corrupt, incomplete or not the official one; delete it and run again to download it afresh", path, want, got)
	}
	return nil
}
