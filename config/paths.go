package config

import "path/filepath"

// Abs resolves a configured path relative to the working directory, so a
// worker started from the repository root and its subprocesses agree.
func Abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}
