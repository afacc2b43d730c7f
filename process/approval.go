package process

import "time"

// ApprovalPolicy configures an approval gate: who may approve and how many
// must. Rights are always checked by the workflow, asking MediaWiki at the
// time of the decision, never taken from the message.
type ApprovalPolicy struct {
	// Quorum is the number of distinct approvers holding Right on RightWiki.
	Quorum int `json:"quorum"`
	// Right is what an approver must hold; empty means only an override
	// holder can decide (e.g. a wiki with no other bureaucrat).
	Right     Right  `json:"right,omitempty"`
	RightWiki string `json:"right_wiki,omitempty"` // empty: the process's wiki
	// OverrideRight lets one holder approve (or decline) for everyone; the
	// decision is recorded as an override.
	OverrideRight Right  `json:"override_right,omitempty"`
	OverrideWiki  string `json:"override_wiki,omitempty"`
	// AllowSelfApproval lets the requester approve their own request.
	AllowSelfApproval bool `json:"allow_self_approval,omitempty"`
	// DeclinesToEnd is how many distinct declines end the gate (0 means 1).
	DeclinesToEnd int `json:"declines_to_end,omitempty"`
	// Expiry ends an undecided gate as expired; zero waits forever.
	Expiry time.Duration `json:"expiry,omitempty"`
	// Authorize is the activity that checks rights (AuthorizeInput -> AuthorizeResult).
	Authorize string `json:"authorize"`
}

// Decision is what a person says to a gate.
type Decision string

// Decisions a person can send to a gate.
const (
	DecisionApprove Decision = "approve"
	DecisionDecline Decision = "decline"
	DecisionCancel  Decision = "cancel"
)

// Message names of gates: one signal per decision (the wiki hook fires and
// forgets), and an update that answers at once (the CLI).
const (
	SignalApprove  = "approve"
	SignalDecline  = "decline"
	SignalCancel   = "cancel"
	UpdateDecide   = "decide"
	SignalUndelete = "undelete"
	UpdateUndelete = "undelete"
)

// Person is someone MediaWiki identified: the canonical user name and the
// central user id, which is what comparisons of people use.
type Person struct {
	Name string `json:"name"`
	ID   int    `json:"id,omitempty"`
}

// DecisionSignal is the payload of the approve, decline and cancel signals.
type DecisionSignal struct {
	User    string `json:"user"`
	Comment string `json:"comment,omitempty"`
}

// DecideRequest is the payload of the decide update.
type DecideRequest struct {
	Action  Decision `json:"action"`
	User    string   `json:"user"`
	Comment string   `json:"comment,omitempty"`
}

// ApprovalRecord is one decision as the gate took it, accepted or not.
type ApprovalRecord struct {
	// User is the canonical name when MediaWiki knew the account, else the
	// name as sent; UserID its central id (0 when unknown).
	User     string   `json:"user"`
	UserID   int      `json:"user_id,omitempty"`
	Decision Decision `json:"decision"`
	Accepted bool     `json:"accepted"`
	Override bool     `json:"override,omitempty"`
	Reason   string   `json:"reason,omitempty"`
	Comment  string   `json:"comment,omitempty"`
	// Replaced: the same person decided again later; only their latest
	// accepted decision counts.
	Replaced bool      `json:"replaced,omitempty"`
	Time     time.Time `json:"time"`
}

// Decided is the decide update's answer: the decision's record (its
// fields at the top level, as the update answered before) and the
// process's status as the decision left it.
type Decided struct {
	ApprovalRecord
	Status *Status `json:"status,omitempty"`
}

// States of processes with people in them, beside the engine's.
const (
	StateWaitingApproval State = "waiting-approval"
	StateGracePeriod     State = "grace-period"
	StateApproved        State = "approved"
	StateDeclined        State = "declined"
	StateExpired         State = "expired"
	StateCancelled       State = "cancelled"
)

// States of a wiki's inactivity process between its stages.
const (
	StateWarned         State = "warned" // marked inactive, bureaucrats told; closed unless someone edits
	StateClosedInactive State = "closed" // closed for inactivity; deleted unless a bureaucrat has it reopened
)
