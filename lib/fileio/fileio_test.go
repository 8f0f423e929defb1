package fileio

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// hello is the writer of most cases.
func hello(w io.Writer) error {
	_, err := io.WriteString(w, "hello\n")
	return err
}

// noTemps fails the test when a temporary file of WriteFile is left in dir.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteFileRegular(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	t.Run("new-file-0644", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "a.txt")
		if err := WriteFile(p, hello); err != nil {
			t.Fatal(err)
		}
		if got := readString(t, p); got != "hello\n" {
			t.Errorf("content %q", got)
		}
		info, _ := os.Stat(p)
		if info.Mode() != 0o644 {
			t.Errorf("mode %v, want -rw-r--r-- (0666 less umask 022)", info.Mode())
		}
		noTemps(t, dir)
	})
	t.Run("replace-keeps-mode", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "a.txt")
		os.WriteFile(p, []byte("old old old"), 0o600)
		os.Chmod(p, 0o600)
		if err := WriteFile(p, hello); err != nil {
			t.Fatal(err)
		}
		if got := readString(t, p); got != "hello\n" {
			t.Errorf("content %q", got)
		}
		if info, _ := os.Stat(p); info.Mode() != 0o600 {
			t.Errorf("mode %v, want the old file's -rw-------", info.Mode())
		}
		noTemps(t, dir)
	})
	t.Run("creates-parents", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "x", "y", "a.txt")
		if err := WriteBytes(p, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		if got := readString(t, p); got != "hi" {
			t.Errorf("content %q", got)
		}
	})
	t.Run("write-error-keeps-old", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "a.txt")
		os.WriteFile(p, []byte("old"), 0o644)
		boom := errors.New("boom")
		err := WriteFile(p, func(w io.Writer) error {
			io.WriteString(w, strings.Repeat("x", 1<<20)) // past the buffer: bytes reach the temp file
			return boom
		})
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), p) {
			t.Errorf("error %v, want boom wrapped, naming %s", err, p)
		}
		if got := readString(t, p); got != "old" {
			t.Errorf("old file changed to %d bytes", len(got))
		}
		noTemps(t, dir)
	})
	t.Run("write-error-new-path", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "a.txt")
		if err := WriteFile(p, func(io.Writer) error { return errors.New("boom") }); err == nil {
			t.Fatal("no error")
		}
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a failed write left %s: %v", p, err)
		}
		noTemps(t, dir)
	})
	t.Run("panic-removes-temp", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "a.txt")
		func() {
			defer func() { recover() }()
			WriteFile(p, func(io.Writer) error { panic("boom") })
		}()
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a panicking write left %s", p)
		}
		noTemps(t, dir)
	})
}

func TestWriteFileSpecial(t *testing.T) {
	isChar := func(t *testing.T, p string) {
		t.Helper()
		info, err := os.Lstat(p)
		if err != nil || info.Mode()&fs.ModeCharDevice == 0 {
			t.Fatalf("%s is no longer a character device: %v %v", p, info.Mode(), err)
		}
	}
	t.Run("dev-null", func(t *testing.T) {
		if err := WriteFile("/dev/null", hello); err != nil {
			t.Fatal(err)
		}
		isChar(t, "/dev/null")
	})
	t.Run("dev-full", func(t *testing.T) {
		if _, err := os.Stat("/dev/full"); err != nil {
			t.Skip("no /dev/full here")
		}
		err := WriteFile("/dev/full", hello)
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("error %v, want ENOSPC", err)
		}
		if msg := err.Error(); msg != "writing /dev/full: no space left on device" {
			t.Errorf("message %q, want one line naming /dev/full", msg)
		}
		isChar(t, "/dev/full")
	})
	t.Run("fifo", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "pipe")
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Skip("no FIFOs here:", err)
		}
		got := make(chan string)
		go func() {
			f, err := os.Open(p)
			if err != nil {
				got <- err.Error()
				return
			}
			defer f.Close()
			b, _ := io.ReadAll(f)
			got <- string(b)
		}()
		if err := WriteFile(p, hello); err != nil {
			t.Fatal(err)
		}
		if s := <-got; s != "hello\n" {
			t.Errorf("the reader got %q", s)
		}
		if info, _ := os.Lstat(p); info.Mode()&fs.ModeNamedPipe == 0 {
			t.Errorf("%s is no longer a FIFO: %v", p, info.Mode())
		}
		noTemps(t, dir)
	})
	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		err := WriteFile(dir, hello)
		if err == nil || !strings.Contains(err.Error(), "is a directory") {
			t.Fatalf("error %v, want is a directory", err)
		}
		if info, _ := os.Lstat(dir); !info.IsDir() {
			t.Errorf("%s was replaced", dir)
		}
		if err := WriteFile(dir+"/", hello); err == nil || !strings.Contains(err.Error(), "names a directory") {
			t.Errorf("trailing slash: error %v", err)
		}
		if err := WriteFile("", hello); err == nil {
			t.Error("empty path accepted")
		}
		noTemps(t, dir)
	})
}

func TestWriteFileSymlink(t *testing.T) {
	isLink := func(t *testing.T, p string) {
		t.Helper()
		if info, err := os.Lstat(p); err != nil || info.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symbolic link", p)
		}
	}
	t.Run("to-regular", func(t *testing.T) {
		dir := t.TempDir()
		os.Mkdir(filepath.Join(dir, "real"), 0o755)
		target := filepath.Join(dir, "real", "a.txt")
		os.WriteFile(target, []byte("old"), 0o644)
		link := filepath.Join(dir, "link")
		os.Symlink("real/a.txt", link) // relative, resolved from the link's folder
		if err := WriteFile(link, hello); err != nil {
			t.Fatal(err)
		}
		isLink(t, link)
		if got := readString(t, target); got != "hello\n" {
			t.Errorf("target holds %q", got)
		}
		noTemps(t, dir)
		noTemps(t, filepath.Join(dir, "real"))
	})
	t.Run("chain-dangling", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, "new.txt")
		os.Symlink(target, filepath.Join(dir, "l1"))
		os.Symlink("l1", filepath.Join(dir, "l2"))
		if err := WriteFile(filepath.Join(dir, "l2"), hello); err != nil {
			t.Fatal(err)
		}
		isLink(t, filepath.Join(dir, "l1"))
		isLink(t, filepath.Join(dir, "l2"))
		if got := readString(t, target); got != "hello\n" {
			t.Errorf("target holds %q", got)
		}
	})
	t.Run("to-dev-null", func(t *testing.T) {
		dir := t.TempDir()
		link := filepath.Join(dir, "null")
		os.Symlink("/dev/null", link)
		if err := WriteFile(link, hello); err != nil {
			t.Fatal(err)
		}
		isLink(t, link)
		noTemps(t, "/dev")
	})
	t.Run("loop", func(t *testing.T) {
		dir := t.TempDir()
		a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		os.Symlink(b, a)
		os.Symlink(a, b)
		err := WriteFile(a, hello)
		if err == nil || !strings.Contains(err.Error(), "symbolic links") || !strings.Contains(err.Error(), a) {
			t.Errorf("error %v, want a loop named", err)
		}
		isLink(t, a)
	})
}

func TestWriteFileUnwritableDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes into read-only folders")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "a.txt")
	os.WriteFile(p, []byte("old"), 0o644)
	os.Chmod(dir, 0o555)
	defer os.Chmod(dir, 0o755)
	err := WriteFile(p, hello)
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "writing "+p+": ") {
		t.Errorf("error %v, want permission denied naming %s", err, p)
	}
	if got := readString(t, p); got != "old" {
		t.Errorf("old file changed")
	}
}

func TestSameFile(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, nil, 0o644)
	os.WriteFile(b, nil, 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink("a", link)
	for _, c := range []struct {
		name, x, y string
		want       bool
	}{
		{"same", a, a, true},
		{"spelled-differently", a, filepath.Join(dir, ".", "a"), true},
		{"through-link", a, link, true},
		{"different", a, b, false},
		{"missing", a, filepath.Join(dir, "missing"), false},
		{"both-missing", filepath.Join(dir, "m"), filepath.Join(dir, "m"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := SameFile(c.x, c.y); got != c.want {
				t.Errorf("SameFile(%s, %s) = %v, want %v", c.x, c.y, got, c.want)
			}
		})
	}
}
