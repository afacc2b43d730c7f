package renamewiki

import (
	"context"
	"errors"
	"fmt"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/mediawiki"
	"github.com/wikiflow/wikiflow/process"
)

// RenameWikiRows makes every central row of the wiki (farmdb.WikiTables:
// its registration, settings, permissions and namespaces) name the new
// database, in one transaction; rows already renamed are left as they
// are. The farm looks a wiki up by these rows on every request, so from
// here on the new name is the wiki and the old one answers 404. Outputs:
// counts (rows per table).
func (f *Activities) RenameWikiRows(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	from, to, err := names(in)
	if err != nil {
		return process.StepResult{}, err
	}
	renamed, err := f.Central.RenameWikiRows(ctx, from, to)
	switch {
	case errors.Is(err, farmdb.ErrRenameTargetRegistered):
		return process.StepResult{}, activities.Permanent(activities.ErrTypeWikiExists, "%v", err)
	case err != nil:
		return process.StepResult{}, activities.CentralErr(from, err)
	}
	rows, err := f.Central.ReadWikiRows(ctx, to)
	if err != nil {
		return process.StepResult{}, err
	}
	counts := rows.Counts()
	summary := fmt.Sprintf("the rows of %s now name %s (%s)", from, to, activities.CountsText(counts))
	if !renamed {
		summary = fmt.Sprintf("the rows were already renamed to %s (%s)", to, activities.CountsText(counts))
	}
	out := map[string]string{}
	for table, n := range counts {
		out[table] = fmt.Sprint(n)
	}
	return process.StepResult{Summary: summary, Outputs: out}, nil
}

// RefreshRenamedLists rewrites the farm's wiki lists and runs the farm's
// refresh command for both names: the old one leaves the lists, the new
// one enters them.
func (f *Activities) RefreshRenamedLists(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	from, to, err := names(in)
	if err != nil {
		return process.StepResult{}, err
	}
	for _, wiki := range []string{from, to} {
		if err := f.RefreshWikiLists(ctx, wiki); err != nil {
			return process.StepResult{}, err
		}
	}
	return process.StepResult{Summary: fmt.Sprintf("refreshed the wiki lists for %s and %s", from, to)}, nil
}

// ReopenRenamed reopens the wiki under its new name and checks over the
// API that the new name answers as the wiki (its database and the sitename
// it had) and is writable, and that the old name is not served; then logs
// the rename on the central wiki (managewiki/rename).
func (f *Activities) ReopenRenamed(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	from, to, err := names(in)
	if err != nil {
		return process.StepResult{}, err
	}
	if err := f.ReopenServed(ctx, to); err != nil {
		return process.StepResult{}, err
	}
	si, err := f.API.SiteInfo(ctx, to)
	if err != nil {
		return process.StepResult{}, fmt.Errorf("%s is reopened but its API does not answer: %w", to, err)
	}
	if si.DBName != to || si.SiteName != in.Args[ArgSitename] {
		return process.StepResult{}, fmt.Errorf("%s answers as %s (%q), not as the renamed wiki %q", to, si.DBName, si.SiteName, in.Args[ArgSitename])
	}
	if _, err := f.API.SiteInfo(ctx, from); err == nil {
		return process.StepResult{}, fmt.Errorf("%s is renamed to %s but the farm still serves %s", from, to, from)
	} else if !errors.Is(err, mediawiki.ErrUnknownWiki) {
		return process.StepResult{}, err
	}
	central := f.CentralHint(in.Params[activities.ParamCentralWiki], "")
	if err := f.WriteLog(ctx, activities.LogEntry{
		Wiki: activities.OrDefault(central, to), Central: true, Type: activities.LogManageWiki, Action: "rename",
		Performer: in.Requester, Target: activities.ProcessPage(in.ProcessID), Comment: in.Args[ArgReason],
		Params: map[string]any{"4::wiki": from, "5::to": to}, Key: activities.StepKey(ctx, in, activities.LogManageWiki+"/rename"),
	}); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: fmt.Sprintf("%s answers as %q and is writable; %s is not served any more", to, si.SiteName, from)}, nil
}

// DropOldDatabase drops the old database once every table has left it,
// and with it the old name's claims: nothing of the wiki is under that
// name any more. A table still in it is left for a person to look at.
func (f *Activities) DropOldDatabase(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	m, err := f.locateTables(ctx, in)
	if err != nil {
		return process.StepResult{}, err
	}
	from := m.from
	if len(m.left) > 0 {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeNotOurs, "%s still holds %d tables (%v): it is not dropped", from, len(m.left), m.left)
	}
	quoted, err := farmdb.QuoteDB(from)
	if err != nil {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "%v", err)
	}
	if _, err := m.server.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoted); err != nil {
		return process.StepResult{}, err
	}
	if _, err := f.Central.ReleaseClaims(ctx, from); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: fmt.Sprintf("dropped the empty database %s on cluster %s", from, m.cluster)}, nil
}
