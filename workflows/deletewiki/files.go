package deletewiki

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
)

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
func (f *Activities) ArchiveUploads(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db, base, err := f.StepBackup(in)
	if err != nil {
		return process.StepResult{}, err
	}
	dir, err := f.UploadDir(db)
	if err != nil {
		return process.StepResult{}, err
	}
	archive, manifest := base+activities.SuffixArchive, base+activities.SuffixFilesJSON
	activities.RemoveStale(filepath.Dir(base), "."+db+"-*.files.tmp", "."+db+"-*.filesjson.tmp")
	info, statErr := os.Lstat(dir)
	exists := statErr == nil
	if statErr != nil && !errors.Is(statErr, os.ErrNotExist) {
		return process.StepResult{}, statErr
	}
	if exists && !info.IsDir() {
		// A link to storage elsewhere would archive as one entry and its files be missed.
		return process.StepResult{}, activities.Permanent(activities.ErrTypeNotInBackup, "the upload directory %s is not a directory (%v): back up what it points to by hand", dir, info.Mode().Type())
	}

	if m, sum, err := activities.ReadFilesManifest(manifest); err == nil && m.Archive == filepath.Base(archive) {
		if typ, _ := activities.FileProblem(archive, m.ArchiveSHA256); typ == "" {
			reuse := !exists && m.Exists // removed since: the archive is all there is
			if exists {
				diff, err := activities.TreeDiff(ctx, dir, m)
				if err != nil {
					return process.StepResult{}, err
				}
				reuse = diff == ""
			}
			if reuse {
				return process.StepResult{
					Summary: fmt.Sprintf("the upload directory of %s is already archived: %d files, %d bytes in %s", db, m.Files, m.Bytes, archive),
					Outputs: m.Outputs(manifest, sum),
				}, nil
			}
		}
	}

	const attempts = 3
	for attempt := 1; ; attempt++ {
		m, tmp, err := f.archiveTree(ctx, db, in.ProcessID, dir, exists, filepath.Dir(base))
		if errors.Is(err, activities.ErrTreeChanged) && attempt < attempts {
			continue
		}
		if err != nil {
			return process.StepResult{}, err
		}
		m.Archive = filepath.Base(archive)
		if err := activities.KeepAside(archive, activities.SuffixArchive, m.ArchiveSHA256, manifest, activities.SuffixFilesJSON); err != nil {
			os.Remove(tmp)
			return process.StepResult{}, err
		}
		if err := os.Rename(tmp, archive); err != nil {
			os.Remove(tmp)
			return process.StepResult{}, err
		}
		sum, err := activities.WriteJSONFile(manifest, "."+db+"-*.filesjson.tmp", m)
		if err != nil {
			return process.StepResult{}, err
		}
		activities.SyncDir(filepath.Dir(base))
		what := fmt.Sprintf("%d files, %d bytes", m.Files, m.Bytes)
		if !exists {
			what = "no upload directory"
		}
		return process.StepResult{
			Summary: fmt.Sprintf("archived the upload directory of %s (%s) to %s, %d bytes", db, what, archive, m.ArchiveBytes),
			Outputs: m.Outputs(manifest, sum),
		}, nil
	}
}

// archiveTree writes the archive of dir to a temporary file in into and
// returns its manifest (without the archive's final name) and the file.
func (f *Activities) archiveTree(ctx context.Context, db, processID, dir string, exists bool, into string) (activities.FilesManifest, string, error) {
	m := activities.FilesManifest{DB: db, Process: processID, Root: dir, Exists: exists, Entries: []activities.FileEntry{}}
	tmp, err := os.CreateTemp(into, "."+db+"-*.files.tmp")
	if err != nil {
		return m, "", activities.Permanent(activities.ErrTypeMisconfigured, "database.backup_dir: %v", err)
	}
	fail := func(err error) (activities.FilesManifest, string, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return m, "", err
	}
	h := sha256.New()
	counter := &activities.CountingWriter{}
	gz, _ := gzip.NewWriterLevel(io.MultiWriter(tmp, h, counter), gzip.BestSpeed) // uploads are mostly compressed already
	tw := tar.NewWriter(gz)
	p := activities.NewProgress(ctx, "archiving "+dir)
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
			if e.Type == activities.EntryFile {
				m.Files++
				m.Bytes += e.Size
			}
			p.File()
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
	m.ArchiveSHA256, m.ArchiveBytes = hex.EncodeToString(h.Sum(nil)), counter.N
	return m, tmp.Name(), nil
}

// archiveEntry writes one entry and describes it.
func archiveEntry(tw *tar.Writer, name, rel string, d fs.DirEntry, p *activities.Progress) (activities.FileEntry, error) {
	info, err := d.Info() // lstat: a symbolic link is archived as one
	if err != nil {
		return activities.FileEntry{}, err
	}
	e := activities.FileEntry{Path: rel, Mode: uint32(info.Mode().Perm()), MTime: info.ModTime().Unix()}
	hdr := &tar.Header{Name: rel, Mode: int64(e.Mode), ModTime: time.Unix(e.MTime, 0), Format: tar.FormatPAX}
	switch {
	case info.IsDir():
		e.Type, hdr.Typeflag, hdr.Name = activities.EntryDir, tar.TypeDir, rel+"/"
		return e, tw.WriteHeader(hdr)
	case info.Mode()&fs.ModeSymlink != 0:
		link, err := os.Readlink(name)
		if err != nil {
			return e, err
		}
		e.Type, e.Link, hdr.Typeflag, hdr.Linkname = activities.EntrySymlink, link, tar.TypeSymlink, link
		return e, tw.WriteHeader(hdr)
	case !info.Mode().IsRegular():
		return e, activities.Permanent(activities.ErrTypeNotInBackup, "cannot archive %s: not a file, directory or symbolic link (%v)", name, info.Mode().Type())
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
		return e, activities.ErrTreeChanged
	}
	e.Type, e.Size, hdr.Typeflag, hdr.Size = activities.EntryFile, st.Size(), tar.TypeReg, st.Size()
	if err := tw.WriteHeader(hdr); err != nil {
		return e, err
	}
	fh := sha256.New()
	n, err := io.Copy(p.Writer(io.MultiWriter(tw, fh)), file)
	if err != nil {
		if errors.Is(err, tar.ErrWriteTooLong) {
			return e, activities.ErrTreeChanged
		}
		return e, err
	}
	after, err := os.Lstat(name)
	if err != nil {
		return e, err
	}
	if n != e.Size || after.Size() != e.Size || !after.ModTime().Equal(info.ModTime()) {
		return e, activities.ErrTreeChanged
	}
	e.SHA256 = hex.EncodeToString(fh.Sum(nil))
	return e, nil
}
