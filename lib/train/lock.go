package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// LockFile is the name of the lock file in a checkpoint directory. A trainer holds an exclusive
// flock(2) on it for as long as it trains; the kernel drops the lock when the process ends in any
// way (kill -9 included), so a lock is never stale, and the file itself only tells who holds it.
const LockFile = ".lock"

// ErrLocked is wrapped by the error of OpenDir when another trainer holds the directory.
var ErrLocked = errors.New("checkpoint directory in use")

// lockDir takes the exclusive lock of dir (which must exist) without waiting, and writes who
// holds it into the lock file. The returned file keeps the lock until it is closed.
func lockDir(dir string) (*os.File, error) {
	p := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, notWritable(dir, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is held by another trainer (%s): wait for it to finish, or give this run another --ckpt directory",
				ErrLocked, dir, lockHolder(p))
		}
		return nil, fmt.Errorf("locking checkpoint directory %s: %w", dir, err)
	}
	host, _ := os.Hostname()
	cmd := strings.Join(os.Args, " ")
	if len(cmd) > 200 {
		cmd = cmd[:200] + "…"
	}
	info := fmt.Sprintf("pid %d\nhost %s\nsince %s\ncommand %s\n", os.Getpid(), host, time.Now().Format(time.RFC3339), cmd)
	// Who holds the lock is for messages only: a failure to record it does not stop training.
	if f.Truncate(0) == nil {
		f.WriteAt([]byte(info), 0)
	}
	return f, nil
}

// lockHolder describes the holder recorded in the lock file at p ("pid 1234 on host h since …,
// running …"), saying "this process" when it is the caller's own.
func lockHolder(p string) string {
	raw, err := os.ReadFile(p)
	if err != nil || len(raw) == 0 {
		return "a process that has not recorded itself yet"
	}
	if len(raw) > 4096 {
		raw = raw[:4096]
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			fields[k] = strings.TrimSpace(v)
		}
	}
	pid := fields["pid"]
	var parts []string
	if pid != "" {
		parts = append(parts, "pid "+pid)
	}
	if h := fields["host"]; h != "" {
		parts = append(parts, "on "+h)
	}
	if s := fields["since"]; s != "" {
		parts = append(parts, "since "+s)
	}
	if c := fields["command"]; c != "" {
		parts = append(parts, "running "+strconvQuoteShort(c))
	}
	if len(parts) == 0 {
		return "an unknown process"
	}
	if n, err := strconv.Atoi(pid); err == nil && n == os.Getpid() {
		parts = append(parts, "— this very process: Close its earlier Trainer of the directory first")
	}
	return strings.Join(parts, " ")
}

// strconvQuoteShort quotes s for a message, at most 120 bytes of it.
func strconvQuoteShort(s string) string {
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return strconv.Quote(s)
}

// notWritable turns a failure to write into dir into the error that says so.
func notWritable(dir string, err error) error {
	return fmt.Errorf("checkpoint directory %s is not writable (%w): make it writable or give another --ckpt directory", dir, err)
}
