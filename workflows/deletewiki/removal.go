package deletewiki

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
)

// DropWikiDatabase drops the wiki's database, and only after VerifyBackup
// succeeded and its backup file is still on disk with the verified sha256.
// Any claim on the name (wf_database_claims) goes with it.
func (f *Activities) DropWikiDatabase(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db, quoted, err := activities.QuotedWikiDB(in)
	if err != nil {
		return process.StepResult{}, err
	}
	step := activities.OrDefault(in.Params["verify_step"], DefaultVerifyStep)
	rec := in.Outputs[step]
	if rec["verified"] != "true" || rec["path"] == "" || rec["sha256"] == "" {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeNoVerifiedBackup, "refusing to drop %s: no verified backup (the step %s has not succeeded)", db, step)
	}
	if typ, err := activities.FileProblem(rec["path"], rec["sha256"]); typ != "" {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeNoVerifiedBackup, "refusing to drop %s: %v", db, err)
	} else if err != nil {
		return process.StepResult{}, err
	}
	cluster, err := f.WikiCluster(ctx, db)
	if err != nil {
		return process.StepResult{}, err
	}
	summary := fmt.Sprintf("%s was already gone", db)
	if cluster != "" {
		server, err := f.Clusters.Server(cluster)
		if err != nil {
			return process.StepResult{}, activities.Permanent(activities.ErrTypeMisconfigured, "%v", err)
		}
		if _, err := server.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoted); err != nil {
			return process.StepResult{}, err
		}
		summary = fmt.Sprintf("dropped %s on cluster %s", db, cluster)
	}
	released, err := f.Central.ReleaseClaims(ctx, db)
	if err != nil {
		return process.StepResult{}, err
	}
	if released {
		summary += " and released its claim"
	}
	if err := f.logDeletion(ctx, in, activities.LogFarmer, "dropwiki"); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: summary + "; backup " + rec["path"]}, nil
}

// RemoveWikiRows deletes the wiki's rows from cw_wikis and ManageWiki's
// tables (settings, permissions, namespaces), in one transaction. When its
// params name the verification step (verify_step), it removes them only if
// that step verified an export of them and they are still the exported
// rows; a process started before rows were exported names none.
func (f *Activities) RemoveWikiRows(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db, err := activities.WikiDB(in)
	if err != nil {
		return process.StepResult{}, err
	}
	if step := in.Params["verify_step"]; step != "" {
		if err := f.RemoveVerifiedRows(ctx, in, step); err != nil {
			return process.StepResult{}, err
		}
	}
	before, err := f.Central.RowCounts(ctx, db)
	if err != nil {
		return process.StepResult{}, err
	}
	if err := f.Central.UnregisterWiki(ctx, db); err != nil {
		return process.StepResult{}, err
	}
	if err := f.RefreshWikiLists(ctx, db); err != nil {
		return process.StepResult{}, err
	}
	tables := make([]string, 0, len(before))
	n := 0
	for t, c := range before {
		if c > 0 {
			tables = append(tables, fmt.Sprintf("%s %d", t, c))
			n += c
		}
	}
	if n == 0 {
		return process.StepResult{Summary: fmt.Sprintf("%s had no rows left in the central tables", db)}, nil
	}
	sort.Strings(tables)
	return process.StepResult{Summary: fmt.Sprintf("removed %d rows of %s (%s)", n, db, strings.Join(tables, ", "))}, nil
}
