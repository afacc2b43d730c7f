package stream

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/events"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/signing"
)

func TestParseLastEventID(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "42": 42, " 7 ": 7, "9223372036854775807": 1<<63 - 1} {
		if got, err := ParseLastEventID(in); err != nil || got != want {
			t.Errorf("ParseLastEventID(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "+1", "1.5", "abc", "0x10", "9223372036854775808"} {
		if _, err := ParseLastEventID(in); err == nil {
			t.Errorf("ParseLastEventID(%q) accepted", in)
		}
	}
}

func TestParseSince(t *testing.T) {
	want := time.Date(2026, 12, 5, 10, 0, 1, 123e6, time.UTC)
	for _, in := range []string{"2026-12-05T10:00:01.123Z", "2026-12-05T11:00:01.123+01:00", strconv.FormatInt(want.UnixMilli(), 10)} {
		if got, err := ParseSince(in); err != nil || !got.Equal(want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if got, err := ParseSince("2026-12-05T10:00:00Z"); err != nil || !got.Equal(time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("whole seconds: %v %v", got, err)
	}
	for _, in := range []string{"", "yesterday", "2026-12-05", "2026-12-05 10:00:00", "-5", "99999999999999999999", "1.5"} {
		if _, err := ParseSince(in); err == nil {
			t.Errorf("ParseSince(%q) accepted", in)
		}
	}
}

// memOutbox is an outbox in memory, numbered like farmdb.Outbox.
type memOutbox struct {
	mu  sync.Mutex
	evs []farmdb.StoredEvent
}

func (m *memOutbox) add(wiki string, private bool, at time.Time) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	seq := int64(len(m.evs) + 1)
	body := fmt.Sprintf(`{"$schema":%q,"meta":{"stream":%q,"id":"e%d"},"n":%d}`, events.SchemaProcessChange, events.StreamProcessChange, seq, seq)
	m.evs = append(m.evs, farmdb.StoredEvent{Seq: seq, ID: fmt.Sprint("e", seq), Stream: events.StreamProcessChange, Wiki: wiki, Private: private, Time: at, Body: []byte(body)})
	return seq
}

func (m *memOutbox) Read(_ context.Context, after int64, limit int, f farmdb.ReadFilter) ([]farmdb.StoredEvent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []farmdb.StoredEvent
	for _, ev := range m.evs {
		if ev.Seq > after && (f.Wiki == "" || ev.Wiki == f.Wiki) && (f.IncludePrivate || !ev.Private) && len(out) < limit {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (m *memOutbox) Head(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.evs)), nil
}

func (m *memOutbox) Before(_ context.Context, t time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var seq int64
	for _, ev := range m.evs {
		if ev.Time.Before(t) {
			seq = ev.Seq
		}
	}
	return seq, nil
}

type memReplays struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (r *memReplays) First(_ context.Context, sig string, _ time.Time) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	if r.seen[sig] {
		return false, nil
	}
	r.seen[sig] = true
	return true, nil
}

var secret = []byte("0123456789abcdef0123")

func testServer(t *testing.T, ob *memOutbox, tune func(*Server)) (*httptest.Server, *Server) {
	t.Helper()
	s := &Server{Outbox: ob, Secret: secret, Replays: &memReplays{}, Poll: 10 * time.Millisecond, Batch: 3}
	if tune != nil {
		tune(s)
	}
	mux := http.NewServeMux()
	mux.Handle(Prefix, s.Handler())
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ReadTimeout = 300 * time.Millisecond // as the worker's, shorter
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, s
}

// collect reads messages until n have come or the stream ends.
func collect(t *testing.T, c *Client, start Start, untilHead bool, n int) []int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var ids []int64
	errStop := fmt.Errorf("enough")
	err := c.Read(ctx, start, untilHead, func(m Message) error {
		ids = append(ids, m.ID)
		if n > 0 && len(ids) == n {
			return errStop
		}
		return nil
	})
	if err != nil && err != errStop {
		t.Fatalf("read: %v (got %v)", err, ids)
	}
	return ids
}

func seqs(from, to int64, skip ...int64) []int64 {
	var out []int64
next:
	for i := from; i <= to; i++ {
		for _, s := range skip {
			if s == i {
				continue next
			}
		}
		out = append(out, i)
	}
	return out
}

func equal(a, b []int64) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// The start positions, the filters, the batches and the privacy rule.
func TestStreamStartsFiltersAndPrivacy(t *testing.T) {
	ob := &memOutbox{}
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	for i := range 10 {
		ob.add([]string{"awiki", "bwiki"}[i%2], i == 4, t0.Add(time.Duration(i)*time.Minute)) // 5 is private
	}
	srv, _ := testServer(t, ob, nil)
	anon := &Client{BaseURL: srv.URL, Stream: events.StreamProcessChange}
	signed := &Client{BaseURL: srv.URL, Stream: events.StreamProcessChange, Secret: secret}

	if got := collect(t, anon, Start{HasLastID: true}, true, 0); !equal(got, seqs(1, 10, 5)) {
		t.Errorf("anonymous from 0: %v", got)
	}
	if got := collect(t, signed, Start{HasLastID: true}, true, 0); !equal(got, seqs(1, 10)) {
		t.Errorf("signed from 0: %v", got)
	}
	if got := collect(t, signed, Start{HasLastID: true, LastID: 7}, true, 0); !equal(got, seqs(8, 10)) {
		t.Errorf("after 7: %v", got)
	}
	if got := collect(t, signed, Start{Since: t0.Add(3 * time.Minute)}, true, 0); !equal(got, seqs(4, 10)) {
		t.Errorf("since the 4th's time: %v", got)
	}
	if got := collect(t, signed, Start{Since: t0.Add(3*time.Minute + time.Second)}, true, 0); !equal(got, seqs(5, 10)) {
		t.Errorf("since just after the 4th: %v", got)
	}
	awiki := &Client{BaseURL: srv.URL, Stream: events.StreamProcessChange, Wiki: "awiki"}
	if got := collect(t, awiki, Start{HasLastID: true}, true, 0); !equal(got, []int64{1, 3, 7, 9}) {
		t.Errorf("awiki anonymously: %v", got)
	}
	// Neither: from now on.
	done := make(chan []int64)
	go func() { done <- collect(t, signed, Start{}, false, 2) }()
	time.Sleep(100 * time.Millisecond)
	ob.add("awiki", true, time.Now())
	ob.add("bwiki", false, time.Now())
	if got := <-done; !equal(got, []int64{11, 12}) {
		t.Errorf("from now on: %v", got)
	}
}

// A connection dropped by the server is resumed after the last event
// received: every event once, in order, across many reconnections; and a
// stream outlives the server's read timeout.
func TestClientResumesAfterDrops(t *testing.T) {
	ob := &memOutbox{}
	srv, _ := testServer(t, ob, nil)
	var drops int
	c := &Client{BaseURL: srv.URL, Stream: events.StreamProcessChange, Secret: secret, Retry: 10 * time.Millisecond,
		OnReconnect: func(error, int64) { drops++ }}
	go func() {
		for i := range 60 {
			ob.add("awiki", i%3 == 0, time.Now())
			if i%10 == 9 {
				srv.CloseClientConnections()
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	if got := collect(t, c, Start{HasLastID: true}, false, 60); !equal(got, seqs(1, 60)) {
		t.Fatalf("resumed reads: %v", got)
	}
	if drops == 0 {
		t.Fatal("no connection was dropped")
	}
	// Longer than the read timeout.
	done := make(chan []int64)
	go func() { done <- collect(t, c, Start{HasLastID: true, LastID: 60}, false, 1) }()
	time.Sleep(700 * time.Millisecond)
	before := drops
	ob.add("awiki", false, time.Now())
	if got := <-done; !equal(got, []int64{61}) || drops != before {
		t.Fatalf("after the read timeout: %v, %d drops", got, drops-before)
	}
}

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp, b.String()
}

func sign(path string, ts int64) map[string]string {
	return map[string]string{signing.HeaderTimestamp: strconv.FormatInt(ts, 10), signing.HeaderSignature: signing.Sign(secret, ts, http.MethodGet, path, nil)}
}

// Refusals come before anything is streamed, as JSON with a clear message.
func TestStreamRefusals(t *testing.T) {
	ob := &memOutbox{}
	ob.add("awiki", false, time.Now())
	srv, _ := testServer(t, ob, nil)
	path := Prefix + events.StreamProcessChange
	now := time.Now().Unix()
	replayed := sign(path+"?last_event_id=0&until_head=1", now)
	if resp, body := get(t, srv.URL+path+"?last_event_id=0&until_head=1", replayed); resp.StatusCode != 200 || !strings.Contains(body, "id: 1\n") {
		t.Fatalf("signed: %d %s", resp.StatusCode, body)
	}
	cases := []struct {
		name, url string
		hdr       map[string]string
		code      int
		want      string
	}{
		{"unknown stream", "/v2/stream/mediawiki.recentchange", nil, 404, "no stream"},
		{"no stream", "/v2/stream/", nil, 404, "no stream"},
		{"bad since", path + "?since=yesterday", nil, 400, "neither an RFC 3339 time"},
		{"bad last_event_id", path + "?last_event_id=-3", nil, 400, "not an event number"},
		{"bad Last-Event-ID", path, map[string]string{"Last-Event-ID": "abc"}, 400, "not an event number"},
		{"Last-Event-ID beyond the head", path, map[string]string{"Last-Event-ID": "99"}, 400, "beyond the last event stored (1)"},
		{"bad wiki", path + "?wiki=Foo", nil, 400, "not a wiki database name"},
		{"bad query", path + "?wiki=a;b", nil, 400, "does not parse"},
		{"unknown parameter", path + "?wikis=awiki", nil, 400, "unknown parameter"},
		{"twice", path + "?since=1&since=2", nil, 400, "given 2 times"},
		{"forged", path, map[string]string{signing.HeaderTimestamp: strconv.FormatInt(now, 10), signing.HeaderSignature: "sha256=00"}, 401, "does not match"},
		{"half signed", path, map[string]string{signing.HeaderSignature: "sha256=00"}, 401, "signed only in part"},
		{"stale", path, sign(path, now-int64(signing.Window/time.Second)-5), 401, "stale"},
		{"replayed", path + "?last_event_id=0&until_head=1", replayed, 401, "already received"},
		{"signed for another URI", path + "?wiki=awiki", sign(path, now), 401, "does not match"},
	}
	for _, tc := range cases {
		resp, body := get(t, srv.URL+tc.url, tc.hdr)
		if resp.StatusCode != tc.code || !strings.Contains(body, tc.want) || resp.Header.Get("Content-Type") != "application/json" ||
			strings.Contains(body, "id:") || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: %d %q %s", tc.name, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	resp, _ := get(t, srv.URL+path, nil)
	if resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("stream headers: %v", resp.Header)
	}
}

// A quiet stream sends heartbeats; the wire format is the one documented.
func TestWireFormatAndHeartbeat(t *testing.T) {
	ob := &memOutbox{}
	ob.add("awiki", false, time.Now())
	srv, _ := testServer(t, ob, func(s *Server) { s.Heartbeat = 50 * time.Millisecond })
	_, body := get(t, srv.URL+Prefix+events.StreamProcessChange+"?last_event_id=0", nil)
	want := "id: 1\nevent: message\ndata: " + string(ob.evs[0].Body) + "\n\n"
	if !strings.HasPrefix(body, want) || !strings.Contains(body, "\n: heartbeat\n\n") {
		t.Fatalf("wire:\n%s", body)
	}
	var got []Message
	ended, err := Parse(strings.NewReader("id: 4\nevent: message\ndata: {\"a\":\ndata: 1}\n\n: heartbeat\n\nid: 5\ndata:x\n\n: end\n\n"), func(m Message) error {
		got = append(got, m)
		return nil
	})
	if err != nil || !ended || len(got) != 2 || got[0].ID != 4 || string(got[0].Data) != "{\"a\":\n1}" || got[1].Event != "message" || string(got[1].Data) != "x" {
		t.Fatalf("parse: %v %v %+v", ended, err, got)
	}
}

// Streams over MaxStreams are refused; a closed stream frees its place.
func TestMaxStreams(t *testing.T) {
	ob := &memOutbox{}
	srv, s := testServer(t, ob, func(s *Server) { s.MaxStreams = 1 })
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+Prefix+events.StreamProcessChange, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(err)
	}
	if r, body := get(t, srv.URL+Prefix+events.StreamProcessChange, nil); r.StatusCode != 503 || !strings.Contains(body, "too_many_streams") {
		t.Fatalf("second stream: %d %s", r.StatusCode, body)
	}
	cancel()
	resp.Body.Close()
	for deadline := time.Now().Add(2 * time.Second); s.open.Load() != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the closed stream kept its place")
		}
	}
}
