//go:build integration

package integration

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	batchpb "go.temporal.io/api/batch/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/process"
)

// envInt is the whole number in the environment variable name, or def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkOpenApprovals: one worker process, with the farm's default
// worker settings (or BENCH_WORKER_FLAGS), holds BENCH_APPROVALS (10,000)
// wiki requests waiting for their reviewers. It reports the worker's
// resident memory, the start rate, and the latency of a decision on a
// request the worker keeps in its cache against one it has to replay from
// its history (the baseline), interleaved so both see the same machine.
func BenchmarkOpenApprovals(b *testing.B) {
	n := envInt("BENCH_APPROVALS", 10000)
	decisions := envInt("BENCH_DECISIONS", 30)
	queue := "wikiflow-approvals-" + randomHex(3)
	w := startWorkers(b, queue, 1, strings.Fields(os.Getenv("BENCH_WORKER_FLAGS"))...)[0]
	c := queueClient(queue)
	ctx := context.Background()
	requester := newUser(b, "Opener")
	reviewer := newUser(b, "Reviewer", "wikicreator")
	defer closeBenchRequests(b, queue, requester)
	idle := residentKB(b, w.cmd.Process.Pid)

	ids := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 16 { // the hook and Special:RequestWiki start requests concurrently too
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				st, err := c.RequestWiki(ctx, client.CreateWikiRequest{
					Wiki:      process.WikiSpec{DB: fmt.Sprintf("appr%05d%swiki", i, randomHex(2)), Sitename: "Waiting " + strconv.Itoa(i), Language: "en"},
					Requester: requester,
				}, "benchmark")
				if err != nil {
					b.Errorf("request %d: %v", i, err)
					return
				}
				ids[i] = st.ID
			}
		}()
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	opening := time.Since(start)
	// Every request has filed its row and waits: what a worker holds then.
	time.Sleep(5 * time.Second)
	open := residentKB(b, w.cmd.Process.Pid)
	peak := peakKB(b, w.cmd.Process.Pid)

	// The oldest requests left the cache long ago (when it is smaller than
	// n); the newest are in it. One decision each, alternating.
	hitsBefore, missesBefore := stickyCounts(b, w.health)
	var cached, uncached []time.Duration
	for i := range decisions {
		for _, id := range []string{ids[n-1-i], ids[i]} {
			t0 := time.Now()
			st, err := c.Decide(ctx, id, process.DecisionApprove, reviewer, "benchmark")
			if err != nil || len(st.Approvals) != 1 || !st.Approvals[0].Accepted {
				b.Fatalf("decision on %s: %v %+v", id, err, st.Approvals)
			}
			if id == ids[i] {
				uncached = append(uncached, time.Since(t0))
			} else {
				cached = append(cached, time.Since(t0))
			}
		}
	}
	hits, misses := stickyCounts(b, w.health)
	after := residentKB(b, w.cmd.Process.Pid)

	fmt.Println()
	fmt.Printf("%d wiki requests opened in %s: %.1f per second (16 at once)\n", n, opening.Round(time.Millisecond), float64(n)/opening.Seconds())
	fmt.Printf("worker RSS: idle %.1f MB, %d open %.1f MB (peak %.1f MB), after the decisions %.1f MB\n",
		float64(idle)/1024, n, float64(open)/1024, float64(peak)/1024, float64(after)/1024)
	fmt.Printf("sticky cache during the decisions: %.0f hits, %.0f misses\n", hits-hitsBefore, misses-missesBefore)
	base := report(b, "decision, cached (baseline)", cached, 0)
	report(b, "decision, replayed from history", uncached, base)
	fmt.Printf("%-34s p99 ratio %.2fx\n", "", float64(percentile(uncached, 0.99))/float64(percentile(cached, 0.99)))
}

// residentKB is a process's resident set size in KiB, from /proc.
func residentKB(b *testing.B, pid int) int { return procStatusKB(b, pid, "VmRSS:") }

// peakKB is a process's highest resident set size so far, in KiB.
func peakKB(b *testing.B, pid int) int { return procStatusKB(b, pid, "VmHWM:") }

func procStatusKB(b *testing.B, pid int, field string) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for s := bufio.NewScanner(f); s.Scan(); {
		if rest, ok := strings.CutPrefix(s.Text(), field); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				b.Fatal(err)
			}
			return kb
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// stickyCounts reads the worker's sticky cache hits and misses from its
// /metrics.
func stickyCounts(b *testing.B, health string) (hits, misses float64) {
	resp, err := http.Get("http://" + health + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	for s := bufio.NewScanner(resp.Body); s.Scan(); {
		name, value, ok := strings.Cut(s.Text(), " ")
		if !ok {
			continue
		}
		v, _ := strconv.ParseFloat(value, 64)
		switch {
		case strings.HasPrefix(name, "temporal_sticky_cache_hit_total"):
			hits += v
		case strings.HasPrefix(name, "temporal_sticky_cache_miss_total"):
			misses += v
		}
	}
	return hits, misses
}

// closeBenchRequests ends what the benchmark left open: its workflows,
// terminated by one batch operation over its own task queue, and the
// requester's rows in CreateWiki's request tables, so the farm's request
// queue does not show them.
func closeBenchRequests(b *testing.B, queue, requester string) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	job := "bench-cleanup-" + randomHex(6)
	started := time.Now()
	_, err := deps.Temporal.WorkflowService().StartBatchOperation(ctx, &workflowservice.StartBatchOperationRequest{
		Namespace: deps.Config.Temporal.Namespace,
		// The queue name is the benchmark's own (random hex), not input.
		VisibilityQuery: "TaskQueue = '" + queue + "' AND ExecutionStatus = 'Running'",
		JobId:           job,
		Reason:          "benchmark finished",
		Operation:       &workflowservice.StartBatchOperationRequest_TerminationOperation{TerminationOperation: &batchpb.BatchOperationTermination{}},
	})
	if err != nil {
		b.Logf("terminating the benchmark's requests: %v", err)
	}
	// The server terminates them in the background, at its batcher's pace
	// (minutes for 10,000): the benchmarks after this one would measure
	// that work's load, not their own, so wait for it.
	for err == nil {
		var d *workflowservice.DescribeBatchOperationResponse
		d, err = deps.Temporal.WorkflowService().DescribeBatchOperation(ctx, &workflowservice.DescribeBatchOperationRequest{
			Namespace: deps.Config.Temporal.Namespace, JobId: job,
		})
		if err == nil && d.State != enums.BATCH_OPERATION_STATE_RUNNING && d.State != enums.BATCH_OPERATION_STATE_UNSPECIFIED {
			fmt.Printf("the benchmark's requests terminated (%s, %d of %d) in %s\n", d.State, d.CompleteOperationCount, d.TotalOperationCount, time.Since(started).Round(time.Second))
			break
		}
		time.Sleep(time.Second)
	}
	if err != nil {
		b.Logf("waiting for the benchmark's requests to be terminated: %v", err)
	}
	u, err := deps.API.User(ctx, deps.Config.MediaWiki.CentralWiki, requester)
	if err != nil {
		b.Logf("the benchmark's requester: %v", err)
		return
	}
	db := deps.Central.Requests()
	for _, q := range []string{
		"DELETE FROM cw_comments WHERE cw_id IN (SELECT cw_id FROM cw_requests WHERE cw_user = ?)",
		"DELETE FROM cw_history WHERE cw_id IN (SELECT cw_id FROM cw_requests WHERE cw_user = ?)",
		"DELETE FROM wf_request_keys WHERE key_request IN (SELECT cw_id FROM cw_requests WHERE cw_user = ?)",
		"DELETE FROM cw_requests WHERE cw_user = ?",
	} {
		if _, err := db.ExecContext(ctx, q, u.ID); err != nil {
			b.Logf("removing the benchmark's requests: %v", err)
		}
	}
}
