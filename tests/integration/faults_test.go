//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
)

// The fault suite: routine failures of the farm (a worker killed, MariaDB
// restarted, MediaWiki down for minutes) during creations heal without a
// person, nothing is done twice, and the status shows the retries. Each
// test restores the stack when it ends, failed or not, and writes its
// figures to faults.txt in the artifact directory.

// stateDir is the stack's state folder, as farm/bin/stack computes it
// (`make test` sets WIKIFLOW_STATE_DIR to its own instance's, .stack-test).
func stateDir() string {
	if d := os.Getenv("WIKIFLOW_STATE_DIR"); d != "" {
		return config.Abs(d)
	}
	return filepath.Join(repoRoot, ".stack")
}

// livePID reads a pid file of the stack and checks the process is alive.
func livePID(file string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(stateDir(), "run", file))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, alive(pid)
}

// alive: the process exists and is not a zombie waiting to be reaped.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// "pid (comm) state ...": the state follows the last parenthesis.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}

// stackEnv is the environment farm/bin/stack is run with to bring a service
// back: MariaDB with the durability flags it runs with now (make test starts
// it with WIKIFLOW_FAST_DB=1).
func stackEnv(t *testing.T) []string {
	env := os.Environ()
	if pid, ok := livePID("mariadb.pid"); ok {
		if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil &&
			strings.Contains(string(cmdline), "--innodb-flush-log-at-trx-commit=0") {
			env = append(env, "WIKIFLOW_FAST_DB=1")
		}
	}
	return env
}

// stackUp runs `farm/bin/stack up`, which starts whatever is down.
func stackUp(t *testing.T, env []string) time.Duration {
	t.Helper()
	start := time.Now()
	cmd := exec.Command(filepath.Join(repoRoot, "farm", "bin", "stack"), "up")
	cmd.Dir = repoRoot
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("farm/bin/stack up: %v\n%s", err, out)
	}
	return time.Since(start)
}

// restoreStack brings the stack back when the test ends, also when it fails
// halfway: the tests after it need MariaDB and MediaWiki.
func restoreStack(t *testing.T) {
	env := stackEnv(t)
	t.Cleanup(func() {
		_, dbUp := livePID("mariadb.pid")
		_, mwUp := livePID("php.pid")
		if dbUp && mwUp {
			return
		}
		cmd := exec.Command(filepath.Join(repoRoot, "farm", "bin", "stack"), "up")
		cmd.Dir = repoRoot
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("restoring the stack: %v\n%s", err, out)
		}
	})
}

var faultsFile sync.Once

// reportFault appends a test's figures to faults.txt (started afresh by the
// first test of a run).
func reportFault(t *testing.T, lines ...string) {
	path := filepath.Join(artifactDir(t), "faults.txt")
	faultsFile.Do(func() { _ = os.Remove(path) })
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "== %s (%s)\n", t.Name(), time.Now().UTC().Format(time.RFC3339))
	for _, l := range lines {
		fmt.Fprintln(f, l)
		t.Log(l)
	}
	fmt.Fprintln(f)
}

// creation is one creation of the suite.
type creation struct {
	db, id string
	err    error
}

// creations names n creations; their process IDs follow from the names.
func creations(prefix string, n int) []*creation {
	out := make([]*creation, n)
	for i := range out {
		db := uniqueDB(prefix)
		out[i] = &creation{db: db, id: createwiki.CreateWikiID(db)}
	}
	return out
}

// create starts the creations at once and returns when each one's request
// is validated (or refused).
func create(ctx context.Context, c *client.Client, requester string, crs []*creation) {
	var wg sync.WaitGroup
	for _, cr := range crs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, cr.err = c.CreateWiki(ctx, client.CreateWikiRequest{
				Wiki: process.WikiSpec{DB: cr.db, Sitename: "Fault " + cr.db, Language: "en"}, Requester: requester,
			})
		}()
	}
	wg.Wait()
}

// outage is a fault test under way: the stack restored when the test
// ends, creations started, and then a part of the stack taken down.
type outage struct {
	t         *testing.T
	env       []string
	ctx       context.Context
	requester string
	crs       []*creation
	late      []*creation   // asked for during the outage
	lateDone  chan struct{} // closed once the late ones are validated
}

// startOutage starts n creations named after prefix, with a deadline for
// the whole test, and returns once each is validated.
func startOutage(t *testing.T, timeout time.Duration, prefix string, n int) *outage {
	t.Helper()
	restoreStack(t)
	o := &outage{t: t, env: stackEnv(t), ctx: testContext(t, timeout), requester: newUser(t, "Requester"), crs: creations(prefix, n)}
	create(o.ctx, cli, o.requester, o.crs)
	return o
}

// requestLate asks for one more creation while the stack is down; its
// validation waits for the outage's end.
func (o *outage) requestLate(prefix string) {
	o.late = creations(prefix, 1)
	o.lateDone = make(chan struct{})
	go func() { defer close(o.lateDone); create(o.ctx, cli, o.requester, o.late) }()
}

// sitOut keeps the part that went down at since (its pid file names it)
// down for d, and returns what a status first showed of a step retrying.
func (o *outage) sitOut(pidFile string, since time.Time, d time.Duration) (seen string) {
	for time.Since(since) < d {
		if seen == "" {
			seen = retrying(o.ctx, cli, o.crs)
		}
		stillDown(o.t, pidFile, since)
		time.Sleep(time.Second)
	}
	return seen
}

// heal brings the stack back and waits for every creation, the late one
// too, to be created once: how long the stack took to come up, when it was
// back, the statuses and when the last creation completed.
func (o *outage) heal() (restart time.Duration, back time.Time, sts []process.Status, last time.Time) {
	o.t.Helper()
	restart = stackUp(o.t, o.env)
	back = time.Now()
	<-o.lateDone
	sts, last = waitCompleted(o.t, cli, append(o.crs, o.late...), 3*time.Minute)
	for _, st := range sts {
		assertCreatedOnce(o.t, st, o.requester)
	}
	return restart, back, sts, last
}

// waitCompleted waits until every creation completed and returns their
// statuses and when the last one did.
func waitCompleted(t *testing.T, c *client.Client, crs []*creation, timeout time.Duration) ([]process.Status, time.Time) {
	t.Helper()
	sts := make([]process.Status, len(crs))
	for i, cr := range crs {
		if cr.err != nil {
			t.Fatalf("creating %s: %v", cr.db, cr.err)
		}
		sts[i] = waitFor(t, c, cr.id, timeout, process.StateCompleted)
	}
	last := time.Time{}
	for _, st := range sts {
		if st.Ended.After(last) {
			last = st.Ended
		}
	}
	return sts, last
}

// assertCreatedOnce checks what a person would: every step succeeded and
// nobody had to act, the wiki answers over its API with the requester as
// its bureaucrat, its schema is the installer's, and each row exists once.
func assertCreatedOnce(t *testing.T, st process.Status, requester string) {
	t.Helper()
	ctx := testContext(t, time.Minute)
	db := st.Wiki
	for _, s := range st.Steps {
		if s.State != process.StepSucceeded {
			t.Errorf("%s: step %s is %s: %s", db, s.Name, s.State, s.Error)
		}
	}
	if len(st.Actions) != 0 {
		t.Errorf("%s: a person acted: %+v", db, st.Actions)
	}
	si, err := deps.API.SiteInfo(ctx, db)
	if err != nil || si.DBName != db {
		t.Fatalf("%s does not answer over its API: %+v %v", db, si, err)
	}
	u, err := deps.API.User(ctx, db, requester)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"bureaucrat", "sysop", "interface-admin"} {
		if !u.InGroup(g) {
			t.Errorf("%s: the requester is not in %s: %v", db, g, u.Groups)
		}
	}
	assertSchemaLikeInstaller(t, db)
	var n int
	if err := deps.Central.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM cw_wikis WHERE wiki_dbname = ?", db).Scan(&n); err != nil || n != 1 {
		t.Errorf("%s: %d cw_wikis rows (%v), want 1", db, n, err)
	}
	rows, err := deps.Central.RowCounts(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defaults, _ := deps.Central.RowCounts(ctx, "default")
	for _, table := range []string{"mw_settings", "mw_permissions", "mw_namespaces"} {
		if rows[table] != defaults[table] {
			t.Errorf("%s: %d %s rows, want the %d defaults once", db, rows[table], table, defaults[table])
		}
	}
	server, _ := deps.Clusters.Server("c1")
	var revisions int
	if err := server.QueryRowContext(ctx, "SELECT COUNT(*) FROM `"+db+"`.revision").Scan(&revisions); err != nil || revisions != 1 {
		t.Errorf("%s: %d revisions (%v), want the main page written once", db, revisions, err)
	}
	if claim, ok, err := deps.Central.GetClaim(ctx, db); err != nil || !ok || claim.Process != st.ID {
		t.Errorf("%s: claim %+v %v %v", db, claim, ok, err)
	}
	wantAnnouncedOnce(t, st)
}

// attemptFigures sums up the attempts the statuses show, per step.
func attemptFigures(sts []process.Status) (string, int) {
	type fig struct{ total, max, retried int }
	figs := map[string]*fig{}
	retries := 0
	for _, st := range sts {
		for _, s := range st.Steps {
			f := figs[s.Name]
			if f == nil {
				f = &fig{}
				figs[s.Name] = f
			}
			f.total += s.Attempts
			f.max = max(f.max, s.Attempts)
			if s.Attempts > 1 {
				f.retried++
				retries += s.Attempts - 1
			}
		}
	}
	names := make([]string, 0, len(figs))
	for n := range figs {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		f := figs[n]
		parts = append(parts, fmt.Sprintf("%s %d attempts (max %d, retried in %d of %d)", n, f.total, f.max, f.retried, len(sts)))
	}
	return strings.Join(parts, "; "), retries
}

// (a) 20 creations while the worker process is SIGKILLed five times and
// restarted: 20 correct wikis, nothing done twice, and the steps that were
// interrupted show more than one attempt. The schema is the one step that
// runs as an activity, the server's record of what a kill interrupted; the
// worker keeps no ready schemas here, so each is built (~150 ms, not one
// rename), and the first kill comes a second after the creations start,
// while those builds run.
func TestFaultWorkerKilledDuringCreations(t *testing.T) {
	restoreStack(t)
	bin := buildBinary(t, "worker")
	noPool := "--database.schema_pool_size=0"
	queue := "wikiflow-faults-" + randomHex(3)
	c := queueClient(queue)
	requester := newUser(t, "Requester")
	ctx := testContext(t, 5*time.Minute)

	worker := startWorkerProcess(t, bin, queue, noPool)
	crs := creations("kill", 20)
	done := make(chan struct{})
	go func() {
		defer close(done)
		create(ctx, c, requester, crs)
	}()

	// interrupted[process][step]: a step activity that was running on the
	// worker when it died.
	interrupted := map[string]map[string]bool{}
	kills := 0
	var lastRestart time.Time
	for wait := time.Second; kills < 5; wait = 3 * time.Second {
		time.Sleep(wait)
		_ = worker.Process.Signal(syscall.SIGKILL)
		_, _ = worker.Process.Wait()
		kills++
		// Nothing completes on a dead worker: what the server shows started
		// now was interrupted.
		for _, cr := range crs {
			desc, err := deps.Temporal.DescribeWorkflowExecution(ctx, cr.id, "")
			if err != nil {
				continue // not started yet
			}
			for _, pa := range desc.PendingActivities {
				step, _, ok := strings.Cut(pa.ActivityId, "#")
				if ok && pa.State == enumspb.PENDING_ACTIVITY_STATE_STARTED {
					if interrupted[cr.id] == nil {
						interrupted[cr.id] = map[string]bool{}
					}
					interrupted[cr.id][step] = true
				}
			}
		}
		worker = startWorkerProcess(t, bin, queue, noPool)
		lastRestart = time.Now()
	}
	<-done
	sts, last := waitCompleted(t, c, crs, 4*time.Minute)
	for _, st := range sts {
		assertCreatedOnce(t, st, requester)
	}
	n := 0
	var seen []string
	for _, st := range sts {
		for step := range interrupted[st.ID] {
			n++
			s := st.Step(step)
			seen = append(seen, fmt.Sprintf("%s/%s %d", st.Wiki, step, s.Attempts))
			if s.Attempts < 2 {
				t.Errorf("%s: step %s was interrupted by a kill but shows %d attempt(s)", st.ID, step, s.Attempts)
			}
		}
	}
	if n == 0 {
		t.Fatal("no kill interrupted a running step: the test proved nothing")
	}
	sort.Strings(seen)
	figures, retries := attemptFigures(sts)
	reportFault(t,
		fmt.Sprintf("20 creations, %d SIGKILLs of the worker (1 s after the start, then 3 s apart), restarted at once", kills),
		fmt.Sprintf("healed (all completed) %.1f s after the last restart", last.Sub(lastRestart).Seconds()),
		fmt.Sprintf("interrupted steps and the attempts their status shows (%d): %s", n, strings.Join(seen, ", ")),
		fmt.Sprintf("attempts: %s; %d retries in all", figures, retries))
}

// stillDown fails the test when the service stopped for it is running
// again before the test brought it back: someone else started the stack,
// and the figures would be wrong.
func stillDown(t *testing.T, pidFile string, since time.Time) {
	t.Helper()
	if _, up := livePID(pidFile); up {
		t.Fatalf("%s: the service is running again %.0f s into the outage, started by someone else (farm/bin/stack up?)",
			pidFile, time.Since(since).Seconds())
	}
}

// stepReached waits until every creation's status shows step succeeded.
func stepReached(t *testing.T, c *client.Client, crs []*creation, step string, timeout time.Duration) {
	t.Helper()
	ctx := testContext(t, timeout)
	for _, cr := range crs {
		for stepState(statusOf(ctx, c, cr.id), step) != process.StepSucceeded {
			if ctx.Err() != nil {
				t.Fatalf("%s never got past %s: %+v", cr.id, step, statusOf(context.Background(), c, cr.id).Steps)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func statusOf(ctx context.Context, c *client.Client, id string) process.Status {
	st, _ := c.Status(ctx, id)
	return st
}

// retrying finds a running step whose status shows its retries now, while
// the outage lasts: the server's attempt and last failure.
func retrying(ctx context.Context, c *client.Client, crs []*creation) string {
	for _, cr := range crs {
		st := statusOf(ctx, c, cr.id)
		for _, s := range st.Steps {
			if s.State == process.StepRunning && s.Attempts > 1 && s.LastFailure != "" {
				return fmt.Sprintf("%s/%s attempt %d, last failure: %s", cr.db, s.Name, s.Attempts, s.LastFailure)
			}
		}
	}
	return ""
}

// (b) MariaDB shut down cleanly for 30 s in the middle of creations, and
// one creation asked for while it is down: all complete with no person, and
// the statuses show the retries.
func TestFaultMariaDBRestartDuringCreations(t *testing.T) {
	o := startOutage(t, 5*time.Minute, "dbdown", 5)
	stepReached(t, cli, o.crs[:1], createwiki.StepCreateDatabase, time.Minute)

	sock := filepath.Join(stateDir(), "run", "mysqld.sock")
	down := time.Now()
	if out, err := exec.Command("mysqladmin", "--no-defaults", "--socket="+sock, "--user=root", "shutdown").CombinedOutput(); err != nil {
		t.Fatalf("mysqladmin shutdown: %v\n%s", err, out)
	}
	for _, up := livePID("mariadb.pid"); up; _, up = livePID("mariadb.pid") {
		if time.Since(down) > time.Minute {
			t.Fatal("MariaDB did not stop")
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopped := time.Since(down)
	// A request made during the outage is validated once MariaDB is back.
	o.requestLate("dblate")
	seen := o.sitOut("mariadb.pid", down, 30*time.Second)
	restart, back, sts, last := o.heal()
	figures, retries := attemptFigures(sts)
	if retries == 0 {
		t.Error("no step shows a retry: the outage was not in the middle of the creations")
	}
	if seen == "" {
		t.Error("no status showed a step retrying during the outage")
	}
	reportFault(t,
		fmt.Sprintf("5 creations, MariaDB shut down (mysqladmin, %.1f s to stop) after the first database was created; 1 more requested during the outage", stopped.Seconds()),
		fmt.Sprintf("down %.1f s (farm/bin/stack up took %.1f s to bring it back)", back.Sub(down).Seconds(), restart.Seconds()),
		fmt.Sprintf("healed (all completed) %.1f s after MariaDB was back", last.Sub(back).Seconds()),
		"during the outage the status showed: "+seen,
		fmt.Sprintf("attempts: %s; %d retries in all, no person", figures, retries))
}

// (c) MediaWiki (PHP's server) down for two minutes during creations: the
// critical path (database steps) completes while it is down, the optional
// steps that need its API finish on their own once it is back, and a
// creation asked for during the outage is validated then; no person.
func TestFaultMediaWikiDownDuringCreations(t *testing.T) {
	o := startOutage(t, 6*time.Minute, "mwdown", 3)
	crs := o.crs

	pid, ok := livePID("php.pid")
	if !ok {
		t.Fatal("MediaWiki is not running")
	}
	down := time.Now()
	// Its process group (started with setsid): frozen at once, so that no
	// request a step has in flight still gets its answer, then killed.
	_ = syscall.Kill(-pid, syscall.SIGSTOP)
	// The creations validated first may have finished their rights before
	// the last one was validated: the outage is about those that had not
	// (at least the last one: the critical path comes before the rights).
	var hit []*creation
	pending := map[string][]string{} // creation -> its MediaWiki steps not done at the freeze
	for _, cr := range crs {
		st := statusOf(o.ctx, cli, cr.id)
		for _, step := range []string{createwiki.StepRights, createwiki.StepMainPage} {
			if stepState(st, step) != process.StepSucceeded {
				pending[cr.id] = append(pending[cr.id], step)
			}
		}
		if stepState(st, createwiki.StepRights) != process.StepSucceeded {
			hit = append(hit, cr)
		}
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	for alive(pid) {
		time.Sleep(100 * time.Millisecond)
	}
	if len(hit) == 0 {
		t.Fatal("every creation had its rights before MediaWiki went down: the test proves nothing")
	}
	o.requestLate("mwlate")

	// The critical path needs no MediaWiki.
	stepReached(t, cli, crs, createwiki.StepRegister, time.Minute)
	critical := time.Since(down)
	seen := o.sitOut("php.pid", down, 2*time.Minute)
	for _, cr := range hit {
		st := statusOf(o.ctx, cli, cr.id)
		if st.State != process.StateRunning || stepState(st, createwiki.StepRights) == process.StepSucceeded {
			t.Errorf("%s while MediaWiki is down: %s, rights %s", cr.id, st.State, stepState(st, createwiki.StepRights))
		}
	}
	restart, back, sts, last := o.heal()
	for _, st := range sts[:len(crs)] {
		for _, step := range pending[st.ID] {
			if s := st.Step(step); s.Attempts < 2 {
				t.Errorf("%s: %s needs MediaWiki but shows %d attempt(s)", st.ID, step, s.Attempts)
			}
		}
	}
	if seen == "" {
		t.Error("no status showed a step retrying during the outage")
	}
	figures, retries := attemptFigures(sts)
	reportFault(t,
		fmt.Sprintf("3 creations, MediaWiki's server stopped (SIGSTOP, then SIGKILL to its process group) once they were validated, %d of them before their rights; 1 more requested during the outage", len(hit)),
		fmt.Sprintf("critical path (create-database, schema, register) of all 3 done %.1f s into the outage", critical.Seconds()),
		fmt.Sprintf("down %.1f s (farm/bin/stack up took %.1f s to bring it back)", back.Sub(down).Seconds(), restart.Seconds()),
		fmt.Sprintf("healed (all completed) %.1f s after MediaWiki was back", last.Sub(back).Seconds()),
		"during the outage the status showed: "+seen,
		fmt.Sprintf("attempts: %s; %d retries in all, no person", figures, retries))
}
