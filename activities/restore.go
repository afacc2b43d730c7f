package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
)

// The restore of a deleted wiki from its latest verified backup (see
// backup.go for what a backup holds). The process runs CheckRestore before
// and after its approval, then RestoreDatabase -> RestoreUploads ->
// RestoreWikiRows -> ReopenWiki. The first step claims the name in
// wf_database_claims, and each later one works only under that claim, so a
// restore never writes over a wiki someone else made meanwhile. Each step
// takes the backup's manifest (Args backup, backup_sha256) and is idempotent.

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

// CheckRestore answers whether the wiki can be restored now, and from
// which backup: the name must be free (not in cw_wikis, no database of that
// name on any cluster, no other process's claim) — else ErrWikiExists; the
// latest verified backup must exist and hold the database, the files and
// the rows — else ErrNoVerifiedBackup; and every part must still have its
// recorded sha256 — else ErrChecksumMismatch or ErrBackupMissing. It
// changes nothing.
func (f *Farm) CheckRestore(ctx context.Context, in CheckRestoreInput) (CheckRestoreResult, error) {
	db := in.DB
	if err := farmdb.CheckDBName(db); err != nil {
		return CheckRestoreResult{}, permanent(ErrInvalidInput, "%v", err)
	}
	if _, err := f.Central.Wiki(ctx, db); err == nil {
		return CheckRestoreResult{}, permanent(ErrWikiExists, "%s is registered in cw_wikis: the name is taken", db)
	} else if !errors.Is(err, farmdb.ErrWikiNotFound) {
		return CheckRestoreResult{}, err
	}
	cluster, err := f.Clusters.FindDatabase(ctx, db)
	if err != nil {
		return CheckRestoreResult{}, err
	}
	if cluster != "" {
		return CheckRestoreResult{}, permanent(ErrWikiExists, "a database %s exists on cluster %s: the name is taken", db, cluster)
	}
	if claim, ok, err := f.Central.GetClaim(ctx, db); err != nil {
		return CheckRestoreResult{}, err
	} else if ok {
		return CheckRestoreResult{}, permanent(ErrWikiExists, "the name %s is claimed by the process %s", db, claim.Process)
	}
	found, err := f.verifiedBackups(db)
	if err != nil {
		return CheckRestoreResult{}, err
	}
	if len(found) == 0 {
		return CheckRestoreResult{}, permanent(ErrNoVerifiedBackup, "there is no verified backup of %s in %s", db, filepath.Join(f.Backup.Dir, db))
	}
	latest := found[0]
	if err := checkParts(latest); err != nil {
		return CheckRestoreResult{}, err
	}
	sum, _, err := FileSHA256(latest.Path)
	if err != nil {
		return CheckRestoreResult{}, err
	}
	w := latest.Manifest
	return CheckRestoreResult{
		Manifest: latest.Path, ManifestSHA256: sum, Process: w.Process, VerifiedAt: w.VerifiedAt,
		Tables: len(w.Database.Counts), Files: w.Files.Files, FileBytes: w.Files.Bytes, Rows: total(w.Rows.Counts),
	}, nil
}

// checkParts fails when the backup lacks a part or a part is not the file
// its manifest recorded.
func checkParts(l locatedBackup) error {
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
		return permanent(ErrNoVerifiedBackup, "the latest verified backup of %s (%s) does not hold %v: it was made by a deletion that did not back them up; restore it by hand",
			w.DB, l.Path, missing)
	}
	for _, p := range []struct{ file, sum string }{
		{w.Database.File, w.Database.SHA256},
		{w.Files.Manifest, w.Files.ManifestSHA256},
		{w.Files.Archive, w.Files.ArchiveSHA256},
		{w.Rows.File, w.Rows.SHA256},
	} {
		if !safeRelative(p.file) || filepath.Base(p.file) != p.file {
			return permanent(ErrBackupMismatch, "the backup manifest %s names %q, which is not a file beside it", l.Path, p.file)
		}
		if err := checkFile(l.part(p.file), p.sum); err != nil {
			return err
		}
	}
	return nil
}

// restoreSet is the backup a restore step works from: the manifest the
// process checked (Args backup), still with the checksum it had then.
func restoreSet(in process.StepInput) (locatedBackup, error) {
	name, sum := in.Args["backup"], in.Args["backup_sha256"]
	if name == "" || sum == "" {
		return locatedBackup{}, permanent(ErrMisconfigured, "step %s needs the arguments backup and backup_sha256", in.Step)
	}
	if err := checkFile(name, sum); err != nil {
		return locatedBackup{}, err
	}
	w, err := readWholeBackup(name)
	if err != nil {
		return locatedBackup{}, permanent(ErrBackupMismatch, "the backup manifest %s: %v", name, err)
	}
	l := locatedBackup{Path: name, Manifest: w}
	if w.DB != in.Wiki.DB {
		return l, permanent(ErrInvalidInput, "the backup %s is of %s, not %s", name, w.DB, in.Wiki.DB)
	}
	return l, checkParts(l)
}

// ourClaim is this process's claim on the name; anything else is ErrNotOurs.
func (f *Farm) ourClaim(ctx context.Context, in process.StepInput) (farmdb.Claim, error) {
	claim, ok, err := f.Central.GetClaim(ctx, in.Wiki.DB)
	if err != nil {
		return claim, err
	}
	if !ok || claim.Process != in.ProcessID {
		return claim, permanent(ErrNotOurs, "the name %s is not claimed by this process (%s): the database step claims it first", in.Wiki.DB, claim.Process)
	}
	return claim, nil
}

// RestoreDatabase claims the name for this process, creates the wiki's
// database on the backup's cluster (or the least used one when that is not
// configured any more), loads the dump with the configured client and
// checks every table's row count against the counts recorded at the dump.
// A database that exists without this process's claim is refused
// (ErrWikiExists / ErrNotOurs); one of this process with other counts (a
// load that died halfway) is dropped and loaded again. Outputs: cluster,
// tables, rows.
func (f *Farm) RestoreDatabase(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db := in.Wiki.DB
	quoted, err := farmdb.QuoteDB(db)
	if err != nil {
		return process.StepResult{}, permanent(ErrInvalidInput, "%v", err)
	}
	set, err := restoreSet(in)
	if err != nil {
		return process.StepResult{}, err
	}
	want := set.Manifest.Database.Counts
	claim, claimed, err := f.Central.GetClaim(ctx, db)
	if err != nil {
		return process.StepResult{}, err
	}
	if claimed && claim.Process != in.ProcessID {
		return process.StepResult{}, permanent(ErrNotOurs, "the name %s is claimed by the process %s", db, claim.Process)
	}
	if !claimed {
		if existing, err := f.Clusters.FindDatabase(ctx, db); err != nil {
			return process.StepResult{}, err
		} else if existing != "" {
			return process.StepResult{}, permanent(ErrWikiExists, "a database %s exists on cluster %s: the name is taken", db, existing)
		}
		if _, err := f.Central.Wiki(ctx, db); err == nil {
			return process.StepResult{}, permanent(ErrWikiExists, "%s is registered in cw_wikis: the name is taken", db)
		}
		cluster := set.Manifest.Cluster
		if _, err := f.Clusters.Server(cluster); err != nil {
			if cluster, err = f.Central.LeastUsedCluster(ctx, f.Clusters.Names()); err != nil {
				return process.StepResult{}, err
			}
		}
		claim = farmdb.Claim{DBName: db, Process: in.ProcessID, Cluster: cluster}
		if err := f.Central.PutClaim(ctx, claim); err != nil {
			if errors.Is(err, farmdb.ErrClaimedByOther) {
				return process.StepResult{}, permanent(ErrNotOurs, "%v", err)
			}
			return process.StepResult{}, err
		}
	}
	server, err := f.Clusters.Server(claim.Cluster)
	if err != nil {
		return process.StepResult{}, permanent(ErrMisconfigured, "%v", err)
	}
	conn, err := f.Clusters.ToolConnection(claim.Cluster)
	if err != nil {
		return process.StepResult{}, permanent(ErrMisconfigured, "%v", err)
	}
	outputs := map[string]string{"cluster": claim.Cluster, "tables": fmt.Sprint(len(want)), "rows": fmt.Sprint(totalRows(want))}
	exists, err := f.Clusters.DatabaseExists(ctx, claim.Cluster, db)
	if err != nil {
		return process.StepResult{}, err
	}
	if exists {
		got, err := farmdb.TableRowCounts(ctx, server, db)
		if err != nil {
			return process.StepResult{}, err
		}
		if countsDiff(want, got) == "" {
			return process.StepResult{Summary: fmt.Sprintf("%s is already restored on cluster %s: %d tables, %d rows", db, claim.Cluster, len(got), totalRows(got)), Outputs: outputs}, nil
		}
		// This process's own load that did not finish.
		if _, err := server.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoted); err != nil {
			return process.StepResult{}, err
		}
	}
	if _, err := server.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+quoted+" CHARACTER SET binary"); err != nil {
		return process.StepResult{}, err
	}
	dump := set.part(set.Manifest.Database.File)
	file, err := os.Open(dump)
	if err != nil {
		return process.StepResult{}, permanent(ErrBackupMissing, "the backup %s: %v", dump, err)
	}
	defer file.Close()
	if err := f.runTool(ctx, orDefault(f.Backup.ClientCommand, DefaultClientCommand), conn,
		[]string{"--binary-mode", "--batch", db}, file, io.Discard); err != nil {
		return process.StepResult{}, err
	}
	got, err := farmdb.TableRowCounts(ctx, server, db)
	if err != nil {
		return process.StepResult{}, err
	}
	if diff := countsDiff(want, got); diff != "" {
		return process.StepResult{}, permanent(ErrBackupMismatch, "the backup %s does not restore what was dumped: %s", dump, diff)
	}
	return process.StepResult{
		Summary: fmt.Sprintf("restored %s from %s on cluster %s: %d tables, %d rows, as dumped", db, filepath.Base(dump), claim.Cluster, len(got), totalRows(got)),
		Outputs: outputs,
	}, nil
}

// RestoreUploads puts the wiki's upload directory back from the archive:
// extracted into <upload root>/.restore-<db> (same file system), every
// file's size and sha256 checked against the manifest as it streams, then
// renamed into place. A directory already there that holds exactly the
// manifest's files with their checksums (a rerun) is kept; any other one is
// moved aside to <upload root>/.<db>-replaced-<time>, never deleted.
// Outputs: path, files, bytes, and moved_aside when something was.
func (f *Farm) RestoreUploads(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db := in.Wiki.DB
	dir, err := f.uploadDir(db)
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
	m, err := intactFiles(set.part(fp.Manifest), fp.ManifestSHA256)
	if err != nil {
		return process.StepResult{}, err
	}
	outputs := map[string]string{"path": dir, "files": fmt.Sprint(m.Files), "bytes": fmt.Sprint(m.Bytes)}
	root := filepath.Dir(dir)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return process.StepResult{}, permanent(ErrMisconfigured, "mediawiki.upload_root: %v", err)
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
	if err := extractArchive(ctx, set.part(fp.Archive), m, tmp); err != nil {
		os.RemoveAll(tmp)
		return process.StepResult{}, err
	}
	if diff, err := treeDiff(ctx, tmp, m); err != nil || diff != "" {
		os.RemoveAll(tmp)
		if err == nil {
			err = permanent(ErrBackupMismatch, "the archive %s does not restore its manifest: %s", fp.Archive, diff)
		}
		return process.StepResult{}, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return process.StepResult{}, err
	}
	syncDir(root)
	summary := fmt.Sprintf("restored %s from %s: %d files, %d bytes, every checksum as listed", dir, fp.Archive, m.Files, m.Bytes)
	if a := outputs["moved_aside"]; a != "" {
		summary += "; what was there is kept in " + a
	}
	return process.StepResult{Summary: summary, Outputs: outputs}, nil
}

// sameContent tells whether dir holds exactly the manifest's entries, each
// file with its recorded size and sha256.
func sameContent(ctx context.Context, dir string, m filesManifest) (bool, error) {
	diff, err := treeDiff(ctx, dir, m)
	if err != nil || diff != "" {
		return false, err
	}
	p := newProgress(ctx, "checking "+dir)
	for _, e := range m.Entries {
		if e.Type != entryFile {
			continue
		}
		file, err := os.Open(filepath.Join(dir, filepath.FromSlash(e.Path)))
		if err != nil {
			return false, err
		}
		h := sha256.New()
		_, err = io.Copy(p.writer(h), file)
		file.Close()
		if err != nil {
			return false, err
		}
		if hex.EncodeToString(h.Sum(nil)) != e.SHA256 {
			return false, nil
		}
		p.file()
	}
	return true, nil
}

// RestoreWikiRows puts the wiki's rows of cw_wikis, mw_settings,
// mw_permissions and mw_namespaces back from the backup, in one
// transaction, on the cluster this process restored the database to, and
// reads them back to compare. Only under this process's claim: the rows the
// name has then are this process's own from an earlier attempt. The wiki is
// still closed and marked deleted, as it was backed up; ReopenWiki opens
// it. Outputs: counts (JSON table -> rows).
func (f *Farm) RestoreWikiRows(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db := in.Wiki.DB
	if err := farmdb.CheckDBName(db); err != nil {
		return process.StepResult{}, permanent(ErrInvalidInput, "%v", err)
	}
	set, err := restoreSet(in)
	if err != nil {
		return process.StepResult{}, err
	}
	claim, err := f.ourClaim(ctx, in)
	if err != nil {
		return process.StepResult{}, err
	}
	name := set.part(set.Manifest.Rows.File)
	b, err := readRows(name)
	if err != nil {
		return process.StepResult{}, permanent(ErrBackupMismatch, "the rows %s: %v", name, err)
	}
	if b.DB != db || !b.Tables.Registered() {
		return process.StepResult{}, permanent(ErrBackupMismatch, "the rows %s are not a registration of %s", name, db)
	}
	if err := f.Central.RestoreWikiRows(ctx, db, claim.Cluster, b.Tables); err != nil {
		return process.StepResult{}, err
	}
	got, err := f.Central.ReadWikiRows(ctx, db)
	if err != nil {
		return process.StepResult{}, err
	}
	if diff := b.Tables.WithValue("cw_wikis", "wiki_dbcluster", claim.Cluster).Diff(got); diff != "" {
		return process.StepResult{}, permanent(ErrBackupMismatch, "the rows of %s do not read back as restored from %s: %s", db, name, diff)
	}
	counts := got.Counts()
	text, _ := json.Marshal(counts)
	return process.StepResult{
		Summary: fmt.Sprintf("restored the rows of %s (%s) from %s", db, countsText(counts), filepath.Base(name)),
		Outputs: map[string]string{"counts": string(text)},
	}, nil
}
