// Package fileio writes output files so that no reader ever sees a half-written one.
//
// [WriteFile] is the one writer every output of the workbench goes through (arrays, figures,
// reports, checkpoints). What it does depends on what the path names:
//
//   - a regular file, or nothing yet: the bytes go to a temporary file in the same directory,
//     which is synced, given its permissions and renamed over path; the directory is then
//     synced. On any error the temporary file is removed and an old file at path keeps its
//     bytes. A new file gets the permissions 0666 less the umask (0644 under umask 022), as
//     os.Create would give it; a file that is replaced keeps its permission bits. Missing
//     parent directories are created (0777 less the umask).
//   - a special file (a character device such as /dev/null or /dev/full, a FIFO, a socket):
//     it is opened for writing and written directly, never replaced by a regular file. Data
//     may then be partly written when an error occurs (as with a shell redirection).
//   - a symbolic link: it is followed explicitly, link after link, and the target is written
//     by the rules above, so the link stays a link and a dangling link's target is created.
//   - a directory: an error.
package fileio

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// maxLinks is how many symbolic links WriteFile follows before giving up (Linux's limit).
const maxLinks = 40

// WriteFile writes what write produces to path, by the rules of the package documentation:
// atomically (temporary file, fsync, rename, directory fsync) for regular files and new paths,
// directly for special files such as /dev/null or a FIFO, through symbolic links, and never
// over a directory. write receives a buffered writer; an error it returns is wrapped (%w) into
// the one returned, which always names path.
func WriteFile(path string, write func(w io.Writer) error) error {
	if path == "" {
		return errors.New("writing: no file name given: pass a path")
	}
	if os.IsPathSeparator(path[len(path)-1]) {
		return fmt.Errorf("writing %s: the path ends in a separator, so it names a directory: name a file", path)
	}
	target, info, err := resolve(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	switch {
	case info == nil || info.Mode().IsRegular():
		return writeAtomic(path, target, info, write)
	case info.IsDir():
		return fmt.Errorf("writing %s: %s is a directory: name a file inside it", path, target)
	default:
		return writeSpecial(path, target, write)
	}
}

// WriteBytes writes data to path with [WriteFile].
func WriteBytes(path string, data []byte) error {
	return WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// SameFile reports whether a and b name the same existing file (after following symbolic
// links), so that a command can refuse to write its output over its input. It is false when
// either does not exist or cannot be examined.
func SameFile(a, b string) bool {
	ia, err := os.Stat(a)
	if err != nil {
		return false
	}
	ib, err := os.Stat(b)
	if err != nil {
		return false
	}
	return os.SameFile(ia, ib)
}

// resolve follows the symbolic links at path and returns the path finally named and its
// information, nil when nothing exists there yet.
func resolve(path string) (string, fs.FileInfo, error) {
	p := path
	for range maxLinks {
		info, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, nil, nil
		}
		if err != nil {
			return "", nil, unwrapPath(err)
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			return p, info, nil
		}
		link, err := os.Readlink(p)
		if err != nil {
			return "", nil, unwrapPath(err)
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(p), link)
		}
		p = link
	}
	return "", nil, fmt.Errorf("more than %d symbolic links to follow (a loop?): point it at a file", maxLinks)
}

// writeAtomic writes a regular file (info, nil for a new one) at target through a temporary
// file beside it. name is the path the caller gave, for messages.
func writeAtomic(name, target string, info fs.FileInfo, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	f, err := createTemp(dir, filepath.Base(target))
	if err != nil {
		return fmt.Errorf("writing %s: cannot create a temporary file in %s: %w", name, dir, unwrapPath(err))
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done { // an error or a panic in write: the old file stays as it was
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(fileWriter{f}, 1<<16)
	if err := write(bw); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if info != nil {
		if err := f.Chmod(info.Mode().Perm()); err != nil {
			return fmt.Errorf("writing %s: %w", name, unwrapPath(err))
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", name, unwrapPath(err))
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", name, unwrapPath(err))
	}
	if err := os.Rename(tmp, target); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) {
			err = le.Err
		}
		return fmt.Errorf("writing %s: renaming the temporary file into place: %w", name, err)
	}
	done = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("writing %s: the file is in place but its directory could not be synced: %w", name, err)
	}
	return nil
}

// createTemp creates a new file ".<base>.<random>.tmp" in dir. Unlike os.CreateTemp (0600) it
// asks for 0666, so the umask gives the file the permissions os.Create would.
func createTemp(dir, base string) (*os.File, error) {
	var err error
	for range 100 {
		name := filepath.Join(dir, "."+base+"."+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
		var f *os.File
		f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, err
}

// syncDir flushes the directory entry of a rename to disk. File systems that cannot sync a
// directory (EINVAL) are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil // some systems cannot open a directory for syncing; the rename is done
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return unwrapPath(err)
	}
	return nil
}

// writeSpecial writes into an existing special file (device, FIFO) in place.
func writeSpecial(name, target string, write func(io.Writer) error) error {
	f, err := os.OpenFile(target, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, unwrapPath(err))
	}
	bw := bufio.NewWriterSize(fileWriter{f}, 1<<16)
	werr := write(bw)
	if werr == nil {
		werr = bw.Flush()
	}
	cerr := f.Close()
	switch {
	case werr != nil:
		return fmt.Errorf("writing %s: %w", name, werr)
	case cerr != nil:
		return fmt.Errorf("writing %s: %w", name, unwrapPath(cerr))
	}
	return nil
}

// unwrapPath drops the operation and path of an *fs.PathError (the message names the path
// already), keeping the cause: "writing /dev/full: no space left on device".
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// fileWriter writes to a file, returning the cause of a failed write without the file's name
// (a temporary name would only confuse; the caller names the path).
type fileWriter struct{ f *os.File }

func (w fileWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	return n, unwrapPath(err)
}
