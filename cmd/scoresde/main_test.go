package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInvocations: each bad command line gives one clear line naming the problem and a
// non-zero exit, never a stack trace.
func TestBadInvocations(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"figures", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"figures", "extra"}, 2, `unexpected arguments ["extra"]`},
		{[]string{"figures", "--out", ""}, 2, "--out is empty"},
		{[]string{"figures", "--out", t.TempDir(), "--only", "nosuch"}, 1, "unknown figure(s) nosuch: choose from"},
		{[]string{"figures", "--out", "/dev/null/x", "--only", "kernels"}, 1, "creating the output directory: mkdir /dev/null"},
		{[]string{"backends", "--start=maybe"}, 2, "invalid boolean value"},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := run(c.args, &stdout, &stderr)
		msg := stderr.String()
		if code != c.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", c.args, code, c.code, msg)
		}
		if !strings.Contains(msg, c.want) {
			t.Errorf("%v: stderr %q does not contain %q", c.args, msg, c.want)
		}
		if strings.Contains(msg, "goroutine ") || strings.Contains(msg, ".go:") {
			t.Errorf("%v: stderr holds a stack trace: %q", c.args, msg)
		}
		first := strings.SplitN(msg, "\n", 2)[0]
		if seen[first] {
			t.Errorf("%v: message %q repeats another case's", c.args, first)
		}
		seen[first] = true
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"figures", "--help"}, {"backends", "-h"}, {"help", "figures"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Errorf("%v: exit %d", args, code)
		}
		if !strings.Contains(stdout.String()+stderr.String(), "usage: scoresde") {
			t.Errorf("%v: no usage in %q", args, stdout.String()+stderr.String())
		}
	}
}

func TestFiguresWritesFiles(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"figures", "--out", dir, "--only", "kernels,figure5-smld-ve"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, f := range []string{"kernels.png", "kernels.svg", "figure5-smld-ve.png", "figure5-smld-ve.svg"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
		if !strings.Contains(stdout.String(), f) {
			t.Errorf("listing does not name %s: %q", f, stdout.String())
		}
	}
}
