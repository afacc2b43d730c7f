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

	"github.com/wikiflow/wikiflow/mediawiki"
	"github.com/wikiflow/wikiflow/process"
)

// Special:Log. What WikiFlow does is logged the way CreateWiki and ManageWiki
// log it (type farmer on the central wiki, managewiki), through MediaWiki
// itself: the WikiFlow extension's API module (action=wikiflowwrite&do=log,
// mediawiki.Client.WriteLogEntry) inserts each entry with ManualLogEntry and
// publishes it to recent changes, which feed a farm's IRC and Discord
// streams. Every entry has a key (process, run, action and, for decisions,
// their time) under which the module writes it once, so a step that logs
// stays idempotent.
//
// When MediaWiki's web server does not answer, the entry is written by the
// extension's maintenance script instead (the same code, the same key), which
// needs only PHP and the database.
//
// A failed write is retried with the step: the step's own writes and the
// entry are both idempotent, so running the step again costs nothing and the
// entry appears once MediaWiki answers again. Only up to FarmLogAttempts
// attempts, and never on a step's last one: a log entry is never worth a
// step that needs a person. After that, and at once when MediaWiki refuses
// the write for good (a performer without an account, an action the wiki
// does not register: no retry changes that), the entry is skipped and the
// worker's log says so with the command that writes it by hand: the
// extension's maintenance script, which writes through the same code under
// the same key (so a write by hand after all is still one entry).

// FarmLogScript is the WikiFlow extension's maintenance script, as
// farm/bin/mwscript finds it: the command a skipped entry is logged with.
const FarmLogScript = "extensions/WikiFlow/maintenance/addLogEntry"

// FarmLogAttempts is how many attempts of a step a failed log write fails.
const FarmLogAttempts = 5

// Log types: CreateWiki's and ManageWiki's names.
const (
	LogFarmer     = "farmer"
	LogManageWiki = "managewiki"
)

// errIncompleteLog is an entry the caller left without a required field.
var errIncompleteLog = errors.New("incomplete log entry")

// LogEntry is one Special:Log entry.
type LogEntry struct {
	// Wiki is the wiki it is written on; with Central the entry goes to
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

// WriteLog writes e and returns nil once it is in the log, or when it is
// skipped (see above); an error means the calling step should fail this
// attempt and be retried.
func (f *Farm) WriteLog(ctx context.Context, e LogEntry) error {
	err := f.writeLog(ctx, e)
	if err == nil {
		return nil
	}
	refused := errors.Is(err, errIncompleteLog) || errors.Is(err, errLogRefused) || mediawiki.Classify(err) == mediawiki.Permanent
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

func (f *Farm) writeLog(ctx context.Context, e LogEntry) error {
	if e.Wiki == "" || e.Type == "" || e.Action == "" || e.Performer == "" || e.Target == "" || e.Key == "" {
		return fmt.Errorf("%w: %+v", errIncompleteLog, e)
	}
	_, err := f.API.WriteLogEntry(ctx, e.Wiki, mediawiki.LogWrite{
		Type: e.Type, Action: e.Action, Performer: e.Performer, Target: e.Target, Comment: e.Comment,
		Params: e.Params, Key: e.Key, Time: e.Time, Central: e.Central, ApproverOf: e.ApproverOf,
	})
	if err == nil || mediawiki.Classify(err) == mediawiki.Permanent {
		return err
	}
	// MediaWiki's web server does not answer (or failed): the maintenance
	// script writes the entry through the same code under the same key
	// without it, so that an outage of the web server alone neither holds
	// up the step (a creation's register) nor loses the entry.
	_, serr := f.Scripts.Run(ctx, e.Wiki, FarmLogScript, e.args()...)
	var se *mediawiki.ScriptError
	if errors.As(serr, &se) && se.ExitCode == farmLogRefused {
		return fmt.Errorf("%w: %v", errLogRefused, serr)
	}
	return serr
}

// farmLogRefused is the script's exit code for an entry it will never
// write (an unknown type or action, a performer with no account).
const farmLogRefused = 2

// errLogRefused marks an entry the maintenance script refused for good.
var errLogRefused = errors.New("refused by the log script")

// args are the script's options, for command; each is one argv entry.
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

// CentralHint is the wiki to write on when an entry belongs on the central
// wiki: the one the input names, else the farm's configured one, else
// fallback (the process's wiki; Central then lets the farm's MediaWiki
// configuration, $wgWikiFlowCentralWiki, move it there).
func (f *Farm) CentralHint(named, fallback string) string {
	switch {
	case named != "":
		return named
	case f.Rules.CentralWiki != "":
		return f.Rules.CentralWiki
	}
	return fallback
}

// ProcessPage is the page a process is read on, the entries' target.
func ProcessPage(id string) string { return "Special:Processes/" + id }

// RunKey names the calling workflow run, or fallback outside one.
func RunKey(ctx context.Context, fallback string) string {
	if activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		if info.WorkflowExecution.ID != "" {
			return info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID
		}
	}
	return fallback
}

// ProcessID is the calling workflow's ID, or fallback outside one.
func ProcessID(ctx context.Context, fallback string) string {
	if activity.IsActivity(ctx) {
		if id := activity.GetInfo(ctx).WorkflowExecution.ID; id != "" {
			return id
		}
	}
	return fallback
}

// ---------------------------------------------------------------------------
// The entries of each activity

// StepKey is the key of a step's entry: one per run of the process (a
// retry by a person is the same run, a new process of the same ID is not).
func StepKey(ctx context.Context, in process.StepInput, action string) string {
	return RunKey(ctx, in.ProcessID) + "/" + action
}
