package main

import (
	"fmt"

	"github.com/scoresde/scoresde/lib/nets"
)

func presetNames() []string { return nil }

func preset(name string) (nets.Net, error) { return nil, fmt.Errorf("no preset %q", name) }
