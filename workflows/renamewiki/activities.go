package renamewiki

import (
	"context"
	"errors"

	"go.temporal.io/sdk/activity"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
)

// Names of the rename's activities.
const (
	NameCheckRename           = "CheckRename" // CheckRenameInput -> CheckRenameResult, not a step
	NameCloseForRename        = "CloseForRename"
	NameCreateRenamedDatabase = "CreateRenamedDatabase"
	NameMoveWikiTables        = "MoveWikiTables"
	NameMoveUploads           = "MoveUploads"
	NameRenameWikiRows        = "RenameWikiRows"
	NameRefreshRenamedLists   = "RefreshRenamedLists"
	NameReopenRenamed         = "ReopenRenamed"
	NameDropOldDatabase       = "DropOldDatabase"
)

// RenameStepActivities lists the rename's step activities (StepInput -> StepResult).
var RenameStepActivities = []string{
	NameCloseForRename, NameCreateRenamedDatabase, NameMoveWikiTables, NameMoveUploads,
	NameRenameWikiRows, NameRefreshRenamedLists, NameReopenRenamed, NameDropOldDatabase,
}

// Activities are the renamewiki process's own activities, on the farm's
// shared dependencies. Their methods are registered one by one (see
// activities.RegisterOwn), so the embedded Farm's helpers are not
// registered a second time.
type Activities struct{ *activities.Farm }

// CheckRenameInput names the wiki and the name it would take.
type CheckRenameInput struct {
	DB string `json:"db"`
	To string `json:"to"`
}

// CheckRenameResult describes the wiki as it is now.
type CheckRenameResult struct {
	Sitename string `json:"sitename"`
	Cluster  string `json:"cluster"`
}

// CheckRename answers whether the wiki can take the new name now: the wiki
// must be registered, open and not deleted (the rename closes and reopens
// it, which would undo someone's closing); the new name must be one
// CreateWiki gives a new wiki (activities.WikiRules) and free: not in
// cw_wikis, no database of that name on any cluster and no other process's
// claim on it. A failure is ErrTypeInvalidInput, ErrTypeWikiNotFound or
// ErrTypeWikiExists. It changes nothing.
func (f *Activities) CheckRename(ctx context.Context, in CheckRenameInput) (CheckRenameResult, error) {
	db, err := activities.CheckedDB(in.DB)
	if err != nil {
		return CheckRenameResult{}, err
	}
	if problem := f.Rules.DBNameProblem(in.To); problem != "" {
		return CheckRenameResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "invalid new name: %s", problem)
	}
	to, err := activities.CheckedDB(in.To)
	if err != nil {
		return CheckRenameResult{}, err
	}
	if to == db {
		return CheckRenameResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "%s already has that name", db)
	}
	w, err := f.Central.Wiki(ctx, db)
	if err != nil {
		return CheckRenameResult{}, activities.CentralErr(db, err)
	}
	switch {
	case w.Deleted:
		return CheckRenameResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "%s is deleted: restore it before renaming it", db)
	case w.Closed:
		return CheckRenameResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "%s is closed: reopen it before renaming it", db)
	}
	if err := f.nameFree(ctx, to, activity.GetInfo(ctx).WorkflowExecution.ID); err != nil {
		return CheckRenameResult{}, err
	}
	return CheckRenameResult{Sitename: w.Sitename, Cluster: w.Cluster}, nil
}

// nameFree fails with ErrTypeWikiExists when the name is registered, has
// a database on a cluster, or is claimed by a process other than processID.
func (f *Activities) nameFree(ctx context.Context, name, processID string) error {
	if _, err := f.Central.Wiki(ctx, name); err == nil {
		return activities.Permanent(activities.ErrTypeWikiExists, "%s is registered in cw_wikis: the name is taken", name)
	} else if !errors.Is(err, farmdb.ErrWikiNotFound) {
		return err
	}
	if claim, ok, err := f.Central.GetClaim(ctx, name); err != nil {
		return err
	} else if ok && claim.Process != processID {
		return activities.Permanent(activities.ErrTypeWikiExists, "the name %s is claimed by the process %s", name, claim.Process)
	}
	cluster, err := f.Clusters.FindDatabase(ctx, name)
	if err != nil {
		return err
	}
	if cluster != "" {
		return activities.Permanent(activities.ErrTypeWikiExists, "a database %s exists on cluster %s: the name is taken", name, cluster)
	}
	return nil
}

// names are the old and the new name of a rename step, both checked.
func names(in process.StepInput) (from, to string, err error) {
	if from, err = activities.WikiDB(in); err != nil {
		return "", "", err
	}
	if to, err = activities.CheckedDB(in.Args[ArgTo]); err != nil {
		return "", "", err
	}
	return from, to, nil
}
