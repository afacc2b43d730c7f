package eventsink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/wikiflow/wikiflow/farmdb"
)

// EventGate posts the events, a JSON array of their stored bodies
// unchanged, to an EventGate-compatible intake, as MediaWiki's EventBus
// does (POST /v1/events, Content-Type: application/json). EventGate
// validates each event against its $schema and answers:
//
//   - 2xx (201 stored, 202 accepted by a "hasty" intake): delivered;
//   - 207 (some events invalid or not stored) and 400 or 422 (all invalid):
//     the intake refuses those events for what they are. They would be
//     refused again at every retry and hold up every event after them, so
//     each is logged at error level, with the intake's reason, and skipped;
//   - 413 (too large): the first half of the batch is posted alone, down
//     to one event, which is then refused for good;
//   - anything else (5xx, 401, 403, 404, 408, 429, no answer): the intake,
//     or the way to it, fails; the batch is posted again later.
type EventGate struct {
	URL    string
	Client *http.Client
	Logger *slog.Logger
}

// Name is eventgate:<host>: another intake is another sink, with a cursor
// of its own.
func (s *EventGate) Name() string {
	if u, err := url.Parse(s.URL); err == nil && u.Host != "" {
		return "eventgate:" + u.Host
	}
	return "eventgate"
}

// Deliver posts the events in one request.
func (s *EventGate) Deliver(ctx context.Context, evs []farmdb.StoredEvent) (Result, error) {
	var body bytes.Buffer
	body.WriteByte('[')
	for i, ev := range evs {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(ev.Body)
	}
	body.WriteByte(']')
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, &body)
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "WikiFlow-worker")
	resp, err := s.client().Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("EventGate intake %s: %w", s.URL, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch code := resp.StatusCode; {
	case code == http.StatusMultiStatus, code == http.StatusBadRequest, code == http.StatusUnprocessableEntity:
		refused := s.logRefused(evs, code, answer)
		return Result{Done: len(evs), Refused: refused}, nil
	case code >= 200 && code < 300:
		return Result{Done: len(evs)}, nil
	case code == http.StatusRequestEntityTooLarge && len(evs) > 1:
		return s.Deliver(ctx, evs[:len(evs)/2])
	case code == http.StatusRequestEntityTooLarge:
		s.logger().Error("event refused for good by the EventGate intake: too large; skipped",
			"url", s.URL, "seq", evs[0].Seq, "id", evs[0].ID, "bytes", len(evs[0].Body))
		return Result{Done: 1, Refused: 1}, nil
	default:
		return Result{}, fmt.Errorf("EventGate intake %s answered %s: %s", s.URL, resp.Status, snippet(answer))
	}
}

// gateRefusal is one event of an EventGate 207 or 400 answer
// ({"invalid": [...], "error": [...]}).
type gateRefusal struct {
	Status  string          `json:"status"`
	Event   json.RawMessage `json:"event"`
	Context json.RawMessage `json:"context"`
}

// logRefused logs every event the intake refused and tells how many there
// were (for a 400 or 422 whose answer names none: all of them).
func (s *EventGate) logRefused(evs []farmdb.StoredEvent, code int, answer []byte) int {
	var parsed struct {
		Invalid []gateRefusal `json:"invalid"`
		Error   []gateRefusal `json:"error"`
	}
	log := s.logger()
	if json.Unmarshal(answer, &parsed) != nil || len(parsed.Invalid)+len(parsed.Error) == 0 {
		if code == http.StatusMultiStatus {
			log.Error("the EventGate intake refused some events and did not say which; they are skipped",
				"url", s.URL, "first_seq", evs[0].Seq, "last_seq", evs[len(evs)-1].Seq, "answer", snippet(answer))
			return 0
		}
		for _, ev := range evs {
			log.Error("event refused for good by the EventGate intake; skipped", "url", s.URL, "code", code,
				"seq", ev.Seq, "id", ev.ID, "answer", snippet(answer))
		}
		return len(evs)
	}
	for kind, list := range map[string][]gateRefusal{"invalid": parsed.Invalid, "error": parsed.Error} {
		for _, r := range list {
			var ev struct {
				Meta struct {
					ID string `json:"id"`
				} `json:"meta"`
			}
			_ = json.Unmarshal(r.Event, &ev)
			log.Error("event refused for good by the EventGate intake; skipped", "url", s.URL, "code", code,
				"kind", kind, "id", ev.Meta.ID, "status", r.Status, "reason", snippet(r.Context))
		}
	}
	return min(len(evs), len(parsed.Invalid)+len(parsed.Error))
}

func (s *EventGate) client() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	return &http.Client{Timeout: 30 * time.Second}
}

func (s *EventGate) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// Close has nothing to close.
func (s *EventGate) Close() error { return nil }

// snippet is the start of an answer, for a log line.
func snippet(b []byte) string {
	const limit = 500
	if len(b) > limit {
		return string(b[:limit]) + "..."
	}
	return string(b)
}
