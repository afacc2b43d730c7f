package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"

	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
)

// ProcessChecker tells whether a workflow run is still open; the worker
// asks Temporal. Ownership uses it to take over the claim of a process that
// ended without releasing it.
type ProcessChecker interface {
	Open(ctx context.Context, workflowID, runID string) (bool, error)
}

// OwnWikiInput asks for the wiki on behalf of the calling workflow run.
type OwnWikiInput struct {
	Wiki string `json:"wiki"`
	Kind string `json:"kind"`
}

// OwnWikiResult names the owner, which is the caller once it succeeded.
type OwnWikiResult struct {
	Owner string `json:"owner"`
}

// OwnWiki makes the calling process the one owner of a wiki's existence and
// registration (creation, deletion, restore, rename). Another open owner is a
// refusal naming it. Idempotent for the same run.
func (f *Farm) OwnWiki(ctx context.Context, in OwnWikiInput) (OwnWikiResult, error) {
	if err := farmdb.CheckDBName(in.Wiki); err != nil {
		return OwnWikiResult{}, Permanent(ErrTypeInvalidInput, "%v", err)
	}
	run := activity.GetInfo(ctx).WorkflowExecution
	held, err := f.Central.TakeOwnership(ctx, farmdb.Owner{DBName: in.Wiki, Process: run.ID, Run: run.RunID, Kind: in.Kind},
		func(o farmdb.Owner) (bool, error) {
			if f.Processes == nil {
				return true, nil // nobody to ask: never take a claim over blindly
			}
			return f.Processes.Open(ctx, o.Process, o.Run)
		})
	if errors.Is(err, farmdb.ErrOwnedByOther) {
		return OwnWikiResult{Owner: held.Process}, Permanent(ErrTypeOwned,
			"%s is in the hands of the open process %s: one process at a time creates, deletes, restores or renames a wiki", in.Wiki, held.Process)
	}
	if err != nil {
		return OwnWikiResult{}, err
	}
	return OwnWikiResult{Owner: held.Process}, nil
}

// ReleaseWikiInput gives the wiki back; only the calling run's claim goes.
type ReleaseWikiInput struct {
	Wiki string `json:"wiki"`
}

type ReleaseWikiResult struct{}

// ReleaseWiki ends the calling process's ownership of the wiki.
func (f *Farm) ReleaseWiki(ctx context.Context, in ReleaseWikiInput) (ReleaseWikiResult, error) {
	run := activity.GetInfo(ctx).WorkflowExecution
	return ReleaseWikiResult{}, f.Central.ReleaseOwnership(ctx, in.Wiki, run.ID, run.RunID)
}

// CheckStillOurs refuses an undo or a removal when another process owns the
// wiki now: what this process did may no longer be its to remove.
func (f *Farm) CheckStillOurs(ctx context.Context, in process.StepInput) error {
	owner, ok, err := f.Central.GetOwner(ctx, in.Wiki.DB)
	if err != nil || !ok || owner.Process == in.ProcessID {
		return err
	}
	return Permanent(ErrTypeNotOurs, "%s now belongs to the process %s: this process leaves it alone", in.Wiki.DB, owner.Process)
}

// UnderDeletion says which open deletion or restore owns the wiki, if any.
func (f *Farm) UnderDeletion(ctx context.Context, db string) (string, error) {
	owner, ok, err := f.Central.GetOwner(ctx, db)
	if err != nil || !ok {
		return "", err
	}
	switch owner.Kind {
	case "delete-wiki", "restore-wiki":
		return fmt.Sprintf("%s is in the hands of %s", db, owner.Process), nil
	}
	return "", nil
}
