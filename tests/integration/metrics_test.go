//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/process"
)

// A real Prometheus scrapes this run's worker: a creation and a deletion
// waiting for, then given, a steward's approval show up in PromQL as the
// farm's counters, step histograms, open-process and approval gauges and
// hook requests, beside the Temporal SDK's own metrics. The gauges count
// the whole namespace (processes of earlier runs too) and the counters
// every test of this run, so each check compares with its value before.
func TestMetricsScrapedByPrometheus(t *testing.T) {
	metricsAddr := serveMetrics(t)
	gaugesCtx, stopGauges := context.WithCancel(context.Background())
	defer stopGauges()
	go deps.RunGauges(gaugesCtx, time.Second)
	prom := startPrometheus(t, metricsAddr)
	prom.wait(t, `up{job="wikiflow"}`, 1)
	waitingNow := `max(wikiflow_open_processes{kind="delete-wiki",state="waiting-approval"})`
	prom.wait(t, `count(wikiflow_open_processes)`, 1) // the gauges' first refresh is in
	counters := []string{
		`sum(wikiflow_processes_started_total{kind="create-wiki"})`,
		`sum(wikiflow_processes_ended_total{kind="create-wiki",state="completed"})`,
		`sum(wikiflow_processes_started_total{kind="delete-wiki"})`,
		`sum(wikiflow_processes_ended_total{kind="delete-wiki",state="completed"})`,
		`sum(wikiflow_step_duration_seconds_count{kind="create-wiki",step="schema",outcome="succeeded"})`,
		`sum(wikiflow_step_duration_seconds_count{kind="delete-wiki",step="drop-database"})`,
		`sum(wikiflow_hook_requests_total{route="GET /v1/settings",code="200"})`,
		// The SDK's own.
		`sum(temporal_workflow_task_execution_latency_seconds_count)`,
		`sum(temporal_activity_execution_latency_seconds_count{activity_type="CreateSchema"})`,
		// A creation's short steps are local activities (README, "Local steps").
		`sum(temporal_local_activity_execution_latency_seconds_count{activity_type="CreateDatabase"})`,
	}
	before := map[string]float64{waitingNow: prom.value(t, waitingNow)}
	for _, q := range counters {
		before[q] = prom.value(t, q)
	}

	db, owner := liveWiki(t, "met")
	ctx := testContext(t, 4*time.Minute)
	c := shortGrace(3 * time.Second)
	id := waitingDeletion(t, ctx, c, db, owner, "metrics test").ID
	prom.wait(t, waitingNow, before[waitingNow]+1)
	prom.wait(t, `max(wikiflow_approvals_waiting{kind="delete-wiki"})`, before[waitingNow]+1)
	prom.wait(t, `max(wikiflow_approval_oldest_age_seconds{kind="delete-wiki"})`, 1)
	if _, err := c.Decide(ctx, id, process.DecisionApprove, "FarmAdmin", "metrics test"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, id, 2*time.Minute, process.StateCompleted)
	if code, _ := signedCall("GET", "/v1/settings", nil).do(t); code != http.StatusOK {
		t.Fatalf("hook settings: %d", code)
	}

	for _, q := range counters {
		prom.wait(t, q, before[q]+1)
	}
	prom.wait(t, `count(temporal_num_pollers)`, 1)
	prom.wait(t, `count(temporal_sticky_cache_size)`, 1)
	// Approved, the deletion no longer waits once the gauges are refreshed.
	prom.until(t, waitingNow, fmt.Sprintf("<= %g", before[waitingNow]), func(v float64) bool { return v <= before[waitingNow] })
	recordScrape(t, metricsAddr)
}

// serveMetrics serves this run's worker's health handler (/metrics among
// it) on a free port until the test ends, and returns its address.
func serveMetrics(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: deps.HealthHandler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }() // ends with http.ErrServerClosed at Close
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// prometheus is a Prometheus server the test started.
type prometheus struct{ base string }

// startPrometheus runs Debian's prometheus (farm/bin/install-prometheus
// installs it) with a configuration and a data directory of its own on a
// free port, scraping target's /metrics every second; it stops when the
// test ends.
func startPrometheus(t *testing.T, target string) prometheus {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("prometheus is not installed: run farm/bin/install-prometheus (make test does)")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	conf := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"+
		"  - job_name: wikiflow\n    scrape_interval: 1s\n    static_configs:\n      - targets: ['%s']\n", target)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddress(t)
	var log strings.Builder
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("prometheus log:\n%s", log.String())
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return prometheus{base: base}
			}
		}
		select {
		case <-exited:
			t.Fatalf("prometheus exited: %v\n%s", waitErr, log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus never became ready: %v\n%s", err, log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// query evaluates an instant PromQL query whose answer is one number;
// false when it has no sample.
func (p prometheus) query(t *testing.T, q string) (float64, bool) {
	t.Helper()
	resp, err := http.Get(p.base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Status != "success" {
		t.Fatalf("query %s: %v %s %s", q, err, body.Status, body.Error)
	}
	if len(body.Data.Result) == 0 {
		return 0, false
	}
	s, _ := body.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("query %s: value %q", q, s)
	}
	return v, true
}

// value is q's value now, 0 when it has no sample yet.
func (p prometheus) value(t *testing.T, q string) float64 {
	t.Helper()
	v, _ := p.query(t, q)
	return v
}

// wait waits until q is at least atLeast.
func (p prometheus) wait(t *testing.T, q string, atLeast float64) {
	t.Helper()
	p.until(t, q, fmt.Sprintf(">= %g", atLeast), func(v float64) bool { return v >= atLeast })
}

func (p prometheus) until(t *testing.T, q, want string, ok func(float64) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, found := p.query(t, q)
		if found && ok(v) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("PromQL %s: want %s, got %v (a sample: %v)", q, want, v, found)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// recordScrape writes the size of one scrape and the worker's memory to
// metrics.txt in the artifact directory (.stack-test/artifacts under `make test`).
func recordScrape(t *testing.T, addr string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	series, farm, sdk := 0, 0, 0
	rss := ""
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		series++
		switch {
		case strings.HasPrefix(l, "wikiflow_"):
			farm++
		case strings.HasPrefix(l, "temporal_"):
			sdk++
		case strings.HasPrefix(l, "process_resident_memory_bytes "):
			rss = strings.TrimPrefix(l, "process_resident_memory_bytes ")
		}
	}
	line := fmt.Sprintf("scrape: %d bytes, %d series (%d wikiflow_, %d temporal_); test process RSS %s bytes\n",
		len(b), series, farm, sdk, rss)
	t.Log(line)
	if err := os.WriteFile(filepath.Join(artifactDir(t), "metrics.txt"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
}
