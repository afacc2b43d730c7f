package activities

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
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

// checkFile fails permanently when the file is missing or not the one whose
// sha256 was recorded.
func CheckFile(path, want string) error {
	typ, err := FileProblem(path, want)
	if typ != "" {
		return Permanent(typ, "%v", err)
	}
	return err
}

// fileProblem tells what is wrong with a backup file: its error type
// (ErrBackupMissing, ErrChecksumMismatch) and a description; an error with
// no type is a failure to read it, worth retrying.
func FileProblem(path, want string) (string, error) {
	got, _, err := FileSHA256(path)
	if errors.Is(err, os.ErrNotExist) {
		return ErrBackupMissing, fmt.Errorf("the backup file %s is missing", path)
	}
	if err != nil {
		return "", err
	}
	if got != want {
		return ErrChecksumMismatch, fmt.Errorf("the backup file %s has sha256 %s, not the recorded %s: it changed after the dump", path, got, want)
	}
	return "", nil
}
