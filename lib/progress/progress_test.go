package progress

import (
	"bytes"
	"strings"
	"testing"
)

func TestBarLogsTenths(t *testing.T) {
	var buf bytes.Buffer
	b := New("sampling", 1000, &buf)
	for i := 1; i <= 1000; i++ {
		b.Update(i)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 10 {
		t.Fatalf("got %d lines, want 10:\n%s", len(lines), buf.String())
	}
	if !strings.HasPrefix(lines[9], "sampling 100% 1000/1000") {
		t.Errorf("last line %q", lines[9])
	}
}
