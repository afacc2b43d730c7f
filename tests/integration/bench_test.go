//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"go.temporal.io/sdk/activity"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/events"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
)

// Benchmarks run with `make bench`, never in `make test`. Each reports
// ratios against a baseline measured in the same run.

func benchN() int { return envInt("BENCH_N", 10) }

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p+0.5)]
}

func report(b *testing.B, name string, d []time.Duration, base time.Duration) time.Duration {
	p50, p95 := percentile(d, 0.5), percentile(d, 0.95)
	ratio := ""
	if base > 0 {
		ratio = fmt.Sprintf("  ratio(p50) %.2fx", float64(p50)/float64(base))
	}
	fmt.Printf("%-34s n=%-3d p50 %-8s p95 %-8s%s\n", name, len(d), p50.Round(time.Millisecond), p95.Round(time.Millisecond), ratio)
	return p50
}

// installDBServer is the server of cluster c1, where WikiFlow creates the
// wikis, as install.php takes it: host:port, or the bare host on MariaDB's
// default port (as farm/bin/stack's db_server).
func installDBServer(b *testing.B) string {
	dsn, err := mysql.ParseDSN(deps.Config.Database.Clusters["c1"])
	if err != nil {
		b.Fatal(err)
	}
	return strings.TrimSuffix(dsn.Addr, ":3306")
}

// installWiki runs MediaWiki's own installer into a new database, the way a
// farm without WikiFlow creates a wiki.
func installWiki(b *testing.B, db string) time.Duration {
	dir := b.TempDir()
	pw := filepath.Join(dir, "admin")
	_ = os.WriteFile(pw, []byte("Bench-admin-"+randomHex(8)), 0o600)
	cmd := exec.Command("php", filepath.Join(deps.Config.MediaWiki.InstallPath, "maintenance", "install.php"),
		"--dbtype=mysql", "--dbserver="+installDBServer(b), "--dbname="+db, "--dbuser=wikiflow",
		"--dbpassfile="+config.Abs(deps.Config.Database.PasswordFile), "--passfile="+pw, "--lang=en",
		"--server="+wikiURL(db), "--confpath="+dir, "Bench "+db, "BenchAdmin")
	env := []string{}
	for _, kv := range os.Environ() {
		if len(kv) < 15 || kv[:15] != "MW_CONFIG_FILE=" {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("install.php %s: %v\n%s", db, err, out)
	}
	return time.Since(start)
}

// retriedSteps counts step launches beyond the first, across the benchmark;
// readySchemasTaken the creations whose schema came from the pool.
var retriedSteps, readySchemasTaken atomic.Int64

// creationTimes is where the time of creations went, by phase, and the
// phases of the slowest creation, where a tail shows.
type creationTimes struct {
	mu      sync.Mutex
	phases  map[string][]time.Duration
	order   []string
	count   int
	slowest creationPhases
}

// creationPhases is one creation's time, phase by phase.
type creationPhases struct {
	db     string
	nth    int // in the order the creations ran, from 1
	total  time.Duration
	phases []string
	times  []time.Duration
}

func (c *creationPhases) add(phase string, d time.Duration) {
	c.phases = append(c.phases, phase)
	c.times = append(c.times, d)
}

// addCreation counts one creation's phases, and keeps it when it is the
// slowest so far.
func (c *creationTimes) addCreation(one creationPhases) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.phases == nil {
		c.phases = map[string][]time.Duration{}
	}
	c.count++
	one.nth = c.count
	for i, phase := range one.phases {
		if _, ok := c.phases[phase]; !ok {
			c.order = append(c.order, phase)
		}
		c.phases[phase] = append(c.phases[phase], one.times[i])
	}
	if one.total > c.slowest.total {
		c.slowest = one
	}
}

// print shows each phase's p50 beside the total's, so the next person sees
// where a creation's time goes.
func (c *creationTimes) print(title string, total time.Duration) {
	fmt.Printf("\n%-34s %8s %8s\n", title, "p50", "share")
	for _, phase := range c.order {
		p50 := percentile(c.phases[phase], 0.5)
		fmt.Printf("  %-32s %8s %7.0f%%\n", phase, p50.Round(time.Millisecond), 100*float64(p50)/float64(total))
	}
	fmt.Printf("  %-32s %8s\n", "total (client's view)", total.Round(time.Millisecond))
	fmt.Printf("  the slowest, %s (#%d of %d), %s:", c.slowest.db, c.slowest.nth, c.count, c.slowest.total.Round(time.Millisecond))
	for i, phase := range c.slowest.phases {
		fmt.Printf(" %s %s;", strings.TrimPrefix(phase, "step "), c.slowest.times[i].Round(time.Millisecond))
	}
	fmt.Println()
}

// createTimed creates db and waits for its end, polling its status as a
// client does; it returns the time from the call to the completed status,
// and adds the phases to times when it is not nil: the checks (until the
// first step starts; the start call itself answers when the workflow task
// that ran them completes, which runs the local steps that follow too),
// each step as the workflow saw it (from scheduling to its result), and the
// gap from the last step to the client seeing the end.
func createTimed(b *testing.B, ctx context.Context, requester, db string, times *creationTimes) time.Duration {
	start := time.Now()
	id, err := cli.CreateWiki(ctx, client.CreateWikiRequest{
		Wiki: process.WikiSpec{DB: db, Sitename: "Bench " + db, Language: "en"}, Requester: requester,
	})
	if err != nil {
		b.Fatal(err)
	}
	for {
		st, err := cli.Status(ctx, id)
		if err == nil && process.Ended(st.State) || st.State == process.StateNeedsAttention {
			total := time.Since(start)
			if st.State != process.StateCompleted {
				b.Fatalf("%s ended %s: %+v", id, st.State, st.Steps)
			}
			var last time.Time
			for _, s := range st.Steps {
				retriedSteps.Add(int64(s.Attempts - 1))
				if s.Ended.After(last) {
					last = s.Ended
				}
				if s.Name == createwiki.StepSchema && strings.Contains(s.Summary, "moved in") {
					readySchemasTaken.Add(1)
				}
			}
			if times != nil {
				first := last
				for _, s := range st.Steps {
					if !s.Started.IsZero() && s.Started.Before(first) {
						first = s.Started
					}
				}
				one := creationPhases{db: db, total: total}
				one.add("checks (until the first step)", first.Sub(start))
				for _, s := range st.Steps {
					one.add("step "+s.Name, s.Ended.Sub(s.Started))
				}
				one.add("last step -> client sees the end", start.Add(total).Sub(last))
				times.addCreation(one)
			}
			return total
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkCreateWiki: N wikis with install.php (baseline); N created one
// after another through the worker, first with N ready schemas in the pool
// (a farm's steady state: the pool refills while no wiki is being
// created; one creation not counted and three quiet seconds first), then
// with none (a burst larger than the pool); N created concurrently, with N
// ready schemas.
func BenchmarkCreateWiki(b *testing.B) {
	n := benchN()
	ctx := context.Background()
	requester := newUser(b, "Bencher")
	pools := deps.SchemaPools
	defer pools.SetSize(pools.Size)
	readyPool := func(size int) {
		pools.SetSize(size)
		if size > 0 {
			if err := pools.FillNow(ctx, "c1"); err != nil {
				b.Fatal(err)
			}
		}
		readySchemasTaken.Store(0)
	}
	var install, seq, built, conc []time.Duration
	for i := 0; i < n; i++ {
		install = append(install, installWiki(b, uniqueDB("inst")))
	}
	// The sequential series are twice as long: a p95 of ten samples is the
	// slowest one, and the tail line (p95 against p50) would read one
	// creation's hiccup on a shared machine as the series' tail.
	seqN := 2 * n
	var times, builtTimes creationTimes
	readyPool(seqN + 1)
	// A farm's worker is warm, and its pool was filled while nothing was
	// being created. Measured right after the fill, the first creation was
	// the slowest of the ten in four runs of four (361-463 ms against p50s
	// of 310-356 ms), with one uncounted creation first or without: it met
	// the fill's work still going on in the database. So one creation warms
	// the worker up, uncounted, and the database gets three seconds.
	createTimed(b, ctx, requester, uniqueDB("warm"), nil)
	time.Sleep(3 * time.Second)
	readySchemasTaken.Store(0)
	for range seqN {
		seq = append(seq, createTimed(b, ctx, requester, uniqueDB("seq"), &times))
	}
	seqTaken := readySchemasTaken.Load()
	readyPool(0)
	for range seqN {
		built = append(built, createTimed(b, ctx, requester, uniqueDB("built"), &builtTimes))
	}
	readyPool(n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	batch := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := createTimed(b, ctx, requester, uniqueDB("conc"), nil)
			mu.Lock()
			conc = append(conc, d)
			mu.Unlock()
		}()
	}
	wg.Wait()
	wall := time.Since(batch)
	concTaken := readySchemasTaken.Load()
	fmt.Println()
	base := report(b, "install.php (baseline)", install, 0)
	total := report(b, "create-wiki, sequential", seq, base)
	fmt.Printf("%-34s p95/p50 %.2fx; %d of %d schemas moved in ready; after one creation not counted\n", "", float64(percentile(seq, 0.95))/float64(total), seqTaken, seqN)
	builtTotal := report(b, "create-wiki, sequential, no pool", built, base)
	fmt.Printf("%-34s p95/p50 %.2fx; every schema built in its step\n", "", float64(percentile(built, 0.95))/float64(builtTotal))
	report(b, fmt.Sprintf("create-wiki, %d at once", n), conc, base)
	fmt.Printf("%-34s %d wikis in %s: %s per wiki, %.2fx install.php's p50; %d of %d schemas moved in ready\n", "create-wiki, throughput at once", n,
		wall.Round(time.Millisecond), (wall / time.Duration(n)).Round(time.Millisecond), float64(wall/time.Duration(n))/float64(base), concTaken, n)
	fmt.Printf("steps retried during the benchmark: %d\n", retriedSteps.Load())
	times.print("where a sequential creation's time goes", total)
	builtTimes.print("the same with no ready schema", builtTotal)
	fmt.Println("create-wiki does more than install.php: registration, ManageWiki rows, requester rights, main page, storage, notification.")
}

// noop is the activity of the engine-overhead benchmark.
func noop(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	_ = activity.GetInfo(ctx)
	return process.StepResult{}, nil
}

// handWrittenOptions are the activity options of the hand-written baselines.
var handWrittenOptions = workflow.ActivityOptions{
	StartToCloseTimeout: time.Minute, RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3},
}

// tenActivities is the hand-written baseline: the same ten activities, in order.
func tenActivities(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, handWrittenOptions)
	for i := 0; i < 10; i++ {
		if err := workflow.ExecuteActivity(ctx, "BenchNoop", process.StepInput{Step: strconv.Itoa(i)}).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// tenActivitiesAnnounced is tenActivities keeping the promise every process
// keeps (package events): its changes are numbered as they happen and
// stored in the outbox, once, before it closes. A hand-written process
// owes the same store; it is one activity round trip after the last step.
func tenActivitiesAnnounced(ctx workflow.Context) error {
	info := workflow.GetInfo(ctx).WorkflowExecution
	run := events.Run{ProcessID: info.ID, RunID: info.RunID}
	st := process.Status{ID: info.ID, Kind: "bench", State: process.StateRunning, Wiki: "benchwiki", Requester: "bench"}
	for i := range 10 {
		st.Steps = append(st.Steps, process.StepStatus{Name: fmt.Sprintf("step%d", i), State: process.StepPending, Critical: true})
	}
	var changes []events.ProcessChange
	var last process.Status
	announce := func() {
		changes = append(changes, events.Changes(run, &last, &st, len(changes)+1, workflow.Now(ctx))...)
		last = events.Snapshot(&st)
	}
	announce()
	ctx = workflow.WithActivityOptions(ctx, handWrittenOptions)
	for i := range st.Steps {
		st.Steps[i].State = process.StepRunning
		announce()
		if err := workflow.ExecuteActivity(ctx, "BenchNoop", process.StepInput{Step: strconv.Itoa(i)}).Get(ctx, nil); err != nil {
			return err
		}
		st.Steps[i].State, st.Steps[i].Attempts = process.StepSucceeded, 1
		announce()
	}
	st.State = process.StateCompleted
	announce()
	public := false // as the engine announces benchwiki, which it is told is public
	return workflow.ExecuteActivity(ctx, activities.NameStoreEvents, activities.StoreEventsInput{Events: changes, KnownPrivate: &public}).Get(ctx, nil)
}

// tenActivitiesPromised is tenActivitiesAnnounced keeping, by hand, the
// other promises every process makes beside its steps: the search
// attributes Special:Processes lists it by (set at the start, the state
// again at the end), a version marker (what any evolving workflow records),
// the status query, and the retry-step and abort signals it listens to.
// Against it, the engine's ratio is what its graph costs alone.
func tenActivitiesPromised(ctx workflow.Context) error {
	state := workflows.ProcessStateKey.ValueSet(string(process.StateRunning))
	if err := workflow.UpsertTypedSearchAttributes(ctx, workflows.ProcessKindKey.ValueSet("bench"),
		workflows.WikiDBKey.ValueSet("benchwiki"), workflows.RequesterKey.ValueSet("bench"), state); err != nil {
		return err
	}
	workflow.GetVersion(ctx, "bench-promises", workflow.DefaultVersion, 1)
	var st process.Status
	if err := workflow.SetQueryHandler(ctx, process.QueryStatus, func() (process.Status, error) { return st, nil }); err != nil {
		return err
	}
	for _, name := range []string{process.SignalRetryStep, process.SignalAbort} {
		ch := workflow.GetSignalChannel(ctx, name)
		workflow.Go(ctx, func(ctx workflow.Context) {
			for {
				ch.Receive(ctx, nil) // the benchmark sends none
			}
		})
	}
	if err := tenActivitiesAnnounced(ctx); err != nil {
		return err
	}
	return workflow.UpsertTypedSearchAttributes(ctx, workflows.ProcessStateKey.ValueSet(string(process.StateCompleted)))
}

// BenchmarkEngineOverhead: a process of 10 no-op steps, each requiring the
// previous one, against the same ten activities hand-written, on the same
// server and worker. The engine's overhead is its ratio to the
// hand-written workflow that stores its events too; the bare one shows
// what that store costs any process.
func BenchmarkEngineOverhead(b *testing.B) {
	ctx := context.Background()
	queue := "wikiflow-bench-" + randomHex(3)
	w, err := deps.NewWorker(ctx, queue)
	if err != nil {
		b.Fatal(err)
	}
	w.RegisterActivityWithOptions(noop, activity.RegisterOptions{Name: "BenchNoop"})
	w.RegisterWorkflow(tenActivities)
	w.RegisterWorkflow(tenActivitiesAnnounced)
	w.RegisterWorkflow(tenActivitiesPromised)
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	var steps []process.StepDef
	for i := 0; i < 10; i++ {
		s := process.StepDef{Name: fmt.Sprintf("step%d", i), Activity: "BenchNoop", Critical: true}
		if i > 0 {
			s.Requires = []string{fmt.Sprintf("step%d", i-1)}
		}
		steps = append(steps, s)
	}
	def := process.Definition{Kind: "bench", Steps: steps, AttentionWindow: time.Minute}
	runs := 5 * benchN()
	run := func(wf any, args ...any) time.Duration {
		start := time.Now()
		r, err := deps.Temporal.ExecuteWorkflow(ctx, startOpts(queue), wf, args...)
		if err == nil {
			err = r.Get(ctx, nil)
		}
		if err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var bare, announced, promised, engine []time.Duration
	for i := 0; i < runs; i++ { // interleaved, so all see the same machine
		bare = append(bare, run(tenActivities))
		announced = append(announced, run(tenActivitiesAnnounced))
		promised = append(promised, run(tenActivitiesPromised))
		engine = append(engine, run(workflows.ProcessWorkflowName, workflows.ProcessInput{
			Definition: def, Wiki: process.WikiSpec{DB: "benchwiki"}, Requester: "bench",
		}))
	}
	fmt.Println()
	floor := report(b, "10 activities, hand-written", bare, 0)
	base := report(b, "  and their events stored", announced, floor)
	p50 := report(b, "10 steps through the engine", engine, base)
	fmt.Printf("%-34s ratio(p50) %.2fx the bare hand-written workflow\n", "", float64(p50)/float64(floor))
	all := report(b, "  hand-written, every promise kept", promised, floor)
	fmt.Printf("%-34s ratio(p50) %.2fx the engine: its graph alone\n", "", float64(p50)/float64(all))
}

func startOpts(queue string) tclient.StartWorkflowOptions {
	return tclient.StartWorkflowOptions{TaskQueue: queue, ID: "bench-" + randomHex(6)}
}

// rightsUpdate is the floor of a decision: a hand-written workflow whose
// update runs the same rights check (the CheckRights activity, locally)
// and answers, with nothing recorded beyond it.
func rightsUpdate(ctx workflow.Context) error {
	err := workflow.SetUpdateHandler(ctx, "check", func(ctx workflow.Context, in process.AuthorizeInput) (process.AuthorizeResult, error) {
		var res process.AuthorizeResult
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: time.Minute})
		err := workflow.ExecuteLocalActivity(lctx, activities.NameCheckRights, in).Get(ctx, &res)
		return res, err
	})
	if err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return false })
}

// BenchmarkDecision: a steward's approval of a restricted setting change
// (the decide update: the steward's rights asked of MediaWiki, the decision
// recorded, the status it left returned) against its baseline, a bare
// MediaWiki rights query (list=users, groups and rights, through the
// worker's own session) for the same steward, interleaved. A third series
// is the floor under both: the same rights check as a local activity inside
// a bare update of a hand-written workflow, on the same server and worker.
func BenchmarkDecision(b *testing.B) {
	n := 10 * benchN() // p99 of fewer than 100 is the slowest sample
	ctx := context.Background()
	steward := newUser(b, "Steward", "steward")
	var ids []string
	for range n {
		db, owner := createdWikiFor(b, "dec")
		st, err := cli.ChangeSetting(ctx, db, "wgMaxArticleSize", "2000", owner, "benchmark")
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, st.ID)
	}
	floorRun, err := deps.Temporal.ExecuteWorkflow(ctx, startOpts(benchQueue(b, rightsUpdate)), rightsUpdate)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = deps.Temporal.TerminateWorkflow(ctx, floorRun.GetID(), "", "benchmark done") }()
	central := deps.Config.MediaWiki.CentralWiki
	var bare, floor, decision []time.Duration
	for _, id := range ids {
		for st, err := cli.Status(ctx, id); err != nil || st.State != process.StateWaitingApproval; st, err = cli.Status(ctx, id) {
			time.Sleep(20 * time.Millisecond)
		}
		t0 := time.Now()
		if u, err := deps.API.User(ctx, central, steward); err != nil || !u.InGroup("steward") {
			b.Fatalf("rights query: %+v %v", u, err)
		}
		bare = append(bare, time.Since(t0))
		t0 = time.Now()
		h, err := deps.Temporal.UpdateWorkflow(ctx, tclient.UpdateWorkflowOptions{
			WorkflowID: floorRun.GetID(), UpdateName: "check", WaitForStage: tclient.WorkflowUpdateStageCompleted,
			Args: []any{process.AuthorizeInput{User: steward, Wiki: central, AnyRight: []process.Right{process.RightManageWikiRestricted}}},
		})
		var res process.AuthorizeResult
		if err == nil {
			err = h.Get(ctx, &res)
		}
		if err != nil || !res.Allowed {
			b.Fatalf("floor update: %+v %v", res, err)
		}
		floor = append(floor, time.Since(t0))
		t0 = time.Now()
		st, err := cli.Decide(ctx, id, process.DecisionApprove, steward, "")
		if err != nil || len(st.Approvals) != 1 || !st.Approvals[0].Accepted {
			b.Fatalf("decision on %s: %v %+v", id, err, st.Approvals)
		}
		decision = append(decision, time.Since(t0))
	}
	fmt.Println()
	base := report(b, "rights query (baseline)", bare, 0)
	report(b, "floor: bare update + rights check", floor, base)
	report(b, "decision (decide update)", decision, base)
	for _, s := range []struct {
		name string
		d    []time.Duration
	}{{"floor", floor}, {"decision", decision}} {
		fmt.Printf("%-34s p99 %s against %s: %.2fx\n", s.name, percentile(s.d, 0.99).Round(time.Millisecond),
			percentile(bare, 0.99).Round(time.Millisecond), float64(percentile(s.d, 0.99))/float64(percentile(bare, 0.99)))
	}
}

// benchQueue starts a worker with every workflow and activity of the farm
// and the hand-written workflow wf on a queue of its own, stopped when the
// benchmark ends; it returns the queue.
func benchQueue(b *testing.B, wf any) string {
	queue := "wikiflow-bench-" + randomHex(3)
	w, err := deps.NewWorker(context.Background(), queue)
	if err != nil {
		b.Fatal(err)
	}
	w.RegisterWorkflow(wf)
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(w.Stop)
	return queue
}

// createdWikiFor creates a wiki named prefix and a random part through the
// worker for a new owner and waits for it: its name and owner.
func createdWikiFor(b *testing.B, prefix string) (db, owner string) {
	ctx := context.Background()
	owner, db = newUser(b, "Owner"), uniqueDB(prefix)
	createTimed(b, ctx, owner, db, nil)
	return db, owner
}
