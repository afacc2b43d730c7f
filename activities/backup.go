package activities

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
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

// Names of the backup's step activities.
const (
	NameArchiveUploads = "ArchiveUploads"
	NameExportWikiRows = "ExportWikiRows"
)

// Steps whose outputs VerifyBackup reads for the files and the rows,
// unless its params name others (files_step, rows_step).
const (
	DefaultFilesStep = "archive-files"
	DefaultRowsStep  = "export-rows"
)

// ErrNotInBackup: a removal found something the verified backup does not hold.
const ErrNotInBackup = "NotInBackup"

// Suffixes of a backup set's parts.
const (
	suffixDump      = ".sql"
	suffixArchive   = ".files.tar.gz"
	suffixFilesJSON = ".files.json"
	suffixRows      = ".rows.json"
	suffixManifest  = ".backup.json"
)

// backupManifestFormat is the version of backup.json.
const backupManifestFormat = 1

// wholeBackup is <base>.backup.json: one verified backup, its parts named
// relative to the file's directory. A part is nil when the deletion that
// made it did not keep it (a process started before files and rows were
// backed up).
type wholeBackup struct {
	Format     int           `json:"format"`
	DB         string        `json:"db"`
	Process    string        `json:"process"`
	Run        string        `json:"run,omitempty"`
	Cluster    string        `json:"cluster"`
	VerifiedAt string        `json:"verified_at"`
	Database   *databasePart `json:"database"`
	Files      *filesPart    `json:"files"`
	Rows       *rowsPart     `json:"rows"`
}

type databasePart struct {
	File   string           `json:"file"`
	SHA256 string           `json:"sha256"`
	Bytes  int64            `json:"bytes"`
	Counts map[string]int64 `json:"counts"`
}

type filesPart struct {
	Archive        string `json:"archive"`
	ArchiveSHA256  string `json:"archive_sha256"`
	ArchiveBytes   int64  `json:"archive_bytes"`
	Manifest       string `json:"manifest"`
	ManifestSHA256 string `json:"manifest_sha256"`
	Files          int    `json:"files"`
	Bytes          int64  `json:"bytes"`
}

type rowsPart struct {
	File   string         `json:"file"`
	SHA256 string         `json:"sha256"`
	Bytes  int64          `json:"bytes"`
	Counts map[string]int `json:"counts"`
}

// sameParts tells whether two manifests describe the same files.
func (w wholeBackup) sameParts(o wholeBackup) bool {
	a, _ := json.Marshal([]any{w.DB, w.Process, w.Cluster, w.Database, w.Files, w.Rows})
	b, _ := json.Marshal([]any{o.DB, o.Process, o.Cluster, o.Database, o.Files, o.Rows})
	return string(a) == string(b)
}

// filesManifest is <base>.files.json.
type filesManifest struct {
	DB            string      `json:"db"`
	Process       string      `json:"process"`
	Root          string      `json:"root"`
	Exists        bool        `json:"exists"` // false: the wiki had no upload directory
	Archive       string      `json:"archive"`
	ArchiveSHA256 string      `json:"archive_sha256"`
	ArchiveBytes  int64       `json:"archive_bytes"`
	Files         int         `json:"files"` // regular files
	Bytes         int64       `json:"bytes"` // their total size
	Entries       []fileEntry `json:"entries"`
}

// fileEntry is one entry of the upload directory, in walk (lexical) order.
type fileEntry struct {
	Path   string `json:"path"` // relative, with "/"
	Type   string `json:"type"` // file, dir or symlink
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Mode   uint32 `json:"mode"`  // permission bits
	MTime  int64  `json:"mtime"` // unix seconds
	Link   string `json:"link,omitempty"`
}

const (
	entryFile    = "file"
	entryDir     = "dir"
	entrySymlink = "symlink"
)

func (m filesManifest) outputs(manifestPath, manifestSum string) map[string]string {
	return map[string]string{
		"archive":         filepath.Join(filepath.Dir(manifestPath), m.Archive),
		"archive_sha256":  m.ArchiveSHA256,
		"archive_bytes":   strconv.FormatInt(m.ArchiveBytes, 10),
		"manifest":        manifestPath,
		"manifest_sha256": manifestSum,
		"files":           strconv.Itoa(m.Files),
		"bytes":           strconv.FormatInt(m.Bytes, 10),
	}
}

// rowsBackup is <base>.rows.json.
type rowsBackup struct {
	DB      string          `json:"db"`
	Process string          `json:"process"`
	Counts  map[string]int  `json:"counts"`
	Tables  farmdb.WikiRows `json:"tables"`
}

// ---------------------------------------------------------------------------
// The upload directory

// ArchiveUploads archives the wiki's upload directory into
// <base>.files.tar.gz (gzip, PAX tar, entries relative to the directory,
// in lexical order, owner 0, mtimes in whole seconds) with the manifest
// <base>.files.json listing every entry and each file's size and sha256.
// Files are streamed through the archive and the checksums as they are
// read, never held in memory, and the activity heartbeats its progress. A
// rerun reuses an archive whose manifest still matches the directory (every
// entry's type, size, mode and mtime) and whose checksum is intact, and
// answers from it once the directory is gone; otherwise it archives again
// (byte for byte the same while nothing changed) and keeps a different
// archive found at the path aside. Outputs: archive, archive_sha256,
// archive_bytes, manifest, manifest_sha256, files (regular files), bytes.
func (f *Farm) ArchiveUploads(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db := in.Wiki.DB
	dir, err := f.uploadDir(db)
	if err != nil {
		return process.StepResult{}, err
	}
	base, err := f.backupBase(db, in.ProcessID)
	if err != nil {
		return process.StepResult{}, err
	}
	archive, manifest := base+suffixArchive, base+suffixFilesJSON
	if err := os.MkdirAll(filepath.Dir(base), 0o700); err != nil {
		return process.StepResult{}, permanent(ErrMisconfigured, "database.backup_dir: %v", err)
	}
	removeStale(filepath.Dir(base), "."+db+"-*.files.tmp", "."+db+"-*.filesjson.tmp")
	info, statErr := os.Lstat(dir)
	exists := statErr == nil
	if statErr != nil && !errors.Is(statErr, os.ErrNotExist) {
		return process.StepResult{}, statErr
	}
	if exists && !info.IsDir() {
		// A link to storage elsewhere would archive as one entry and its files be missed.
		return process.StepResult{}, permanent(ErrNotInBackup, "the upload directory %s is not a directory (%v): back up what it points to by hand", dir, info.Mode().Type())
	}

	if m, sum, err := readFilesManifest(manifest); err == nil && m.Archive == filepath.Base(archive) {
		if typ, _ := fileProblem(archive, m.ArchiveSHA256); typ == "" {
			reuse := !exists && m.Exists // removed since: the archive is all there is
			if exists {
				diff, err := treeDiff(ctx, dir, m)
				if err != nil {
					return process.StepResult{}, err
				}
				reuse = diff == ""
			}
			if reuse {
				return process.StepResult{
					Summary: fmt.Sprintf("the upload directory of %s is already archived: %d files, %d bytes in %s", db, m.Files, m.Bytes, archive),
					Outputs: m.outputs(manifest, sum),
				}, nil
			}
		}
	}

	const attempts = 3
	for attempt := 1; ; attempt++ {
		m, tmp, err := f.archiveTree(ctx, db, in.ProcessID, dir, exists, filepath.Dir(base))
		if errors.Is(err, errTreeChanged) && attempt < attempts {
			continue
		}
		if err != nil {
			return process.StepResult{}, err
		}
		m.Archive = filepath.Base(archive)
		if err := keepAside(archive, suffixArchive, m.ArchiveSHA256, manifest, suffixFilesJSON); err != nil {
			os.Remove(tmp)
			return process.StepResult{}, err
		}
		if err := os.Rename(tmp, archive); err != nil {
			os.Remove(tmp)
			return process.StepResult{}, err
		}
		sum, err := writeJSONFile(manifest, "."+db+"-*.filesjson.tmp", m)
		if err != nil {
			return process.StepResult{}, err
		}
		syncDir(filepath.Dir(base))
		what := fmt.Sprintf("%d files, %d bytes", m.Files, m.Bytes)
		if !exists {
			what = "no upload directory"
		}
		return process.StepResult{
			Summary: fmt.Sprintf("archived the upload directory of %s (%s) to %s, %d bytes", db, what, archive, m.ArchiveBytes),
			Outputs: m.outputs(manifest, sum),
		}, nil
	}
}

var errTreeChanged = errors.New("the upload directory changed while it was archived")

// archiveTree writes the archive of dir to a temporary file in into and
// returns its manifest (without the archive's final name) and the file.
func (f *Farm) archiveTree(ctx context.Context, db, processID, dir string, exists bool, into string) (filesManifest, string, error) {
	m := filesManifest{DB: db, Process: processID, Root: dir, Exists: exists, Entries: []fileEntry{}}
	tmp, err := os.CreateTemp(into, "."+db+"-*.files.tmp")
	if err != nil {
		return m, "", permanent(ErrMisconfigured, "database.backup_dir: %v", err)
	}
	fail := func(err error) (filesManifest, string, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return m, "", err
	}
	h := sha256.New()
	counter := &countingWriter{}
	gz, _ := gzip.NewWriterLevel(io.MultiWriter(tmp, h, counter), gzip.BestSpeed) // uploads are mostly compressed already
	tw := tar.NewWriter(gz)
	p := newProgress(ctx, "archiving "+dir)
	if exists {
		err := filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if name == dir {
				return nil
			}
			rel, err := filepath.Rel(dir, name)
			if err != nil {
				return err
			}
			e, err := archiveEntry(tw, name, filepath.ToSlash(rel), d, p)
			if err != nil {
				return err
			}
			m.Entries = append(m.Entries, e)
			if e.Type == entryFile {
				m.Files++
				m.Bytes += e.Size
			}
			p.file()
			return nil
		})
		if err != nil {
			return fail(err)
		}
	}
	if err := tw.Close(); err != nil {
		return fail(err)
	}
	if err := gz.Close(); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return m, "", err
	}
	m.ArchiveSHA256, m.ArchiveBytes = hex.EncodeToString(h.Sum(nil)), counter.n
	return m, tmp.Name(), nil
}

// archiveEntry writes one entry and describes it.
func archiveEntry(tw *tar.Writer, name, rel string, d fs.DirEntry, p *progress) (fileEntry, error) {
	info, err := d.Info() // lstat: a symbolic link is archived as one
	if err != nil {
		return fileEntry{}, err
	}
	e := fileEntry{Path: rel, Mode: uint32(info.Mode().Perm()), MTime: info.ModTime().Unix()}
	hdr := &tar.Header{Name: rel, Mode: int64(e.Mode), ModTime: time.Unix(e.MTime, 0), Format: tar.FormatPAX}
	switch {
	case info.IsDir():
		e.Type, hdr.Typeflag, hdr.Name = entryDir, tar.TypeDir, rel+"/"
		return e, tw.WriteHeader(hdr)
	case info.Mode()&fs.ModeSymlink != 0:
		link, err := os.Readlink(name)
		if err != nil {
			return e, err
		}
		e.Type, e.Link, hdr.Typeflag, hdr.Linkname = entrySymlink, link, tar.TypeSymlink, link
		return e, tw.WriteHeader(hdr)
	case !info.Mode().IsRegular():
		return e, permanent(ErrNotInBackup, "cannot archive %s: not a file, directory or symbolic link (%v)", name, info.Mode().Type())
	}
	file, err := os.Open(name)
	if err != nil {
		return e, err
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return e, err
	}
	if st.Size() != info.Size() || !st.ModTime().Equal(info.ModTime()) {
		return e, errTreeChanged
	}
	e.Type, e.Size, hdr.Typeflag, hdr.Size = entryFile, st.Size(), tar.TypeReg, st.Size()
	if err := tw.WriteHeader(hdr); err != nil {
		return e, err
	}
	fh := sha256.New()
	n, err := io.Copy(p.writer(io.MultiWriter(tw, fh)), file)
	if err != nil {
		if errors.Is(err, tar.ErrWriteTooLong) {
			return e, errTreeChanged
		}
		return e, err
	}
	after, err := os.Lstat(name)
	if err != nil {
		return e, err
	}
	if n != e.Size || after.Size() != e.Size || !after.ModTime().Equal(info.ModTime()) {
		return e, errTreeChanged
	}
	e.SHA256 = hex.EncodeToString(fh.Sum(nil))
	return e, nil
}

// treeDiff compares a directory with a manifest by what stat says (type,
// size, mode, mtime, link target); "" when they match.
func treeDiff(ctx context.Context, dir string, m filesManifest) (string, error) {
	want := make(map[string]fileEntry, len(m.Entries))
	for _, e := range m.Entries {
		want[e.Path] = e
	}
	seen := 0
	diff := ""
	err := filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil || name == dir {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, name)
		rel = filepath.ToSlash(rel)
		e, ok := want[rel]
		if !ok {
			diff = rel + " is not in the manifest"
			return fs.SkipAll
		}
		seen++
		if problem := entryDiff(name, d, e); problem != "" {
			diff = rel + ": " + problem
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if diff == "" && seen != len(want) {
		diff = fmt.Sprintf("%d entries of the manifest are missing", len(want)-seen)
	}
	return diff, nil
}

// entryDiff describes how an entry on disk differs from its record.
func entryDiff(name string, d fs.DirEntry, e fileEntry) string {
	info, err := d.Info()
	if err != nil {
		return err.Error()
	}
	typ := entryFile
	switch {
	case info.IsDir():
		typ = entryDir
	case info.Mode()&fs.ModeSymlink != 0:
		typ = entrySymlink
	}
	switch {
	case typ != e.Type:
		return fmt.Sprintf("a %s, not a %s", typ, e.Type)
	case typ == entryFile && info.Size() != e.Size:
		return fmt.Sprintf("%d bytes, not %d", info.Size(), e.Size)
	case typ == entrySymlink:
		if link, _ := os.Readlink(name); link != e.Link {
			return fmt.Sprintf("links to %q, not %q", link, e.Link)
		}
	case typ == entryFile && (uint32(info.Mode().Perm()) != e.Mode || info.ModTime().Unix() != e.MTime):
		return "modified"
	}
	return ""
}

// extractArchive restores an archive into dest, which must not exist: it
// checks the archive's sha256 first, then writes every entry, checking each
// file's size and sha256 against the manifest as it streams, refuses any
// entry the manifest does not list or whose path could leave dest, and
// finally checks that every listed entry is there and sets modes and mtimes.
func extractArchive(ctx context.Context, archive string, m filesManifest, dest string) error {
	if err := checkFile(archive, m.ArchiveSHA256); err != nil {
		return err
	}
	want := make(map[string]fileEntry, len(m.Entries))
	for _, e := range m.Entries {
		want[e.Path] = e
	}
	file, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer file.Close()
	gz, err := gzip.NewReader(file)
	if err != nil {
		return permanent(ErrBackupMismatch, "the archive %s: %v", archive, err)
	}
	if err := os.Mkdir(dest, 0o755); err != nil {
		return err
	}
	p := newProgress(ctx, "extracting "+archive)
	tr := tar.NewReader(gz)
	seen := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return permanent(ErrBackupMismatch, "the archive %s: %v", archive, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		name := strings.TrimSuffix(hdr.Name, "/")
		e, ok := want[name]
		if !ok || !safeRelative(name) || seen[name] {
			return permanent(ErrBackupMismatch, "the archive %s holds %q, which its manifest does not list (once)", archive, hdr.Name)
		}
		for parent := path.Dir(name); parent != "."; parent = path.Dir(parent) {
			if want[parent].Type != entryDir {
				return permanent(ErrBackupMismatch, "the archive %s: %q is not below a directory of the manifest", archive, hdr.Name)
			}
		}
		seen[name] = true
		target := filepath.Join(dest, filepath.FromSlash(name))
		switch {
		case hdr.Typeflag == tar.TypeDir && e.Type == entryDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case hdr.Typeflag == tar.TypeSymlink && e.Type == entrySymlink && hdr.Linkname == e.Link:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(e.Link, target); err != nil {
				return err
			}
		case hdr.Typeflag == tar.TypeReg && e.Type == entryFile && hdr.Size == e.Size:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := extractFile(tr, target, e, p); err != nil {
				return err
			}
		default:
			return permanent(ErrBackupMismatch, "the archive %s: %q is not the %s its manifest lists", archive, hdr.Name, e.Type)
		}
		p.file()
	}
	if len(seen) != len(want) {
		for _, e := range m.Entries {
			if !seen[e.Path] {
				return permanent(ErrBackupMismatch, "the archive %s lacks %q, which its manifest lists", archive, e.Path)
			}
		}
	}
	// Modes and times last, deepest first: writing into a directory changes its mtime.
	for i := len(m.Entries) - 1; i >= 0; i-- {
		e := m.Entries[i]
		if e.Type == entrySymlink {
			continue
		}
		target := filepath.Join(dest, filepath.FromSlash(e.Path))
		if err := os.Chmod(target, fs.FileMode(e.Mode)); err != nil {
			return err
		}
		t := time.Unix(e.MTime, 0)
		if err := os.Chtimes(target, t, t); err != nil {
			return err
		}
	}
	return nil
}

// extractFile writes one file, comparing its size and sha256 with the record.
func extractFile(r io.Reader, target string, e fileEntry, p *progress) error {
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(p.writer(io.MultiWriter(out, h)), r)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if sum := hex.EncodeToString(h.Sum(nil)); n != e.Size || sum != e.SHA256 {
		return permanent(ErrChecksumMismatch, "%s restores as %d bytes with sha256 %s, not the %d bytes with sha256 %s of its manifest",
			e.Path, n, sum, e.Size, e.SHA256)
	}
	return nil
}

// safeRelative: a clean relative slash path that stays below its root.
func safeRelative(name string) bool {
	return name != "" && name != "." && path.Clean(name) == name && !path.IsAbs(name) &&
		name != ".." && !strings.HasPrefix(name, "../") && !strings.ContainsRune(name, 0)
}

// verifyFiles proves the archive restores: the manifest and the archive
// are the recorded ones, the archive extracts into a scratch directory
// beside it (removed before and after) with every file's size and sha256
// as the manifest says and nothing else, and the upload directory, while it
// is still there, is what was archived.
func (f *Farm) verifyFiles(ctx context.Context, db string, rec map[string]string) (filesManifest, error) {
	manifest, sum := rec["manifest"], rec["manifest_sha256"]
	if err := checkFile(manifest, sum); err != nil {
		return filesManifest{}, err
	}
	m, _, err := readFilesManifest(manifest)
	if err != nil {
		return m, permanent(ErrBackupMismatch, "the file manifest %s: %v", manifest, err)
	}
	archive := filepath.Join(filepath.Dir(manifest), m.Archive)
	if rec["archive_sha256"] != "" && rec["archive_sha256"] != m.ArchiveSHA256 {
		return m, permanent(ErrChecksumMismatch, "the file manifest %s names another archive than the one recorded", manifest)
	}
	scratch := filepath.Join(filepath.Dir(manifest), ".verify-"+strings.TrimSuffix(filepath.Base(manifest), suffixFilesJSON))
	if err := os.RemoveAll(scratch); err != nil {
		return m, err
	}
	defer os.RemoveAll(scratch)
	if err := extractArchive(ctx, archive, m, scratch); err != nil {
		return m, err
	}
	if diff, err := treeDiff(ctx, scratch, m); err != nil {
		return m, err
	} else if diff != "" {
		return m, permanent(ErrBackupMismatch, "the archive %s does not restore its manifest: %s", archive, diff)
	}
	dir, err := f.uploadDir(db)
	if err != nil {
		return m, err
	}
	if _, err := os.Lstat(dir); err == nil {
		if diff, err := treeDiff(ctx, dir, m); err != nil {
			return m, err
		} else if diff != "" {
			return m, permanent(ErrBackupMismatch, "the upload directory %s changed after it was archived: %s", dir, diff)
		}
	}
	return m, nil
}

// removeVerifiedUploads is RemoveStorage in a deletion whose step names
// its verification: it removes the upload directory only when the
// verification covered the files, the archive and its manifest are still
// intact, and every entry left in the directory is in the manifest as
// archived (a rerun after a partial removal finds fewer).
func (f *Farm) removeVerifiedUploads(ctx context.Context, in process.StepInput, verifyStep string) (process.StepResult, error) {
	db := in.Wiki.DB
	dir, err := f.uploadDir(db)
	if err != nil {
		return process.StepResult{}, err
	}
	rec := in.Outputs[verifyStep]
	if rec["files_verified"] != "true" || rec["files_manifest"] == "" {
		return process.StepResult{}, permanent(ErrNoVerifiedBackup, "refusing to remove the files of %s: the step %s has not verified an archive of them", db, verifyStep)
	}
	m, err := intactFiles(rec["files_manifest"], rec["files_manifest_sha256"])
	if err != nil {
		return process.StepResult{}, permanent(ErrNoVerifiedBackup, "refusing to remove the files of %s: %v", db, err)
	}
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return process.StepResult{Summary: fmt.Sprintf("%s was already removed; its archive %s is intact", dir, m.Archive)}, nil
	}
	want := make(map[string]fileEntry, len(m.Entries))
	for _, e := range m.Entries {
		want[e.Path] = e
	}
	p := newProgress(ctx, "checking "+dir)
	err = filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil || name == dir {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, name)
		rel = filepath.ToSlash(rel)
		e, ok := want[rel]
		if !ok {
			return permanent(ErrNotInBackup, "refusing to remove %s: %s is not in the verified archive", dir, rel)
		}
		if problem := entryDiff(name, d, e); problem != "" {
			return permanent(ErrNotInBackup, "refusing to remove %s: %s changed after it was archived (%s)", dir, rel, problem)
		}
		p.file()
		return nil
	})
	if err != nil {
		return process.StepResult{}, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: fmt.Sprintf("removed %s (%d files, %d bytes, all in the verified archive %s)", dir, m.Files, m.Bytes, m.Archive)}, nil
}

// intactFiles reads a file manifest whose sha256 is want and checks its
// archive's checksum.
func intactFiles(manifest, want string) (filesManifest, error) {
	if typ, err := fileProblem(manifest, want); typ != "" || err != nil {
		return filesManifest{}, err
	}
	m, _, err := readFilesManifest(manifest)
	if err != nil {
		return m, err
	}
	if typ, err := fileProblem(filepath.Join(filepath.Dir(manifest), m.Archive), m.ArchiveSHA256); typ != "" || err != nil {
		return m, err
	}
	return m, nil
}

func readFilesManifest(name string) (filesManifest, string, error) {
	var m filesManifest
	b, err := os.ReadFile(name)
	if err != nil {
		return m, "", err
	}
	sum := sha256.Sum256(b)
	return m, hex.EncodeToString(sum[:]), json.Unmarshal(b, &m)
}

// ---------------------------------------------------------------------------
// The central rows

// ExportWikiRows writes the wiki's rows of cw_wikis, mw_settings,
// mw_permissions and mw_namespaces, every column, read in one transaction,
// to <base>.rows.json. The file is the same byte for byte while the rows do
// not change; a rerun after the rows were removed answers from the file; a
// different file found at the path is kept aside. Outputs: path, sha256,
// bytes, counts (JSON table -> rows).
func (f *Farm) ExportWikiRows(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db := in.Wiki.DB
	if err := farmdb.CheckDBName(db); err != nil {
		return process.StepResult{}, permanent(ErrInvalidInput, "%v", err)
	}
	base, err := f.backupBase(db, in.ProcessID)
	if err != nil {
		return process.StepResult{}, err
	}
	name := base + suffixRows
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return process.StepResult{}, permanent(ErrMisconfigured, "database.backup_dir: %v", err)
	}
	removeStale(filepath.Dir(name), "."+db+"-*.rows.tmp")
	live, err := f.Central.ReadWikiRows(ctx, db)
	if err != nil {
		return process.StepResult{}, err
	}
	if !live.Registered() {
		b, err := readRows(name)
		if errors.Is(err, os.ErrNotExist) {
			return process.StepResult{}, permanent(ErrWikiNotFound, "%s is not registered in cw_wikis and no export of its rows is at %s", db, name)
		}
		if err != nil {
			return process.StepResult{}, permanent(ErrBackupMismatch, "%s is no longer registered and its export %s is unreadable: %v", db, name, err)
		}
		return rowsResult(name, b, fmt.Sprintf("the rows of %s are already removed; their export %s is intact", db, name))
	}
	b := rowsBackup{DB: db, Process: in.ProcessID, Counts: live.Counts(), Tables: live}
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return process.StepResult{}, err
	}
	data = append(data, '\n')
	sum := sha256.Sum256(data)
	if err := keepAside(name, suffixRows, hex.EncodeToString(sum[:])); err != nil {
		return process.StepResult{}, err
	}
	if err := writeFileAtomic(name, "."+db+"-*.rows.tmp", data); err != nil {
		return process.StepResult{}, err
	}
	return rowsResult(name, b, fmt.Sprintf("exported the rows of %s (%s) to %s", db, countsText(b.Counts), name))
}

func rowsResult(name string, b rowsBackup, summary string) (process.StepResult, error) {
	sum, size, err := FileSHA256(name)
	if err != nil {
		return process.StepResult{}, err
	}
	counts, _ := json.Marshal(b.Counts)
	return process.StepResult{Summary: summary, Outputs: map[string]string{
		"path": name, "sha256": sum, "bytes": strconv.FormatInt(size, 10), "counts": string(counts),
	}}, nil
}

func countsText(c map[string]int) string {
	parts := make([]string, 0, len(c))
	for _, t := range farmdb.WikiTables {
		parts = append(parts, fmt.Sprintf("%s %d", t.Name, c[t.Name]))
	}
	return strings.Join(parts, ", ")
}

func readRows(name string) (rowsBackup, error) {
	var b rowsBackup
	data, err := os.ReadFile(name)
	if err != nil {
		return b, err
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return b, err
	}
	if b.Tables == nil {
		return b, fmt.Errorf("%s holds no tables", name)
	}
	return b, nil
}

// verifyRows proves the rows restore: the file is the recorded one, its
// rows go into scratch copies of the central tables and come back equal,
// and the wiki's live rows, while they are there, are still the same.
func (f *Farm) verifyRows(ctx context.Context, db string, rec map[string]string) (rowsBackup, error) {
	name := rec["path"]
	if err := checkFile(name, rec["sha256"]); err != nil {
		return rowsBackup{}, err
	}
	b, err := readRows(name)
	if err != nil {
		return b, permanent(ErrBackupMismatch, "the rows %s: %v", name, err)
	}
	if b.DB != db || !b.Tables.Registered() {
		return b, permanent(ErrBackupMismatch, "the rows %s are not a registration of %s", name, db)
	}
	back, err := f.Central.CheckWikiRows(ctx, db, b.Tables)
	if err != nil {
		return b, permanent(ErrBackupMismatch, "the rows %s do not restore: %v", name, err)
	}
	if diff := b.Tables.Diff(back); diff != "" {
		return b, permanent(ErrBackupMismatch, "the rows %s do not restore as exported: %s", name, diff)
	}
	live, err := f.Central.ReadWikiRows(ctx, db)
	if err != nil {
		return b, err
	}
	if live.Registered() {
		if diff := b.Tables.Diff(live); diff != "" {
			return b, permanent(ErrBackupMismatch, "the rows of %s changed after they were exported to %s: %s", db, name, diff)
		}
	}
	return b, nil
}

// removeVerifiedRows is RemoveWikiRows in a deletion whose step names its
// verification: the rows go only when the verification covered them, their
// export is intact, and the live rows are still the exported ones.
func (f *Farm) removeVerifiedRows(ctx context.Context, in process.StepInput, verifyStep string) error {
	db := in.Wiki.DB
	rec := in.Outputs[verifyStep]
	if rec["rows_verified"] != "true" || rec["rows_path"] == "" {
		return permanent(ErrNoVerifiedBackup, "refusing to remove the rows of %s: the step %s has not verified an export of them", db, verifyStep)
	}
	if typ, err := fileProblem(rec["rows_path"], rec["rows_sha256"]); typ != "" {
		return permanent(ErrNoVerifiedBackup, "refusing to remove the rows of %s: %v", db, err)
	} else if err != nil {
		return err
	}
	b, err := readRows(rec["rows_path"])
	if err != nil {
		return permanent(ErrNoVerifiedBackup, "refusing to remove the rows of %s: %v", db, err)
	}
	live, err := f.Central.ReadWikiRows(ctx, db)
	if err != nil {
		return err
	}
	if total(live.Counts()) > 0 {
		if diff := b.Tables.Diff(live); diff != "" {
			return permanent(ErrNotInBackup, "refusing to remove the rows of %s: they changed after the export %s (%s)", db, rec["rows_path"], diff)
		}
	}
	return nil
}

func total(c map[string]int) int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// ---------------------------------------------------------------------------
// The whole backup

// sealBackup writes, or keeps when it already says the same, the backup
// set's manifest <base>.backup.json after a verification, and returns its
// path and sha256.
func (f *Farm) sealBackup(ctx context.Context, base string, w wholeBackup) (string, string, error) {
	name := base + suffixManifest
	if old, err := readWholeBackup(name); err == nil && old.sameParts(w) {
		sum, _, err := FileSHA256(name)
		return name, sum, err
	}
	w.Format = backupManifestFormat
	w.Run = runID(ctx)
	w.VerifiedAt = time.Now().UTC().Format(time.RFC3339Nano)
	sum, err := writeJSONFile(name, "."+w.DB+"-*.backupjson.tmp", w)
	return name, sum, err
}

func readWholeBackup(name string) (wholeBackup, error) {
	var w wholeBackup
	b, err := os.ReadFile(name)
	if err != nil {
		return w, err
	}
	return w, json.Unmarshal(b, &w)
}

// moveSealedAside moves a verified backup set left at base by another run
// of a process with the same ID (a wiki deleted, restored and deleted
// again) into the directory <base>-<verified time>/, whole, so that this
// run writes a set of its own and the earlier one still restores.
func moveSealedAside(ctx context.Context, base string) error {
	w, err := readWholeBackup(base + suffixManifest)
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
	syncDir(dir)
	return nil
}

// locatedBackup is a verified backup found on disk.
type locatedBackup struct {
	Path     string // of its backup.json
	Manifest wholeBackup
}

func (l locatedBackup) part(name string) string { return filepath.Join(filepath.Dir(l.Path), name) }

// verifiedBackups lists the wiki's verified backups, newest first: every
// <backup dir>/<db>/*.backup.json and those of sets moved aside one
// directory down.
func (f *Farm) verifiedBackups(db string) ([]locatedBackup, error) {
	if f.Backup.Dir == "" {
		return nil, permanent(ErrMisconfigured, "database.backup_dir is not set")
	}
	root := filepath.Join(f.Backup.Dir, db)
	var found []locatedBackup
	for _, pattern := range []string{"*" + suffixManifest, "*/*" + suffixManifest} {
		names, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			w, err := readWholeBackup(n)
			if err != nil || w.DB != db || w.VerifiedAt == "" {
				continue
			}
			found = append(found, locatedBackup{Path: n, Manifest: w})
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

// backupBase is the backup set's path without a part's suffix.
func (f *Farm) backupBase(db, processID string) (string, error) {
	p, err := f.backupPath(db, processID)
	return strings.TrimSuffix(p, suffixDump), err
}

// runID names the workflow run an activity works for.
func runID(ctx context.Context) string {
	if !activity.IsActivity(ctx) {
		return ""
	}
	return activity.GetInfo(ctx).WorkflowExecution.RunID
}

// keepAside moves a file at name whose sha256 is not newSum to
// <name without suffix>-<first 12 hex of its sha256><suffix>, with a
// companion file (its manifest) renamed the same way: a rerun never
// destroys a backup. An identical file is left to be replaced.
func keepAside(name, suffix, newSum string, companions ...string) error {
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

// writeJSONFile writes v as indented JSON with writeFileAtomic and
// returns the file's sha256.
func writeJSONFile(name, pattern string, v any) (string, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", err
	}
	b = append(b, '\n')
	if err := writeFileAtomic(name, pattern, b); err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// writeFileAtomic writes data to a temporary file (mode 0600: backups hold
// private data) beside name, syncs it and renames it over name.
func writeFileAtomic(name, pattern string, data []byte) error {
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
	syncDir(filepath.Dir(name))
	return nil
}

// removeStale removes temporary files an attempt that died left in dir.
func removeStale(dir string, patterns ...string) {
	for _, pattern := range patterns {
		stale, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, s := range stale {
			os.Remove(s)
		}
	}
}

// progress heartbeats a long file activity (at most every 5 s, with what
// it has done so far, so the Web UI shows it) and stops it when the
// activity is cancelled.
type progress struct {
	ctx   context.Context
	what  string
	files int
	bytes int64
	last  time.Time
}

func newProgress(ctx context.Context, what string) *progress {
	return &progress{ctx: ctx, what: what, last: time.Now()}
}

func (p *progress) file() { p.files++; p.beat() }

func (p *progress) beat() {
	if time.Since(p.last) < 5*time.Second {
		return
	}
	p.last = time.Now()
	if activity.IsActivity(p.ctx) {
		activity.RecordHeartbeat(p.ctx, fmt.Sprintf("%s: %d entries, %d bytes", p.what, p.files, p.bytes))
	}
}

// writer counts and heartbeats what goes through w.
func (p *progress) writer(w io.Writer) io.Writer { return progressWriter{w: w, p: p} }

type progressWriter struct {
	w io.Writer
	p *progress
}

func (pw progressWriter) Write(b []byte) (int, error) {
	if err := pw.p.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := pw.w.Write(b)
	pw.p.bytes += int64(n)
	pw.p.beat()
	return n, err
}
