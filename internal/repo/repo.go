// Package repo locates the repository for tests and tools: the folder of
// the main module's go.mod, found by walking up from the working directory.
package repo

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// Module is the main module's path.
const Module = "github.com/walletd/walletd"

// ErrNotFound is returned when no ancestor of the working directory holds
// the main module's go.mod.
var ErrNotFound = errors.New("repository root (go.mod of " + Module + ") not found above the working directory")

// Root returns the repository root.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && isMainModule(b) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNotFound
		}
		dir = parent
	}
}

func isMainModule(gomod []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "module" {
			return f[1] == Module
		}
	}
	return false
}
