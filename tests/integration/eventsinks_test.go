//go:build integration

package integration

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/events"
	"github.com/wikiflow/wikiflow/eventsink"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
)

// The event sinks' tests: the outbox delivered to a real nats-server with
// JetStream (the stack's, events.nats_url, or one a test starts and stops
// itself) and to an EventGate-like intake, by the worker's own publishers.
// Each test publishes to a stream and a sink of its own, whose cursor it
// first sets to the outbox's head, and compares what arrived with the
// outbox.

// sinkStream is a JetStream stream and subject of a test's own; the stream
// is deleted and the sink's cursor forgotten when the test ends.
type sinkStream struct {
	url, name, subject string
}

func newSinkStream(t *testing.T, url string) sinkStream {
	t.Helper()
	tag := strings.ToUpper(randomHex(4))
	s := sinkStream{url: url, name: "WFTEST_" + tag, subject: "wikiflow.test." + tag}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if nc, err := nats.Connect(url); err == nil {
			if js, err := jetstream.New(nc); err == nil {
				_ = js.DeleteStream(ctx, s.name)
			}
			nc.Close()
		}
		_, _ = deps.Central.DB.ExecContext(ctx, `DELETE FROM wf_event_cursors WHERE cursor_sink = ?`, s.sink())
	})
	return s
}

func (s sinkStream) sink() string { return "nats:" + s.name }

func (s sinkStream) flags() []string {
	return []string{"--events.nats_url=" + s.url, "--events.nats_stream=" + s.name, "--events.nats_subject=" + s.subject}
}

// stackNATS is the stack's NATS (farm/bin/stack env sets events.nats_url).
func stackNATS(t *testing.T) string {
	t.Helper()
	url := deps.Config.Events.NATSURL
	nc, err := nats.Connect(url, nats.Timeout(3*time.Second))
	if err != nil {
		t.Fatalf("the stack's NATS at %s (events.nats_url) does not answer: %v (farm/bin/stack up starts it)", url, err)
	}
	nc.Close()
	return url
}

// jsMessage is a message of a stream as a consumer gets it.
type jsMessage struct {
	MsgID string // the Nats-Msg-Id header
	Body  []byte
}

// consume reads the whole stream with an ordered consumer (a real
// JetStream consumer, from the first message on) until it has want
// messages and a last fetch brings nothing more.
func consume(t *testing.T, s sinkStream, want int, within time.Duration) []jsMessage {
	t.Helper()
	ctx := testContext(t, within+10*time.Second)
	nc, err := nats.Connect(s.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := js.OrderedConsumer(ctx, s.name, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		t.Fatalf("consumer on %s: %v", s.name, err)
	}
	var got []jsMessage
	deadline := time.Now().Add(within)
	for {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			got = append(got, jsMessage{MsgID: m.Headers().Get(jetstream.MsgIDHeader), Body: m.Data()})
			n++
		}
		if len(got) >= want && n == 0 || time.Now().After(deadline) {
			return got
		}
	}
}

// streamMessages is how many messages the stream stores (0 before it exists).
func streamMessages(ctx context.Context, js jetstream.JetStream, name string) uint64 {
	st, err := js.Stream(ctx, name)
	if err != nil {
		return 0
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0
	}
	return info.State.Msgs
}

// outboxAfter is every event stored after seq, in order.
func outboxAfter(t *testing.T, ctx context.Context, after int64) []farmdb.StoredEvent {
	t.Helper()
	evs, err := farmdb.Outbox{Central: deps.Central}.Read(ctx, after, 100000, farmdb.ReadFilter{IncludePrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// startAtHead sets sink's cursor to the outbox's head and returns it: the
// sink then gets the events stored from now on.
func startAtHead(t *testing.T, ctx context.Context, sink string) int64 {
	t.Helper()
	box := farmdb.Outbox{Central: deps.Central}
	head, err := box.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := box.SetCursor(ctx, sink, head); err != nil {
		t.Fatal(err)
	}
	return head
}

// cursorOf is sink's cursor now.
func cursorOf(t *testing.T, ctx context.Context, sink string) int64 {
	t.Helper()
	c, err := farmdb.Outbox{Central: deps.Central}.Cursor(ctx, sink)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantSameEvents checks that the messages are the outbox's events, each
// once, in the outbox's order: the same ids (header and meta.id), the same
// bodies, each valid against its schema.
func wantSameEvents(t *testing.T, got []jsMessage, want []farmdb.StoredEvent) {
	t.Helper()
	seen := map[string]int{}
	for i, m := range got {
		if j, dup := seen[m.MsgID]; dup {
			t.Errorf("message %d repeats message %d (%s)", i, j, m.MsgID)
		}
		seen[m.MsgID] = i
	}
	if len(got) != len(want) {
		t.Fatalf("the stream has %d messages, the outbox %d events", len(got), len(want))
	}
	for i, ev := range want {
		m := got[i]
		if m.MsgID != ev.ID || string(m.Body) != string(ev.Body) {
			t.Fatalf("message %d is %s, the outbox's event %d is %s (%d bytes vs %d)", i, m.MsgID, ev.Seq, ev.ID, len(m.Body), len(ev.Body))
		}
		if err := events.Validate(m.Body); err != nil {
			t.Fatalf("message %d (%s) is not a valid event: %v", i, m.MsgID, err)
		}
		var pc events.ProcessChange
		if err := json.Unmarshal(m.Body, &pc); err != nil || pc.Meta.ID != m.MsgID {
			t.Fatalf("message %d: meta.id %q, Nats-Msg-Id %q (%v)", i, pc.Meta.ID, m.MsgID, err)
		}
	}
}

// runPublisher runs the worker's publisher of sink in this process until
// the test ends.
func runPublisher(t *testing.T, sink eventsink.Sink) *eventsink.Publisher {
	t.Helper()
	p := &eventsink.Publisher{
		Sink:         sink,
		Store:        farmdb.Outbox{Central: deps.Central},
		Lock:         &eventsink.DBLock{DB: deps.Central.DB, Name: eventsink.LockName(sink.Name())},
		Filter:       farmdb.ReadFilter{IncludePrivate: true},
		BatchSize:    100,
		PollInterval: 100 * time.Millisecond,
		MinBackoff:   200 * time.Millisecond,
		MaxBackoff:   time.Second,
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; _ = sink.Close() })
	return p
}

// syntheticEvents stores n valid events of a made-up process (wiki
// sinktestwiki) in the outbox, in transactions of up to 500, and returns
// their ids.
func syntheticEvents(t *testing.T, ctx context.Context, n int) []string {
	t.Helper()
	run := events.Run{ProcessID: "sink-test-" + randomHex(4), RunID: "run-" + randomHex(4)}
	var ids []string
	for start := 1; start <= n; start += 500 {
		batch := syntheticBatch(t, run, start, min(start+499, n))
		if _, err := (farmdb.Outbox{Central: deps.Central}).Append(ctx, batch); err != nil {
			t.Fatal(err)
		}
		for _, ev := range batch {
			ids = append(ids, ev.ID)
		}
	}
	return ids
}

// syntheticBatch is the valid events first..last of run's made-up process
// (wiki sinktestwiki), ready to append.
func syntheticBatch(t *testing.T, run events.Run, first, last int) []farmdb.StoredEvent {
	t.Helper()
	at := time.Now()
	var batch []farmdb.StoredEvent
	for seq := first; seq <= last; seq++ {
		ev := events.ProcessChange{
			Schema: events.SchemaProcessChange,
			Meta: events.Meta{Stream: events.StreamProcessChange, ID: events.ID(run.ProcessID, run.RunID, seq),
				DT: events.FormatTime(at), Domain: "sinktestwiki.localhost"},
			DT:         events.FormatTime(at),
			ChangeKind: events.KindStep,
			Process:    events.Process{ID: run.ProcessID, Kind: createwiki.KindCreateWiki, RunID: run.RunID, State: string(process.StateRunning), Sequence: seq},
			Wiki:       events.Wiki{DB: "sinktestwiki"},
			Step:       &events.Step{Name: fmt.Sprintf("step-%d", seq), State: "succeeded", PriorState: "running", Attempt: 1},
		}
		body, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if err := events.Validate(body); err != nil {
			t.Fatalf("a synthetic event is not valid: %v", err)
		}
		batch = append(batch, farmdb.StoredEvent{ID: ev.Meta.ID, Stream: ev.Meta.Stream, Wiki: ev.Wiki.DB, Time: at, Body: body})
	}
	return batch
}

// A batch larger than one INSERT, part of it stored before (a store
// retried after its commit): the rest is stored once, in order, numbered
// with no gap.
func TestOutboxStoresALargeBatchOnceInOrder(t *testing.T) {
	ctx := testContext(t, time.Minute)
	box := farmdb.Outbox{Central: deps.Central}
	run := events.Run{ProcessID: "outbox-test-" + randomHex(4), RunID: "run-" + randomHex(4)}
	all := syntheticBatch(t, run, 1, 450)
	if n, err := box.Append(ctx, all[100:250]); err != nil || n != 150 {
		t.Fatalf("first store: %d stored, %v; want 150", n, err)
	}
	if n, err := box.Append(ctx, all); err != nil || n != 300 {
		t.Fatalf("the whole batch again: %d stored, %v; want the 300 not stored yet", n, err)
	}
	if n, err := box.Append(ctx, all); err != nil || n != 0 {
		t.Fatalf("a replay of the batch: %d stored, %v; want none", n, err)
	}
	stored, err := box.Read(ctx, 0, 1_000_000, farmdb.ReadFilter{Wiki: "sinktestwiki", IncludePrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int64{}
	for _, s := range stored {
		pos[s.ID] = s.Seq
	}
	for i, ev := range all {
		if pos[ev.ID] == 0 {
			t.Fatalf("event %d (%s) is not in the outbox", i+1, ev.ID)
		}
	}
	// Each store's events are numbered one after the other, the second's
	// (the batch's order, less what the first stored) after the first's.
	for _, run := range [][]farmdb.StoredEvent{all[100:250], append(append([]farmdb.StoredEvent{}, all[:100]...), all[250:]...)} {
		for i := 1; i < len(run); i++ {
			if a, b := pos[run[i-1].ID], pos[run[i].ID]; b != a+1 {
				t.Fatalf("%s is number %d after %s's %d: want the next number, no gap", run[i].ID, b, run[i-1].ID, a)
			}
		}
	}
	if pos[all[0].ID] < pos[all[249].ID] {
		t.Fatalf("the second store's first event is number %d, before the first store's last, %d", pos[all[0].ID], pos[all[249].ID])
	}
}

// waitCursor waits until sink's cursor reaches seq, and tells how long it took.
func waitCursor(t *testing.T, ctx context.Context, sink string, seq int64, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for cursorOf(t, ctx, sink) < seq {
		if time.Since(start) > within {
			t.Fatalf("%s's cursor is at %d after %s, want %d", sink, cursorOf(t, ctx, sink), within, seq)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// waitProcessEvent waits until the outbox holds the event that says
// process id reached state.
func waitProcessEvent(t *testing.T, ctx context.Context, after int64, id string, state process.State) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for _, ev := range outboxAfter(t, ctx, after) {
			var pc events.ProcessChange
			if json.Unmarshal(ev.Body, &pc) == nil && pc.Process.ID == id && pc.ChangeKind == events.KindState && pc.Process.State == string(state) {
				return
			}
		}
	}
	t.Fatalf("no event says %s is %s", id, state)
}

// A wiki created by a real process: its events reach a JetStream consumer
// through the worker's NATS publisher, every event of the outbox once, in
// the outbox's order, each valid and with its id as Nats-Msg-Id; the
// stream the publisher created keeps ids for the duplicate window.
func TestSinkProcessEventsReachNATS(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	s := newSinkStream(t, stackNATS(t))
	head := startAtHead(t, ctx, s.sink())
	runPublisher(t, &eventsink.NATS{URL: s.url, Subject: s.subject, Stream: s.name, DuplicateWindow: 2 * time.Hour})

	db := uniqueDB("sinknats")
	id, err := cli.CreateWiki(ctx, client.CreateWikiRequest{
		Wiki: process.WikiSpec{DB: db, Sitename: "Sink Wiki", Language: "en"}, Requester: newUser(t, "Requester"),
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, id, 2*time.Minute, process.StateCompleted)
	waitProcessEvent(t, ctx, head, id, process.StateCompleted)
	want := outboxAfter(t, ctx, head)
	waitCursor(t, ctx, s.sink(), want[len(want)-1].Seq, 30*time.Second)
	got := consume(t, s, len(want), 30*time.Second)
	wantSameEvents(t, got, want)
	var mine []string
	for _, m := range got {
		var pc events.ProcessChange
		_ = json.Unmarshal(m.Body, &pc)
		if pc.Process.ID == id {
			mine = append(mine, pc.ChangeKind+" "+pc.Process.State)
		}
	}
	if len(mine) < 3 || mine[len(mine)-1] != "state completed" {
		t.Fatalf("the creation's events on NATS: %v", mine)
	}

	nc, err := nats.Connect(s.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	stream, err := js.Stream(ctx, s.name)
	if err != nil {
		t.Fatal(err)
	}
	cfg := stream.CachedInfo().Config
	if cfg.Duplicates != 2*time.Hour || len(cfg.Subjects) != 1 || cfg.Subjects[0] != s.subject || cfg.Storage != jetstream.FileStorage {
		t.Fatalf("the stream the publisher created: %+v", cfg)
	}
	t.Logf("%d events of the creation of %s on NATS (%d in the outbox since the test began)", len(mine), db, len(want))
}

// sinkWorker is a worker process of the test's, with its health address.
type sinkWorker struct {
	cmd    *exec.Cmd
	health string
	stderr *syncWriter
}

// syncWriter collects a process's stderr.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func startSinkWorker(t *testing.T, bin, queue string, flags ...string) *sinkWorker {
	t.Helper()
	w := &sinkWorker{health: freeAddress(t), stderr: &syncWriter{}}
	args := append([]string{"--temporal.task_queue=" + queue, "--worker.health_address=" + w.health, "--hook.address=" + freeAddress(t)}, flags...)
	w.cmd = exec.Command(bin, args...)
	w.cmd.Dir = repoRoot
	w.cmd.Stderr = w.stderr
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = w.cmd.Process.Kill()
		_, _ = w.cmd.Process.Wait()
		if t.Failed() {
			t.Logf("worker %d's log:\n%s", w.cmd.Process.Pid, w.stderr)
		}
	})
	return w
}

func (w *sinkWorker) kill() {
	_ = w.cmd.Process.Signal(syscall.SIGKILL)
	_, _ = w.cmd.Process.Wait()
}

// metric is the value of one line of the worker's /metrics (name with its
// labels as Prometheus writes them), or -1 when it is not there.
func (w *sinkWorker) metric(t *testing.T, name, sink string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + w.health + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	re := regexp.MustCompile(`(?m)^` + name + `\{[^}]*sink="` + regexp.QuoteMeta(sink) + `"[^}]*\} (\S+)$`)
	m := re.FindSubmatch(b)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		return -1
	}
	return v
}

// waitMetric waits until the worker's metric satisfies ok.
func (w *sinkWorker) waitMetric(t *testing.T, name, sink string, ok func(float64) bool, within time.Duration) float64 {
	t.Helper()
	var v float64
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if v = w.metric(t, name, sink); ok(v) {
			return v
		}
	}
	t.Fatalf("%s{sink=%q} is %v after %s", name, sink, v, within)
	return v
}

// A worker killed (SIGKILL) in the middle of publishing, and the cursor
// then moved back as if it had died between the PubAck and the cursor's
// write: after a restart the consumer gets every event exactly once, in
// the outbox's order (JetStream drops the ones published again).
func TestSinkWorkerKilledWhilePublishingNATSGetsEachEventOnce(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	s := newSinkStream(t, stackNATS(t))
	bin := buildBinary(t, "worker")
	queue := "wikiflow-sinkcrash-" + randomHex(3)
	head := startAtHead(t, ctx, s.sink())
	const n = 4000
	syntheticEvents(t, ctx, n)
	want := outboxAfter(t, ctx, head)
	last := want[len(want)-1].Seq

	nc, err := nats.Connect(s.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	flags := append(s.flags(), "--events.batch_size=50", "--events.poll_interval=100ms")
	w := startSinkWorker(t, bin, queue, flags...)
	start := time.Now()
	var stored uint64
	for stored = streamMessages(ctx, js, s.name); stored < n/4; stored = streamMessages(ctx, js, s.name) {
		if time.Since(start) > time.Minute {
			t.Fatalf("the worker published %d events in a minute:\n%s", stored, w.stderr)
		}
		time.Sleep(time.Millisecond)
	}
	w.kill()
	stored = streamMessages(ctx, js, s.name)
	cursor := cursorOf(t, ctx, s.sink())
	t.Logf("killed with %d of %d events in the stream, the cursor at %d of %d", stored, len(want), cursor-head, last-head)
	if stored >= uint64(len(want)) || cursor >= last {
		t.Fatalf("the kill came after the publishing: %d events stored, cursor %d of %d", stored, cursor, last)
	}
	// A crash between a PubAck and the cursor's write: the events after
	// the cursor are in the stream already.
	rewound := max(head, cursor-300)
	centralExec(t, ctx, `UPDATE wf_event_cursors SET cursor_seq = ? WHERE cursor_sink = ?`, rewound, s.sink())

	startSinkWorker(t, bin, queue, flags...)
	took := waitCursor(t, ctx, s.sink(), last, 2*time.Minute)
	got := consume(t, s, len(want), 30*time.Second)
	wantSameEvents(t, got, want)
	if m := streamMessages(ctx, js, s.name); m != uint64(len(want)) {
		t.Fatalf("the stream stores %d messages, want %d", m, len(want))
	}
	t.Logf("after the restart (cursor moved back %d events): the remaining %d events in %s", cursor-rewound, last-rewound, took.Round(time.Millisecond))
}

// natsServer is a nats-server of the test's own, which it stops and starts.
type natsServer struct {
	port  string
	store string
	cmd   *exec.Cmd
}

func startNATSServer(t *testing.T, n *natsServer) {
	t.Helper()
	if n.port == "" {
		_, n.port, _ = strings.Cut(freeAddress(t), ":")
		n.store = t.TempDir()
	}
	n.cmd = exec.Command("nats-server", "--addr", "127.0.0.1", "--port", n.port, "--jetstream", "--store_dir", n.store)
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("nats-server (farm/bin/stack up installs it): %v", err)
	}
	cmd := n.cmd
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if nc, err := nats.Connect(n.url()); err == nil {
			nc.Close()
			return
		}
	}
	t.Fatal("nats-server did not start")
}

func (n *natsServer) stop() {
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	_, _ = n.cmd.Process.Wait()
}

func (n *natsServer) url() string { return "nats://127.0.0.1:" + n.port }

// NATS stopped: a wiki is still created, and the worker's /metrics shows
// the events waiting; NATS back: they all arrive, once each, in order, and
// the lag is back to 0.
func TestSinkNATSDownProcessesGoOnEventsFollow(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	srv := &natsServer{}
	startNATSServer(t, srv)
	s := newSinkStream(t, srv.url())
	bin := buildBinary(t, "worker")
	queue := "wikiflow-sinkdown-" + randomHex(3)
	head := startAtHead(t, ctx, s.sink())
	w := startSinkWorker(t, bin, queue, append(s.flags(), "--events.poll_interval=100ms")...)
	w.waitMetric(t, eventsink.MetricPublishing, s.sink(), func(v float64) bool { return v == 1 }, 30*time.Second)

	srv.stop()
	c := queueClient(queue)
	db := uniqueDB("sinkdown")
	id, err := c.CreateWiki(ctx, client.CreateWikiRequest{
		Wiki: process.WikiSpec{DB: db, Sitename: "Outage Wiki", Language: "en"}, Requester: newUser(t, "Requester"),
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, id, 2*time.Minute, process.StateCompleted)
	if _, err := deps.API.SiteInfo(ctx, db); err != nil {
		t.Fatalf("the wiki created while NATS was down does not answer: %v", err)
	}
	waitProcessEvent(t, ctx, head, id, process.StateCompleted)
	want := outboxAfter(t, ctx, head)
	lag := w.waitMetric(t, eventsink.MetricLag, s.sink(), func(v float64) bool { return v >= float64(len(want)) }, 30*time.Second)
	if c := cursorOf(t, ctx, s.sink()); c != head {
		t.Fatalf("the cursor moved to %d while NATS was down (from %d)", c, head)
	}
	if !strings.Contains(w.stderr.String(), "the sink does not take events") {
		t.Fatalf("the outage is not in the worker's log:\n%s", w.stderr)
	}

	back := time.Now()
	startNATSServer(t, srv)
	took := waitCursor(t, ctx, s.sink(), want[len(want)-1].Seq, time.Minute)
	got := consume(t, s, len(want), 30*time.Second)
	wantSameEvents(t, got, want)
	w.waitMetric(t, eventsink.MetricLag, s.sink(), func(v float64) bool { return v == 0 }, 10*time.Second)
	w.waitMetric(t, eventsink.MetricLastDelivery, s.sink(), func(v float64) bool { return v >= float64(back.Unix()) }, 10*time.Second)
	if n := strings.Count(w.stderr.String(), "the sink does not take events"); n != 1 {
		t.Errorf("the outage was logged %d times, want once", n)
	}
	if !strings.Contains(w.stderr.String(), "events flow to the sink again") {
		t.Errorf("the end of the outage is not in the worker's log")
	}
	t.Logf("NATS down: the creation completed with %.0f events waiting; NATS back: all %d delivered %s after its restart",
		lag, len(want), took.Round(time.Millisecond))
}

// eventGateIntake is an EventGate-like intake: it validates each posted
// event (events.Validate) and answers 201, 400 when one is invalid; fail
// makes it answer 503 to the next posts.
type eventGateIntake struct {
	mu       sync.Mutex
	ids      []string
	posts    int
	failNext int
	refused  []string
}

func (g *eventGateIntake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.posts++
	var batch []json.RawMessage
	if r.Method != http.MethodPost || r.URL.Path != "/v1/events" || r.Header.Get("Content-Type") != "application/json" ||
		json.NewDecoder(r.Body).Decode(&batch) != nil {
		http.Error(w, "want a JSON array of events", http.StatusBadRequest)
		return
	}
	if g.failNext > 0 {
		g.failNext--
		http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
		return
	}
	var ids []string
	for _, ev := range batch {
		if err := events.Validate(ev); err != nil {
			g.refused = append(g.refused, err.Error())
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var pc events.ProcessChange
		_ = json.Unmarshal(ev, &pc)
		ids = append(ids, pc.Meta.ID)
	}
	g.ids = append(g.ids, ids...)
	w.WriteHeader(http.StatusCreated)
}

func (g *eventGateIntake) state() (ids []string, posts int, refused []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.ids...), g.posts, append([]string(nil), g.refused...)
}

// The EventGate sink posts the outbox's events to an intake that validates
// each: every event arrives once, in order; the intake's 503s are retried.
func TestSinkEventGateGetsEveryEventOnceInOrder(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	intake := &eventGateIntake{failNext: 2}
	srv := httptest.NewServer(intake)
	defer srv.Close()
	sink := &eventsink.EventGate{URL: srv.URL + "/v1/events"}
	t.Cleanup(func() {
		centralExec(t, context.Background(), `DELETE FROM wf_event_cursors WHERE cursor_sink = ?`, sink.Name())
	})
	head := startAtHead(t, ctx, sink.Name())
	ids := syntheticEvents(t, ctx, 450)
	want := outboxAfter(t, ctx, head)
	runPublisher(t, sink)
	took := waitCursor(t, ctx, sink.Name(), want[len(want)-1].Seq, time.Minute)

	got, posts, refused := intake.state()
	if len(refused) > 0 {
		t.Fatalf("the intake refused events: %v", refused)
	}
	if len(got) != len(want) {
		t.Fatalf("the intake stored %d events, the outbox has %d", len(got), len(want))
	}
	seen := map[string]bool{}
	for i, ev := range want {
		if got[i] != ev.ID || seen[got[i]] {
			t.Fatalf("event %d at the intake is %s (seen before: %v), the outbox's is %s", i, got[i], seen[got[i]], ev.ID)
		}
		seen[got[i]] = true
	}
	if got[len(got)-1] != ids[len(ids)-1] {
		t.Fatalf("the last event at the intake is %s, want %s", got[len(got)-1], ids[len(ids)-1])
	}
	// 450 events in batches of 100: 5 posts, and the 2 answered 503.
	if posts != 7 {
		t.Fatalf("%d posts, want 5 and the 2 retried", posts)
	}
	t.Logf("%d events posted in %d requests (2 answered 503 and retried) in %s", len(got), posts, took.Round(time.Millisecond))
}

// The publisher of a sink runs on one worker at a time: a second worker
// publishing to the same sink does not take its lock while the first holds
// it, and takes over once the first is killed.
func TestSinkOneWorkerPublishesAtATime(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	s := newSinkStream(t, stackNATS(t))
	bin := buildBinary(t, "worker")
	queue := "wikiflow-sinklock-" + randomHex(3)
	head := startAtHead(t, ctx, s.sink())
	a := startSinkWorker(t, bin, queue, s.flags()...)
	a.waitMetric(t, eventsink.MetricPublishing, s.sink(), func(v float64) bool { return v == 1 }, 30*time.Second)
	b := startSinkWorker(t, bin, queue, s.flags()...)
	b.waitMetric(t, eventsink.MetricPublishing, s.sink(), func(v float64) bool { return v == 0 }, 30*time.Second)
	syntheticEvents(t, ctx, 200)
	want := outboxAfter(t, ctx, head)
	waitCursor(t, ctx, s.sink(), want[len(want)-1].Seq, 30*time.Second)
	b.waitMetric(t, eventsink.MetricLag, s.sink(), func(v float64) bool { return v == 0 }, 15*time.Second)
	if v := b.metric(t, eventsink.MetricPublishing, s.sink()); v != 0 {
		t.Fatalf("the second worker publishes too (%v)", v)
	}

	a.kill()
	b.waitMetric(t, eventsink.MetricPublishing, s.sink(), func(v float64) bool { return v == 1 }, 30*time.Second)
	syntheticEvents(t, ctx, 100)
	want = outboxAfter(t, ctx, head)
	waitCursor(t, ctx, s.sink(), want[len(want)-1].Seq, 30*time.Second)
	wantSameEvents(t, consume(t, s, len(want), 30*time.Second), want)
}

// The lock's connection killed on the server (KILL CONNECTION, as a
// restart or a network cut would end it): the publisher sees the lock
// gone, takes it again on a new connection and goes on, losing and
// repeating nothing. The time it takes to publish 3,000 events is logged.
func TestSinkLockConnectionKilledPublisherTakesItAgain(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	s := newSinkStream(t, stackNATS(t))
	head := startAtHead(t, ctx, s.sink())
	const n = 3000
	syntheticEvents(t, ctx, n)
	want := outboxAfter(t, ctx, head)
	start := time.Now()
	runPublisher(t, &eventsink.NATS{URL: s.url, Subject: s.subject, Stream: s.name, DuplicateWindow: 2 * time.Hour})
	took := waitCursor(t, ctx, s.sink(), want[len(want)-1].Seq, time.Minute)
	t.Logf("%d events published to NATS in %s from the publisher's start (%.0f events/s, batches of 100, each publish waiting for its PubAck)",
		n, took.Round(time.Millisecond), float64(n)/time.Since(start).Seconds())

	lockName := eventsink.LockName(s.sink())
	holder := func() int64 {
		var id sql.NullInt64
		if err := deps.Central.DB.QueryRowContext(ctx, `SELECT IS_USED_LOCK(?)`, lockName).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id.Int64
	}
	first := holder()
	if first == 0 {
		t.Fatal("the publisher does not hold its lock")
	}
	centralExec(t, ctx, fmt.Sprintf("KILL CONNECTION %d", first))
	syntheticEvents(t, ctx, 200)
	want = outboxAfter(t, ctx, head)
	waitCursor(t, ctx, s.sink(), want[len(want)-1].Seq, 30*time.Second)
	if now := holder(); now == 0 || now == first {
		t.Fatalf("the lock's holder is connection %d after killing connection %d", now, first)
	}
	wantSameEvents(t, consume(t, s, len(want), 30*time.Second), want)
}
