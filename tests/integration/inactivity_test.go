//go:build integration

package integration

import (
	"errors"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	tclient "go.temporal.io/sdk/client"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/inactivity"
)

// inactivityClient is a client whose inactivity periods are seconds, in
// the proportions of real ones (the warning shorter than the quiet time
// before it): a wiki is inactive 8 s after its last edit, closed 4 s after
// the warning, deleted 4 s after the closing, with a 2 s grace period.
func inactivityClient() *client.Client {
	return clientWith(func(cfg *config.Config) {
		cfg.Inactivity.InactiveAfter, cfg.Inactivity.CloseAfter, cfg.Inactivity.DeleteAfter = 8*time.Second, 4*time.Second, 4*time.Second
		cfg.Processes.DeletionGracePeriod = 2 * time.Second
	})
}

// inactivityRow reads the wiki's row as the policy does.
func inactivityRow(t *testing.T, db string) farmdb.InactivityRow {
	t.Helper()
	r, err := deps.Central.InactivityRowOf(testContext(t, 10*time.Second), db)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sweep sweeps the named wikis and returns the report, by wiki.
func sweep(t *testing.T, c *client.Client, dry bool, wikis ...string) map[string]inactivity.Due {
	t.Helper()
	report, err := c.Sweep(testContext(t, time.Minute), dry, wikis)
	if err != nil {
		t.Fatal(err)
	}
	if report.Read != len(wikis) || report.DryRun != dry {
		t.Fatalf("sweep read %d wikis (dry run %v), want %d (%v)", report.Read, report.DryRun, len(wikis), dry)
	}
	due := map[string]inactivity.Due{}
	for _, d := range report.Due {
		due[d.Wiki] = d
	}
	return due
}

// noInactivityProcess checks that no inactivity process was ever started for db.
func noInactivityProcess(t *testing.T, db string) {
	t.Helper()
	_, err := deps.Temporal.DescribeWorkflowExecution(testContext(t, 10*time.Second), inactivity.InactivityID(db), "")
	var notFound *serviceerror.NotFound
	if !errors.As(err, &notFound) {
		t.Errorf("%s: an inactivity process exists (%v), want none", db, err)
	}
}

// A wiki nobody edits is warned, closed and then deleted through the normal
// deletion process (grace period, verified backup, drop), its bureaucrats
// and the staff told at each stage, each stage in Special:Log.
func TestQuietWikiIsWarnedClosedAndDeleted(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	c := inactivityClient()
	db, owner := liveWiki(t, "quiet")
	addr := confirmedAddress(t, owner)
	time.Sleep(8 * time.Second) // its creation is its last activity

	due := sweep(t, c, false, db)
	if d := due[db]; d.Verdict.Action != inactivity.ActionWarn || d.Process != inactivity.InactivityID(db) {
		t.Fatalf("sweep: %+v, want %s warned by a new process", due, db)
	}
	id := inactivity.InactivityID(db)
	waitFor(t, c, id, time.Minute, process.StateWarned)
	if r := inactivityRow(t, db); !r.Inactive || r.InactiveAt.IsZero() || r.Closed {
		t.Fatalf("row after the warning: %+v, want inactive and open", r)
	}
	waitFor(t, c, id, time.Minute, process.StateClosedInactive)
	if r := inactivityRow(t, db); !r.Closed || r.ClosedReason != inactivity.ClosedReason {
		t.Fatalf("row after the closing: %+v, want closed for inactivity", r)
	}
	if si, err := deps.API.SiteInfo(ctx, db); err != nil || !si.ReadOnly {
		t.Fatalf("closed wiki: readonly %v, %v", si.ReadOnly, err)
	}
	st := waitFor(t, c, id, time.Minute, process.StateCompleted)
	del := deletewiki.DeleteWikiID(db)
	if st.Result[inactivity.ResultDeleteProcess] != del {
		t.Fatalf("inactivity ended %v, want it to have started %s", st.Result, del)
	}
	dst := waitFor(t, c, del, 2*time.Minute, process.StateCompleted)
	assertDeleted(t, db, dst)
	if len(dst.Approvals) != 1 || dst.Approvals[0].User != inactivity.PolicyApprover {
		t.Errorf("deletion approvals %+v, want the policy's", dst.Approvals)
	}

	var subjects []string
	for _, m := range mailbox.To(addr) {
		subjects = append(subjects, m.Data)
	}
	for _, want := range []string{"is inactive and will be closed", "has been closed for inactivity", "is scheduled for deletion", "has been deleted"} {
		if !slices.ContainsFunc(subjects, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("no email to the bureaucrat %s saying %q (got %d emails)", owner, want, len(subjects))
		}
	}
	for _, want := range []string{db + "** is marked inactive", db + "** is closed for inactivity", db + "** has been deleted"} {
		if len(webhook.Containing(want)) != 1 {
			t.Errorf("staff webhook: %d messages saying %q, want 1", len(webhook.Containing(want)), want)
		}
	}
	for _, action := range []string{"inactive", "closed"} {
		if n := countLog(t, "metawiki", "managewiki", action, "Special:Processes/"+id); n != 1 {
			t.Errorf("managewiki/%s entries of %s on the central wiki: %d, want 1", action, id, n)
		}
	}
	replayHistory(t, id)
}

// Wikis the policy must leave alone: a dry run changes nothing and starts
// nothing; an exempt wiki gets no process; a wiki edited after its warning
// is marked active again and stays open; a steward's exemption is refused
// to anyone else and changes nothing then.
func TestInactivityLeavesEditedExemptAndDryRunWikisAlone(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	c := inactivityClient()
	edited, owner := liveWiki(t, "edited")
	exempt, _ := liveWiki(t, "exempt")
	steward := newUser(t, "Steward", "steward")

	if _, err := c.Exempt(ctx, exempt, owner, "my own wiki", time.Time{}, false); err == nil || !strings.Contains(err.Error(), "managewiki-restricted") {
		t.Fatalf("exemption by a bureaucrat of another wiki: %v, want refused", err)
	}
	if r := inactivityRow(t, exempt); r.Exempt {
		t.Fatalf("a refused exemption changed the row: %+v", r)
	}
	res, err := c.Exempt(ctx, exempt, steward, "archive of a finished project", time.Now().Add(time.Hour), false)
	if err != nil || res.User != steward {
		t.Fatalf("steward's exemption: %+v %v", res, err)
	}
	time.Sleep(8 * time.Second)

	before := map[string]farmdb.InactivityRow{edited: inactivityRow(t, edited), exempt: inactivityRow(t, exempt)}
	due := sweep(t, c, true, edited, exempt)
	if due[edited].Verdict.Action != inactivity.ActionWarn || due[edited].Process != "" || len(due) != 1 {
		t.Fatalf("dry run: %+v, want only %s, to be warned, and no process", due, edited)
	}
	for db, r := range before {
		if after := inactivityRow(t, db); after != r {
			t.Errorf("the dry run changed %s: %+v, then %+v", db, r, after)
		}
		noInactivityProcess(t, db)
	}

	due = sweep(t, c, false, edited, exempt)
	if _, ok := due[exempt]; ok || due[edited].Verdict.Action != inactivity.ActionWarn {
		t.Fatalf("sweep: %+v, want only %s warned", due, edited)
	}
	noInactivityProcess(t, exempt)
	id := inactivity.InactivityID(edited)
	waitFor(t, c, id, time.Minute, process.StateWarned)
	if _, err := deps.Scripts.RunWithInput(ctx, edited, "Still here.", "edit", "Some page"); err != nil {
		t.Fatal(err)
	}
	st := waitFor(t, c, id, time.Minute, process.StateCompleted)
	if r := inactivityRow(t, edited); r.Inactive || r.Closed {
		t.Errorf("edited wiki's row: %+v, want active and open", r)
	}
	if !strings.HasPrefix(st.Result[inactivity.ResultVerdict], string(inactivity.ActionActive)) {
		t.Errorf("edited wiki's process ended with %q, want it marked active again", st.Result[inactivity.ResultVerdict])
	}
	if si, err := deps.API.SiteInfo(ctx, edited); err != nil || si.ReadOnly {
		t.Errorf("edited wiki: readonly %v, %v; want writable", si.ReadOnly, err)
	}
}

// A wiki closed for inactivity is reopened by its bureaucrat; anyone else's
// reopen is refused, recorded and changes nothing; no deletion follows.
func TestBureaucratReopensAWikiClosedForInactivity(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	c := clientWith(func(cfg *config.Config) {
		cfg.Inactivity.InactiveAfter, cfg.Inactivity.CloseAfter, cfg.Inactivity.DeleteAfter = 4*time.Second, 2*time.Second, time.Hour
	})
	db, owner := liveWiki(t, "reopen")
	time.Sleep(4 * time.Second)
	if _, err := c.CheckInactivity(ctx, db); err != nil {
		t.Fatal(err)
	}
	id := inactivity.InactivityID(db)
	waitFor(t, c, id, time.Minute, process.StateClosedInactive)

	plain := newUser(t, "Plain")
	if _, err := c.Reopen(ctx, id, plain, ""); err == nil || !strings.Contains(err.Error(), "holds neither") {
		t.Fatalf("reopen by a plain user: %v, want refused", err)
	}
	if r := inactivityRow(t, db); !r.Closed {
		t.Fatalf("a refused reopen opened the wiki: %+v", r)
	}
	st, err := c.Reopen(ctx, id, owner, "we are back")
	if err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, c, id, time.Minute, process.StateCompleted)
	if st.Result[inactivity.ResultReopenedBy] != owner {
		t.Errorf("reopened by %q, want %s", st.Result[inactivity.ResultReopenedBy], owner)
	}
	if r := inactivityRow(t, db); r.Closed || r.Inactive || r.Deleted {
		t.Errorf("row after the reopening: %+v, want open and active", r)
	}
	if si, err := deps.API.SiteInfo(ctx, db); err != nil || si.ReadOnly {
		t.Errorf("reopened wiki: readonly %v, %v", si.ReadOnly, err)
	}
	if n := countLog(t, db, "managewiki", "reopen", "Special:Processes/"+id); n != 1 {
		t.Errorf("managewiki/reopen entries on %s: %d, want 1 (activity by CreateWiki's rule)", db, n)
	}
	server, err := deps.Clusters.Server(inactivityRow(t, db).Cluster)
	if err != nil {
		t.Fatal(err)
	}
	last, err := farmdb.LastActivity(ctx, server, db)
	if err != nil || time.Since(last) > time.Minute {
		t.Errorf("last activity after the reopening: %v %v, want now", last, err)
	}
	_, err = deps.Temporal.DescribeWorkflowExecution(ctx, deletewiki.DeleteWikiID(db), "")
	var notFound *serviceerror.NotFound
	if !errors.As(err, &notFound) {
		t.Errorf("a deletion of the reopened wiki exists: %v", err)
	}
}

// confirmedAddress gives user a confirmed email address (resetUserEmail
// confirms it) and returns it.
func confirmedAddress(t *testing.T, user string) string {
	t.Helper()
	addr := strings.ToLower(user) + "@example.org"
	if _, err := deps.Scripts.Run(testContext(t, time.Minute), "metawiki", "resetUserEmail", "--no-reset-password", user, addr); err != nil {
		t.Fatal(err)
	}
	return addr
}

// countLog counts the type/action entries on the page title in wiki's
// log, read over its API.
func countLog(t *testing.T, wiki, typ, action, title string) int {
	t.Helper()
	n := 0
	for _, e := range logEvents(t, wiki, title) {
		if e.Type == typ && e.Action == action {
			n++
		}
	}
	return n
}

// A closed wiki is read-only, so nobody logs in there: on the central
// wiki's Special:Processes, the closed wiki's bureaucrat gets a Reopen
// button and a plain user none; the button reopens the wiki.
func TestReopenButtonOnTheClosedWiki(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	c := clientWith(func(cfg *config.Config) {
		cfg.Inactivity.InactiveAfter, cfg.Inactivity.CloseAfter, cfg.Inactivity.DeleteAfter = 4*time.Second, 2*time.Second, time.Hour
	})
	db, owner := liveWiki(t, "reopenpage")
	ownerPassword := withPassword(t, owner)
	plain := newUser(t, "Plain")
	plainPassword := withPassword(t, plain)
	time.Sleep(4 * time.Second)
	if _, err := c.CheckInactivity(ctx, db); err != nil {
		t.Fatal(err)
	}
	id := inactivity.InactivityID(db)
	waitFor(t, c, id, time.Minute, process.StateClosedInactive)

	visitor := newVisitor(t, farmAddr(), "metawiki").login(plain, plainPassword)
	_, page := visitor.page("Special:Processes/" + id)
	if _, actions, _ := formFields(page, "wikiflow-action:"+id); len(actions) != 0 {
		t.Fatalf("a plain user's buttons: %v", actions)
	}
	crat := newVisitor(t, farmAddr(), "metawiki").login(owner, ownerPassword)
	_, page = crat.page("Special:Processes/" + id)
	fields, actions, _ := formFields(page, "wikiflow-action:"+id)
	if strings.Join(actions, ",") != "reopen" {
		t.Fatalf("the closed wiki's bureaucrat's buttons on the central wiki: %v", actions)
	}
	fields.Set("wfaction", inactivity.SignalReopen)
	code, page := crat.post("Special:Processes/"+id, fields)
	wantSent(t, code, page, "Reopen")
	st := waitFor(t, c, id, time.Minute, process.StateCompleted)
	if st.Result[inactivity.ResultReopenedBy] != owner || inactivityRow(t, db).Closed {
		t.Fatalf("after the button: %v, row %+v; want reopened by %s", st.Result, inactivityRow(t, db), owner)
	}
}

// The worker service keeps the sweep's Temporal Schedule as configured:
// paused with a note while inactivity.enabled is false, running on its
// interval once enabled; a trigger by hand runs a sweep (a dry run here,
// over the whole test farm) that changes nothing.
func TestWorkerKeepsTheInactivitySchedule(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	queue := "wikiflow-schedule-" + randomHex(3)
	h := deps.Temporal.ScheduleClient().GetHandle(ctx, inactivity.ScheduleID)
	scheduleIs := func(paused bool, every time.Duration) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
			d, err := h.Describe(ctx)
			if err == nil {
				a, _ := d.Schedule.Action.(*tclient.ScheduleWorkflowAction)
				spec := d.Schedule.Spec
				if a != nil && a.TaskQueue == queue && d.Schedule.State.Paused == paused &&
					len(spec.Intervals) == 1 && spec.Intervals[0].Every == every {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("schedule %s never became paused=%v every %s on %s: %+v %v", inactivity.ScheduleID, paused, every, queue, d, err)
			}
		}
	}
	w := startWorkers(t, queue, 1, "--inactivity.dry_run=true")[0]
	scheduleIs(true, 24*time.Hour)
	w.stop(syscall.SIGTERM)
	startWorkers(t, queue, 1, "--inactivity.enabled=true", "--inactivity.dry_run=true", "--inactivity.sweep_interval=12h")
	scheduleIs(false, 12*time.Hour)

	before := inactivityRow(t, "testwiki")
	if err := h.Trigger(ctx, tclient.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	var run string
	for deadline := time.Now().Add(time.Minute); run == ""; time.Sleep(200 * time.Millisecond) {
		d, err := h.Describe(ctx)
		if err == nil && len(d.Info.RecentActions) > 0 {
			run = d.Info.RecentActions[len(d.Info.RecentActions)-1].StartWorkflowResult.WorkflowID
		}
		if time.Now().After(deadline) {
			t.Fatal("the triggered sweep never started")
		}
	}
	var res inactivity.SweepResult
	if err := deps.Temporal.GetWorkflow(ctx, run, "").Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if !res.Report.DryRun || res.Report.Read == 0 {
		t.Errorf("triggered sweep: %+v, want a dry run over the farm", res.Report)
	}
	if after := inactivityRow(t, "testwiki"); after != before {
		t.Errorf("a dry run changed testwiki: %+v, then %+v", before, after)
	}
}
