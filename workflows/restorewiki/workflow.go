// Package restorewiki brings a deleted wiki back from the verified backup its
// deletion left: database, files and central rows, then reopening.
package restorewiki

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
)

// KindRestoreWiki is the process kind of a deleted wiki's restore.
const KindRestoreWiki = "restore-wiki"

// RestoreWikiID is the workflow ID of a wiki's restore: one at a time.
func RestoreWikiID(db string) string { return KindRestoreWiki + ":" + db }

// Step names of the restore.
const (
	StepRestoreDatabase = "restore-database"
	StepRestoreFiles    = "restore-files"
	StepRestoreRows     = "restore-rows"
	StepReopen          = "reopen"
)

// RestoreWikiOptions are the farm's choices for restores; Expiry ends a
// restore nobody approved.
type RestoreWikiOptions = workflows.StewardOptions

// RestoreWikiDefinition puts a deleted wiki back from its latest verified
// backup, one part after the other: the database (which claims the name, so
// that nothing else takes it meanwhile), the files, the central rows, then
// the reopening, which checks that the wiki answers and is writable. Every
// step is critical; abort undoes what this process restored (the undo
// activities act only under its claim). Retry and abort are for stewards.
func RestoreWikiDefinition(o RestoreWikiOptions) process.Definition {
	quick := process.TransientRetry(o.RetryBudget)
	return process.Definition{
		Kind: KindRestoreWiki,
		Steps: []process.StepDef{
			{Name: StepRestoreDatabase, Activity: NameRestoreDatabase, Critical: true, Retry: quick,
				StartToClose: 6 * time.Hour, Heartbeat: 30 * time.Second, Undo: createwiki.NameDropDatabase},
			{Name: StepRestoreFiles, Activity: NameRestoreUploads, Critical: true, Requires: []string{StepRestoreDatabase}, Retry: quick,
				StartToClose: 6 * time.Hour, Heartbeat: 30 * time.Second, Undo: createwiki.NameRemoveStorage},
			{Name: StepRestoreRows, Activity: NameRestoreWikiRows, Critical: true, Requires: []string{StepRestoreFiles}, Retry: quick,
				StartToClose: time.Minute, Undo: createwiki.NameUnregisterWiki},
			{Name: StepReopen, Activity: deletewiki.NameReopenWiki, Critical: true, Requires: []string{StepRestoreRows}, Retry: quick,
				StartToClose: time.Minute},
		},
		AttentionWindow: o.AttentionWindow,
		Authorize: process.AuthorizeDef{
			Activity: activities.NameCheckRights, Wiki: o.CentralWiki, AnyRight: []process.Right{process.RightManageWikiRestricted},
		},
	}
}

// RestoreWikiInput is a restore request with the options it runs with.
type RestoreWikiInput struct {
	Wiki       string
	Requester  string
	Reason     string
	Options    RestoreWikiOptions
	Definition process.Definition
}

// RestoreWikiResult is the end state; Status.Result names the backup used.
type RestoreWikiResult struct {
	Status process.Status
}

// restoreRefusals are the CheckRestore failures that refuse the request
// rather than ask a person to look at the farm.
var restoreRefusals = map[string]bool{
	activities.ErrTypeInvalidInput: true, activities.ErrTypeWikiExists: true, activities.ErrTypeNotOurs: true,
	activities.ErrTypeNoVerifiedBackup: true, activities.ErrTypeChecksumMismatch: true, activities.ErrTypeBackupMissing: true,
	activities.ErrTypeBackupMismatch: true,
}

// RestoreWiki: any farm account may ask (a deleted wiki's bureaucrats have
// no rights left on it); the name must be free and the latest verified
// backup intact; one holder of managewiki-restricted on the central wiki
// (not the requester) approves; both checks are made again after the
// approval, then the steps run.
func RestoreWiki(ctx workflow.Context, in RestoreWikiInput) (RestoreWikiResult, error) {
	r := &restoration{in: in, requester: process.Person{Name: in.Requester}}
	r.St = workflows.NewStatus(ctx, KindRestoreWiki, in.Wiki, in.Requester, map[string]string{"reason": in.Reason})
	err := r.Run(ctx, r.run)
	return RestoreWikiResult{Status: *r.St}, err
}

type restoration struct {
	workflows.Frame
	in        RestoreWikiInput
	requester process.Person
}

func (r *restoration) run(ctx workflow.Context) error {
	in, st := r.in, r.St
	r.ByPerson = workflows.KnowsPeople(ctx)
	auth, err := workflows.CheckRight(ctx, "check the requester", in.Requester, in.Options.CentralWiki, process.RightManageWikiRestricted)
	if err != nil {
		return err
	}
	if err := workflows.Identify(ctx, st, auth, &r.requester); err != nil {
		return err
	}
	backup, err := r.check(ctx, "check the name and the backup")
	if err != nil {
		return err
	}
	// The restore owns the name from the request on: no creation, deletion
	// or second restore of it runs beside this one.
	if err := workflows.OwnWiki(ctx, st, in.Wiki, KindRestoreWiki); err != nil {
		return err
	}
	r.Owned = append(r.Owned, in.Wiki)
	r.Accept()
	if approved, err := r.AwaitSteward(ctx, in.Options, in.Wiki, r.requester); err != nil || !approved {
		return err
	}
	// The wait may have been long: the name may be taken or the backup gone since.
	if backup, err = r.check(ctx, "check again after the approval"); err != nil {
		return err
	}
	res, err := r.RunSteps(ctx, in.Definition, in.Wiki, r.requester, map[string]string{"reason": in.Reason, "backup": backup.Manifest, "backup_sha256": backup.ManifestSHA256})
	if out := res.StepOutputs[StepRestoreDatabase]; out != nil {
		st.Result["cluster"] = out["cluster"]
	}
	if out := res.StepOutputs[StepRestoreFiles]; out != nil {
		st.Result["upload_dir"] = out["path"]
		if a := out["moved_aside"]; a != "" {
			st.Result["moved_aside"] = a
		}
	}
	return err
}

// check runs CheckRestore and records the backup it found; a name that is
// taken, no verified backup or one that fails its checksums is a refusal.
func (r *restoration) check(ctx workflow.Context, summary string) (CheckRestoreResult, error) {
	var f *Activities
	var res CheckRestoreResult
	err := workflow.ExecuteActivity(workflows.ActivityCtx(ctx, summary), f.CheckRestore, CheckRestoreInput{DB: r.in.Wiki}).Get(ctx, &res)
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.NonRetryable() && restoreRefusals[app.Type()] {
		return res, workflows.Refuse(r.St, "%s", app.Message())
	}
	if err != nil {
		return res, err
	}
	out := r.St.Result
	out["backup_manifest"], out["backup_manifest_sha256"] = res.Manifest, res.ManifestSHA256
	out["backup_process"], out["backup_verified_at"] = res.Process, res.VerifiedAt
	out["backup_tables"], out["rows_count"] = fmt.Sprint(res.Tables), fmt.Sprint(res.Rows)
	out["files_count"], out["files_bytes"] = fmt.Sprint(res.Files), fmt.Sprint(res.FileBytes)
	return res, nil
}
