package activities

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
)

// writeJSONFile writes v as indented JSON with writeFileAtomic and
// returns the file's sha256.
func WriteJSONFile(name, pattern string, v any) (string, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", err
	}
	b = append(b, '\n')
	if err := WriteFileAtomic(name, pattern, b); err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// writeFileAtomic writes data to a temporary file (mode 0600: backups hold
// private data) beside name, syncs it and renames it over name.
func WriteFileAtomic(name, pattern string, data []byte) error {
	return writeFileAtomicMode(name, pattern, data, 0o600)
}

// writeFileAtomicMode is writeFileAtomic with the file's mode given.
func writeFileAtomicMode(name, pattern string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), pattern)
	if err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	SyncDir(filepath.Dir(name))
	return nil
}

// removeStale removes temporary files an attempt that died left in dir.
func RemoveStale(dir string, patterns ...string) {
	for _, pattern := range patterns {
		stale, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, s := range stale {
			os.Remove(s)
		}
	}
}
