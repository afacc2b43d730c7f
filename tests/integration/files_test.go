//go:build integration

package integration

import (
	"bytes"
	"maps"
	"os"
	"slices"
	"testing"
)

// sortedKeys is a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// corruptFile flips the bits in mask of the byte in the middle of the file
// at path; the function it returns writes the original back.
func corruptFile(t *testing.T, path string, mask byte) (restore func()) {
	t.Helper()
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= mask
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if err := os.WriteFile(path, good, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
