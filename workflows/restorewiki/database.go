package restorewiki

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

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
		return claim, activities.Permanent(activities.ErrNotOurs, "the name %s is not claimed by this process (%s): the database step claims it first", in.Wiki.DB, claim.Process)
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
	db := in.Wiki.DB
	quoted, err := farmdb.QuoteDB(db)
	if err != nil {
		return process.StepResult{}, activities.Permanent(activities.ErrInvalidInput, "%v", err)
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
		return process.StepResult{}, activities.Permanent(activities.ErrNotOurs, "the name %s is claimed by the process %s", db, claim.Process)
	}
	if !claimed {
		if existing, err := f.Clusters.FindDatabase(ctx, db); err != nil {
			return process.StepResult{}, err
		} else if existing != "" {
			return process.StepResult{}, activities.Permanent(activities.ErrWikiExists, "a database %s exists on cluster %s: the name is taken", db, existing)
		}
		if _, err := f.Central.Wiki(ctx, db); err == nil {
			return process.StepResult{}, activities.Permanent(activities.ErrWikiExists, "%s is registered in cw_wikis: the name is taken", db)
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
				return process.StepResult{}, activities.Permanent(activities.ErrNotOurs, "%v", err)
			}
			return process.StepResult{}, err
		}
	}
	server, err := f.Clusters.Server(claim.Cluster)
	if err != nil {
		return process.StepResult{}, activities.Permanent(activities.ErrMisconfigured, "%v", err)
	}
	conn, err := f.Clusters.ToolConnection(claim.Cluster)
	if err != nil {
		return process.StepResult{}, activities.Permanent(activities.ErrMisconfigured, "%v", err)
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
		return process.StepResult{}, activities.Permanent(activities.ErrBackupMissing, "the backup %s: %v", dump, err)
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
		return process.StepResult{}, activities.Permanent(activities.ErrBackupMismatch, "the backup %s does not restore what was dumped: %s", dump, diff)
	}
	return process.StepResult{
		Summary: fmt.Sprintf("restored %s from %s on cluster %s: %d tables, %d rows, as dumped", db, filepath.Base(dump), claim.Cluster, len(got), activities.TotalRows(got)),
		Outputs: outputs,
	}, nil
}
