// Package deletewiki is the deletion of a wiki: the requester check, the approval
// gate, closing, the grace period and undelete, then a verified backup before
// the drop and the removal, and the notices to the wiki's bureaucrats.
package deletewiki

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
)

// KindDeleteWiki is the process kind of wiki deletion.
const KindDeleteWiki = "delete-wiki"

// DeleteWikiID is the workflow ID of a wiki's deletion: one at a time.
func DeleteWikiID(db string) string { return KindDeleteWiki + ":" + db }

// Step names of the removal, after the grace period.
const (
	StepBackup        = "backup"
	StepArchiveFiles  = "archive-files"
	StepExportRows    = "export-rows"
	StepVerifyBackup  = "verify-backup"
	StepDropDatabase  = "drop-database"
	StepRemoveRows    = "remove-rows"
	StepRemoveStorage = "remove-storage"
	StepNotifyDeleted = "notify"
)

// DeleteWikiOptions are the farm's choices for deletions.
type DeleteWikiOptions struct {
	CentralWiki     string
	GracePeriod     time.Duration
	AttentionWindow time.Duration
	// LocalApprovers is how many local holders of managewiki-core must
	// approve (fewer if the wiki has fewer, the requester not counted).
	LocalApprovers int
	// Expiry ends an undecided request.
	Expiry time.Duration
	// ProtectedWikis can never be deleted; the central wiki never can.
	ProtectedWikis []string `json:",omitempty"`
	// RetryBudget is how long a step retries transient failures before it
	// asks a person (processes.transient_retry_budget); zero: five attempts.
	RetryBudget time.Duration `json:",omitempty"`
}

// DeleteWikiDefinition is the removal after the grace period. Nothing is
// dropped or removed without a verified backup of the whole wiki: the dump,
// the upload directory's archive and the central rows are all critical, and
// verify-backup requires the three; drop-database, remove-rows and
// remove-storage require verify-backup and name it (verify_step), so each
// removes only what it verified. Processes started before files and rows
// were backed up keep the graph recorded in their input.
func DeleteWikiDefinition(o DeleteWikiOptions) process.Definition {
	quick := process.TransientRetry(o.RetryBudget)
	return process.Definition{
		Kind: KindDeleteWiki,
		Steps: []process.StepDef{
			// Dumps and restores heartbeat while they run, so a worker that
			// dies in the middle is noticed in 30 s, not at the hour's end.
			{Name: StepBackup, Activity: NameBackupDatabase, Critical: true, Retry: quick, StartToClose: time.Hour, Heartbeat: 30 * time.Second},
			// After the dump, which moves aside a set an earlier run left at the same path.
			{Name: StepArchiveFiles, Activity: NameArchiveUploads, Critical: true, Requires: []string{StepBackup}, Retry: quick, StartToClose: 6 * time.Hour, Heartbeat: 30 * time.Second},
			{Name: StepExportRows, Activity: NameExportWikiRows, Critical: true, Requires: []string{StepBackup}, Retry: quick, StartToClose: time.Minute},
			{Name: StepVerifyBackup, Activity: NameVerifyBackup, Critical: true, Requires: []string{StepBackup, StepArchiveFiles, StepExportRows}, Retry: quick, StartToClose: 6 * time.Hour, Heartbeat: 30 * time.Second,
				Params: map[string]string{"backup_step": StepBackup, "files_step": StepArchiveFiles, "rows_step": StepExportRows}},
			{Name: StepDropDatabase, Activity: NameDropWikiDatabase, Critical: true, Requires: []string{StepVerifyBackup}, Retry: quick, StartToClose: 10 * time.Minute,
				Params: map[string]string{"verify_step": StepVerifyBackup}},
			{Name: StepRemoveRows, Activity: NameRemoveWikiRows, Critical: true, Requires: []string{StepVerifyBackup, StepDropDatabase}, Retry: quick, StartToClose: time.Minute,
				Params: map[string]string{"verify_step": StepVerifyBackup}},
			{Name: StepRemoveStorage, Activity: createwiki.NameRemoveStorage, Critical: true, Requires: []string{StepVerifyBackup, StepDropDatabase}, Retry: quick, StartToClose: time.Hour, Heartbeat: 30 * time.Second,
				Params: map[string]string{"verify_step": StepVerifyBackup}},
			{Name: StepNotifyDeleted, Activity: NameNotifyBureaucrats, Requires: []string{StepRemoveRows, StepRemoveStorage},
				Retry: quick, StartToClose: time.Minute, Params: map[string]string{"phase": "deleted", "central_wiki": o.CentralWiki}},
		},
		AttentionWindow: o.AttentionWindow,
		Authorize: process.AuthorizeDef{
			Activity: activities.NameCheckRights, Wiki: o.CentralWiki, AnyRight: []process.Right{process.RightManageWikiRestricted},
		},
	}
}

// DeleteWikiInput is a deletion request with the options it runs with.
type DeleteWikiInput struct {
	Wiki       string
	Requester  string
	Reason     string
	Options    DeleteWikiOptions
	Definition process.Definition
	// ApprovedBy, when set, names the farm policy that started the
	// deletion (the inactivity policy): the farm's configuration is its
	// approval, so there is no requester check and no gate. Only the
	// worker's own processes set it; no request from a person does.
	ApprovedBy string `json:",omitempty"`
}

// DeleteWikiResult is the end state; Status.Result has the backup's path
// and checksum once the wiki is gone.
type DeleteWikiResult struct {
	Status process.Status
}

// DeleteWiki: the requester must hold managewiki-core on the wiki; then an
// approval gate (local managewiki-core holders, or one steward); then the
// wiki is closed and marked deleted and its bureaucrats are told; then a
// grace period during which undelete reopens it; then backup, verified
// restore, drop and removal.
func DeleteWiki(ctx workflow.Context, in DeleteWikiInput) (DeleteWikiResult, error) {
	d := &deletion{in: in}
	d.St = workflows.NewStatus(ctx, KindDeleteWiki, in.Wiki, in.Requester, map[string]string{"reason": in.Reason})
	d.undeletes = d.undeleteInbox()
	err := d.Run(ctx, d.run, d.undeletes)
	return DeleteWikiResult{Status: *d.St}, err
}

type deletion struct {
	workflows.Frame
	in        DeleteWikiInput
	owner     bool                    // on the ownership version (see workflows.OwnsWikis)
	requester process.Person          // who MediaWiki says the requester is
	undelete  *process.DecisionSignal // accepted undelete
	grace     bool                    // in the grace period: undelete is possible
	// undeletes takes the undelete update and signal.
	undeletes *workflows.Inbox[process.DecisionSignal, process.DecisionSignal, process.ActionRecord]
}

func (d *deletion) run(ctx workflow.Context) error {
	in := d.in
	d.ByPerson = workflows.KnowsPeople(ctx)
	d.owner = workflows.OwnsWikis(ctx)
	d.requester = process.Person{Name: in.Requester}
	if d.ByPerson && workflows.Protected(in.Wiki, in.Options.CentralWiki, in.Options.ProtectedWikis) {
		return workflows.Refuse(d.St, "%s is a protected wiki: it cannot be deleted", in.Wiki)
	}
	var f *Activities
	var farm *activities.Farm
	var reg activities.LookupWikiResult
	if err := workflow.ExecuteActivity(workflows.ActivityCtx(ctx, "look up the wiki"), farm.LookupWiki, activities.LookupWikiInput{DB: in.Wiki}).Get(ctx, &reg); err != nil {
		var app *temporal.ApplicationError
		if errors.As(err, &app) && app.Type() == activities.ErrTypeWikiNotFound {
			return workflows.Refuse(d.St, "%s is not a wiki of the farm", in.Wiki)
		}
		return err
	}
	if reg.Wiki.Deleted {
		return workflows.Refuse(d.St, "%s is already deleted", in.Wiki)
	}
	if in.ApprovedBy != "" {
		if err := d.approvedByPolicy(ctx); err != nil {
			return err
		}
	} else if approved, err := d.approve(ctx); err != nil || !approved {
		return err
	}

	// Close, mark deleted, tell the bureaucrats; then the grace period.
	now := workflow.Now(ctx)
	deleteAfter := now.Add(in.Options.GracePeriod)
	step := process.StepInput{
		ProcessID: d.St.ID, Kind: KindDeleteWiki, Wiki: process.WikiSpec{DB: in.Wiki}, Requester: in.Requester,
		Args:   map[string]string{"reason": in.Reason, "delete_after": deleteAfter.UTC().Format(time.RFC3339)},
		Params: map[string]string{"phase": "scheduled", "central_wiki": in.Options.CentralWiki},
	}
	for _, a := range []string{NameCloseWiki, NameMarkWikiDeleted} {
		step.Step = a
		if err := workflow.ExecuteActivity(workflows.ActivityCtx(ctx, a), a, step).Get(ctx, nil); err != nil {
			return err
		}
	}
	step.Step = NameNotifyBureaucrats
	var told process.StepResult
	if err := workflow.ExecuteActivity(workflows.ActivityCtx(ctx, "notify the bureaucrats"), farm.NotifyBureaucrats, step).Get(ctx, &told); err != nil {
		d.St.Result["notify_error"] = err.Error() // telling people is not worth stopping a deletion for
	}
	// Once the database is gone nobody can list the bureaucrats again: the
	// final notice goes to the ones found now.
	bureaucrats := told.Outputs["bureaucrats"]
	d.St.Result["deleted_at"] = now.UTC().Format(time.RFC3339)
	d.St.Result["delete_after"] = deleteAfter.UTC().Format(time.RFC3339)
	d.St.State = process.StateGracePeriod
	d.grace = true
	workflows.UpsertState(ctx, d.St.State)
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("**Grace period**: %s is closed and marked deleted; it is removed after %s unless someone undeletes it.",
		in.Wiki, deleteAfter.UTC().Format(time.RFC3339)))
	if _, err := workflow.AwaitWithTimeout(ctx, in.Options.GracePeriod, func() bool { return d.undelete != nil }); err != nil {
		return err
	}
	d.grace = false
	if d.undelete == nil && d.owner {
		// ManageWiki's own "undelete this wiki" clears wiki_deleted without
		// telling anyone: read it again before anything irreversible.
		var now activities.LookupWikiResult
		if err := workflow.ExecuteActivity(workflows.ActivityCtx(ctx, "check the wiki is still deleted"), farm.LookupWiki, activities.LookupWikiInput{DB: in.Wiki}).Get(ctx, &now); err != nil {
			return err
		}
		if !now.Wiki.Deleted {
			d.St.State = process.StateCancelled
			d.St.Result["cancelled_because"] = "the wiki was undeleted outside WikiFlow (wiki_deleted is 0): nothing was dropped"
			return nil
		}
	}
	if d.undelete != nil {
		step.Step = NameReopenWiki
		if err := workflow.ExecuteActivity(workflows.ActivityCtx(ctx, "reopen the wiki"), f.ReopenWiki, step).Get(ctx, nil); err != nil {
			return err
		}
		d.St.State = process.StateCancelled
		d.St.Result["undeleted_by"] = d.undelete.User
		return nil
	}

	res, err := d.RunSteps(ctx, in.Definition, in.Wiki, d.requester, map[string]string{"reason": in.Reason, "bureaucrats": bureaucrats})
	backupResult(d.St.Result, res.StepOutputs)
	return err
}

// approve checks the requester, takes the wiki and opens the approval gate:
// approved is false when the gate ended otherwise, the status's state then
// saying how.
func (d *deletion) approve(ctx workflow.Context) (approved bool, err error) {
	in := d.in
	var f *Activities
	auth, err := workflows.CheckRight(ctx, "check the requester", in.Requester, in.Wiki, process.RightManageWikiCore)
	if err != nil {
		return false, err
	}
	if d.ByPerson {
		if err := workflows.Identify(ctx, d.St, auth, &d.requester); err != nil {
			return false, err
		}
	}
	if !auth.Allowed {
		return false, workflows.Refuse(d.St, "%s may not request the deletion of %s: %s", d.requester.Name, in.Wiki, auth.Reason)
	}
	if d.owner {
		// The deletion owns the wiki from the request on: no creation, restore
		// or second deletion of it runs beside this one.
		if err := workflows.OwnWiki(ctx, d.St, in.Wiki, KindDeleteWiki); err != nil {
			return false, err
		}
		d.Owned = append(d.Owned, in.Wiki)
	}

	// The quorum: up to LocalApprovers other holders of managewiki-core.
	var holders RightHoldersResult
	err = workflow.ExecuteActivity(workflows.ActivityCtx(ctx, "count local approvers"), f.CountRightHolders,
		RightHoldersInput{Wiki: in.Wiki, Right: process.RightManageWikiCore, Exclude: []string{d.requester.Name}}).Get(ctx, &holders)
	if err != nil {
		return false, err
	}
	policy := process.ApprovalPolicy{
		Quorum: min(in.Options.LocalApprovers, len(holders.Users)), Right: process.RightManageWikiCore,
		OverrideRight: process.RightManageWikiRestricted, OverrideWiki: in.Options.CentralWiki,
		Expiry: in.Options.Expiry, Authorize: activities.NameCheckRights,
	}
	if policy.Quorum == 0 {
		policy.Right = "" // nobody else holds it here: only a steward can approve
	}
	d.St.Result["quorum"] = fmt.Sprint(policy.Quorum)
	if d.Gate, err = workflows.NewGate(ctx, policy, in.Wiki, d.requester, d.St); err != nil {
		return false, err
	}
	if err := d.undeletes.Listen(ctx); err != nil {
		return false, err
	}
	d.Accept()
	outcome, err := d.Gate.Wait(ctx)
	if err != nil {
		return false, err
	}
	if outcome != process.StateApproved {
		d.St.State = outcome
		return false, nil
	}
	return true, nil
}

// approvedByPolicy takes the wiki for a deletion a farm policy started and
// records the policy's approval.
func (d *deletion) approvedByPolicy(ctx workflow.Context) error {
	if err := workflows.OwnWiki(ctx, d.St, d.in.Wiki, KindDeleteWiki); err != nil {
		return err
	}
	d.Owned = append(d.Owned, d.in.Wiki)
	d.St.Approvals = append(d.St.Approvals, process.ApprovalRecord{
		User: d.in.ApprovedBy, Decision: process.DecisionApprove, Accepted: true, Time: workflow.Now(ctx),
	})
	if err := d.undeletes.Listen(ctx); err != nil {
		return err
	}
	d.Accept()
	return nil
}

// undeleteInbox takes undelete requests (update and signal) once the gate
// is open, for the rest of the workflow; only during the grace period, and
// only from a holder of managewiki-core on the wiki or managewiki-restricted
// on the central wiki. It exists from the start so that undeletes sent to a
// deletion refused earlier are drained and recorded too.
func (d *deletion) undeleteInbox() *workflows.Inbox[process.DecisionSignal, process.DecisionSignal, process.ActionRecord] {
	return workflows.PersonInbox(d.St, process.UpdateUndelete, func(ctx workflow.Context, r process.DecisionSignal) process.ActionRecord {
		rec := process.ActionRecord{User: r.User, Reason: r.Comment}
		switch {
		case d.undelete != nil:
			rec.Reason = "the wiki has already been undeleted"
		case !d.grace:
			rec.Reason = "undelete is only possible during the grace period"
		default:
			rec.Accepted, rec.Reason, rec.User = d.mayUndelete(ctx, r.User)
			if rec.Accepted {
				if d.grace && d.undelete == nil {
					d.undelete = &r
				} else {
					// The grace period ended during the rights check.
					rec.Accepted, rec.Reason = false, "undelete is only possible during the grace period"
				}
			}
		}
		return rec
	})
}

// mayUndelete: the wiki answers 410 while it is marked deleted, so its own
// rights cannot be asked. Those who may undelete are the people this
// process already verified on the wiki (the requester and the accepted
// approvers) and holders of managewiki-restricted on the central wiki. It
// returns the name to record: the canonical one once MediaWiki was asked.
func (d *deletion) mayUndelete(ctx workflow.Context, user string) (bool, string, string) {
	if d.ByPerson {
		return d.mayUndeletePerson(ctx, user)
	}
	if user == d.in.Requester {
		return true, "", user
	}
	for _, a := range d.Gate.Approvers() {
		if a.Name == user {
			return true, "", user
		}
	}
	res, err := workflows.CheckRight(ctx, "check "+user, user, d.in.Options.CentralWiki, process.RightManageWikiRestricted)
	if err != nil {
		return false, err.Error(), user
	}
	if res.Allowed {
		return true, "", user
	}
	return false, fmt.Sprintf("%s is neither the requester, an approver, nor a holder of %s on %s",
		user, process.RightManageWikiRestricted, d.in.Options.CentralWiki), user
}

// mayUndeletePerson is mayUndelete comparing people by central id.
func (d *deletion) mayUndeletePerson(ctx workflow.Context, user string) (bool, string, string) {
	res, err := workflows.CheckRight(ctx, "check "+user, user, d.in.Options.CentralWiki, process.RightManageWikiRestricted)
	if err != nil {
		return false, err.Error(), user
	}
	if res.NoAccount || res.UserID <= 0 {
		return false, res.Reason, user
	}
	if res.UserID == d.requester.ID || res.Allowed {
		return true, "", res.User
	}
	if d.Gate == nil {
		// Approved by a farm policy: only stewards undelete.
		return false, fmt.Sprintf("%s does not hold %s on %s", res.User, process.RightManageWikiRestricted, d.in.Options.CentralWiki), res.User
	}
	for _, a := range d.Gate.Approvers() {
		if a.ID == res.UserID {
			return true, "", res.User
		}
	}
	return false, fmt.Sprintf("%s is neither the requester, an approver, nor a holder of %s on %s",
		res.User, process.RightManageWikiRestricted, d.in.Options.CentralWiki), res.User
}
