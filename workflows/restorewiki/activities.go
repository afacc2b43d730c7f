package restorewiki

import (
	"context"
	"errors"
	"path/filepath"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
)

// Names of the restore's activities.
const (
	NameCheckRestore    = "CheckRestore" // CheckRestoreInput -> CheckRestoreResult, not a step
	NameRestoreDatabase = "RestoreDatabase"
	NameRestoreUploads  = "RestoreUploads"
	NameRestoreWikiRows = "RestoreWikiRows"
)

// RestoreStepActivities lists the restore's step activities (StepInput ->
// StepResult); it also runs ReopenWiki, and DropDatabase, RemoveStorage and
// UnregisterWiki as undo.
var RestoreStepActivities = []string{NameRestoreDatabase, NameRestoreUploads, NameRestoreWikiRows}

// CheckRestoreInput names the wiki to restore.
type CheckRestoreInput struct {
	DB string `json:"db"`
}

// CheckRestoreResult describes the backup a restore would use.
type CheckRestoreResult struct {
	Manifest       string `json:"manifest"` // path of its backup.json
	ManifestSHA256 string `json:"manifest_sha256"`
	Process        string `json:"process"` // the deletion that made it
	VerifiedAt     string `json:"verified_at"`
	Tables         int    `json:"tables"`
	Files          int    `json:"files"`
	FileBytes      int64  `json:"file_bytes"`
	Rows           int    `json:"rows"` // in the central tables
}

// Activities are the restorewiki process's own activities, on the farm's shared
// dependencies. Their methods are registered one by one (see Register), so
// the helpers of the embedded Farm are never registered a second time.
type Activities struct{ *activities.Farm }

// CheckRestore answers whether the wiki can be restored now, and from
// which backup: the name must be free (not in cw_wikis, no database of that
// name on any cluster, no other process's claim) — else ErrWikiExists; the
// latest verified backup must exist and hold the database, the files and
// the rows — else activities.ErrTypeNoVerifiedBackup; and every part must still have its
// recorded sha256 — else activities.ErrTypeChecksumMismatch or activities.ErrTypeBackupMissing. It
// changes nothing.
func (f *Activities) CheckRestore(ctx context.Context, in CheckRestoreInput) (CheckRestoreResult, error) {
	db, err := activities.CheckedDB(in.DB)
	if err != nil {
		return CheckRestoreResult{}, err
	}
	if _, err := f.Central.Wiki(ctx, db); err == nil {
		return CheckRestoreResult{}, activities.Permanent(activities.ErrTypeWikiExists, "%s is registered in cw_wikis: the name is taken", db)
	} else if !errors.Is(err, farmdb.ErrWikiNotFound) {
		return CheckRestoreResult{}, err
	}
	cluster, err := f.Clusters.FindDatabase(ctx, db)
	if err != nil {
		return CheckRestoreResult{}, err
	}
	if cluster != "" {
		return CheckRestoreResult{}, activities.Permanent(activities.ErrTypeWikiExists, "a database %s exists on cluster %s: the name is taken", db, cluster)
	}
	if claim, ok, err := f.Central.GetClaim(ctx, db); err != nil {
		return CheckRestoreResult{}, err
	} else if ok {
		return CheckRestoreResult{}, activities.Permanent(activities.ErrTypeWikiExists, "the name %s is claimed by the process %s", db, claim.Process)
	}
	found, err := f.VerifiedBackups(db)
	if err != nil {
		return CheckRestoreResult{}, err
	}
	if len(found) == 0 {
		return CheckRestoreResult{}, activities.Permanent(activities.ErrTypeNoVerifiedBackup, "there is no verified backup of %s in %s", db, filepath.Join(f.Backup.Dir, db))
	}
	latest := found[0]
	if err := checkParts(latest); err != nil {
		return CheckRestoreResult{}, err
	}
	sum, _, err := activities.FileSHA256(latest.Path)
	if err != nil {
		return CheckRestoreResult{}, err
	}
	w := latest.Manifest
	return CheckRestoreResult{
		Manifest: latest.Path, ManifestSHA256: sum, Process: w.Process, VerifiedAt: w.VerifiedAt,
		Tables: len(w.Database.Counts), Files: w.Files.Files, FileBytes: w.Files.Bytes, Rows: activities.Total(w.Rows.Counts),
	}, nil
}

// checkParts fails when the backup lacks a part or a part is not the file
// its manifest recorded.
func checkParts(l activities.LocatedBackup) error {
	w := l.Manifest
	var missing []string
	if w.Database == nil {
		missing = append(missing, "the database")
	}
	if w.Files == nil {
		missing = append(missing, "the files")
	}
	if w.Rows == nil {
		missing = append(missing, "the central rows")
	}
	if len(missing) > 0 {
		return activities.Permanent(activities.ErrTypeNoVerifiedBackup, "the latest verified backup of %s (%s) does not hold %v: it was made by a deletion that did not back them up; restore it by hand",
			w.DB, l.Path, missing)
	}
	for _, p := range []struct{ file, sum string }{
		{w.Database.File, w.Database.SHA256},
		{w.Files.Manifest, w.Files.ManifestSHA256},
		{w.Files.Archive, w.Files.ArchiveSHA256},
		{w.Rows.File, w.Rows.SHA256},
	} {
		if !activities.SafeRelative(p.file) || filepath.Base(p.file) != p.file {
			return activities.Permanent(activities.ErrTypeBackupMismatch, "the backup manifest %s names %q, which is not a file beside it", l.Path, p.file)
		}
		if err := activities.CheckFile(l.Part(p.file), p.sum); err != nil {
			return err
		}
	}
	return nil
}

// restoreSet is the backup a restore step works from: the manifest the
// process checked (Args backup), still with the checksum it had then.
func restoreSet(in process.StepInput) (activities.LocatedBackup, error) {
	name, sum := in.Args["backup"], in.Args["backup_sha256"]
	if name == "" || sum == "" {
		return activities.LocatedBackup{}, activities.Permanent(activities.ErrTypeMisconfigured, "step %s needs the arguments backup and backup_sha256", in.Step)
	}
	if err := activities.CheckFile(name, sum); err != nil {
		return activities.LocatedBackup{}, err
	}
	w, err := activities.ReadWholeBackup(name)
	if err != nil {
		return activities.LocatedBackup{}, activities.Permanent(activities.ErrTypeBackupMismatch, "the backup manifest %s: %v", name, err)
	}
	l := activities.LocatedBackup{Path: name, Manifest: w}
	if w.DB != in.Wiki.DB {
		return l, activities.Permanent(activities.ErrTypeInvalidInput, "the backup %s is of %s, not %s", name, w.DB, in.Wiki.DB)
	}
	return l, checkParts(l)
}
