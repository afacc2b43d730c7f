package restorewiki

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
)

// RestoreUploads puts the wiki's upload directory back from the archive:
// extracted into <upload root>/.restore-<db> (same file system), every
// file's size and sha256 checked against the manifest as it streams, then
// renamed into place. A directory already there that holds exactly the
// manifest's files with their checksums (a rerun) is kept; any other one is
// moved aside to <upload root>/.<db>-replaced-<time>, never deleted.
// Outputs: path, files, bytes, and moved_aside when something was.
func (f *Activities) RestoreUploads(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db := in.Wiki.DB
	dir, err := f.UploadDir(db)
	if err != nil {
		return process.StepResult{}, err
	}
	set, err := restoreSet(in)
	if err != nil {
		return process.StepResult{}, err
	}
	if _, err := f.ourClaim(ctx, in); err != nil {
		return process.StepResult{}, err
	}
	fp := set.Manifest.Files
	m, err := activities.IntactFiles(set.Part(fp.Manifest), fp.ManifestSHA256)
	if err != nil {
		return process.StepResult{}, err
	}
	outputs := map[string]string{"path": dir, "files": fmt.Sprint(m.Files), "bytes": fmt.Sprint(m.Bytes)}
	root := filepath.Dir(dir)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return process.StepResult{}, activities.Permanent(activities.ErrMisconfigured, "mediawiki.upload_root: %v", err)
	}
	if _, err := os.Lstat(dir); err == nil {
		same, err := sameContent(ctx, dir, m)
		if err != nil {
			return process.StepResult{}, err
		}
		if same {
			return process.StepResult{Summary: fmt.Sprintf("%s already holds the %d files of the backup, with their checksums", dir, m.Files), Outputs: outputs}, nil
		}
		aside := filepath.Join(root, fmt.Sprintf(".%s-replaced-%s", db, time.Now().UTC().Format("20060102T150405.000000000Z")))
		if err := os.Rename(dir, aside); err != nil {
			return process.StepResult{}, err
		}
		outputs["moved_aside"] = aside
	} else if !errors.Is(err, os.ErrNotExist) {
		return process.StepResult{}, err
	}
	tmp := filepath.Join(root, ".restore-"+db)
	if err := os.RemoveAll(tmp); err != nil {
		return process.StepResult{}, err
	}
	if err := activities.ExtractArchive(ctx, set.Part(fp.Archive), m, tmp); err != nil {
		os.RemoveAll(tmp)
		return process.StepResult{}, err
	}
	if diff, err := activities.TreeDiff(ctx, tmp, m); err != nil || diff != "" {
		os.RemoveAll(tmp)
		if err == nil {
			err = activities.Permanent(activities.ErrBackupMismatch, "the archive %s does not restore its manifest: %s", fp.Archive, diff)
		}
		return process.StepResult{}, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return process.StepResult{}, err
	}
	activities.SyncDir(root)
	summary := fmt.Sprintf("restored %s from %s: %d files, %d bytes, every checksum as listed", dir, fp.Archive, m.Files, m.Bytes)
	if a := outputs["moved_aside"]; a != "" {
		summary += "; what was there is kept in " + a
	}
	return process.StepResult{Summary: summary, Outputs: outputs}, nil
}

// sameContent tells whether dir holds exactly the manifest's entries, each
// file with its recorded size and sha256.
func sameContent(ctx context.Context, dir string, m activities.FilesManifest) (bool, error) {
	diff, err := activities.TreeDiff(ctx, dir, m)
	if err != nil || diff != "" {
		return false, err
	}
	p := activities.NewProgress(ctx, "checking "+dir)
	for _, e := range m.Entries {
		if e.Type != activities.EntryFile {
			continue
		}
		file, err := os.Open(filepath.Join(dir, filepath.FromSlash(e.Path)))
		if err != nil {
			return false, err
		}
		h := sha256.New()
		_, err = io.Copy(p.Writer(h), file)
		file.Close()
		if err != nil {
			return false, err
		}
		if hex.EncodeToString(h.Sum(nil)) != e.SHA256 {
			return false, nil
		}
		p.File()
	}
	return true, nil
}
