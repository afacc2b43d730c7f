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
	"strconv"
	"strings"
	"time"

	"github.com/wikiflow/wikiflow/process"
)

// FilesManifest is <base>.files.json.
type FilesManifest struct {
	DB            string      `json:"db"`
	Process       string      `json:"process"`
	Root          string      `json:"root"`
	Exists        bool        `json:"exists"` // false: the wiki had no upload directory
	Archive       string      `json:"archive"`
	ArchiveSHA256 string      `json:"archive_sha256"`
	ArchiveBytes  int64       `json:"archive_bytes"`
	Files         int         `json:"files"` // regular files
	Bytes         int64       `json:"bytes"` // their Total size
	Entries       []FileEntry `json:"entries"`
}

// FileEntry is one entry of the upload directory, in walk (lexical) order.
type FileEntry struct {
	Path   string `json:"path"` // relative, with "/"
	Type   string `json:"type"` // file, dir or symlink
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Mode   uint32 `json:"mode"`  // permission bits
	MTime  int64  `json:"mtime"` // unix seconds
	Link   string `json:"link,omitempty"`
}

const (
	EntryFile    = "file"
	EntryDir     = "dir"
	EntrySymlink = "symlink"
)

func (m FilesManifest) Outputs(manifestPath, manifestSum string) map[string]string {
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

var ErrTreeChanged = errors.New("the upload directory changed while it was archived")

// TreeDiff compares a directory with a manifest by what stat says (type,
// size, mode, mtime, link target); "" when they match.
func TreeDiff(ctx context.Context, dir string, m FilesManifest) (string, error) {
	diff := ""
	seen, err := walkManifest(ctx, dir, m, func(rel, problem string, known bool) error {
		switch {
		case !known:
			diff = rel + " is not in the manifest"
		case problem != "":
			diff = rel + ": " + problem
		default:
			return nil
		}
		return fs.SkipAll
	})
	if err != nil {
		return "", err
	}
	if diff == "" && seen != len(m.Entries) {
		diff = fmt.Sprintf("%d entries of the manifest are missing", len(m.Entries)-seen)
	}
	return diff, nil
}

// walkManifest walks dir beside a manifest of it: visit gets each entry's
// path relative to dir, how it differs from its record ("" when it does
// not) and whether the manifest has it at all. It returns how many of the
// manifest's entries it saw.
func walkManifest(ctx context.Context, dir string, m FilesManifest, visit func(rel, problem string, known bool) error) (int, error) {
	want := make(map[string]FileEntry, len(m.Entries))
	for _, e := range m.Entries {
		want[e.Path] = e
	}
	seen := 0
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
			return visit(rel, "", false)
		}
		seen++
		return visit(rel, EntryDiff(name, d, e), true)
	})
	return seen, err
}

// EntryDiff describes how an entry on disk differs from its record.
func EntryDiff(name string, d fs.DirEntry, e FileEntry) string {
	info, err := d.Info()
	if err != nil {
		return err.Error()
	}
	typ := EntryFile
	switch {
	case info.IsDir():
		typ = EntryDir
	case info.Mode()&fs.ModeSymlink != 0:
		typ = EntrySymlink
	}
	switch {
	case typ != e.Type:
		return fmt.Sprintf("a %s, not a %s", typ, e.Type)
	case typ == EntryFile && info.Size() != e.Size:
		return fmt.Sprintf("%d bytes, not %d", info.Size(), e.Size)
	case typ == EntrySymlink:
		if link, _ := os.Readlink(name); link != e.Link {
			return fmt.Sprintf("links to %q, not %q", link, e.Link)
		}
	case typ == EntryFile && (uint32(info.Mode().Perm()) != e.Mode || info.ModTime().Unix() != e.MTime):
		return "modified"
	}
	return ""
}

// ExtractArchive restores an archive into dest, which must not exist: it
// checks the archive's sha256 first, then writes every entry, checking each
// file's size and sha256 against the manifest as it streams, refuses any
// entry the manifest does not list or whose path could leave dest, and
// finally checks that every listed entry is there and sets modes and mtimes.
func ExtractArchive(ctx context.Context, archive string, m FilesManifest, dest string) error {
	if err := CheckFile(archive, m.ArchiveSHA256); err != nil {
		return err
	}
	want := make(map[string]FileEntry, len(m.Entries))
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
		return Permanent(ErrTypeBackupMismatch, "the archive %s: %v", archive, err)
	}
	if err := os.Mkdir(dest, 0o755); err != nil {
		return err
	}
	p := NewProgress(ctx, "extracting "+archive)
	tr := tar.NewReader(gz)
	seen := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Permanent(ErrTypeBackupMismatch, "the archive %s: %v", archive, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		name := strings.TrimSuffix(hdr.Name, "/")
		e, ok := want[name]
		if !ok || !SafeRelative(name) || seen[name] {
			return Permanent(ErrTypeBackupMismatch, "the archive %s holds %q, which its manifest does not list (once)", archive, hdr.Name)
		}
		for parent := path.Dir(name); parent != "."; parent = path.Dir(parent) {
			if want[parent].Type != EntryDir {
				return Permanent(ErrTypeBackupMismatch, "the archive %s: %q is not below a directory of the manifest", archive, hdr.Name)
			}
		}
		seen[name] = true
		target := filepath.Join(dest, filepath.FromSlash(name))
		switch {
		case hdr.Typeflag == tar.TypeDir && e.Type == EntryDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case hdr.Typeflag == tar.TypeSymlink && e.Type == EntrySymlink && hdr.Linkname == e.Link:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(e.Link, target); err != nil {
				return err
			}
		case hdr.Typeflag == tar.TypeReg && e.Type == EntryFile && hdr.Size == e.Size:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := extractFile(tr, target, e, p); err != nil {
				return err
			}
		default:
			return Permanent(ErrTypeBackupMismatch, "the archive %s: %q is not the %s its manifest lists", archive, hdr.Name, e.Type)
		}
		p.File()
	}
	if len(seen) != len(want) {
		for _, e := range m.Entries {
			if !seen[e.Path] {
				return Permanent(ErrTypeBackupMismatch, "the archive %s lacks %q, which its manifest lists", archive, e.Path)
			}
		}
	}
	// Modes and times last, deepest first: writing into a directory changes its mtime.
	for i := len(m.Entries) - 1; i >= 0; i-- {
		e := m.Entries[i]
		if e.Type == EntrySymlink {
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
func extractFile(r io.Reader, target string, e FileEntry, p *Progress) error {
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(p.Writer(io.MultiWriter(out, h)), r)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if sum := hex.EncodeToString(h.Sum(nil)); n != e.Size || sum != e.SHA256 {
		return Permanent(ErrTypeChecksumMismatch, "%s restores as %d bytes with sha256 %s, not the %d bytes with sha256 %s of its manifest",
			e.Path, n, sum, e.Size, e.SHA256)
	}
	return nil
}

// SafeRelative: a clean relative slash path that stays below its root.
func SafeRelative(name string) bool {
	return name != "" && name != "." && path.Clean(name) == name && !path.IsAbs(name) &&
		name != ".." && !strings.HasPrefix(name, "../") && !strings.ContainsRune(name, 0)
}

// IntactFiles reads a file manifest whose sha256 is want and checks its
// archive's checksum.
func IntactFiles(manifest, want string) (FilesManifest, error) {
	if typ, err := FileProblem(manifest, want); typ != "" || err != nil {
		return FilesManifest{}, err
	}
	m, _, err := ReadFilesManifest(manifest)
	if err != nil {
		return m, err
	}
	if typ, err := FileProblem(filepath.Join(filepath.Dir(manifest), m.Archive), m.ArchiveSHA256); typ != "" || err != nil {
		return m, err
	}
	return m, nil
}

func ReadFilesManifest(name string) (FilesManifest, string, error) {
	var m FilesManifest
	b, err := os.ReadFile(name)
	if err != nil {
		return m, "", err
	}
	sum := sha256.Sum256(b)
	return m, hex.EncodeToString(sum[:]), json.Unmarshal(b, &m)
}

// VerifyFiles proves the archive restores: the manifest and the archive
// are the recorded ones, the archive extracts into a scratch directory
// beside it (removed before and after) with every file's size and sha256
// as the manifest says and nothing else, and the upload directory, while it
// is still there, is what was archived.
func (f *Farm) VerifyFiles(ctx context.Context, db string, rec map[string]string) (FilesManifest, error) {
	manifest, sum := rec["manifest"], rec["manifest_sha256"]
	if err := CheckFile(manifest, sum); err != nil {
		return FilesManifest{}, err
	}
	m, _, err := ReadFilesManifest(manifest)
	if err != nil {
		return m, Permanent(ErrTypeBackupMismatch, "the file manifest %s: %v", manifest, err)
	}
	archive := filepath.Join(filepath.Dir(manifest), m.Archive)
	if rec["archive_sha256"] != "" && rec["archive_sha256"] != m.ArchiveSHA256 {
		return m, Permanent(ErrTypeChecksumMismatch, "the file manifest %s names another archive than the one recorded", manifest)
	}
	scratch := filepath.Join(filepath.Dir(manifest), ".verify-"+strings.TrimSuffix(filepath.Base(manifest), SuffixFilesJSON))
	if err := os.RemoveAll(scratch); err != nil {
		return m, err
	}
	defer os.RemoveAll(scratch)
	if err := ExtractArchive(ctx, archive, m, scratch); err != nil {
		return m, err
	}
	if diff, err := TreeDiff(ctx, scratch, m); err != nil {
		return m, err
	} else if diff != "" {
		return m, Permanent(ErrTypeBackupMismatch, "the archive %s does not restore its manifest: %s", archive, diff)
	}
	dir, err := f.UploadDir(db)
	if err != nil {
		return m, err
	}
	if _, err := os.Lstat(dir); err == nil {
		if diff, err := TreeDiff(ctx, dir, m); err != nil {
			return m, err
		} else if diff != "" {
			return m, Permanent(ErrTypeBackupMismatch, "the upload directory %s changed after it was archived: %s", dir, diff)
		}
	}
	return m, nil
}

// RemoveVerifiedUploads is RemoveStorage in a deletion whose step names
// its verification: it removes the upload directory only when the
// verification covered the files, the archive and its manifest are still
// intact, and every entry left in the directory is in the manifest as
// archived (a rerun after a partial removal finds fewer).
func (f *Farm) RemoveVerifiedUploads(ctx context.Context, in process.StepInput, verifyStep string) (process.StepResult, error) {
	db := in.Wiki.DB
	dir, err := f.UploadDir(db)
	if err != nil {
		return process.StepResult{}, err
	}
	rec := in.Outputs[verifyStep]
	if rec["files_verified"] != "true" || rec["files_manifest"] == "" {
		return process.StepResult{}, Permanent(ErrTypeNoVerifiedBackup, "refusing to remove the files of %s: the step %s has not verified an archive of them", db, verifyStep)
	}
	m, err := IntactFiles(rec["files_manifest"], rec["files_manifest_sha256"])
	if err != nil {
		return process.StepResult{}, Permanent(ErrTypeNoVerifiedBackup, "refusing to remove the files of %s: %v", db, err)
	}
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return process.StepResult{Summary: fmt.Sprintf("%s was already removed; its archive %s is intact", dir, m.Archive)}, nil
	}
	p := NewProgress(ctx, "checking "+dir)
	_, err = walkManifest(ctx, dir, m, func(rel, problem string, known bool) error {
		switch {
		case !known:
			return Permanent(ErrTypeNotInBackup, "refusing to remove %s: %s is not in the verified archive", dir, rel)
		case problem != "":
			return Permanent(ErrTypeNotInBackup, "refusing to remove %s: %s changed after it was archived (%s)", dir, rel, problem)
		}
		p.File()
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
