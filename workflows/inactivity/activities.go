package inactivity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
)

// Names under which the inactivity activities are registered.
const (
	NameReadInactivity = "ReadInactivity"
	NameSweepPage      = "SweepInactivityPage"
	NameMarkInactive   = "MarkInactive"
	NameMarkActive     = "MarkActive"
	NameReopenInactive = "ReopenInactive"
)

// Activities are the inactivity process's own activities, on the farm's
// shared dependencies.
type Activities struct{ *activities.Farm }

// ReadInput names the wiki to read, and the central wiki whose system
// account performs the policy's log entries.
type ReadInput struct {
	Wiki    string
	Central string
}

// ReadInactivity reads what the policy decides on for one wiki: its row,
// its last activity (from its own database, by CreateWiki's rule) and the
// process that owns it, if any.
func (f *Activities) ReadInactivity(ctx context.Context, in ReadInput) (Facts, error) {
	row, err := f.Central.InactivityRowOf(ctx, in.Wiki)
	if errors.Is(err, farmdb.ErrWikiNotFound) {
		return Facts{}, activities.Permanent(activities.ErrTypeWikiNotFound, "%s is not registered in cw_wikis", in.Wiki)
	}
	if err != nil {
		return Facts{}, err
	}
	// The account the policy's steps log as exists before the first of them.
	if _, _, err := f.SystemUserID(ctx, f.CentralHint(in.Central, in.Wiki)); err != nil {
		return Facts{}, err
	}
	return f.facts(ctx, row)
}

func (f *Activities) facts(ctx context.Context, row farmdb.InactivityRow) (Facts, error) {
	facts := Facts{Row: row}
	server, err := f.Clusters.Server(row.Cluster)
	if err != nil {
		return facts, activities.Permanent(activities.ErrTypeMisconfigured, "%s is on cluster %q, which is not configured (database.clusters)", row.DB, row.Cluster)
	}
	if facts.LastActivity, err = farmdb.LastActivity(ctx, server, row.DB); err != nil {
		return facts, fmt.Errorf("reading the last activity of %s: %w", row.DB, err)
	}
	owner, ok, err := f.Central.GetOwner(ctx, row.DB)
	if err != nil {
		return facts, err
	}
	if ok {
		facts.Owner = owner.Process
	}
	return facts, nil
}

// MarkInactive marks the wiki inactive (the first marking's time is kept
// on a rerun) and logs managewiki/inactive on the central wiki.
func (f *Activities) MarkInactive(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db, err := activities.WikiDB(in)
	if err != nil {
		return process.StepResult{}, err
	}
	if err := f.Central.MarkInactive(ctx, db, time.Now()); err != nil {
		return process.StepResult{}, activities.CentralErr(db, err)
	}
	if err := f.log(ctx, in, "inactive", in.Requester, ""); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: fmt.Sprintf("marked %s inactive", db)}, nil
}

// MarkActive clears the wiki's inactive mark.
func (f *Activities) MarkActive(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db, err := activities.WikiDB(in)
	if err != nil {
		return process.StepResult{}, err
	}
	if err := f.Central.MarkActive(ctx, db); err != nil {
		return process.StepResult{}, activities.CentralErr(db, err)
	}
	return process.StepResult{Summary: fmt.Sprintf("marked %s active", db)}, nil
}

// ReopenInactive reopens a wiki closed for inactivity and clears its
// inactive mark, then checks that the farm serves it writable again. The
// entry managewiki/reopen is written on the wiki itself: activity by
// CreateWiki's measure, so the wiki's inactivity counts from now.
func (f *Activities) ReopenInactive(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db, err := activities.WikiDB(in)
	if err != nil {
		return process.StepResult{}, err
	}
	row, err := f.Central.InactivityRowOf(ctx, db)
	if err != nil {
		return process.StepResult{}, activities.CentralErr(db, err)
	}
	if row.Deleted {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "%s is marked deleted: only an undelete brings it back", db)
	}
	if row.Closed && row.ClosedReason != ClosedReason {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "%s was closed for another reason (%q) since: it stays closed", db, row.ClosedReason)
	}
	if err := f.Central.MarkActive(ctx, db); err != nil {
		return process.StepResult{}, activities.CentralErr(db, err)
	}
	if err := f.ReopenServed(ctx, db); err != nil {
		return process.StepResult{}, err
	}
	if err := f.log(ctx, in, "reopen", in.Args["reopened_by"], in.Args["comment"]); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: fmt.Sprintf("reopened %s for %s: served and writable again", db, in.Args["reopened_by"])}, nil
}

// log writes managewiki/<action>: "inactive" on the central wiki, where
// the farm's staff read what the policy did; "reopen" on the wiki itself.
// The policy's own entries are the farm's system account's.
func (f *Activities) log(ctx context.Context, in process.StepInput, action, performer, comment string) error {
	central := f.CentralHint(in.Params[activities.ParamCentralWiki], "")
	if performer == "" || performer == activities.SystemUser {
		_, name, err := f.SystemUserID(ctx, central)
		if err != nil {
			return err
		}
		performer = name
	}
	e := activities.LogEntry{
		Wiki: in.Wiki.DB, Type: activities.LogManageWiki, Action: action, Performer: performer,
		Target: activities.ProcessPage(in.ProcessID), Comment: comment,
		Params: map[string]any{"4::wiki": in.Wiki.DB}, Key: activities.StepKey(ctx, in, "managewiki/"+action),
	}
	if action == "inactive" {
		e.Wiki, e.Central = activities.OrDefault(central, in.Wiki.DB), true
	}
	return f.WriteLog(ctx, e)
}
