package inactivity

import (
	"fmt"
	"time"

	"github.com/wikiflow/wikiflow/farmdb"
)

// Policy is the farm's inactivity periods (config inactivity.*). CreateWiki
// calls them $wgCreateWikiStateDays inactive, closed and removed; its fourth
// period, deleted, is the deletion's grace period here.
type Policy struct {
	// Inactive: a wiki with no activity for this long is warned and
	// marked inactive.
	Inactive time.Duration
	// Close: a wiki marked inactive this long is closed (reason
	// "inactivity").
	Close time.Duration
	// Remove: a wiki closed for inactivity this long goes to a deletion.
	Remove time.Duration
}

// Validate refuses periods that are not all positive.
func (p Policy) Validate() error {
	if p.Inactive <= 0 || p.Close <= 0 || p.Remove <= 0 {
		return fmt.Errorf("the inactivity periods must all be positive (inactive %s, close %s, remove %s)", p.Inactive, p.Close, p.Remove)
	}
	return nil
}

// ClosedReason is the wiki_closed_reason of a wiki closed by this policy:
// CreateWiki's own.
const ClosedReason = "inactivity"

// Action is what the policy asks for a wiki now.
type Action string

const (
	ActionNone     Action = "none"     // active, exempt, or not this policy's wiki: nothing to do
	ActionWait     Action = "wait"     // a stage is under way; the next is due at Verdict.Next
	ActionActive   Action = "activate" // marked inactive, but active again: clear the mark
	ActionWarn     Action = "warn"     // mark inactive and warn the bureaucrats
	ActionClose    Action = "close"    // close the wiki, reason inactivity
	ActionDelete   Action = "delete"   // start the deletion
	ActionReleased Action = "released" // exempt or closed otherwise while marked: clear the mark
)

// Verdict is the policy's answer for one wiki at one time.
type Verdict struct {
	Action Action    `json:"action"`
	Why    string    `json:"why"`
	Next   time.Time `json:"next,omitzero"` // for ActionWait: when the next stage is due
}

// Facts are what the verdict is made of: the wiki's row and its last
// activity (farmdb.LastActivity).
type Facts struct {
	Row          farmdb.InactivityRow `json:"row"`
	LastActivity time.Time            `json:"last_activity,omitzero"`
	// Owner is the process that owns the wiki (a deletion, a restore), if
	// any: the policy leaves such a wiki alone.
	Owner string `json:"owner,omitempty"`
}

// Active is when the wiki was last active: its last edit or log entry, or
// its creation when it has neither newer.
func (f Facts) Active() time.Time {
	if f.LastActivity.After(f.Row.Created) {
		return f.LastActivity
	}
	return f.Row.Created
}

// Exempt tells whether the wiki's exemption holds at now.
func (f Facts) Exempt(now time.Time) bool {
	return f.Row.Exempt && (f.Row.ExemptUntil.IsZero() || f.Row.ExemptUntil.After(now))
}

// Decide is the policy. It differs from CreateWiki's ManageInactiveWikis
// in two ways, both in the wiki's favour: nobody is closed without a warning
// first (a wiki found past both periods is warned, and closed Close later),
// and only wikis closed for inactivity are ever sent to deletion (CreateWiki
// deletes any wiki closed long enough, also one a steward closed for
// another reason).
func Decide(p Policy, f Facts, now time.Time) Verdict {
	r := f.Row
	active := f.Active()
	switch {
	case r.Deleted:
		return Verdict{Action: ActionNone, Why: "marked deleted"}
	case f.Owner != "":
		return Verdict{Action: ActionNone, Why: "owned by " + f.Owner}
	case r.Closed && r.ClosedReason != ClosedReason:
		if r.Inactive {
			return Verdict{Action: ActionReleased, Why: fmt.Sprintf("closed for another reason (%q)", r.ClosedReason)}
		}
		return Verdict{Action: ActionNone, Why: fmt.Sprintf("closed for another reason (%q)", r.ClosedReason)}
	case f.Exempt(now):
		why := "exempt: " + r.ExemptReason
		if !r.ExemptUntil.IsZero() {
			why += " (until " + r.ExemptUntil.Format(time.RFC3339) + ")"
		}
		if r.Inactive && !r.Closed {
			return Verdict{Action: ActionReleased, Why: why}
		}
		return Verdict{Action: ActionNone, Why: why}
	case r.Closed:
		// Closed for inactivity: a closed wiki takes no edits, so only its
		// reopening (a bureaucrat's request) stops the removal.
		due := r.ClosedAt.Add(p.Remove)
		if !now.Before(due) {
			return Verdict{Action: ActionDelete, Why: fmt.Sprintf("closed for inactivity since %s", r.ClosedAt.Format(time.RFC3339))}
		}
		return Verdict{Action: ActionWait, Why: "closed for inactivity; deletion due", Next: due}
	case now.Sub(active) < p.Inactive:
		if r.Inactive {
			return Verdict{Action: ActionActive, Why: fmt.Sprintf("active again (last activity %s)", active.Format(time.RFC3339))}
		}
		return Verdict{Action: ActionNone, Why: fmt.Sprintf("active (last activity %s)", active.Format(time.RFC3339))}
	case !r.Inactive || r.InactiveAt.IsZero():
		return Verdict{Action: ActionWarn, Why: fmt.Sprintf("no activity since %s", active.Format(time.RFC3339))}
	}
	due := r.InactiveAt.Add(p.Close)
	if !now.Before(due) {
		return Verdict{Action: ActionClose, Why: fmt.Sprintf("warned %s, no activity since %s", r.InactiveAt.Format(time.RFC3339), active.Format(time.RFC3339))}
	}
	return Verdict{Action: ActionWait, Why: "warned; closing due", Next: due}
}

// NeedsProcess tells whether the sweep starts (or keeps) a wiki's process:
// only wikis whose state changes now get one.
func (v Verdict) NeedsProcess() bool {
	switch v.Action {
	case ActionActive, ActionWarn, ActionClose, ActionDelete, ActionReleased:
		return true
	case ActionNone, ActionWait:
	}
	return false
}
