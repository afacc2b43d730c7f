package eventsink

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/wikiflow/wikiflow/farmdb"
)

func gateEvents(n int) []farmdb.StoredEvent {
	var evs []farmdb.StoredEvent
	for i := 1; i <= n; i++ {
		evs = append(evs, farmdb.StoredEvent{Seq: int64(i), ID: fmt.Sprintf("id-%d", i),
			Body: fmt.Appendf(nil, `{"meta":{"id":"id-%d"},"n":%d}`, i, i)})
	}
	return evs
}

// An intake that answers as told, keeping the arrays it was posted.
func gate(t *testing.T, answer func(batch []json.RawMessage) (int, string)) (*EventGate, *[][]json.RawMessage, *syncBuffer) {
	t.Helper()
	var mu sync.Mutex
	var posts [][]json.RawMessage
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var batch []json.RawMessage
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &batch) != nil {
			http.Error(w, "not a JSON array", http.StatusTeapot)
			return
		}
		mu.Lock()
		posts = append(posts, batch)
		mu.Unlock()
		code, body := answer(batch)
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	logs := &syncBuffer{}
	return &EventGate{URL: srv.URL + "/v1/events", Logger: slog.New(slog.NewTextHandler(logs, nil))}, &posts, logs
}

func TestEventGatePostsTheBodiesAsAnArray(t *testing.T) {
	for _, code := range []int{http.StatusCreated, http.StatusAccepted} {
		g, posts, _ := gate(t, func([]json.RawMessage) (int, string) { return code, "" })
		res, err := g.Deliver(context.Background(), gateEvents(3))
		if err != nil || res.Done != 3 || res.Refused != 0 {
			t.Fatalf("%d: %+v, %v", code, res, err)
		}
		if len(*posts) != 1 || len((*posts)[0]) != 3 || string((*posts)[0][2]) != `{"meta":{"id":"id-3"},"n":3}` {
			t.Fatalf("%d: posted %s", code, *posts)
		}
	}
}

// 207 and 400: the refused events are logged, one line each, and skipped.
func TestEventGateRefusalsAreLoggedAndSkipped(t *testing.T) {
	g, _, logs := gate(t, func(batch []json.RawMessage) (int, string) {
		return http.StatusMultiStatus, `{"invalid":[{"status":"invalid","event":` + string(batch[1]) +
			`,"context":{"message":"'$schema' is required"}}],"error":[]}`
	})
	res, err := g.Deliver(context.Background(), gateEvents(3))
	if err != nil || res.Done != 3 || res.Refused != 1 {
		t.Fatalf("207: %+v, %v", res, err)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "id=id-2") ||
		!strings.Contains(logs.String(), "is required") {
		t.Fatalf("207 not logged with the event and reason:\n%s", logs)
	}
	g, _, logs = gate(t, func([]json.RawMessage) (int, string) { return http.StatusBadRequest, "bad" })
	res, err = g.Deliver(context.Background(), gateEvents(2))
	if err != nil || res.Done != 2 || res.Refused != 2 || strings.Count(logs.String(), "level=ERROR") != 2 {
		t.Fatalf("400: %+v, %v\n%s", res, err, logs)
	}
}

// 5xx and the intake's own errors are retried: nothing is done.
func TestEventGateFailuresAreRetried(t *testing.T) {
	for _, code := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusNotFound, http.StatusTooManyRequests} {
		g, _, _ := gate(t, func([]json.RawMessage) (int, string) { return code, "down" })
		res, err := g.Deliver(context.Background(), gateEvents(2))
		if err == nil || res.Done != 0 {
			t.Fatalf("%d: %+v, %v", code, res, err)
		}
	}
	g := &EventGate{URL: "http://127.0.0.1:1/v1/events"}
	if res, err := g.Deliver(context.Background(), gateEvents(1)); err == nil || res.Done != 0 {
		t.Fatalf("no intake: %+v, %v", res, err)
	}
}

// 413: halves down to what fits; one event alone too large is refused.
func TestEventGateTooLargeHalvesTheBatch(t *testing.T) {
	g, posts, _ := gate(t, func(batch []json.RawMessage) (int, string) {
		if len(batch) > 2 {
			return http.StatusRequestEntityTooLarge, ""
		}
		return http.StatusCreated, ""
	})
	res, err := g.Deliver(context.Background(), gateEvents(8))
	if err != nil || res.Done != 2 {
		t.Fatalf("%+v, %v", res, err)
	}
	if n := len(*posts); n != 3 { // 8, 4, 2
		t.Fatalf("%d posts, want 3", n)
	}
	g, _, _ = gate(t, func([]json.RawMessage) (int, string) { return http.StatusRequestEntityTooLarge, "" })
	if res, err := g.Deliver(context.Background(), gateEvents(1)); err != nil || res.Done != 1 || res.Refused != 1 {
		t.Fatalf("one event too large: %+v, %v", res, err)
	}
}
