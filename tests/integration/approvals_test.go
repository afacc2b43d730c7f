//go:build integration

package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/mediawiki"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/changesetting"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
)

// shortGrace is a client whose deletions wait only a few seconds.
func shortGrace(grace time.Duration) *client.Client {
	return clientWith(func(cfg *config.Config) { cfg.Processes.DeletionGracePeriod = grace })
}

// liveWiki creates a wiki through the worker and returns its name and its
// requester (its first bureaucrat).
func liveWiki(t *testing.T, prefix string) (db, owner string) {
	t.Helper()
	return createdWiki(t, prefix, "Wiki ", false)
}

// createdWiki creates a wiki named prefix and a random part, called title
// and its name, public or private, through the worker, and returns its
// name and its requester (its first bureaucrat).
func createdWiki(t *testing.T, prefix, title string, private bool) (db, owner string) {
	t.Helper()
	ctx := testContext(t, 2*time.Minute)
	owner = newUser(t, "Owner")
	db = uniqueDB(prefix)
	id, err := cli.CreateWiki(ctx, client.CreateWikiRequest{
		Wiki: process.WikiSpec{DB: db, Sitename: title + db, Language: "en", Private: private}, Requester: owner,
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, id, 2*time.Minute, process.StateCompleted)
	return db, owner
}

// bureaucrat makes a new farm account a bureaucrat of db.
func bureaucrat(t *testing.T, db string) string {
	t.Helper()
	name := newUser(t, "Crat")
	if _, err := deps.Scripts.Run(testContext(t, time.Minute), db, "createAndPromote", "--force", "--bureaucrat", name); err != nil {
		t.Fatal(err)
	}
	return name
}

func lastApproval(st process.Status) process.ApprovalRecord {
	if len(st.Approvals) == 0 {
		return process.ApprovalRecord{}
	}
	return st.Approvals[len(st.Approvals)-1]
}

// wantRefused sends a decision that must be refused, recorded with a
// reason containing why, and change nothing.
func wantRefused(t *testing.T, c *client.Client, id string, action process.Decision, user, why string) {
	t.Helper()
	ctx := testContext(t, time.Minute)
	before, _ := c.Status(ctx, id)
	_, err := c.Decide(ctx, id, action, user, "")
	var refusedErr *client.RefusedError
	if !errors.As(err, &refusedErr) {
		t.Fatalf("%s by %s: want a refusal, got %v", action, user, err)
	}
	st, _ := c.Status(ctx, id)
	last := lastApproval(st)
	if last.User != user || last.Accepted || !strings.Contains(last.Reason, why) {
		t.Fatalf("%s by %s: want a refused record saying %q, got %+v", action, user, why, last)
	}
	if st.State != before.State {
		t.Fatalf("a refused %s moved the process from %s to %s", action, before.State, st.State)
	}
}

// A deletion approved by two bureaucrats goes through a short grace period
// to a dropped database whose backup restores; a plain user's, a duplicate
// and the requester's own approvals are refused and recorded.
func TestDeletionApprovedByTwoBureaucrats(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	db, owner := liveWiki(t, "del")
	d := askDeletion(t, ctx, db, owner, "Some content.")
	c, id, st := d.client, d.id, d.status
	plain := newUser(t, "Plain")
	if st.Result["quorum"] != "2" {
		t.Fatalf("quorum: %q", st.Result["quorum"])
	}
	approveByTwo(t, ctx, c, id, twoApprovals{plain: plain, plainLacks: "managewiki-core", requester: owner,
		first: d.bureaucrats[0], firstComment: "ok", second: d.bureaucrats[1]})
	st = waitFor(t, c, id, time.Minute, process.StateGracePeriod, process.StateCompleted)
	st = waitFor(t, c, id, 2*time.Minute, process.StateCompleted)
	assertDeleted(t, db, st)
	replayHistory(t, id)
}

// pendingDeletion is a deletion waiting for its approvals.
type pendingDeletion struct {
	client      *client.Client // with a grace period of three seconds
	id          string
	status      process.Status // waiting for approval
	bureaucrats [2]string      // two of the wiki's bureaucrats besides its owner
}

// askDeletion writes a page of content on db, makes two more bureaucrats
// of it and asks, as owner, for its deletion through a client whose grace
// period is three seconds; it returns once the deletion waits for approval.
func askDeletion(t *testing.T, ctx context.Context, db, owner, content string) pendingDeletion {
	t.Helper()
	c := shortGrace(3 * time.Second)
	if _, err := deps.Scripts.RunWithInput(ctx, db, content, "edit", "Some page"); err != nil {
		t.Fatal(err)
	}
	b1, b2 := bureaucrat(t, db), bureaucrat(t, db)
	st := waitingDeletion(t, ctx, c, db, owner, "no longer needed")
	return pendingDeletion{client: c, id: st.ID, status: st, bureaucrats: [2]string{b1, b2}}
}

// twoApprovals are the people approveByTwo has decide: plain lacks the
// right (plainLacks names it), requester asked for the process, first and
// second may approve it.
type twoApprovals struct {
	plain, plainLacks, requester, first, firstComment, second string
}

// approveByTwo has a process that needs two approvals approved by a.first
// and then a.second, and checks the refusals on the way, each recorded and
// changing nothing: a.plain's, the requester's own, and a.first's second
// approval.
func approveByTwo(t *testing.T, ctx context.Context, c *client.Client, id string, a twoApprovals) {
	t.Helper()
	wantRefused(t, c, id, process.DecisionApprove, a.plain, a.plainLacks)
	wantRefused(t, c, id, process.DecisionApprove, a.requester, "own request")
	if _, err := c.Decide(ctx, id, process.DecisionApprove, a.first, a.firstComment); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, c, id, process.DecisionApprove, a.first, "already approved")
	if _, err := c.Decide(ctx, id, process.DecisionApprove, a.second, ""); err != nil {
		t.Fatal(err)
	}
}

// databaseExists tells whether db is on any cluster.
func databaseExists(ctx context.Context, db string) bool {
	cluster, _ := deps.Clusters.FindDatabase(ctx, db)
	return cluster != ""
}

// wikiRegistered tells whether db may have a row in cw_wikis: true unless
// the lookup answered that there is none; err is what it answered.
func wikiRegistered(ctx context.Context, db string) (bool, error) {
	_, err := deps.Central.Wiki(ctx, db)
	return !errors.Is(err, farmdb.ErrWikiNotFound), err
}

// wikiUnknown tells whether the farm answers for db that it serves no such
// wiki; err is what it answered.
func wikiUnknown(ctx context.Context, db string) (bool, error) {
	_, err := deps.API.SiteInfo(ctx, db)
	return errors.Is(err, mediawiki.ErrUnknownWiki), err
}

// wantNoCentralRows reports each central table that still has rows of db.
func wantNoCentralRows(t *testing.T, ctx context.Context, db string) {
	t.Helper()
	rows, _ := deps.Central.RowCounts(ctx, db)
	for table, n := range rows {
		if n != 0 {
			t.Errorf("%s still has %d rows", table, n)
		}
	}
}

// assertDeleted checks a deletion's end: no database, no rows, and a backup
// whose checksum is the recorded one and which restores.
func assertDeleted(t *testing.T, db string, st process.Status) {
	t.Helper()
	ctx := testContext(t, time.Minute)
	if databaseExists(ctx, db) {
		t.Fatal("the database still exists")
	}
	wantNoCentralRows(t, ctx, db)
	path, sum := st.Result["backup_path"], st.Result["backup_sha256"]
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("backup file %q: %v", path, err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(path)) })
	h := sha256.Sum256(b)
	if hex.EncodeToString(h[:]) != sum {
		t.Fatal("the backup's checksum is not the recorded one")
	}
	scratch := "restore" + randomHex(4)
	defer createDatabase(t, ctx, scratch)()
	server, _ := deps.Clusters.Server("c1")
	// The cluster's server as its DSN gives it (the stack's port included).
	conn, err := deps.Clusters.ToolConnection("c1")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("mariadb", append(append([]string{"--no-defaults"}, conn.Args...), scratch)...)
	cmd.Env = append(os.Environ(), conn.Env())
	cmd.Stdin = strings.NewReader(string(b))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("restoring the backup: %v %s", err, out)
	}
	counts, err := farmdb.TableRowCounts(ctx, server, scratch)
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) < 50 || counts["page"] < 1 {
		t.Fatalf("restored backup: %d tables, %d pages", len(counts), counts["page"])
	}
}

// One steward approves a deletion for everyone; undelete in the grace period
// reopens the wiki and ends the process.
func TestStewardApprovesDeletionAndUndelete(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	c := shortGrace(time.Hour)
	db, owner := liveWiki(t, "stew")
	bureaucrat(t, db)
	steward := newUser(t, "Steward", "steward")
	st := waitFor(t, c, stewardApprovedDeletion(t, c, db, owner, "spam", steward, "steward action"), time.Minute, process.StateGracePeriod)
	if a := st.Approvals[len(st.Approvals)-1]; !a.Accepted || !a.Override {
		t.Fatalf("the steward's approval should be an accepted override: %+v", a)
	}
	if unknown, err := wikiUnknown(ctx, db); !unknown {
		t.Fatalf("a wiki in its grace period should be unavailable, got %v", err)
	}
	w, _ := deps.Central.Wiki(ctx, db)
	if !w.Closed || !w.Deleted || w.ClosedReason == "" {
		t.Fatalf("cw_wikis during the grace period: %+v", w)
	}
	plain := newUser(t, "Plain")
	if _, err := c.Undelete(ctx, st.ID, plain); err == nil {
		t.Fatal("a plain user undeleted the wiki")
	}
	if _, err := c.Undelete(ctx, st.ID, owner); err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, c, st.ID, time.Minute, process.StateCancelled)
	if si, err := deps.API.SiteInfo(ctx, db); err != nil || si.ReadOnly {
		t.Fatalf("the undeleted wiki should answer and be writable: %+v %v", si, err)
	}
	if !databaseExists(ctx, db) {
		t.Fatal("the database is gone after an undelete")
	}
}

// Only a holder of managewiki-core on the wiki may ask for its deletion.
func TestDeletionRequestNeedsTheRight(t *testing.T) {
	ctx := testContext(t, time.Minute)
	db, _ := liveWiki(t, "norights")
	plain := newUser(t, "Plain")
	_, err := cli.DeleteWiki(ctx, db, plain, "because")
	var refusedErr *client.RefusedError
	if !errors.As(err, &refusedErr) || !strings.Contains(err.Error(), "managewiki-core") {
		t.Fatalf("want a refusal naming the right, got %v", err)
	}
	if w, _ := deps.Central.Wiki(ctx, db); w.Closed || w.Deleted {
		t.Fatal("a refused deletion closed the wiki")
	}
}

// A restricted setting waits for a steward; a plain user's approval is
// refused; once approved the value shows on the wiki. A non-restricted one
// applies at once.
func TestRestrictedSettingNeedsAStewardsApproval(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	db, owner := liveWiki(t, "set")
	steward := newUser(t, "Steward", "steward")
	plain := newUser(t, "Plain")

	st, err := cli.ChangeSetting(ctx, db, "wgMaxArticleSize", "1234", owner, "big pages")
	if err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, cli, st.ID, time.Minute, process.StateWaitingApproval)
	wantRefused(t, cli, st.ID, process.DecisionApprove, plain, "managewiki-restricted")
	if si, _ := deps.API.SiteInfo(ctx, db); si.MaxArticleSize == 1234*1024 {
		t.Fatal("the value was applied before the approval")
	}
	if _, err := cli.Decide(ctx, st.ID, process.DecisionApprove, steward, ""); err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, cli, st.ID, time.Minute, process.StateCompleted)
	replayHistory(t, st.ID)
	// siteinfo reports $wgMaxArticleSize (kilobytes) in bytes.
	if si, err := deps.API.SiteInfo(ctx, db); err != nil || si.MaxArticleSize != 1234*1024 {
		t.Fatalf("maxarticlesize on the wiki: %d (%v)", si.MaxArticleSize, err)
	}
	if st.Result["new"] != "1234" {
		t.Fatalf("result: %+v", st.Result)
	}

	// A non-restricted setting is applied at once and keeps the other.
	st, err = cli.ChangeSetting(ctx, db, "wgInterwikiMagic", "false", owner, "")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, st.ID, time.Minute, process.StateCompleted)
	values, err := deps.Central.ReadSettings(ctx, db)
	if err != nil || string(values["wgMaxArticleSize"]) != "1234" || string(values["wgInterwikiMagic"]) != "false" {
		t.Fatalf("s_settings: %s %v", values, err)
	}
}

// Bad values and unknown settings are refused before any process starts.
func TestSettingRefusedBeforeAnyProcess(t *testing.T) {
	ctx := testContext(t, time.Minute)
	for _, tc := range []struct{ setting, value, why string }{
		{"wgMaxArticleSize", "99999", "4096"},
		{"wgMaxArticleSize", `"big"`, "int"},
		{"wgNoSuchSetting", "1", "unknown setting"},
	} {
		_, err := cli.ChangeSetting(ctx, "testwiki", tc.setting, tc.value, "FarmAdmin", "")
		var refusedErr *client.RefusedError
		if !errors.As(err, &refusedErr) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s=%s: want a refusal saying %q, got %v", tc.setting, tc.value, tc.why, err)
		}
		_, err = deps.Temporal.DescribeWorkflowExecution(ctx, changesetting.ChangeSettingID("testwiki", tc.setting), "")
		var notFound *serviceerror.NotFound
		if !errors.As(err, &notFound) {
			t.Errorf("%s: a process exists after a refused request: %v", tc.setting, err)
		}
	}
}

// A wiki request approved by two wiki creators ends with a live wiki, and
// cw_requests shows every step.
func TestWikiRequestApprovedByTwoCreators(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	requester := newUser(t, "Asker")
	c1, c2 := newUser(t, "Creator", "wikicreator"), newUser(t, "Creator", "wikicreator")
	plain := newUser(t, "Plain")
	db := uniqueDB("req")
	st := waitingRequest(t, ctx, process.WikiSpec{DB: db, Sitename: "Requested Wiki", Language: "en", Category: "test"}, requester, "a wiki about testing")
	id := st.ID
	reqID := requestID(t, st)
	if r, _ := deps.Central.GetRequest(ctx, reqID); r.Status != "inreview" || r.DBName != db {
		t.Fatalf("cw_requests row: %+v", r)
	}
	approveByTwo(t, ctx, cli, id, twoApprovals{plain: plain, plainLacks: "createwiki", requester: requester,
		first: c1, firstComment: "looks good", second: c2})
	st = waitFor(t, cli, id, 2*time.Minute, process.StateCompleted)
	if si, err := deps.API.SiteInfo(ctx, db); err != nil || si.SiteName != "Requested Wiki" {
		t.Fatalf("the requested wiki: %+v %v", si, err)
	}
	r, _ := deps.Central.GetRequest(ctx, reqID)
	if r.Status != "approved" {
		t.Fatalf("cw_requests status %q", r.Status)
	}
	comments, _ := deps.Central.RequestComments(ctx, reqID)
	joined := ""
	for _, c := range comments {
		joined += c.Comment + "\n"
	}
	if !strings.Contains(joined, "looks good") || !strings.Contains(joined, "Approved by") || !strings.Contains(joined, "completed") {
		t.Fatalf("cw_comments: %s", joined)
	}
	replayHistory(t, id)
}

func requestID(t *testing.T, st process.Status) int64 {
	t.Helper()
	var id int64
	for _, ch := range st.Result[requestwiki.ResultRequestID] {
		id = id*10 + int64(ch-'0')
	}
	if id == 0 {
		t.Fatalf("no request id in %+v", st.Result)
	}
	return id
}

// Two declines decline; hold and more-details move cw_requests; the
// requester's edit brings it back; the requester's withdrawal abandons it.
func TestWikiRequestReviewPaths(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	requester := newUser(t, "Asker")
	c1, c2 := newUser(t, "Creator", "wikicreator"), newUser(t, "Creator", "wikicreator")

	file := func() (string, int64) {
		st := waitingRequest(t, ctx, process.WikiSpec{DB: uniqueDB("rev"), Sitename: "Reviewed", Language: "en"}, requester, "please")
		return st.ID, requestID(t, st)
	}
	status := func(id int64) string {
		r, _ := deps.Central.GetRequest(ctx, id)
		return r.Status
	}

	id, rid := file()
	if _, err := cli.Review(ctx, id, requestwiki.ReviewRequest{Action: requestwiki.ReviewHold, User: c1}); err != nil {
		t.Fatal(err)
	}
	if status(rid) != "onhold" {
		t.Fatalf("after hold: %s", status(rid))
	}
	if _, err := cli.Review(ctx, id, requestwiki.ReviewRequest{Action: requestwiki.ReviewMoreDetails, User: c1, Comment: "what is it for?"}); err != nil {
		t.Fatal(err)
	}
	if status(rid) != "moredetails" {
		t.Fatalf("after more-details: %s", status(rid))
	}
	if _, err := cli.Review(ctx, id, requestwiki.ReviewRequest{Action: requestwiki.ReviewEdit, User: c2, Sitename: "Hijack"}); err == nil {
		t.Fatal("someone else edited the request")
	}
	if _, err := cli.Review(ctx, id, requestwiki.ReviewRequest{Action: requestwiki.ReviewEdit, User: requester, Sitename: "Reviewed Better", Comment: "for testing"}); err != nil {
		t.Fatal(err)
	}
	if r, _ := deps.Central.GetRequest(ctx, rid); r.Status != "inreview" || r.Sitename != "Reviewed Better" {
		t.Fatalf("after the edit: %+v", r)
	}
	for _, u := range []string{c1, c2} {
		if _, err := cli.Decide(ctx, id, process.DecisionDecline, u, "no"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, cli, id, time.Minute, process.StateDeclined)
	if status(rid) != "declined" {
		t.Fatalf("after two declines: %s", status(rid))
	}

	id, rid = file()
	if _, err := cli.Decide(ctx, id, process.DecisionCancel, requester, "changed my mind"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, id, time.Minute, process.StateCancelled)
	if status(rid) != "abandoned" {
		t.Fatalf("after the withdrawal: %s", status(rid))
	}
}

// crashClient is a client for workers run as separate processes (which
// tests kill) on their own task queue, with a short grace period.
func crashClient(queue string, grace time.Duration) *client.Client {
	return clientWith(func(cfg *config.Config) {
		cfg.Temporal.TaskQueue = queue
		cfg.Processes.DeletionGracePeriod = grace
	})
}

// killableWorker builds the worker binary, to run as separate processes
// (which tests kill) on a task queue of their own named after prefix, and
// a client for that queue whose deletions wait for grace.
func killableWorker(t *testing.T, prefix string, grace time.Duration) (bin, queue string, c *client.Client) {
	t.Helper()
	bin = buildBinary(t, "worker")
	queue = prefix + randomHex(3)
	return bin, queue, crashClient(queue, grace)
}

// killWhenFileAppears kills worker as soon as a file matching pattern
// exists, looking for a minute; it tells whether it found one.
func killWhenFileAppears(worker *exec.Cmd, pattern string) bool {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if files, _ := filepath.Glob(pattern); len(files) > 0 {
			_ = worker.Process.Kill()
			_, _ = worker.Process.Wait()
			return true
		}
	}
	return false
}

// approvedDeletion asks for db's deletion and has a steward approve it.
func approvedDeletion(t *testing.T, c *client.Client, db, owner, steward string) string {
	t.Helper()
	return stewardApprovedDeletion(t, c, db, owner, "test", steward, "")
}

// stewardApprovedDeletion asks, as owner and for reason, for db's deletion
// and once it waits for approval has steward approve it with comment; it
// returns the deletion's ID.
func stewardApprovedDeletion(t *testing.T, c *client.Client, db, owner, reason, steward, comment string) string {
	t.Helper()
	ctx := testContext(t, time.Minute)
	id := waitingDeletion(t, ctx, c, db, owner, reason).ID
	if _, err := c.Decide(ctx, id, process.DecisionApprove, steward, comment); err != nil {
		t.Fatal(err)
	}
	return id
}

// waitingRequest files a request, by requester and for reason, for the
// wiki w and returns its status once it waits for approval.
func waitingRequest(t *testing.T, ctx context.Context, w process.WikiSpec, requester, reason string) process.Status {
	t.Helper()
	st, err := cli.RequestWiki(ctx, client.CreateWikiRequest{Wiki: w, Requester: requester}, reason)
	if err != nil {
		t.Fatal(err)
	}
	return waitFor(t, cli, st.ID, time.Minute, process.StateWaitingApproval)
}

// waitingDeletion asks, as owner and for reason, for db's deletion and
// returns its status once it waits for approval.
func waitingDeletion(t *testing.T, ctx context.Context, c *client.Client, db, owner, reason string) process.Status {
	t.Helper()
	st, err := c.DeleteWiki(ctx, db, owner, reason)
	if err != nil {
		t.Fatal(err)
	}
	return waitFor(t, c, st.ID, time.Minute, process.StateWaitingApproval)
}

// A worker killed during the grace period: after the restart the wiki is
// deleted exactly once and its backup is there.
func TestWorkerKilledDuringGracePeriod(t *testing.T) {
	bin, queue, c := killableWorker(t, "wikiflow-grace-", 4*time.Second)
	db, owner := liveWiki(t, "kill")
	steward := newUser(t, "Steward", "steward")
	worker := startWorkerProcess(t, bin, queue)
	id := approvedDeletion(t, c, db, owner, steward)
	waitFor(t, c, id, time.Minute, process.StateGracePeriod)
	_ = worker.Process.Kill()
	_, _ = worker.Process.Wait()
	time.Sleep(5 * time.Second) // the grace period ends while no worker runs
	startWorkerProcess(t, bin, queue)
	st := waitFor(t, c, id, 2*time.Minute, process.StateCompleted)
	assertDeleted(t, db, st)
	if s := st.Step(deletewiki.StepDropDatabase); s == nil || s.State != process.StepSucceeded {
		t.Fatalf("drop step: %+v", s)
	}
}

// A worker killed between the backup and the drop: after the restart the
// wiki is deleted exactly once and its backup is there and restores.
func TestWorkerKilledBetweenBackupAndDrop(t *testing.T) {
	bin, queue, c := killableWorker(t, "wikiflow-backup-", time.Second)
	steward := newUser(t, "Steward", "steward")
	backups := config.Abs(deps.Config.Database.BackupDir)
	for attempt := 1; attempt <= 3; attempt++ {
		db, owner := liveWiki(t, "bkp")
		worker := startWorkerProcess(t, bin, queue)
		ctx := testContext(t, 3*time.Minute)
		id := approvedDeletion(t, c, db, owner, steward)
		// Kill as soon as a backup file of this wiki exists.
		killedBeforeDrop := false
		if killWhenFileAppears(worker, filepath.Join(backups, db, "*.sql")) {
			killedBeforeDrop = databaseExists(ctx, db)
		}
		startWorkerProcess(t, bin, queue)
		st := waitFor(t, c, id, 2*time.Minute, process.StateCompleted)
		assertDeleted(t, db, st)
		if killedBeforeDrop {
			if s := st.Step(deletewiki.StepDropDatabase); s.Attempts != 1 {
				t.Fatalf("the drop ran %d times", s.Attempts)
			}
			return
		}
		t.Logf("attempt %d: the kill came after the drop; trying again", attempt)
	}
	t.Fatal("could not kill the worker between backup and drop in 3 attempts")
}
