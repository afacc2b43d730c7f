// Package workflowtest holds what the unit tests of the workflows share:
// a fake MediaWiki farm whose activities are registered by name and record
// every call, the test environments that register them (for the process
// workflows, and for the engine running a definition of its own), the
// inputs the tests start the processes with, the helpers that send
// decisions and check outcomes, and a workflow that only runs a gate.
//
// It imports the workflows it fakes the activities of, so the tests that
// use it are external ones (package workflows_test, deletewiki_test, …);
// a test of unexported code stays internal and does without it.
package workflowtest

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/events"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
)

// The wikis and rights of the tests.
const (
	Wiki    = "testwiki" // the wiki a process works on
	Central = "metawiki" // the central wiki
	Right   = process.RightManageWikiCore
	Steward = process.RightManageWikiRestricted
)

// Farm stands in for every activity the approval workflows run. Its
// exported fields are what it was asked and what it answers; a test that
// reads or changes them while a workflow runs holds the lock (Locked).
type Farm struct {
	mu      sync.Mutex
	Calls   []string                       // activity names, in call order
	Steps   map[string][]process.StepInput // inputs of step-like activities, by name
	Authz   []process.AuthorizeInput       // CheckRights inputs
	Rights  map[string]bool                // "user|right|wiki"
	Outputs map[string]map[string]string   // step outputs by activity name
	errs    map[string]error               // errors by activity name
	hooks   map[string]func() error        // run at every call, by activity name

	// The fake's accounts: every name is an account of its own (its id a
	// hash of the name) unless it is an alias (another spelling of an
	// account, as MediaWiki's title rules make them) or in NoAccount.
	aliases   map[string]string
	NoAccount map[string]bool

	Owners map[string]string // wiki -> owning workflow ID (OwnWiki, ReleaseWiki)
	// External, when set, is a cw_status another writer put there: an
	// UpdateRequest expecting another status writes nothing and says so.
	External string

	Lookup    farmdb.Wiki // LookupWiki answer
	LookupErr error
	Holders   []string // CountRightHolders answer
	HolderIn  []deletewiki.RightHoldersInput
	FileID    int64
	Files     []requestwiki.FileRequestInput
	Edits     []requestwiki.EditRequestInput
	Updates   []requestwiki.UpdateRequestInput
	// Events are the events stored (StoreEvents), once each, in order.
	Events []events.ProcessChange
	// Stores counts the StoreEvents calls that reached the outbox.
	Stores int
	seenID map[string]bool
}

// storeEvents keeps each event once, as the outbox does; its Hook (an
// outage) runs first. Its calls are not in Calls: every process makes them.
func (f *Farm) storeEvents(_ context.Context, in activities.StoreEventsInput) (activities.StoreEventsResult, error) {
	f.mu.Lock()
	hook := f.hooks[activities.NameStoreEvents]
	f.mu.Unlock()
	if hook != nil {
		if err := hook(); err != nil {
			return activities.StoreEventsResult{}, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seenID == nil {
		f.seenID = map[string]bool{}
	}
	f.Stores++
	n := 0
	for _, ev := range in.Events {
		if !f.seenID[ev.Meta.ID] {
			f.seenID[ev.Meta.ID] = true
			f.Events = append(f.Events, ev)
			n++
		}
	}
	return activities.StoreEventsResult{Stored: n, Private: in.KnownPrivate != nil && *in.KnownPrivate}, nil
}

// NewFarm is a farm where nobody holds any right and Wiki is registered.
func NewFarm() *Farm {
	return &Farm{
		Steps: map[string][]process.StepInput{}, Rights: map[string]bool{},
		Outputs: map[string]map[string]string{}, errs: map[string]error{}, hooks: map[string]func() error{},
		aliases: map[string]string{}, Owners: map[string]string{}, NoAccount: map[string]bool{},
		Lookup: farmdb.Wiki{DBName: Wiki, Sitename: "Test"}, FileID: 42,
	}
}

// GateFarm: alice, bob and carol hold managewiki-core on the wiki, and so
// does the requester; steward holds managewiki-restricted on the central
// wiki; mallory holds nothing.
func GateFarm() *Farm {
	f := NewFarm()
	for _, u := range []string{"alice", "bob", "carol", "req"} {
		f.Grant(u, Right, Wiki)
	}
	f.Grant("steward", Steward, Central)
	return f
}

// DeleteFarm: req requests; bob holds managewiki-core on the wiki and is
// its only other holder; steward holds managewiki-restricted centrally;
// mallory holds nothing. The backup reports its path and checksum.
func DeleteFarm() *Farm {
	f := NewFarm()
	f.Grant("req", Right, Wiki).Grant("bob", Right, Wiki).Grant("steward", Steward, Central)
	f.Holders = []string{"bob"}
	f.Outputs[deletewiki.NameBackupDatabase] = map[string]string{"path": "/backups/testwiki.sql.gz", "sha256": "abc123"}
	return f
}

// Locked runs fn with the farm's lock held, for a test that reads or
// changes the farm while its activities run.
func (f *Farm) Locked(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

// Grant lets user hold right on wiki.
func (f *Farm) Grant(user string, right process.Right, wiki string) *Farm {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Rights[user+"|"+string(right)+"|"+wiki] = true
	return f
}

// Alias makes spelling another name of the account canonical.
func (f *Farm) Alias(spelling, canonical string) *Farm {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.aliases[spelling] = canonical
	return f
}

// account is who MediaWiki would say name is: canonical name and central
// id, or no account. Call with f.mu held.
func (f *Farm) account(name string) (string, int) {
	if c, ok := f.aliases[name]; ok {
		name = c
	}
	if f.NoAccount[name] || name == "" {
		return name, 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	return name, int(h.Sum32()%1_000_000) + 1
}

// IDOf is the fake central id of an account.
func (f *Farm) IDOf(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, id := f.account(name)
	return id
}

// Fail makes the activity name fail with err.
func (f *Farm) Fail(name string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[name] = err
}

// Hook makes every call of the activity name run fn first (without the
// lock held, so fn may wait); an error of fn is the call's error.
func (f *Farm) Hook(name string, fn func() error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hooks[name] = fn
}

// Log records a call of the activity name, runs its Hook and returns the
// hook's error or else the one Fail set, for an activity a test fakes
// itself.
func (f *Farm) Log(name string) error {
	f.mu.Lock()
	f.Calls = append(f.Calls, name)
	err, hook := f.errs[name], f.hooks[name]
	f.mu.Unlock()
	if hook != nil {
		if herr := hook(); herr != nil {
			return herr
		}
	}
	return err
}

// DeniedReason is what the fake CheckRights answers for a refusal.
func DeniedReason(user, wiki string, rights []process.Right) string {
	return fmt.Sprintf("%s holds none of %s on %s (fake)", user, process.JoinRights(rights, ","), wiki)
}

// answer is the frame of a fake activity: it logs the call of name and
// returns the error Fail set for it; else, with the lock held, it records
// in (when record is not nil) and gives the fake's answer.
func answer[In, Out any](f *Farm, name string, in In, record *[]In, fn func() (Out, error)) (Out, error) {
	if err := f.Log(name); err != nil {
		var zero Out
		return zero, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if record != nil {
		*record = append(*record, in)
	}
	return fn()
}

// checkRights is the fake rights check: an account holds what Grant gave.
func (f *Farm) checkRights(_ context.Context, in process.AuthorizeInput) (process.AuthorizeResult, error) {
	return answer(f, activities.NameCheckRights, in, &f.Authz, func() (process.AuthorizeResult, error) {
		name, id := f.account(in.User)
		if id == 0 {
			return process.AuthorizeResult{NoAccount: true, Reason: in.User + " has no account on the farm (fake)"}, nil
		}
		for _, r := range in.AnyRight {
			if f.Rights[name+"|"+string(r)+"|"+in.Wiki] {
				return process.AuthorizeResult{Allowed: true, Rights: []process.Right{r}, User: name, UserID: id}, nil
			}
		}
		return process.AuthorizeResult{Reason: DeniedReason(name, in.Wiki, in.AnyRight), User: name, UserID: id}, nil
	})
}

// DecisionChecks are the rights checks of decisions: all but the gate
// test workflow's own "who is the requester" question (no right asked).
func (f *Farm) DecisionChecks() []process.AuthorizeInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []process.AuthorizeInput
	for _, a := range f.Authz {
		if len(a.AnyRight) > 0 {
			out = append(out, a)
		}
	}
	return out
}

// ChecksOf counts the decision rights checks about user.
func (f *Farm) ChecksOf(user string) int {
	n := 0
	for _, a := range f.DecisionChecks() {
		if a.User == user {
			n++
		}
	}
	return n
}

// Asked reports whether CheckRights was asked about user.
func (f *Farm) Asked(user string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.Authz {
		if a.User == user {
			return true
		}
	}
	return false
}

// Step is the fake of the step-like activity name: it records its input
// and answers Outputs[name] (or "name: ok").
func (f *Farm) Step(name string) func(context.Context, process.StepInput) (process.StepResult, error) {
	return func(_ context.Context, in process.StepInput) (process.StepResult, error) {
		err := f.Log(name)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.Steps[name] = append(f.Steps[name], in)
		if err != nil {
			return process.StepResult{}, err
		}
		// The fake farm's registration follows what the steps did.
		switch name {
		case deletewiki.NameMarkWikiDeleted:
			f.Lookup.Deleted = true
		case deletewiki.NameReopenWiki:
			f.Lookup.Deleted = false
		}
		out := f.Outputs[name]
		if out == nil {
			out = map[string]string{name: "ok"}
		}
		return process.StepResult{Summary: name + " done", Outputs: out}, nil
	}
}

func (f *Farm) lookupWiki(_ context.Context, in activities.LookupWikiInput) (activities.LookupWikiResult, error) {
	return answer(f, "LookupWiki", in, nil, func() (activities.LookupWikiResult, error) {
		w := f.Lookup
		w.DBName = in.DB
		return activities.LookupWikiResult{Wiki: w}, f.LookupErr
	})
}

func (f *Farm) countRightHolders(_ context.Context, in deletewiki.RightHoldersInput) (deletewiki.RightHoldersResult, error) {
	return answer(f, deletewiki.NameCountRightHolders, in, &f.HolderIn, func() (deletewiki.RightHoldersResult, error) {
		return deletewiki.RightHoldersResult{Users: slices.Clone(f.Holders)}, nil
	})
}

func (f *Farm) fileWikiRequest(_ context.Context, in requestwiki.FileRequestInput) (requestwiki.FileRequestResult, error) {
	return answer(f, requestwiki.NameFileWikiRequest, in, &f.Files, func() (requestwiki.FileRequestResult, error) {
		name, id := f.account(in.Requester)
		if id == 0 {
			return requestwiki.FileRequestResult{}, temporal.NewNonRetryableApplicationError(in.Requester+" has no account on the farm (fake)", activities.ErrTypeInvalidInput, nil)
		}
		return requestwiki.FileRequestResult{ID: f.FileID, UserID: id, Requester: name}, nil
	})
}

func (f *Farm) editWikiRequest(_ context.Context, in requestwiki.EditRequestInput) (process.StepResult, error) {
	return answer(f, requestwiki.NameEditWikiRequest, in, &f.Edits, func() (process.StepResult, error) {
		return process.StepResult{Summary: "edited"}, nil
	})
}

func (f *Farm) updateRequest(_ context.Context, in requestwiki.UpdateRequestInput) (requestwiki.UpdateRequestResult, error) {
	return answer(f, requestwiki.NameUpdateRequest, in, nil, func() (requestwiki.UpdateRequestResult, error) {
		if f.External != "" && in.Expect != "" && in.Status != "" && f.External != in.Expect {
			return requestwiki.UpdateRequestResult{Status: f.External, Changed: true}, nil
		}
		f.Updates = append(f.Updates, in)
		return requestwiki.UpdateRequestResult{Status: in.Status, Action: in.Action}, nil
	})
}

func (f *Farm) ownWiki(ctx context.Context, in activities.OwnWikiInput) (activities.OwnWikiResult, error) {
	return answer(f, "OwnWiki", in, nil, func() (activities.OwnWikiResult, error) {
		me := activity.GetInfo(ctx).WorkflowExecution.ID
		if held := f.Owners[in.Wiki]; held != "" && held != me {
			return activities.OwnWikiResult{Owner: held}, temporal.NewNonRetryableApplicationError(
				in.Wiki+" is in the hands of the open process "+held+" (fake)", activities.ErrTypeOwned, nil)
		}
		f.Owners[in.Wiki] = me
		return activities.OwnWikiResult{Owner: me}, nil
	})
}

func (f *Farm) releaseWiki(ctx context.Context, in activities.ReleaseWikiInput) (activities.ReleaseWikiResult, error) {
	return answer(f, "ReleaseWiki", in, nil, func() (activities.ReleaseWikiResult, error) {
		if f.Owners[in.Wiki] == activity.GetInfo(ctx).WorkflowExecution.ID {
			delete(f.Owners, in.Wiki)
		}
		return activities.ReleaseWikiResult{}, nil
	})
}

// Called counts the calls of an activity.
func (f *Farm) Called(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.Calls {
		if c == name {
			n++
		}
	}
	return n
}

// CallsOf lists the calls of the activities whose names start with
// prefix, in call order.
func (f *Farm) CallsOf(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(f.Calls), func(c string) bool { return !strings.HasPrefix(c, prefix) })
}

// FirstCall is the index of the first call of name in the call log, or -1.
func (f *Farm) FirstCall(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Index(f.Calls, name)
}

// Statuses lists the statuses UpdateRequest was asked to set, in order.
func (f *Farm) Statuses() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, u := range f.Updates {
		if u.Status != "" {
			out = append(out, u.Status)
		}
	}
	return out
}
