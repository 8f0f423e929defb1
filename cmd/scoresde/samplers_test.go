package main

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeListsTheRegistry: the README's sampler table is the registry's, as `scoresde
// samplers` prints it (regenerate it with that command when a sampler is added).
func TestReadmeListsTheRegistry(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), samplersTable()) {
		t.Errorf("README.md lacks the current sampler table; paste the output of `scoresde samplers`:\n%s", samplersTable())
	}
}
