// Package renamewiki gives a wiki a new database name: its database, its
// upload directory and every central row move to the new name, and the old
// name stops answering.
package renamewiki

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
)

// KindRenameWiki is the process kind of a wiki's rename.
const KindRenameWiki = "rename-wiki"

// RenameWikiID is the workflow ID of a wiki's rename, by its old name: one at a time.
func RenameWikiID(db string) string { return KindRenameWiki + ":" + db }

// Step names of the rename.
const (
	StepClose          = "close"
	StepCreateDatabase = "create-database"
	StepMoveTables     = "move-tables"
	StepMoveFiles      = "move-files"
	StepRenameRows     = "rename-rows"
	StepRefreshLists   = "refresh-lists"
	StepReopen         = "reopen"
	StepDropOld        = "drop-old-database"
)

// Arguments of the rename's steps.
const (
	ArgTo       = "to"       // the new name
	ArgSitename = "sitename" // the sitename the wiki had, which it keeps
	ArgReason   = "reason"
)

// RenameWikiOptions are the farm's choices for renames.
type RenameWikiOptions struct {
	workflows.StewardOptions
	// ProtectedWikis are never renamed, and no wiki takes their names;
	// the central wiki never is either.
	ProtectedWikis []string `json:",omitempty"`
}

// RenameWikiDefinition moves the wiki in order: closed (read-only) first,
// so that nothing writes while it moves; the new database on the old one's
// cluster (claimed for this process); the tables one by one; the upload
// directory; the central rows in one transaction; the wiki lists; the
// reopening under the new name, checked over the API; and only then the
// old, empty database is dropped. Every step can run again after a crash
// and picks up where the last attempt stopped. There is no undo: a
// stopped rename is finished by retrying its step, not taken back halfway.
func RenameWikiDefinition(o RenameWikiOptions) process.Definition {
	quick := process.TransientRetry(o.RetryBudget)
	step := func(name, activity string, requires ...string) process.StepDef {
		return process.StepDef{Name: name, Activity: activity, Critical: true, Requires: requires, Retry: quick, StartToClose: time.Minute}
	}
	moveTables := step(StepMoveTables, NameMoveWikiTables, StepCreateDatabase)
	moveTables.StartToClose, moveTables.Heartbeat = time.Hour, 30*time.Second
	moveFiles := step(StepMoveFiles, NameMoveUploads, StepMoveTables)
	moveFiles.StartToClose = 10 * time.Minute
	reopen := step(StepReopen, NameReopenRenamed, StepRefreshLists)
	reopen.Params = map[string]string{activities.ParamCentralWiki: o.CentralWiki}
	return process.Definition{
		Kind: KindRenameWiki,
		Steps: []process.StepDef{
			step(StepClose, NameCloseForRename),
			step(StepCreateDatabase, NameCreateRenamedDatabase, StepClose),
			moveTables,
			moveFiles,
			step(StepRenameRows, NameRenameWikiRows, StepMoveFiles),
			step(StepRefreshLists, NameRefreshRenamedLists, StepRenameRows),
			reopen,
			step(StepDropOld, NameDropOldDatabase, StepReopen),
		},
		AttentionWindow: o.AttentionWindow,
		Authorize: process.AuthorizeDef{
			Activity: activities.NameCheckRights, Wiki: o.CentralWiki, AnyRight: []process.Right{process.RightManageWikiRestricted},
		},
	}
}

// RenameWikiInput is a rename request with the options it runs with.
type RenameWikiInput struct {
	Wiki       string // the old name
	To         string // the new name
	Requester  string
	Reason     string
	Options    RenameWikiOptions
	Definition process.Definition
}

// RenameWikiResult is the end state; Status.Result names both names.
type RenameWikiResult struct {
	Status process.Status
}

// RenameWiki: a holder of managewiki-core on the wiki asks; neither name
// may be protected, and the new one must be a name CreateWiki would give
// a new wiki and be free; the process owns both names from then on; one
// holder of managewiki-restricted on the central wiki (not the requester)
// approves; the names are checked again after the approval, then the
// steps run.
func RenameWiki(ctx workflow.Context, in RenameWikiInput) (RenameWikiResult, error) {
	r := &renaming{in: in, requester: process.Person{Name: in.Requester}}
	r.St = workflows.NewStatus(ctx, KindRenameWiki, in.Wiki, in.Requester, map[string]string{"to": in.To, "reason": in.Reason})
	err := r.Run(ctx, r.run)
	return RenameWikiResult{Status: *r.St}, err
}

type renaming struct {
	workflows.Frame
	in        RenameWikiInput
	requester process.Person
}

func (r *renaming) run(ctx workflow.Context) error {
	in, st := r.in, r.St
	r.ByPerson = workflows.KnowsPeople(ctx)
	for _, name := range []string{in.Wiki, in.To} {
		if workflows.Protected(name, in.Options.CentralWiki, in.Options.ProtectedWikis) {
			return workflows.Refuse(st, "%s is a protected wiki: it is never renamed, and no wiki takes its name", name)
		}
	}
	auth, err := workflows.CheckRight(ctx, "check the requester", in.Requester, in.Wiki, process.RightManageWikiCore)
	if err != nil {
		return err
	}
	if err := workflows.Identify(ctx, st, auth, &r.requester); err != nil {
		return err
	}
	if !auth.Allowed {
		return workflows.Refuse(st, "%s may not request the rename of %s: %s", r.requester.Name, in.Wiki, auth.Reason)
	}
	if _, err := r.check(ctx, "check both names"); err != nil {
		return err
	}
	// The rename owns both names from the request on: nothing creates,
	// deletes, restores or renames either of them beside it.
	for _, name := range []string{in.Wiki, in.To} {
		if err := workflows.OwnWiki(ctx, st, name, KindRenameWiki); err != nil {
			return err
		}
		r.Owned = append(r.Owned, name)
	}
	r.Accept()
	if approved, err := r.AwaitSteward(ctx, in.Options.StewardOptions, in.Wiki, r.requester); err != nil || !approved {
		return err
	}
	// The wait may have been long: the new name may be taken since.
	sitename, err := r.check(ctx, "check both names again after the approval")
	if err != nil {
		return err
	}
	res, err := r.RunSteps(ctx, in.Definition, in.Wiki, r.requester, map[string]string{ArgTo: in.To, ArgReason: in.Reason, ArgSitename: sitename})
	if out := res.StepOutputs[StepCreateDatabase]; out != nil {
		st.Result["cluster"] = out["cluster"]
	}
	if out := res.StepOutputs[StepMoveTables]; out != nil {
		st.Result["tables"] = out["tables"]
	}
	if out := res.StepOutputs[StepMoveFiles]; out != nil {
		st.Result["upload_dir"] = out["path"]
	}
	return err
}

// check runs CheckRename and returns the wiki's sitename; a name that is
// invalid, taken or not a wiki of the farm is a refusal.
func (r *renaming) check(ctx workflow.Context, summary string) (string, error) {
	var f *Activities
	var res CheckRenameResult
	err := workflow.ExecuteActivity(workflows.ActivityCtx(ctx, summary), f.CheckRename, CheckRenameInput{DB: r.in.Wiki, To: r.in.To}).Get(ctx, &res)
	if why, ok := workflows.IsRefusal(err); ok {
		return "", workflows.Refuse(r.St, "%s", why)
	}
	if err != nil {
		return "", err
	}
	r.St.Result["sitename"] = res.Sitename
	return res.Sitename, nil
}
