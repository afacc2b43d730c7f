package restorewiki

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

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
)

// ourClaim is this process's claim on the name; anything else is ErrNotOurs.
func (f *Activities) ourClaim(ctx context.Context, in process.StepInput) (farmdb.Claim, error) {
	claim, ok, err := f.Central.GetClaim(ctx, in.Wiki.DB)
	if err != nil {
		return claim, err
	}
	if !ok || claim.Process != in.ProcessID {
		return claim, activities.Permanent(activities.ErrTypeNotOurs, "the name %s is not claimed by this process (%s): the database step claims it first", in.Wiki.DB, claim.Process)
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
func (f *Activities) RestoreDatabase(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db, quoted, err := activities.QuotedWikiDB(in)
	if err != nil {
		return process.StepResult{}, err
	}
	set, err := restoreSet(in)
	if err != nil {
		return process.StepResult{}, err
	}
	want := set.Manifest.Database.Counts
	claim, err := f.ClaimName(ctx, in, set.Manifest.Cluster, func(ctx context.Context) error {
		if existing, err := f.Clusters.FindDatabase(ctx, db); err != nil || existing != "" {
			if err == nil {
				err = activities.Permanent(activities.ErrTypeWikiExists, "a database %s exists on cluster %s: the name is taken", db, existing)
			}
			return err
		}
		if _, err := f.Central.Wiki(ctx, db); err == nil {
			return activities.Permanent(activities.ErrTypeWikiExists, "%s is registered in cw_wikis: the name is taken", db)
		}
		return nil
	})
	if err != nil {
		return process.StepResult{}, err
	}
	server, conn, err := f.ClusterTools(claim.Cluster)
	if err != nil {
		return process.StepResult{}, err
	}
	outputs := map[string]string{"cluster": claim.Cluster, "tables": fmt.Sprint(len(want)), "rows": fmt.Sprint(activities.TotalRows(want))}
	exists, err := f.Clusters.DatabaseExists(ctx, claim.Cluster, db)
	if err != nil {
		return process.StepResult{}, err
	}
	if exists {
		got, err := farmdb.TableRowCounts(ctx, server, db)
		if err != nil {
			return process.StepResult{}, err
		}
		if activities.CountsDiff(want, got) == "" {
			return process.StepResult{Summary: fmt.Sprintf("%s is already restored on cluster %s: %d tables, %d rows", db, claim.Cluster, len(got), activities.TotalRows(got)), Outputs: outputs}, nil
		}
		// This process's own load that did not finish.
		if _, err := server.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoted); err != nil {
			return process.StepResult{}, err
		}
	}
	if _, err := server.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+quoted+" CHARACTER SET binary"); err != nil {
		return process.StepResult{}, err
	}
	dump := set.Part(set.Manifest.Database.File)
	file, err := os.Open(dump)
	if err != nil {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeBackupMissing, "the backup %s: %v", dump, err)
	}
	defer file.Close()
	if err := f.RunTool(ctx, activities.OrDefault(f.Backup.ClientCommand, activities.DefaultClientCommand), conn,
		[]string{"--binary-mode", "--batch", db}, file, io.Discard); err != nil {
		return process.StepResult{}, err
	}
	got, err := farmdb.TableRowCounts(ctx, server, db)
	if err != nil {
		return process.StepResult{}, err
	}
	if diff := activities.CountsDiff(want, got); diff != "" {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeBackupMismatch, "the backup %s does not restore what was dumped: %s", dump, diff)
	}
	return process.StepResult{
		Summary: fmt.Sprintf("restored %s from %s on cluster %s: %d tables, %d rows, as dumped", db, filepath.Base(dump), claim.Cluster, len(got), activities.TotalRows(got)),
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
		return process.StepResult{}, activities.Permanent(activities.ErrTypeMisconfigured, "mediawiki.upload_root: %v", err)
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
			err = activities.Permanent(activities.ErrTypeBackupMismatch, "the archive %s does not restore its manifest: %s", fp.Archive, diff)
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

// RestoreWikiRows puts the wiki's rows of cw_wikis, mw_settings,
// mw_permissions and mw_namespaces back from the backup, in one
// transaction, on the cluster this process restored the database to, and
// reads them back to compare. Only under this process's claim: the rows the
// name has then are this process's own from an earlier attempt. The wiki is
// still closed and marked deleted, as it was backed up; ReopenWiki opens
// it. Outputs: counts (JSON table -> rows).
func (f *Activities) RestoreWikiRows(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db, err := activities.WikiDB(in)
	if err != nil {
		return process.StepResult{}, err
	}
	set, err := restoreSet(in)
	if err != nil {
		return process.StepResult{}, err
	}
	claim, err := f.ourClaim(ctx, in)
	if err != nil {
		return process.StepResult{}, err
	}
	name := set.Part(set.Manifest.Rows.File)
	b, err := activities.ReadRows(name)
	if err != nil {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeBackupMismatch, "the rows %s: %v", name, err)
	}
	if b.DB != db || !b.Tables.Registered() {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeBackupMismatch, "the rows %s are not a registration of %s", name, db)
	}
	if err := f.Central.RestoreWikiRows(ctx, db, claim.Cluster, b.Tables); err != nil {
		return process.StepResult{}, err
	}
	got, err := f.Central.ReadWikiRows(ctx, db)
	if err != nil {
		return process.StepResult{}, err
	}
	if diff := b.Tables.WithValue("cw_wikis", "wiki_dbcluster", claim.Cluster).Diff(got); diff != "" {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeBackupMismatch, "the rows of %s do not read back as restored from %s: %s", db, name, diff)
	}
	counts := got.Counts()
	text, _ := json.Marshal(counts)
	return process.StepResult{
		Summary: fmt.Sprintf("restored the rows of %s (%s) from %s", db, activities.CountsText(counts), filepath.Base(name)),
		Outputs: map[string]string{"counts": string(text)},
	}, nil
}
