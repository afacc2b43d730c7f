package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
)

// Gate is an approval gate inside a workflow: it takes approve, decline and
// cancel decisions (signals from a wiki hook, or the decide update that
// answers at once), checks each decider's rights with MediaWiki at that
// moment, and opens or closes by its policy. Every decision is recorded in
// the status, refused ones with their reason. Decisions that arrive after
// the gate closed change nothing and are recorded as refused, for the whole
// life of the workflow, and the channels are drained before it ends, so no
// signal is lost.
type Gate struct {
	policy    process.ApprovalPolicy
	wiki      string
	requester process.Person
	st        *process.Status
	mu        workflow.Mutex
	outcome   process.State                                                          // "" while open
	inbox     *Inbox[process.DecisionSignal, process.DecideRequest, process.Decided] // the decide update and the decision signals
	// byPerson: the gate knows who people are (the requester's central id
	// was resolved before it opened). Each person's latest accepted
	// decision is in votes, the index of its record in latest. Gates of
	// processes started before identities were resolved compare names and
	// use approvals and declines instead, so their histories replay.
	byPerson  bool
	votes     map[int]process.Decision
	latest    map[int]int
	tally     map[process.Decision]int // people by their latest decision
	approvals map[string]bool
	declines  map[string]bool
	// OnDecision, when set, runs after each recorded decision (a wiki
	// request writes accepted ones into cw_comments).
	OnDecision func(ctx workflow.Context, rec process.ApprovalRecord)
}

// NewGate registers the gate's signals and update; the gate is open from
// here on. st is the status the workflow's query serves. A requester with a
// central id makes the gate compare people by id (see Gate.byPerson).
func NewGate(ctx workflow.Context, policy process.ApprovalPolicy, wiki string, requester process.Person, st *process.Status) (*Gate, error) {
	g := &Gate{
		policy: policy, wiki: wiki, requester: requester, st: st, byPerson: requester.ID > 0,
		mu: workflow.NewMutex(ctx), approvals: map[string]bool{}, declines: map[string]bool{},
		votes: map[int]process.Decision{}, latest: map[int]int{}, tally: map[process.Decision]int{},
	}
	g.inbox = &Inbox[process.DecisionSignal, process.DecideRequest, process.Decided]{
		Update:  process.UpdateDecide,
		Signals: []string{process.SignalApprove, process.SignalDecline, process.SignalCancel},
		FromSignal: func(signal string, d process.DecisionSignal) process.DecideRequest {
			return process.DecideRequest{Action: process.Decision(signal), User: d.User, Comment: d.Comment}
		},
		Validate: func(_ workflow.Context, r process.DecideRequest) error {
			switch {
			case r.User == "":
				return fmt.Errorf("a decision needs a user")
			case r.Action != process.DecisionApprove && r.Action != process.DecisionDecline && r.Action != process.DecisionCancel:
				return fmt.Errorf("unknown decision %q (approve, decline or cancel)", r.Action)
			}
			return nil
		},
		Decide: func(ctx workflow.Context, r process.DecideRequest) (process.Decided, error) {
			rec := g.decide(ctx, r)
			if !rec.Accepted {
				return process.Decided{ApprovalRecord: rec}, temporal.NewApplicationError(rec.Reason, process.ErrTypeRefused)
			}
			// The status as the decision left it, so that the sender needs
			// no second round trip to show it.
			st := *g.st
			return process.Decided{ApprovalRecord: rec, Status: &st}, nil
		},
		Late: func(ctx workflow.Context, r process.DecideRequest) {
			g.record(ctx, process.ApprovalRecord{User: r.User, Decision: r.Action, Reason: g.ClosedReason(), Comment: r.Comment})
		},
	}
	if err := g.inbox.Listen(ctx); err != nil {
		return nil, err
	}
	return g, nil
}

// Wait blocks until the gate closes and returns its outcome: approved,
// declined, expired or cancelled.
func (g *Gate) Wait(ctx workflow.Context) (process.State, error) {
	g.st.State = process.StateWaitingApproval
	UpsertState(ctx, g.st.State)
	workflow.SetCurrentDetails(ctx, g.Details())
	if g.policy.Expiry > 0 {
		ok, err := workflow.AwaitWithTimeout(ctx, g.policy.Expiry, func() bool { return g.outcome != "" })
		if err != nil {
			return "", err
		}
		if !ok {
			g.Close(process.StateExpired)
		}
	} else if err := workflow.Await(ctx, func() bool { return g.outcome != "" }); err != nil {
		return "", err
	}
	return g.outcome, nil
}

// Close ends the gate from outside (e.g. the requester withdrew through
// another path); later decisions are refused.
// Outcome is how the gate ended: "" while it is open, else approved,
// declined, cancelled or expired.
func (g *Gate) Outcome() process.State { return g.outcome }

func (g *Gate) Close(outcome process.State) {
	if g.outcome == "" {
		g.outcome = outcome
	}
}

// Drain records the decisions still queued as refused. Call it right
// before the workflow returns.
func (g *Gate) Drain(ctx workflow.Context) { g.inbox.Drain(ctx) }

// Approvers lists the users whose approval counts (accepted and not
// replaced by a later decision of theirs).
func (g *Gate) Approvers() []process.Person {
	var out []process.Person
	for _, a := range g.st.Approvals {
		if a.Accepted && !a.Replaced && a.Decision == process.DecisionApprove {
			out = append(out, process.Person{Name: a.User, ID: a.UserID})
		}
	}
	return out
}

// ApproverNames lists the names of Approvers.
func (g *Gate) ApproverNames() []string {
	var out []string
	for _, p := range g.Approvers() {
		out = append(out, p.Name)
	}
	return out
}

// ClosedReason says why a decision comes too late.
func (g *Gate) ClosedReason() string {
	return fmt.Sprintf("the approval is closed (%s)", g.outcome)
}

// decide takes one decision, one at a time: the rights check runs an
// activity, and two approvals arriving together must not both count as the
// last one.
func (g *Gate) decide(ctx workflow.Context, r process.DecideRequest) process.ApprovalRecord {
	if err := g.mu.Lock(ctx); err != nil {
		return process.ApprovalRecord{User: r.User, Decision: r.Action, Reason: err.Error(), Time: workflow.Now(ctx)}
	}
	defer g.mu.Unlock()
	rec := process.ApprovalRecord{User: r.User, Decision: r.Action, Comment: r.Comment}
	if g.byPerson {
		rec = g.judgePerson(ctx, r)
	} else {
		rec.Accepted, rec.Override, rec.Reason = g.judge(ctx, r)
	}
	if rec.Accepted && g.outcome != "" {
		// The gate closed (expired) while the rights were being checked.
		rec.Accepted, rec.Override, rec.Reason = false, false, g.ClosedReason()
	}
	switch {
	case rec.Accepted && g.byPerson:
		g.applyPerson(rec)
	case rec.Accepted:
		g.apply(r.Action, r.User, rec.Override)
	}
	g.record(ctx, rec)
	return rec
}

// judgePerson decides whether a decision counts, knowing who decides: the
// first rights check tells MediaWiki's canonical name and central id, and
// every comparison (the requester, an earlier decision) uses the id. A
// person's new decision replaces their earlier one; the same decision
// twice is refused as a duplicate.
func (g *Gate) judgePerson(ctx workflow.Context, r process.DecideRequest) process.ApprovalRecord {
	rec := process.ApprovalRecord{User: r.User, Decision: r.Action, Comment: r.Comment}
	refuse := func(format string, args ...any) process.ApprovalRecord {
		rec.Reason = fmt.Sprintf(format, args...)
		return rec
	}
	if g.outcome != "" {
		return refuse("%s", g.ClosedReason())
	}
	// The first check names the person: for the override right when there
	// is one (its holders decide alone), else for the gate's right.
	wiki, right := g.rightWiki(), g.policy.Right
	overrideFirst := g.policy.OverrideRight != ""
	if overrideFirst {
		wiki, right = g.policy.OverrideWiki, g.policy.OverrideRight
	}
	first, err := g.Check(ctx, r.User, wiki, right)
	if err != nil {
		return refuse("%v", err)
	}
	if first.NoAccount {
		return refuse("%s", first.Reason)
	}
	rec.User, rec.UserID = first.User, first.UserID
	self := first.UserID == g.requester.ID
	switch {
	case r.Action == process.DecisionCancel && self:
		rec.Accepted = true
		return rec
	case r.Action == process.DecisionApprove && self && !g.policy.AllowSelfApproval:
		return refuse("the requester may not approve their own request")
	case r.Action != process.DecisionCancel && g.votes[rec.UserID] == r.Action:
		return refuse("%s has already %s", rec.User, pastTense(r.Action))
	case overrideFirst && first.Allowed:
		rec.Accepted, rec.Override = true, true
		return rec
	case r.Action == process.DecisionCancel && g.policy.OverrideRight == "":
		return refuse("only the requester may cancel")
	case r.Action == process.DecisionCancel:
		return refuse("only the requester or a holder of %s may cancel", g.policy.OverrideRight)
	case g.policy.Right == "":
		return refuse("only a holder of %s on %s can decide here", g.policy.OverrideRight, g.policy.OverrideWiki)
	}
	res := first
	if overrideFirst {
		if res, err = g.Check(ctx, r.User, g.rightWiki(), g.policy.Right); err != nil {
			return refuse("%v", err)
		}
	}
	if !res.Allowed {
		return refuse("%s", res.Reason)
	}
	rec.Accepted = true
	return rec
}

// applyPerson counts an accepted decision: the person's latest decision
// replaces their earlier one, and the tallies count people.
func (g *Gate) applyPerson(rec process.ApprovalRecord) {
	if rec.Decision == process.DecisionCancel {
		g.outcome = process.StateCancelled
		return
	}
	if i, ok := g.latest[rec.UserID]; ok {
		g.st.Approvals[i].Replaced = true
	}
	g.tally[g.votes[rec.UserID]]-- // the person's earlier decision, if any, no longer counts
	g.votes[rec.UserID] = rec.Decision
	g.tally[rec.Decision]++
	g.latest[rec.UserID] = len(g.st.Approvals) // record appends it next
	approvals, declines := g.tally[process.DecisionApprove], g.tally[process.DecisionDecline]
	switch {
	case rec.Decision == process.DecisionApprove && (rec.Override || approvals >= g.policy.Quorum):
		g.outcome = process.StateApproved
	case rec.Decision == process.DecisionDecline && (rec.Override || declines >= max(g.policy.DeclinesToEnd, 1)):
		g.outcome = process.StateDeclined
	}
}

func pastTense(action process.Decision) string {
	if action == process.DecisionApprove {
		return "approved"
	}
	return "declined"
}

func (g *Gate) rightWiki() string {
	if g.policy.RightWiki != "" {
		return g.policy.RightWiki
	}
	return g.wiki
}

// judge decides whether a decision counts, and why not.
func (g *Gate) judge(ctx workflow.Context, r process.DecideRequest) (accepted, override bool, reason string) {
	switch {
	case g.outcome != "":
		return false, false, g.ClosedReason()
	case r.User == "":
		return false, false, "no user named"
	case r.Action == process.DecisionApprove && r.User == g.requester.Name && !g.policy.AllowSelfApproval:
		return false, false, "the requester may not approve their own request"
	case r.Action == process.DecisionApprove && g.approvals[r.User]:
		return false, false, fmt.Sprintf("%s has already approved", r.User)
	case r.Action == process.DecisionDecline && g.declines[r.User]:
		return false, false, fmt.Sprintf("%s has already declined", r.User)
	}
	if r.Action == process.DecisionCancel && r.User == g.requester.Name {
		return true, false, ""
	}
	if g.policy.OverrideRight != "" {
		ok, _, err := g.Holds(ctx, r.User, g.policy.OverrideWiki, g.policy.OverrideRight)
		if err != nil {
			return false, false, err.Error()
		}
		if ok {
			return true, true, ""
		}
	}
	if r.Action == process.DecisionCancel {
		if g.policy.OverrideRight == "" {
			return false, false, "only the requester may cancel"
		}
		return false, false, fmt.Sprintf("only the requester or a holder of %s may cancel", g.policy.OverrideRight)
	}
	if g.policy.Right == "" {
		return false, false, fmt.Sprintf("only a holder of %s on %s can decide here", g.policy.OverrideRight, g.policy.OverrideWiki)
	}
	wiki := g.policy.RightWiki
	if wiki == "" {
		wiki = g.wiki
	}
	ok, why, err := g.Holds(ctx, r.User, wiki, g.policy.Right)
	if err != nil {
		return false, false, err.Error()
	}
	if !ok {
		return false, false, why
	}
	return true, false, ""
}

// Holds asks MediaWiki (through the authorize activity) whether user holds
// right on wiki now.
func (g *Gate) Holds(ctx workflow.Context, user, wiki string, right process.Right) (bool, string, error) {
	res, err := g.Check(ctx, user, wiki, right)
	return res.Allowed, res.Reason, err
}

// Check asks MediaWiki who user is and whether they hold right on wiki now.
func (g *Gate) Check(ctx workflow.Context, user, wiki string, right process.Right) (process.AuthorizeResult, error) {
	// A decision: its sender may be waiting for the answer (decide update).
	opts := decisionOptions(ctx, "check "+string(right)+" of "+user, 30*time.Second,
		&temporal.RetryPolicy{MaximumAttempts: 5, InitialInterval: time.Second})
	var res process.AuthorizeResult
	err := RunCheck(ctx, opts, g.policy.Authorize, process.AuthorizeInput{
		User: user, Wiki: wiki, AnyRight: []process.Right{right},
	}, &res)
	if err != nil {
		return res, fmt.Errorf("could not check the rights of %s: %v", user, err)
	}
	return res, nil
}

func (g *Gate) apply(action process.Decision, user string, override bool) {
	declinesToEnd := g.policy.DeclinesToEnd
	if declinesToEnd <= 0 {
		declinesToEnd = 1
	}
	switch action {
	case process.DecisionApprove:
		g.approvals[user] = true
		if override || len(g.approvals) >= g.policy.Quorum {
			g.outcome = process.StateApproved
		}
	case process.DecisionDecline:
		g.declines[user] = true
		if override || len(g.declines) >= declinesToEnd {
			g.outcome = process.StateDeclined
		}
	case process.DecisionCancel:
		g.outcome = process.StateCancelled
	}
}

func (g *Gate) record(ctx workflow.Context, rec process.ApprovalRecord) {
	rec.Time = workflow.Now(ctx)
	g.st.Approvals = append(g.st.Approvals, rec)
	if g.outcome == "" {
		workflow.SetCurrentDetails(ctx, g.Details())
	}
	if g.OnDecision != nil {
		g.OnDecision(ctx, rec)
	}
}

// Details is the Web UI's "what is it doing now".
func (g *Gate) Details() string {
	wiki := g.policy.RightWiki
	if wiki == "" {
		wiki = g.wiki
	}
	who := fmt.Sprintf("%d approval(s) from holders of `%s` on %s", g.policy.Quorum, g.policy.Right, wiki)
	if g.policy.Right == "" {
		who = "no local approver"
	}
	if g.policy.OverrideRight != "" {
		who += fmt.Sprintf(", or one from a holder of `%s` on %s", g.policy.OverrideRight, g.policy.OverrideWiki)
	}
	accepted := len(g.approvals)
	if g.byPerson {
		accepted = len(g.Approvers())
	}
	return fmt.Sprintf("**Waiting for approval**: %s. Accepted so far: %d.", who, accepted)
}

// StewardOptions are the farm's choices for a process that one steward
// approves (a restricted setting change, a restore).
type StewardOptions struct {
	CentralWiki     string
	AttentionWindow time.Duration
	// Expiry ends a request nobody approved.
	Expiry time.Duration
	// RetryBudget is how long a step retries transient failures before it
	// asks a person (processes.transient_retry_budget); zero: five attempts.
	RetryBudget time.Duration `json:",omitempty"`
}

// AwaitSteward opens the frame's gate for one steward (managewiki-restricted
// on the central wiki) to decide, and waits for it. approved is false when
// the gate ended otherwise, the status's state then saying how; the frame
// drains the gate before the workflow ends, whatever happened.
func (f *Frame) AwaitSteward(ctx workflow.Context, o StewardOptions, wiki string, requester process.Person) (approved bool, err error) {
	f.Gate, err = NewGate(ctx, process.ApprovalPolicy{
		Quorum: 1, Right: process.RightManageWikiRestricted, RightWiki: o.CentralWiki,
		Expiry: o.Expiry, Authorize: activities.NameCheckRights,
	}, wiki, requester, f.St)
	if err != nil {
		return false, err
	}
	outcome, err := f.Gate.Wait(ctx)
	if err != nil || outcome == process.StateApproved {
		return err == nil, err
	}
	f.St.State = outcome
	return false, nil
}
