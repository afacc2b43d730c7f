//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/events"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/signing"
	"github.com/wikiflow/wikiflow/stream"
)

// sseConn is one open connection to the event stream, read message by
// message.
type sseConn struct {
	code   int
	body   string // the refusal, when code is not 200
	msgs   chan stream.Message
	ended  chan error // the stream's end: nil after ": end"
	cancel context.CancelFunc
}

// openStream opens base's stream with the query and headers given; it
// returns once the endpoint answered, so that a stream from now on has its
// start fixed.
func openStream(t testing.TB, base, query string, hdr http.Header) *sseConn {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+stream.Prefix+events.StreamProcessChange+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	c := &sseConn{code: resp.StatusCode, msgs: make(chan stream.Message, 1000), ended: make(chan error, 1), cancel: cancel}
	if resp.StatusCode != http.StatusOK {
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		resp.Body.Close()
		c.body = b.String()
		return c
	}
	go func() {
		defer resp.Body.Close()
		ended, err := stream.Parse(resp.Body, func(m stream.Message) error {
			c.msgs <- m
			return nil
		})
		if err == nil && !ended {
			err = errors.New("the stream ended without its end comment")
		}
		c.ended <- err
	}()
	return c
}

// next waits for the next message.
func (c *sseConn) next(t testing.TB, within time.Duration) stream.Message {
	t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case err := <-c.ended:
		t.Fatalf("the stream ended (%v) while a message was awaited", err)
	case <-time.After(within):
		t.Fatalf("no message within %s", within)
	}
	return stream.Message{}
}

// all reads an until_head stream to its end.
func (c *sseConn) all(t *testing.T) []stream.Message {
	t.Helper()
	var out []stream.Message
	for {
		select {
		case m := <-c.msgs:
			out = append(out, m)
		case err := <-c.ended:
			if err != nil {
				t.Fatalf("the stream did not end cleanly: %v", err)
			}
			for len(c.msgs) > 0 {
				out = append(out, <-c.msgs)
			}
			return out
		case <-time.After(30 * time.Second):
			t.Fatal("the stream did not end")
		}
	}
}

// signedHeader signs a GET of uri with the farm's secret.
func signedHeader(uri string) http.Header {
	ts := time.Now().Unix()
	h := http.Header{}
	h.Set(signing.HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(signing.HeaderSignature, signing.Sign(hookSecret(), ts, http.MethodGet, uri, nil))
	return h
}

func ids(ms []stream.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// stored is the outbox's events after after, of wiki, private ones too.
func stored(t testing.TB, after int64, wiki string) []farmdb.StoredEvent {
	t.Helper()
	evs, err := farmdb.Outbox{Central: deps.Central}.Read(testContext(t, time.Minute), after, 10000,
		farmdb.ReadFilter{Stream: events.StreamProcessChange, Wiki: wiki, IncludePrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func storedSeqs(evs []farmdb.StoredEvent) []int64 {
	out := make([]int64, len(evs))
	for i, ev := range evs {
		out[i] = ev.Seq
	}
	return out
}

func outboxHead(t *testing.T) int64 {
	t.Helper()
	h, err := farmdb.Outbox{Central: deps.Central}.Head(testContext(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// appendEvents stores n events of a made-up process on wiki straight into
// the outbox, valid events of the stream, and returns their numbers.
func appendEvents(t testing.TB, wiki string, private bool, n int) []int64 {
	t.Helper()
	ctx := testContext(t, time.Minute)
	run := randomHex(8)
	pid := "change-setting:" + wiki + ":" + run
	var evs []farmdb.StoredEvent
	at := time.Now()
	for i := range n {
		ev := events.ProcessChange{Schema: events.SchemaProcessChange,
			Meta:       events.Meta{Stream: events.StreamProcessChange, ID: events.ID(pid, run, i+1), DT: events.FormatTime(at)},
			DT:         events.FormatTime(at),
			ChangeKind: events.KindStep,
			Process:    events.Process{ID: pid, Kind: "change-setting", RunID: run, State: "running", Sequence: i + 1},
			Wiki:       events.Wiki{DB: wiki, IsPrivate: private},
			Step:       &events.Step{Name: fmt.Sprintf("step%d", i+1), State: "succeeded", PriorState: "running", Attempt: 1},
		}
		body, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if err := events.Validate(body); err != nil {
			t.Fatalf("a made-up event is not valid: %v", err)
		}
		evs = append(evs, farmdb.StoredEvent{ID: ev.Meta.ID, Stream: events.StreamProcessChange, Wiki: wiki, Private: private, Time: at, Body: body})
	}
	if n, err := (farmdb.Outbox{Central: deps.Central}).Append(ctx, evs); err != nil || n != len(evs) {
		t.Fatalf("append: %d %v", n, err)
	}
	var seqs []int64
	for _, ev := range stored(t, 0, wiki) {
		if strings.Contains(string(ev.Body), run) {
			seqs = append(seqs, ev.Seq)
		}
	}
	if len(seqs) != n {
		t.Fatalf("%d of %d events found again", len(seqs), n)
	}
	return seqs
}

// A real process's events come over the stream as the outbox holds them:
// each valid, unchanged, in the outbox's order, each id its number; the
// time from being stored to being received is logged.
func TestEventStreamCarriesAProcessInOrder(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	base := "http://" + hookServer(t)
	db, owner := liveWiki(t, "ssereal")
	head := outboxHead(t)
	conn := openStream(t, base, "?wiki="+db, nil) // from now on, anonymously: the wiki is public
	if conn.code != http.StatusOK {
		t.Fatalf("HTTP %d %s", conn.code, conn.body)
	}
	st, err := cli.ChangeSetting(ctx, db, "wgInterwikiMagic", "false", owner, "streamed")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, st.ID, time.Minute, process.StateCompleted)
	var got []stream.Message
	var latencies []time.Duration
	for {
		m := conn.next(t, 30*time.Second)
		received := time.Now()
		got = append(got, m)
		var ev events.ProcessChange
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			t.Fatal(err)
		}
		if at, err := time.Parse(time.RFC3339Nano, ev.Meta.DT); err == nil {
			latencies = append(latencies, received.Sub(at))
		}
		if ev.Process.ID == st.ID && ev.ChangeKind == events.KindState && ev.Process.State == string(process.StateCompleted) {
			break
		}
	}
	want := stored(t, head, db)
	want = want[:slices.IndexFunc(want, func(ev farmdb.StoredEvent) bool { return ev.Seq == got[len(got)-1].ID })+1]
	if !slices.Equal(ids(got), storedSeqs(want)) {
		t.Fatalf("ids %v, the outbox holds %v", ids(got), storedSeqs(want))
	}
	seq := 0
	for i, m := range got {
		if m.Event != "message" || string(m.Data) != string(want[i].Body) {
			t.Errorf("message %d is not the stored event:\n%s\n%s", m.ID, m.Data, want[i].Body)
		}
		if err := events.Validate(m.Data); err != nil {
			t.Errorf("event %d: %v", m.ID, err)
		}
		var ev events.ProcessChange
		_ = json.Unmarshal(m.Data, &ev)
		if ev.Process.ID == st.ID {
			if ev.Process.Sequence <= seq {
				t.Errorf("event %d: sequence %d after %d", m.ID, ev.Process.Sequence, seq)
			}
			seq = ev.Process.Sequence
		}
	}
	if seq == 0 {
		t.Fatal("none of the change's events came")
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	t.Logf("%d events; stored-to-received latency p50 %s, max %s (meta.dt has millisecond precision)",
		len(got), latencies[len(latencies)/2], latencies[len(latencies)-1])
}

// A private wiki's events go to a signed reader only; a forged or replayed
// signature is refused with nothing streamed.
func TestEventStreamHidesPrivateWikisFromAnonymousReaders(t *testing.T) {
	base := "http://" + hookServer(t)
	head := outboxHead(t)
	db, _ := privateWiki(t, "ssepriv")
	want := stored(t, head, db)
	if len(want) == 0 {
		t.Fatal("creating the private wiki stored no events")
	}
	for _, ev := range want {
		if !ev.Private {
			t.Fatalf("event %d of the private wiki is stored as public", ev.Seq)
		}
	}
	query := fmt.Sprintf("?last_event_id=%d&until_head=true", head)
	if got := openStream(t, base, query+"&wiki="+db, nil).all(t); len(got) != 0 {
		t.Fatalf("an anonymous reader got %d of the private wiki's events", len(got))
	}
	for _, m := range openStream(t, base, query, nil).all(t) {
		if strings.Contains(string(m.Data), db) {
			t.Fatalf("an anonymous reader of every wiki got event %d: %s", m.ID, m.Data)
		}
	}
	uri := stream.Prefix + events.StreamProcessChange + query + "&wiki=" + db
	signed := signedHeader(uri)
	got := openStream(t, base, query+"&wiki="+db, signed).all(t)
	if !slices.Equal(ids(got), storedSeqs(want)) {
		t.Fatalf("a signed reader got %v, the outbox holds %v", ids(got), storedSeqs(want))
	}
	forged := signedHeader(uri)
	forged.Set(signing.HeaderSignature, "sha256="+strings.Repeat("0", 64))
	otherURI := signedHeader(stream.Prefix + events.StreamProcessChange + query) // signed for the URI without the wiki
	for name, h := range map[string]http.Header{"replayed": signed, "forged": forged, "signed for another URI": otherURI} {
		c := openStream(t, base, query+"&wiki="+db, h)
		if c.code != http.StatusUnauthorized || !strings.Contains(c.body, `"unauthorized"`) || strings.Contains(c.body, "id:") {
			t.Errorf("%s: HTTP %d %s", name, c.code, c.body)
		}
	}
}

// A reader that resumes with Last-Event-ID gets exactly the events it
// missed: from the endpoint of this test process, and from a worker
// process killed (SIGKILL) and started again, through the client the CLI
// uses, which reconnects by itself.
func TestEventStreamResumesExactlyAfterLastEventID(t *testing.T) {
	base := "http://" + hookServer(t)
	wiki := uniqueDB("sseresume")
	conn := openStream(t, base, "?wiki="+wiki, nil)
	first := appendEvents(t, wiki, false, 5)
	var got []int64
	for range 5 {
		got = append(got, conn.next(t, 10*time.Second).ID)
	}
	if !slices.Equal(got, first) {
		t.Fatalf("first read %v, stored %v", got, first)
	}
	conn.cancel()
	missed := appendEvents(t, wiki, false, 4)
	missed = append(missed, appendEvents(t, wiki, true, 3)...) // private: a signed reader's
	signedQuery := "?wiki=" + wiki
	h := signedHeader(stream.Prefix + events.StreamProcessChange + signedQuery)
	h.Set("Last-Event-ID", strconv.FormatInt(got[len(got)-1], 10))
	resumed := openStream(t, base, signedQuery, h)
	var again []int64
	for range len(missed) {
		again = append(again, resumed.next(t, 10*time.Second).ID)
	}
	later := appendEvents(t, wiki, false, 2)
	for range 2 {
		again = append(again, resumed.next(t, 10*time.Second).ID)
	}
	select {
	case m := <-resumed.msgs:
		t.Fatalf("an event more than stored: %d", m.ID)
	case <-time.After(time.Second):
	}
	if want := append(slices.Clone(missed), later...); !slices.Equal(again, want) {
		t.Fatalf("resumed with Last-Event-ID %d: got %v, want %v", got[len(got)-1], again, want)
	}

	// Across a worker process killed and started again.
	queue := "wikiflow-sse-" + randomHex(3)
	w := startWorkers(t, queue, 1)[0]
	c := &stream.Client{BaseURL: "http://" + w.hook, Stream: events.StreamProcessChange, Wiki: wiki, Secret: hookSecret(), Retry: 200 * time.Millisecond}
	ctx, cancel := context.WithCancel(testContext(t, 3*time.Minute))
	defer cancel()
	received := make(chan int64, 100)
	reconnects := make(chan int64, 100)
	c.OnReconnect = func(_ error, last int64) { reconnects <- last }
	done := make(chan error, 1)
	go func() {
		done <- c.Read(ctx, stream.Start{LastID: later[1], HasLastID: true}, false, func(m stream.Message) error {
			received <- m.ID
			return nil
		})
	}()
	take := func(n int) []int64 {
		var out []int64
		for range n {
			select {
			case id := <-received:
				out = append(out, id)
			case err := <-done:
				t.Fatalf("the client stopped: %v", err)
			case <-time.After(30 * time.Second):
				t.Fatalf("%d of %d events came", len(out), n)
			}
		}
		return out
	}
	before := appendEvents(t, wiki, false, 3)
	if got := take(3); !slices.Equal(got, before) {
		t.Fatalf("before the kill: %v, want %v", got, before)
	}
	w.stop(syscall.SIGKILL)
	select {
	case last := <-reconnects:
		if last != before[2] {
			t.Fatalf("the client resumes after %d, its last event was %d", last, before[2])
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the client did not notice the worker's death")
	}
	during := appendEvents(t, wiki, true, 4)
	w.restart(t)
	after := appendEvents(t, wiki, false, 2)
	want := append(slices.Clone(during), after...)
	if got := take(len(want)); !slices.Equal(got, want) {
		t.Fatalf("across the restart: %v, want %v", got, want)
	}
	select {
	case id := <-received:
		t.Fatalf("an event more than stored: %d", id)
	case <-time.After(time.Second):
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("the read ended with %v", err)
	}
}

// starter events prints the events stored, private ones included (it
// signs with the hook secret), as JSON lines or as text, and refuses a bad
// --since with a clear message.
func TestStarterEventsPrintsStoredEvents(t *testing.T) {
	bin := buildBinary(t, "starter")
	addr := "--hook.address=" + hookServer(t)
	wiki := uniqueDB("ssecli")
	seqs := append(appendEvents(t, wiki, false, 3), appendEvents(t, wiki, true, 2)...)
	want := stored(t, seqs[0]-1, wiki)

	out, stderr, code := runStarter(t, bin, nil, addr, "events", "--json", "--wiki", wiki)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 0 || len(lines) != len(want) {
		t.Fatalf("exit %d, %d lines for %d events:\n%s\n%s", code, len(lines), len(want), out, stderr)
	}
	for i, l := range lines {
		if l != string(want[i].Body) {
			t.Errorf("line %d is not event %d:\n%s\n%s", i, want[i].Seq, l, want[i].Body)
		}
	}
	// From the third event's number on, as text.
	out, stderr, code = runStarter(t, bin, nil, addr, "events", "--wiki", wiki, "--last-event-id", strconv.FormatInt(seqs[2], 10))
	lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 0 || len(lines) != 2 || !strings.Contains(lines[0], "  "+wiki+"  step step1 running→succeeded (attempt 1)  [private wiki]") {
		t.Fatalf("exit %d:\n%s\n%s", code, out, stderr)
	}
	// Since a time after the events: none.
	out, _, code = runStarter(t, bin, nil, addr, "events", "--json", "--wiki", wiki, "--since", time.Now().Add(time.Minute).UTC().Format(time.RFC3339))
	if code != 0 || out != "" {
		t.Fatalf("since later: exit %d %q", code, out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"events", "--since", "last tuesday"}, 1, `--since: since "last tuesday" is neither an RFC 3339 time`},
		{[]string{"events", "--since", "1", "--last-event-id", "2"}, 2, "give --since or --last-event-id, not both"},
		{[]string{"events", "--wiki", "Not A Wiki"}, 1, "is not a wiki database name"},
		{[]string{"events", "--last-event-id", fmt.Sprint(outboxHead(t) + 1000)}, 1, "beyond the last event stored"},
	} {
		out, stderr, code := runStarter(t, bin, nil, append([]string{addr}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tc.args, code, out, stderr)
		}
	}
	out, _, code = runStarter(t, bin, nil, addr, "events", "--json", "--since", "soon")
	if docs := jsonDocuments(t, out); code != 1 || len(docs) != 1 || !strings.Contains(fmt.Sprint(docs[0]["error"]), "--since") {
		t.Fatalf("--json refusal: exit %d %s", code, out)
	}
}

// BenchmarkEventStream: the time from storing an event in the outbox (the
// start of its transaction) to its arrival at a reader, over 40 events
// stored one by one at irregular moments, against the stream's poll
// interval (stream.DefaultPoll), the wait a reader can expect by design.
func BenchmarkEventStream(b *testing.B) {
	base := "http://" + hookServer(b)
	for range b.N {
		wiki := uniqueDB("sselat")
		conn := openStream(b, base, "?wiki="+wiki, nil)
		var lat []time.Duration
		for i := range 40 {
			time.Sleep(time.Duration(i%7) * 37 * time.Millisecond)
			start := time.Now() // before the commit: an upper bound
			seq := appendEvents(b, wiki, false, 1)
			m := conn.next(b, 10*time.Second)
			lat = append(lat, time.Since(start))
			if m.ID != seq[0] {
				b.Fatalf("got event %d, stored %d", m.ID, seq[0])
			}
		}
		slices.Sort(lat)
		p50, p95 := lat[len(lat)/2], lat[len(lat)*95/100]
		fmt.Printf("stored -> SSE reader       n=%d  p50 %-8s p95 %-8s ratio(p50) %.2fx the poll interval (%s)\n",
			len(lat), p50.Round(time.Millisecond), p95.Round(time.Millisecond),
			float64(p50)/float64(stream.DefaultPoll), stream.DefaultPoll)
	}
}
