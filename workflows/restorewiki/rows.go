package restorewiki

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
)

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
		return process.StepResult{}, activities.Permanent(activities.ErrBackupMismatch, "the rows %s: %v", name, err)
	}
	if b.DB != db || !b.Tables.Registered() {
		return process.StepResult{}, activities.Permanent(activities.ErrBackupMismatch, "the rows %s are not a registration of %s", name, db)
	}
	if err := f.Central.RestoreWikiRows(ctx, db, claim.Cluster, b.Tables); err != nil {
		return process.StepResult{}, err
	}
	got, err := f.Central.ReadWikiRows(ctx, db)
	if err != nil {
		return process.StepResult{}, err
	}
	if diff := b.Tables.WithValue("cw_wikis", "wiki_dbcluster", claim.Cluster).Diff(got); diff != "" {
		return process.StepResult{}, activities.Permanent(activities.ErrBackupMismatch, "the rows of %s do not read back as restored from %s: %s", db, name, diff)
	}
	counts := got.Counts()
	text, _ := json.Marshal(counts)
	return process.StepResult{
		Summary: fmt.Sprintf("restored the rows of %s (%s) from %s", db, activities.CountsText(counts), filepath.Base(name)),
		Outputs: map[string]string{"counts": string(text)},
	}, nil
}
