package train

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

func randUint32() uint32 { return rand.Uint32() }

// Dir is a checkpoint directory opened for training (OpenDir): locked against other trainers,
// known to be writable, cleared of what killed runs left, with its newest intact checkpoint
// loaded. One Dir serves one Trainer; Close releases the lock (so does the end of the process).
type Dir struct {
	// Path is the directory.
	Path string
	// Latest is the newest intact checkpoint, nil for a directory without one.
	Latest *Checkpoint
	lock   *os.File
}

// OpenDir opens the checkpoint directory path for training, creating it if needed:
//
//   - it takes the directory's lock (LockFile), failing with ErrLocked, and a line naming the
//     process that holds it, when another trainer has it;
//   - it checks that files can be created there, so a read-only directory fails now rather than at
//     the first checkpoint;
//   - it removes the temporary directories (.tmp-ckpt-*) of saves that a kill interrupted (no
//     other trainer can be writing them while the lock is held);
//   - it loads the newest intact checkpoint; newer damaged ones are renamed ckpt-<step>.bad, out of
//     the way of resuming and pruning, each with a line on warn (nil: os.Stderr).
func OpenDir(path string, warn io.Writer) (*Dir, error) {
	if path == "" {
		return nil, errors.New("checkpoint directory: empty path")
	}
	if warn == nil {
		warn = os.Stderr
	}
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("checkpoint directory %s is a file: give a directory", path)
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		if isPermission(err) {
			return nil, notWritable(path, err)
		}
		return nil, fmt.Errorf("checkpoint directory %s: %w", path, err)
	}
	lock, err := lockDir(path)
	if err != nil {
		return nil, err
	}
	d := &Dir{Path: path, lock: lock}
	ok := false
	defer func() {
		if !ok {
			d.Close()
		}
	}()
	probe, err := os.CreateTemp(path, ".write-test-*")
	if err != nil {
		return nil, notWritable(path, err)
	}
	probe.Close()
	if err := os.Remove(probe.Name()); err != nil {
		return nil, notWritable(path, err)
	}
	if err := cleanTemp(path, warn); err != nil {
		return nil, err
	}
	ck, bad, err := latest(path)
	if err != nil {
		return nil, err
	}
	for _, b := range bad {
		to, err := quarantine(b.path)
		if err != nil {
			return nil, fmt.Errorf("%s is damaged (%v) and cannot be moved aside: %w", b.path, b.err, err)
		}
		fmt.Fprintf(warn, "warning: checkpoint %s is damaged (%v): renamed it %s; resuming from %s\n", b.path, b.err, filepath.Base(to), filepath.Base(ck.Path))
	}
	d.Latest = ck
	ok = true
	return d, nil
}

// Close releases the directory's lock. It is safe to call more than once.
func (d *Dir) Close() error {
	if d == nil || d.lock == nil {
		return nil
	}
	err := d.lock.Close()
	d.lock = nil
	return err
}

// cleanTemp removes what interrupted saves and prunes left in dir: .tmp-ckpt-* directories and
// .write-test-* probes. The caller holds the lock, so none of them is in use.
func cleanTemp(dir string, warn io.Writer) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("checkpoint directory %s: %w", dir, err)
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, tempPrefix) && !strings.HasPrefix(name, ".write-test-") {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("removing %s, left by an interrupted save: %w", filepath.Join(dir, name), err)
		}
		if strings.HasPrefix(name, tempPrefix) {
			n++
		}
	}
	if n > 0 {
		fmt.Fprintf(warn, "removed %d unfinished checkpoint folder(s) (%s*) that an interrupted run left in %s\n", n, tempPrefix, dir)
	}
	return nil
}

// quarantine renames a damaged checkpoint to <name>.bad (or .bad-2, …) beside it.
func quarantine(path string) (string, error) {
	for i := 1; i < 1000; i++ {
		to := path + ".bad"
		if i > 1 {
			to = fmt.Sprintf("%s.bad-%d", path, i)
		}
		if _, err := os.Lstat(to); err == nil {
			continue
		}
		if err := os.Rename(path, to); err != nil {
			return "", err
		}
		return to, syncDir(filepath.Dir(path))
	}
	return "", fmt.Errorf("too many %s.bad* names taken", path)
}

// isPermission reports a failure to write for lack of permission or a read-only file system.
func isPermission(err error) bool {
	return errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EROFS)
}
