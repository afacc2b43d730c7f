package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/mediawiki"
	"github.com/wikiflow/wikiflow/process"
)

// Special:Log. What WikiFlow does is logged the way CreateWiki and ManageWiki
// log it (type farmer on the central wiki, managewiki), through MediaWiki
// itself: the WikiFlow extension's addLogEntry.php inserts each entry with
// ManualLogEntry and publishes it to recent changes, which feed a farm's IRC
// and Discord streams. Every entry has a key (process, run, action and, for
// decisions, their time) under which the script writes it once, so a step
// that logs stays idempotent.
//
// A failed write is retried with the step: the step's own writes and the
// entry are both idempotent, so running the step again costs nothing and the
// entry appears once MediaWiki answers again. Only up to FarmLogAttempts
// attempts, and never on a step's last one: a log entry is never worth a
// step that needs a person. After that, and at once when the script refuses
// the input (a performer without an account, an action the wiki does not
// register: no retry changes that), the entry is skipped and the worker's
// log says so with the command that writes it by hand (the key keeps that
// safe too).

// FarmLogScript is the WikiFlow extension's maintenance script, as
// farm/bin/mwscript finds it.
const FarmLogScript = "extensions/WikiFlow/maintenance/addLogEntry"

// FarmLogAttempts is how many attempts of a step a failed log write fails.
const FarmLogAttempts = 5

// Log types: CreateWiki's and ManageWiki's names.
const (
	LogFarmer     = "farmer"
	LogManageWiki = "managewiki"
)

// farmLogRefused is the script's exit code for input it will never log.
const farmLogRefused = 2

// LogEntry is one Special:Log entry.
type LogEntry struct {
	// Wiki is the wiki the script runs for; with Central the entry goes to
	// the farm's central wiki even when Wiki is another one.
	Wiki    string
	Central bool
	Type    string
	Action  string
	// Performer is who acted, by any spelling MediaWiki takes for the
	// account; the entry records the canonical name.
	Performer string
	// ApproverOf, when set, is a wiki request's page: the performer is then
	// its latest approver in the farmer log, if it has one.
	ApproverOf string
	Target     string
	Comment    string
	Params     map[string]any
	// Key identifies the entry: written once per key.
	Key string
	// Time is when it happened; zero means now.
	Time time.Time
}

// LogResult is what the script reports.
type LogResult struct {
	Wiki      string `json:"wiki"`
	LogID     int64  `json:"logid"`
	Performer string `json:"performer"`
	Created   bool   `json:"created"`
	Published bool   `json:"published"`
}

// WriteLog writes e and returns nil once it is in the log, or when it is
// skipped (see above); an error means the calling step should fail this
// attempt and be retried.
func (f *Farm) WriteLog(ctx context.Context, e LogEntry) error {
	_, err := f.writeLog(ctx, e)
	if err == nil {
		return nil
	}
	var se *mediawiki.ScriptError
	refused := errors.As(err, &se) && se.ExitCode == farmLogRefused
	if !refused && retryLogWrite(ctx) {
		return fmt.Errorf("writing the log entry %s/%s (%s): %w", e.Type, e.Action, e.Key, err)
	}
	logger(ctx).Warn("log entry skipped", "type", e.Type, "action", e.Action, "wiki", e.Wiki,
		"key", e.Key, "error", err.Error(), "rerun", e.command())
	return nil
}

// command is the shell command that writes e by hand.
func (e LogEntry) command() string {
	words := []string{"farm/bin/mwscript", FarmLogScript, "--wiki=" + e.Wiki}
	for _, a := range e.args() {
		words = append(words, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
	}
	return strings.Join(words, " ")
}

func (f *Farm) writeLog(ctx context.Context, e LogEntry) (LogResult, error) {
	if e.Wiki == "" || e.Type == "" || e.Action == "" || e.Performer == "" || e.Target == "" || e.Key == "" {
		return LogResult{}, &mediawiki.ScriptError{Script: FarmLogScript, Wiki: e.Wiki, ExitCode: farmLogRefused,
			Output: fmt.Sprintf("incomplete log entry %+v", e)}
	}
	out, err := f.Scripts.Run(ctx, e.Wiki, FarmLogScript, e.args()...)
	if err != nil {
		return LogResult{}, err
	}
	var res LogResult
	if err := json.Unmarshal([]byte(lastLine(out)), &res); err != nil || res.LogID <= 0 {
		return LogResult{}, fmt.Errorf("%s on %s: unexpected output %q", FarmLogScript, e.Wiki, lastLine(out))
	}
	return res, nil
}

// args are the script's options; each is one argv entry, never a shell word.
func (e LogEntry) args() []string {
	args := []string{"--type=" + e.Type, "--action=" + e.Action, "--performer=" + e.Performer,
		"--target=" + e.Target, "--key=" + e.Key}
	if e.Central {
		args = append(args, "--central")
	}
	if e.ApproverOf != "" {
		args = append(args, "--approver-of="+e.ApproverOf)
	}
	if e.Comment != "" {
		args = append(args, "--comment="+e.Comment)
	}
	if len(e.Params) > 0 {
		b, _ := json.Marshal(e.Params)
		args = append(args, "--params="+string(b))
	}
	if !e.Time.IsZero() {
		args = append(args, "--timestamp="+e.Time.UTC().Format("20060102150405"))
	}
	return args
}

// retryLogWrite: whether a failed write may fail this attempt of the step.
func retryLogWrite(ctx context.Context) bool {
	if !activity.IsActivity(ctx) {
		return false // called directly: nobody would retry it
	}
	info := activity.GetInfo(ctx)
	last := int32(FarmLogAttempts)
	if p := info.RetryPolicy; p != nil && p.MaximumAttempts > 0 && p.MaximumAttempts < last {
		last = p.MaximumAttempts
	}
	if info.Attempt >= last {
		return false
	}
	// A step bounded in time: not when the next attempt may not start in time.
	if info.ScheduleToCloseTimeout > 0 && time.Until(info.ScheduledTime.Add(info.ScheduleToCloseTimeout)) < time.Minute {
		return false
	}
	return true
}

func logger(ctx context.Context) interface{ Warn(string, ...any) } {
	if activity.IsActivity(ctx) {
		return activity.GetLogger(ctx)
	}
	return slog.Default()
}

// centralHint is the wiki to run the script for when an entry belongs on
// the central wiki: the one the input names, else the farm's configured
// one, else fallback (the process's wiki; --central then lets the farm's
// MediaWiki configuration, $wgWikiFlowCentralWiki, move it there).
func (f *Farm) centralHint(named, fallback string) string {
	switch {
	case named != "":
		return named
	case f.Rules.CentralWiki != "":
		return f.Rules.CentralWiki
	}
	return fallback
}

// processPage is the page a process is read on, the entries' target.
func processPage(id string) string { return "Special:Processes/" + id }

// runKey names the calling workflow run, or fallback outside one.
func runKey(ctx context.Context, fallback string) string {
	if activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		if info.WorkflowExecution.ID != "" {
			return info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID
		}
	}
	return fallback
}

// processID is the calling workflow's ID, or fallback outside one.
func processID(ctx context.Context, fallback string) string {
	if activity.IsActivity(ctx) {
		if id := activity.GetInfo(ctx).WorkflowExecution.ID; id != "" {
			return id
		}
	}
	return fallback
}

// ---------------------------------------------------------------------------
// The entries of each activity

// logRequestFiled: farmer/requestwiki by the requester, with CreateWiki's
// parameters (and the database name).
func (f *Farm) logRequestFiled(ctx context.Context, in FileRequestInput, id int64, requester string) error {
	base := in.Key
	if base == "" {
		base = runKey(ctx, fmt.Sprintf("request-wiki:%s/%d", in.DB, id))
	}
	private := 0
	if in.Private {
		private = 1
	}
	return f.WriteLog(ctx, LogEntry{
		Wiki: f.centralHint(in.Central, ""), Central: true, Type: LogFarmer, Action: "requestwiki", Performer: requester,
		Target: processPage(processID(ctx, "request-wiki:"+in.DB)), Comment: in.Reason,
		Params: map[string]any{"4::sitename": in.Sitename, "5::language": in.Language, "6::private": private,
			"7::id": fmt.Sprintf("#%d", id), "8::wiki": in.DB},
		Key: base + "/requestwiki",
	})
}

// requestLogAction is the farmer action of an update of a request, "" for
// one that is not logged. People's decisions are logged, each under its
// decider (with a quorum of two, two requestapprove entries); the farm's own
// approved and declined that follow them are not, because they add nothing
// the decisions did not say. An abandonment is the farm's (a withdrawal
// ended the review, or the details never came), so it is logged as well as
// the requester's withdrawal. A creation's outcome is logged only when the
// wiki did not come to exist (RegisterWiki logs the creation).
func requestLogAction(in UpdateRequestInput) string {
	switch in.Status {
	case farmdb.RequestOnHold:
		return "requestonhold"
	case farmdb.RequestMoreDetails:
		return "requestmoredetails"
	case farmdb.RequestInReview:
		return "requestreopen" // only the requester's edit puts a request back in review
	case farmdb.RequestAbandoned:
		return "requestabandon"
	case "":
		switch in.Action {
		case process.DecisionApprove:
			return "requestapprove"
		case process.DecisionDecline:
			return "requestdecline"
		case process.DecisionCancel:
			return "requestwithdraw"
		case "create-wiki":
			return "create-failure"
		}
	}
	return ""
}

// logRequestUpdate logs an update of request in.ID (of the wiki db) that
// UpdateRequest has written, under the account it recorded (res.User).
func (f *Farm) logRequestUpdate(ctx context.Context, in UpdateRequestInput, db string, res UpdateRequestResult) error {
	action := requestLogAction(in)
	if action == "" || res.Changed {
		return nil
	}
	if action == "create-failure" {
		if w, err := f.Central.Wiki(ctx, db); err == nil && !w.Deleted {
			return nil // created: RegisterWiki logged farmer/createwiki
		} else if err != nil && !errors.Is(err, farmdb.ErrWikiNotFound) {
			return err
		}
	}
	comment := in.Comment
	if in.Status == "" {
		// A decision's comment is recorded as "approve: <what they said>".
		comment = strings.TrimSpace(strings.TrimPrefix(comment, in.Action+":"))
	}
	at := in.At
	if in.User == "" && in.Status != "" {
		// The farm's status change follows a person's decision made at the same workflow
		// instant (a withdrawal, then the abandonment), and the two entries are written at
		// once: a second later in the log, as in cw_comments, the cause reads before the effect.
		at = at.Add(time.Second)
	}
	id := processID(ctx, "request-wiki:"+db)
	return f.WriteLog(ctx, LogEntry{
		Wiki: f.centralHint(in.Central, ""), Central: true, Type: LogFarmer, Action: action, Performer: res.User,
		Target: processPage(id), Comment: comment,
		Params: map[string]any{"4::id": fmt.Sprintf("#%d", in.ID), "5::wiki": db},
		Key:    fmt.Sprintf("%s/%d/%s/%s", id, in.ID, action, in.At.UTC().Format(time.RFC3339Nano)),
		Time:   at,
	})
}

// stepKey is the key of a step's entry: one per run of the process (a
// retry by a person is the same run, a new process of the same ID is not).
func stepKey(ctx context.Context, in process.StepInput, action string) string {
	return runKey(ctx, in.ProcessID) + "/" + action
}

// logCreated: farmer/createwiki on the central wiki. The performer is the
// wiki creator whose approval completed the wiki's request (the farmer log
// of request-wiki:<db> says who), as CreateWiki logs the creator who
// approved; a creation an operator started has no one else named in it, so
// its performer is the requester, for whom the wiki was made and who
// becomes its bureaucrat.
func (f *Farm) logCreated(ctx context.Context, in process.StepInput) error {
	request := "request-wiki:" + in.Wiki.DB
	approverOf := processPage(request)
	if f.Processes != nil {
		// Approvals count only while the review waits for this creation.
		if open, err := f.Processes.Open(ctx, request, ""); err == nil && !open {
			approverOf = ""
		}
	}
	return f.WriteLog(ctx, LogEntry{
		Wiki: f.centralHint(in.Params[ParamCentralWiki], in.Wiki.DB), Central: true, Type: LogFarmer, Action: "createwiki",
		Performer: in.Requester, ApproverOf: approverOf, Target: processPage(in.ProcessID),
		Params: map[string]any{"4::wiki": in.Wiki.DB, "5::requester": in.Requester},
		Key:    stepKey(ctx, in, LogFarmer+"/createwiki"),
	})
}

// logDeletion logs a deletion step on the central wiki (ManageWiki logs
// deletion and undeletion there, from its central form): performer the
// requester, comment the reason they gave. Undelete names who undeleted
// when the step's Args do (undeleted_by, undelete_comment), else the farm.
func (f *Farm) logDeletion(ctx context.Context, in process.StepInput, typ, action string) error {
	central := f.centralHint(in.Params[ParamCentralWiki], "")
	e := LogEntry{
		Wiki: orDefault(central, in.Wiki.DB), Central: true, Type: typ, Action: action, Performer: in.Requester,
		Target: processPage(in.ProcessID), Comment: in.Args["reason"],
		Params: map[string]any{"4::wiki": in.Wiki.DB}, Key: stepKey(ctx, in, typ+"/"+action),
	}
	switch action {
	case "closed":
		e.Params["5::reason"] = in.Args["reason"]
	case "undelete":
		e.Performer, e.Comment = in.Args["undeleted_by"], in.Args["undelete_comment"]
		if e.Performer == "" {
			e.Performer = SystemUser
			if central != "" {
				if _, name, err := f.systemUser(ctx, central); err == nil {
					e.Performer = name
				}
			}
		}
	}
	return f.WriteLog(ctx, e)
}

// logSetting: managewiki/settings on the wiki itself, as ManageWiki's own
// settings form logs, with the old and the new value.
func (f *Farm) logSetting(ctx context.Context, in process.StepInput, name, old, value string) error {
	return f.WriteLog(ctx, LogEntry{
		Wiki: in.Wiki.DB, Type: LogManageWiki, Action: "settings", Performer: in.Requester,
		Target: processPage(in.ProcessID), Comment: in.Args["reason"],
		Params: map[string]any{"4::wiki": in.Wiki.DB, "5::changes": name, "6::old": old, "7::new": value},
		Key:    stepKey(ctx, in, "managewiki/settings"),
	})
}
