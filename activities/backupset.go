package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/wikiflow/wikiflow/process"
	"go.temporal.io/sdk/activity"
)

// The whole wiki in the backup. Beside the database dump
// (<base>.sql, with <base>.sql.json) a deletion keeps, in
// <backup dir>/<db>/:
//
//	<base>.files.tar.gz   the upload directory, every entry relative to it
//	<base>.files.json     its manifest: each file's path, size, sha256, mode, mtime
//	<base>.rows.json      the wiki's rows of cw_wikis, mw_settings, mw_permissions, mw_namespaces
//	<base>.backup.json    written by the verification: the three parts with their checksums
//
// where <base> is <db>-<process id>. Names inside backup.json are relative
// to its directory, so a whole set can be moved (a later deletion of the
// same name moves an earlier set into <base>-<verified time>/) and still
// restores. Every file is written to a temporary name and renamed when
// complete, so a worker killed at any point leaves either the old file or
// the new one.

// Steps whose outputs VerifyBackup reads for the files and the rows,
// unless its params name others (files_step, rows_step).
const (
	DefaultFilesStep = "archive-files"
	DefaultRowsStep  = "export-rows"
)

// Suffixes of a backup set's parts.
const (
	SuffixDump      = ".sql"
	SuffixArchive   = ".files.tar.gz"
	SuffixFilesJSON = ".files.json"
	SuffixRows      = ".rows.json"
	suffixManifest  = ".backup.json"
)

// backupManifestFormat is the version of backup.json.
const backupManifestFormat = 1

// WholeBackup is <base>.backup.json: one verified backup, its parts named
// relative to the file's directory. A part is nil when the deletion that
// made it did not keep it (a process started before files and rows were
// backed up).
type WholeBackup struct {
	Format     int           `json:"format"`
	DB         string        `json:"db"`
	Process    string        `json:"process"`
	Run        string        `json:"run,omitempty"`
	Cluster    string        `json:"cluster"`
	VerifiedAt string        `json:"verified_at"`
	Database   *DatabasePart `json:"database"`
	Files      *FilesPart    `json:"files"`
	Rows       *RowsPart     `json:"rows"`
}

type DatabasePart struct {
	File   string           `json:"file"`
	SHA256 string           `json:"sha256"`
	Bytes  int64            `json:"bytes"`
	Counts map[string]int64 `json:"counts"`
}

type FilesPart struct {
	Archive        string `json:"archive"`
	ArchiveSHA256  string `json:"archive_sha256"`
	ArchiveBytes   int64  `json:"archive_bytes"`
	Manifest       string `json:"manifest"`
	ManifestSHA256 string `json:"manifest_sha256"`
	Files          int    `json:"files"`
	Bytes          int64  `json:"bytes"`
}

type RowsPart struct {
	File   string         `json:"file"`
	SHA256 string         `json:"sha256"`
	Bytes  int64          `json:"bytes"`
	Counts map[string]int `json:"counts"`
}

// sameParts tells whether two manifests describe the same files.
func (w WholeBackup) sameParts(o WholeBackup) bool {
	a, _ := json.Marshal([]any{w.DB, w.Process, w.Cluster, w.Database, w.Files, w.Rows})
	b, _ := json.Marshal([]any{o.DB, o.Process, o.Cluster, o.Database, o.Files, o.Rows})
	return string(a) == string(b)
}

// ---------------------------------------------------------------------------
// The upload directory

// ---------------------------------------------------------------------------
// The central rows

// ---------------------------------------------------------------------------
// The whole backup

// SealBackup writes, or keeps when it already says the same, the backup
// set's manifest <base>.backup.json after a verification, and returns its
// path and sha256.
func (f *Farm) SealBackup(ctx context.Context, base string, w WholeBackup) (string, string, error) {
	name := base + suffixManifest
	if old, err := ReadWholeBackup(name); err == nil && old.sameParts(w) {
		sum, _, err := FileSHA256(name)
		return name, sum, err
	}
	w.Format = backupManifestFormat
	w.Run = runID(ctx)
	w.VerifiedAt = time.Now().UTC().Format(time.RFC3339Nano)
	sum, err := WriteJSONFile(name, "."+w.DB+"-*.backupjson.tmp", w)
	return name, sum, err
}

func ReadWholeBackup(name string) (WholeBackup, error) {
	var w WholeBackup
	b, err := os.ReadFile(name)
	if err != nil {
		return w, err
	}
	return w, json.Unmarshal(b, &w)
}

// MoveSealedAside moves a verified backup set left at base by another run
// of a process with the same ID (a wiki deleted, restored and deleted
// again) into the directory <base>-<verified time>/, whole, so that this
// run writes a set of its own and the earlier one still restores.
func MoveSealedAside(ctx context.Context, base string) error {
	w, err := ReadWholeBackup(base + suffixManifest)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err == nil && w.Run != "" && w.Run == runID(ctx) {
		return nil
	}
	stamp := "unreadable"
	if t, perr := time.Parse(time.RFC3339Nano, w.VerifiedAt); err == nil && perr == nil {
		stamp = t.UTC().Format("20060102T150405Z")
	}
	dir := filepath.Dir(base)
	aside := base + "-" + stamp
	for i := 2; ; i++ {
		if _, err := os.Lstat(aside); errors.Is(err, os.ErrNotExist) {
			break
		}
		aside = fmt.Sprintf("%s-%s-%d", base, stamp, i)
	}
	if err := os.Mkdir(aside, 0o700); err != nil {
		return err
	}
	prefix := filepath.Base(base) + "."
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	// The manifest last: until it moves, the set is still found where it was.
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) && !e.IsDir() && e.Name() != prefix[:len(prefix)-1]+suffixManifest {
			names = append(names, e.Name())
		}
	}
	names = append(names, filepath.Base(base)+suffixManifest)
	for _, n := range names {
		if err := os.Rename(filepath.Join(dir, n), filepath.Join(aside, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	SyncDir(dir)
	return nil
}

// LocatedBackup is a verified backup found on disk.
type LocatedBackup struct {
	Path     string // of its backup.json
	Manifest WholeBackup
}

func (l LocatedBackup) Part(name string) string { return filepath.Join(filepath.Dir(l.Path), name) }

// VerifiedBackups lists the wiki's verified backups, newest first: every
// <backup dir>/<db>/*.backup.json and those of sets moved aside one
// directory down.
func (f *Farm) VerifiedBackups(db string) ([]LocatedBackup, error) {
	if f.Backup.Dir == "" {
		return nil, Permanent(ErrTypeMisconfigured, "database.backup_dir is not set")
	}
	root := filepath.Join(f.Backup.Dir, db)
	var found []LocatedBackup
	for _, pattern := range []string{"*" + suffixManifest, "*/*" + suffixManifest} {
		names, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			w, err := ReadWholeBackup(n)
			if err != nil || w.DB != db || w.VerifiedAt == "" {
				continue
			}
			found = append(found, LocatedBackup{Path: n, Manifest: w})
		}
	}
	sort.SliceStable(found, func(i, j int) bool {
		ti, _ := time.Parse(time.RFC3339Nano, found[i].Manifest.VerifiedAt)
		tj, _ := time.Parse(time.RFC3339Nano, found[j].Manifest.VerifiedAt)
		return ti.After(tj)
	})
	return found, nil
}

// ---------------------------------------------------------------------------
// Helpers

// BackupBase is the backup set's path without a part's suffix.
func (f *Farm) BackupBase(db, processID string) (string, error) {
	p, err := f.BackupPath(db, processID)
	return strings.TrimSuffix(p, SuffixDump), err
}

// runID names the workflow run an activity works for.
func runID(ctx context.Context) string {
	if !activity.IsActivity(ctx) {
		return ""
	}
	return activity.GetInfo(ctx).WorkflowExecution.RunID
}

// KeepAside moves a file at name whose sha256 is not newSum to
// <name without suffix>-<first 12 hex of its sha256><suffix>, with a
// companion file (its manifest) renamed the same way: a rerun never
// destroys a backup. An identical file is left to be replaced.
func KeepAside(name, suffix, newSum string, companions ...string) error {
	old, _, err := FileSHA256(name)
	if errors.Is(err, os.ErrNotExist) || (err == nil && old == newSum) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := os.Rename(name, strings.TrimSuffix(name, suffix)+"-"+old[:12]+suffix); err != nil {
		return err
	}
	for i := 0; i+1 < len(companions); i += 2 {
		c, csuffix := companions[i], companions[i+1]
		if err := os.Rename(c, strings.TrimSuffix(c, csuffix)+"-"+old[:12]+csuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// BackupPath is <backup dir>/<db>/<db>-<process id, made a safe file name>.sql.
func (f *Farm) BackupPath(db, processID string) (string, error) {
	if f.Backup.Dir == "" {
		return "", Permanent(ErrTypeMisconfigured, "database.backup_dir is not set")
	}
	id := strings.Trim(unsafeFileChars.ReplaceAllString(processID, "_"), "._-")
	if id == "" {
		return "", Permanent(ErrTypeInvalidInput, "no process id to name the backup after")
	}
	if len(id) > 120 {
		sum := sha256.Sum256([]byte(processID))
		id = id[:100] + "-" + hex.EncodeToString(sum[:6])
	}
	return filepath.Join(f.Backup.Dir, db, db+"-"+id+".sql"), nil
}

func SameCounts(a, b map[string]int64) bool { return CountsDiff(a, b) == "" }

// CountsDiff describes the first difference between recorded and restored
// counts, in table order; "" when they are the same.
func CountsDiff(want, got map[string]int64) string {
	tables := map[string]bool{}
	for t := range want {
		tables[t] = true
	}
	for t := range got {
		tables[t] = true
	}
	names := make([]string, 0, len(tables))
	for t := range tables {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		w, inWant := want[t]
		g, inGot := got[t]
		switch {
		case !inGot:
			return fmt.Sprintf("table %s is missing", t)
		case !inWant:
			return fmt.Sprintf("table %s was not in the database", t)
		case w != g:
			return fmt.Sprintf("table %s has %d rows, not %d", t, g, w)
		}
	}
	return ""
}

func TotalRows(counts map[string]int64) int64 {
	var n int64
	for _, c := range counts {
		n += c
	}
	return n
}

// StepBackup is where a step's process backs its wiki up: the checked
// database name and the base path of the process's backup set, whose
// folder it makes (0700, like every backup file).
func (f *Farm) StepBackup(in process.StepInput) (db, base string, err error) {
	if db, err = WikiDB(in); err != nil {
		return "", "", err
	}
	if base, err = f.BackupBase(db, in.ProcessID); err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(filepath.Dir(base), 0o700); err != nil {
		return "", "", Permanent(ErrTypeMisconfigured, "database.backup_dir: %v", err)
	}
	return db, base, nil
}
