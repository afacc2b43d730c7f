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
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
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

// installWiki runs MediaWiki's own installer into a new database, the way a
// farm without WikiFlow creates a wiki.
func installWiki(b *testing.B, db string) time.Duration {
	dir := b.TempDir()
	pw := filepath.Join(dir, "admin")
	_ = os.WriteFile(pw, []byte("Bench-admin-"+randomHex(8)), 0o600)
	cmd := exec.Command("php", filepath.Join(deps.Config.MediaWiki.InstallPath, "maintenance", "install.php"),
		"--dbtype=mysql", "--dbserver=127.0.0.1", "--dbname="+db, "--dbuser=wikiflow",
		"--dbpassfile="+config.Abs(deps.Config.Database.PasswordFile), "--passfile="+pw, "--lang=en",
		"--server=http://"+db+".localhost:8080", "--confpath="+dir, "Bench "+db, "BenchAdmin")
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

// retriedSteps counts step launches beyond the first, across the benchmark.
var retriedSteps atomic.Int64

func createTimed(b *testing.B, ctx context.Context, requester, db string) time.Duration {
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
			if st.State != process.StateCompleted {
				b.Fatalf("%s ended %s: %+v", id, st.State, st.Steps)
			}
			for _, s := range st.Steps {
				retriedSteps.Add(int64(s.Attempts - 1))
			}
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkCreateWiki: N wikis with install.php (baseline), N created one
// after another through the worker, N created concurrently.
func BenchmarkCreateWiki(b *testing.B) {
	n := benchN()
	ctx := context.Background()
	requester := newUser(b, "Bencher")
	var install, seq, conc []time.Duration
	for i := 0; i < n; i++ {
		install = append(install, installWiki(b, uniqueDB("inst")))
	}
	for i := 0; i < n; i++ {
		seq = append(seq, createTimed(b, ctx, requester, uniqueDB("seq")))
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	batch := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := createTimed(b, ctx, requester, uniqueDB("conc"))
			mu.Lock()
			conc = append(conc, d)
			mu.Unlock()
		}()
	}
	wg.Wait()
	wall := time.Since(batch)
	fmt.Println()
	base := report(b, "install.php (baseline)", install, 0)
	report(b, "create-wiki, sequential", seq, base)
	report(b, fmt.Sprintf("create-wiki, %d at once", n), conc, base)
	fmt.Printf("%-34s %d wikis in %s: %s per wiki, %.2fx install.php's p50\n", "create-wiki, throughput at once", n,
		wall.Round(time.Millisecond), (wall / time.Duration(n)).Round(time.Millisecond), float64(wall/time.Duration(n))/float64(base))
	fmt.Printf("steps retried during the benchmark: %d\n", retriedSteps.Load())
	fmt.Println("create-wiki does more than install.php: registration, ManageWiki rows, requester rights, main page, storage, notification.")
}

// noop is the activity of the engine-overhead benchmark.
func noop(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	_ = activity.GetInfo(ctx)
	return process.StepResult{}, nil
}

// tenActivities is the hand-written baseline: the same ten activities, in order.
func tenActivities(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute, RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3},
	})
	for i := 0; i < 10; i++ {
		if err := workflow.ExecuteActivity(ctx, "BenchNoop", process.StepInput{Step: strconv.Itoa(i)}).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkEngineOverhead: a process of 10 no-op steps, each requiring the
// previous one, against tenActivities, on the same server and worker.
func BenchmarkEngineOverhead(b *testing.B) {
	ctx := context.Background()
	queue := "wikiflow-bench-" + randomHex(3)
	w, err := deps.NewWorker(ctx, queue)
	if err != nil {
		b.Fatal(err)
	}
	w.RegisterActivityWithOptions(noop, activity.RegisterOptions{Name: "BenchNoop"})
	w.RegisterWorkflow(tenActivities)
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
	var hand, engine []time.Duration
	for i := 0; i < runs; i++ { // interleaved, so both see the same machine
		hand = append(hand, run(tenActivities))
		engine = append(engine, run(workflows.ProcessWorkflowName, workflows.ProcessInput{
			Definition: def, Wiki: process.WikiSpec{DB: "benchwiki"}, Requester: "bench",
		}))
	}
	fmt.Println()
	base := report(b, "10 activities, hand-written", hand, 0)
	report(b, "10 steps through the engine", engine, base)
}

func startOpts(queue string) tclient.StartWorkflowOptions {
	return tclient.StartWorkflowOptions{TaskQueue: queue, ID: "bench-" + randomHex(6)}
}
