package activities

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// FileSHA256 returns the hex sha256 and size of a file.
func FileSHA256(path string) (string, int64, error) {
	file, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer file.Close()
	h := sha256.New()
	n, err := io.Copy(h, file)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// CheckFile fails permanently when the file is missing or not the one whose
// sha256 was recorded.
func CheckFile(path, want string) error {
	typ, err := FileProblem(path, want)
	if typ != "" {
		return Permanent(typ, "%v", err)
	}
	return err
}

// FileProblem tells what is wrong with a backup file: its error type
// (ErrTypeBackupMissing, ErrTypeChecksumMismatch) and a description; an error with
// no type is a failure to read it, worth retrying.
func FileProblem(path, want string) (string, error) {
	got, _, err := FileSHA256(path)
	if errors.Is(err, os.ErrNotExist) {
		return ErrTypeBackupMissing, fmt.Errorf("the backup file %s is missing", path)
	}
	if err != nil {
		return "", err
	}
	if got != want {
		return ErrTypeChecksumMismatch, fmt.Errorf("the backup file %s has sha256 %s, not the recorded %s: it changed after the dump", path, got, want)
	}
	return "", nil
}

// WriteJSONFile writes v as indented JSON with writeFileAtomic and
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

// WriteFileAtomic writes data to a temporary file (mode 0600: backups hold
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

// RemoveStale removes temporary files an attempt that died left in dir.
func RemoveStale(dir string, patterns ...string) {
	for _, pattern := range patterns {
		stale, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, s := range stale {
			os.Remove(s)
		}
	}
}
