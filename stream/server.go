// Package stream serves the farm's event streams over HTTP as server-sent
// events, the way Wikimedia's EventStreams does, and reads them back (Client).
//
// GET /v2/stream/<stream> (events.Streams names the streams) answers
// text/event-stream: one message per event of the outbox (farmdb.Outbox),
// in the outbox's order:
//
//	id: <seq>
//	event: message
//	data: <the event's JSON, as stored>
//
// The id is the event's number in the outbox, one farm-wide sequence without
// gaps; that number is what Last-Event-ID means here. A comment line
// (": heartbeat") is sent every 15 seconds when nothing else is.
//
// Where the stream starts, first match wins:
//   - the Last-Event-ID header, or the last_event_id parameter: the events
//     numbered after it (exactly those; a number beyond the last event
//     stored is refused, it cannot come from this farm's outbox);
//   - since=<RFC 3339 time or Unix milliseconds>: the events stored at that
//     time or later (a time in the future: from now on);
//   - neither: the events stored from now on.
//
// Other parameters: wiki=<db> keeps one wiki's events; until_head=true ends
// the stream, with the comment ": end", once every event stored when the
// request arrived has been sent, instead of following; nonce=<anything> is
// ignored (a signed client makes each request, hence each signature, unique
// with it). Any other parameter is refused.
//
// Events of public wikis are for anyone. Events of private wikis (and of
// wikis whose privacy is unknown) go only to requests signed with the
// farm's shared secret exactly as the hook's are (package signing: the
// method, the request URI and an empty body; the timestamp within
// signing.Window; each signature accepted once). A request carrying a
// signature that does not verify is refused with 401: it is never served
// as an anonymous one, so that a reader who believes they see everything
// never silently misses the private wikis' events.
//
// Status codes: 200 the stream; 400 a parameter or Last-Event-ID that does
// not parse (nothing is streamed); 401 a wrong, stale or replayed
// signature; 404 an unknown stream; 405 a method other than GET (OPTIONS
// answers CORS preflights); 503 the outbox cannot be read, the replay
// record cannot be checked, or too many streams are open. Refusals are
// JSON: {"error": {"code": ..., "message": ...}}, as the hook's.
package stream

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wikiflow/wikiflow/events"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/signing"
)

// Prefix is the path the streams are served under.
const Prefix = "/v2/stream/"

// Parameters of a stream request.
const (
	ParamLastEventID = "last_event_id"
	ParamSince       = "since"
	ParamWiki        = "wiki"
	ParamUntilHead   = "until_head"
	ParamNonce       = "nonce"
	// HeaderLastEventID is the header an SSE client resumes with.
	HeaderLastEventID = "Last-Event-ID"
	// EndComment is the comment an until_head stream ends with.
	EndComment = ": end"
)

// Outbox is what the server reads: farmdb.Outbox.
type Outbox interface {
	Read(ctx context.Context, after int64, limit int, f farmdb.ReadFilter) ([]farmdb.StoredEvent, error)
	Head(ctx context.Context) (int64, error)
	Before(ctx context.Context, t time.Time) (int64, error)
}

// ReplayStore remembers accepted signatures (farmdb.HookReplays, shared
// with the hook).
type ReplayStore interface {
	First(ctx context.Context, signature string, expires time.Time) (bool, error)
}

// Defaults of the Server's tunables.
const (
	DefaultPoll       = 250 * time.Millisecond
	DefaultHeartbeat  = 15 * time.Second
	DefaultBatch      = 500
	DefaultMaxStreams = 64
)

// Server serves the streams. Each open stream polls the outbox on its own.
type Server struct {
	Outbox Outbox
	// Secret is the farm's shared secret; without it no request can be
	// signed and only public events are served.
	Secret  []byte
	Replays ReplayStore
	Logger  *slog.Logger
	// Poll is how often an open stream asks the outbox for new events;
	// Heartbeat how often a stream with nothing to send sends a comment;
	// Batch the most events read at once; MaxStreams the most streams open
	// at once (more are answered 503). Zero: the defaults.
	Poll       time.Duration
	Heartbeat  time.Duration
	Batch      int
	MaxStreams int
	// Now is the clock; tests replace it.
	Now func() time.Time

	open atomic.Int64
}

// Error is the one shape of every refusal.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Handler serves GET /v2/stream/<stream>; mount it on Prefix.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serve)
}

// request is a stream request once checked.
type request struct {
	stream    string
	lastID    int64
	hasLastID bool
	since     time.Time
	hasSince  bool
	wiki      string
	untilHead bool
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if _, known := events.Streams[name]; !ok || !known {
		fail(w, http.StatusNotFound, "unknown_stream", fmt.Sprintf("no stream %q; the streams are %s", name, streamList()))
		return
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodOptions:
		w.Header().Set("Access-Control-Allow-Methods", "GET")
		w.Header().Set("Access-Control-Allow-Headers", strings.Join([]string{HeaderLastEventID, signing.HeaderTimestamp, signing.HeaderSignature}, ", "))
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		w.Header().Set("Allow", "GET, OPTIONS")
		fail(w, http.StatusMethodNotAllowed, "method_not_allowed", "a stream is read with GET")
		return
	}
	req, err := parseRequest(name, r)
	if err != nil {
		fail(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	private, code, msg := s.authorize(r)
	if code != 0 {
		errCode := "unauthorized"
		if code == http.StatusServiceUnavailable {
			errCode = "unavailable"
		}
		fail(w, code, errCode, msg)
		return
	}
	if n := s.open.Add(1); n > int64(s.maxStreams()) {
		s.open.Add(-1)
		fail(w, http.StatusServiceUnavailable, "too_many_streams", fmt.Sprintf("%d streams are open, the most this worker serves; try again later", n-1))
		return
	}
	defer s.open.Add(-1)

	ctx := r.Context()
	head, err := s.Outbox.Head(ctx)
	if err != nil {
		s.unavailable(w, err)
		return
	}
	var after int64
	switch {
	case req.hasLastID:
		if req.lastID > head {
			fail(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("Last-Event-ID %d is beyond the last event stored (%d): it is not from this farm's stream", req.lastID, head))
			return
		}
		after = req.lastID
	case req.hasSince:
		if after, err = s.Outbox.Before(ctx, req.since); err != nil {
			s.unavailable(w, err)
			return
		}
	default:
		after = head
	}
	s.stream(w, r, req, farmdb.ReadFilter{Stream: req.stream, Wiki: req.wiki, IncludePrivate: private}, after, head)
}

// stream sends the events after after until the client leaves, the server
// closes the connection or, with until_head, every event up to head is sent.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, req request, filter farmdb.ReadFilter, after, head int64) {
	ctx := r.Context()
	rc := http.NewResponseController(w)
	// The server's read timeout is for reading requests; on a stream it
	// would end the request's context while events flow.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if rc.Flush() != nil {
		return
	}
	poll := time.NewTicker(s.poll())
	defer poll.Stop()
	lastWrite := time.Now()
	var buf []byte
	for {
		// Everything numbered up to top is committed before the read below
		// starts, so a read that returns less than a batch has seen every
		// matching event up to top, even if none matched.
		top, err := s.Outbox.Head(ctx)
		if err == nil && req.untilHead {
			top = min(top, head)
		}
		var evs []farmdb.StoredEvent
		if err == nil {
			evs, err = s.Outbox.Read(ctx, after, s.batch(), filter)
		}
		if err != nil {
			if ctx.Err() == nil && s.Logger != nil {
				// The client resumes from its Last-Event-ID, perhaps on
				// another worker.
				s.Logger.Error("event stream ended: the outbox cannot be read", "error", err)
			}
			return
		}
		buf = buf[:0]
		for _, ev := range evs {
			if req.untilHead && ev.Seq > head {
				break
			}
			buf = appendMessage(buf, ev)
			after = ev.Seq
		}
		full := len(evs) == s.batch()
		if !full && top > after {
			after = top
		}
		if req.untilHead && after >= head {
			buf = append(buf, EndComment+"\n\n"...)
		}
		if len(buf) == 0 && time.Since(lastWrite) >= s.heartbeat() {
			buf = append(buf, ": heartbeat\n\n"...)
		}
		if len(buf) > 0 {
			if _, err := w.Write(buf); err != nil {
				return
			}
			if rc.Flush() != nil {
				return
			}
			lastWrite = time.Now()
		}
		if req.untilHead && after >= head {
			return
		}
		if full && !req.untilHead || full && after < head {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		}
	}
}

// appendMessage appends ev as one SSE message. The stored JSON has no line
// breaks; if it had, each line would be a data: line of its own, which a
// client joins back with line breaks.
func appendMessage(b []byte, ev farmdb.StoredEvent) []byte {
	b = append(b, "id: "...)
	b = strconv.AppendInt(b, ev.Seq, 10)
	b = append(b, "\nevent: message\n"...)
	body := strings.ReplaceAll(string(ev.Body), "\r\n", "\n")
	for line := range strings.SplitSeq(body, "\n") {
		b = append(b, "data: "...)
		b = append(b, line...)
		b = append(b, '\n')
	}
	return append(b, '\n')
}

func parseRequest(name string, r *http.Request) (request, error) {
	req := request{stream: name}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return req, fmt.Errorf("the query string does not parse: %v", err)
	}
	for k := range q {
		switch k {
		case ParamLastEventID, ParamSince, ParamWiki, ParamUntilHead, ParamNonce:
			if len(q[k]) > 1 {
				return req, fmt.Errorf("parameter %s is given %d times", k, len(q[k]))
			}
		default:
			return req, fmt.Errorf("unknown parameter %q; the parameters are %s, %s, %s, %s and %s", k,
				ParamLastEventID, ParamSince, ParamWiki, ParamUntilHead, ParamNonce)
		}
	}
	// The header wins over the parameter: a browser's EventSource resumes
	// with the header on the URL it was opened with.
	last := r.Header.Get(HeaderLastEventID)
	if last == "" {
		last = q.Get(ParamLastEventID)
	}
	if last != "" {
		id, err := ParseLastEventID(last)
		if err != nil {
			return req, err
		}
		req.lastID, req.hasLastID = id, true
	}
	if q.Has(ParamSince) {
		t, err := ParseSince(q.Get(ParamSince))
		if err != nil {
			return req, err
		}
		req.since, req.hasSince = t, true
	}
	if q.Has(ParamWiki) {
		req.wiki = q.Get(ParamWiki)
		if farmdb.CheckDBName(req.wiki) != nil {
			return req, fmt.Errorf("wiki %q is not a wiki database name (lowercase letters, digits and underscores, starting with a letter)", req.wiki)
		}
	}
	if q.Has(ParamUntilHead) {
		v, err := strconv.ParseBool(q.Get(ParamUntilHead))
		if err != nil {
			return req, fmt.Errorf("until_head %q is not true or false", q.Get(ParamUntilHead))
		}
		req.untilHead = v
	}
	return req, nil
}

// authorize tells whether the request may see private wikis' events: an
// unsigned request may not; a signed one may if its signature verifies,
// and is refused (code 401, or 503 when replays cannot be checked) if not.
func (s *Server) authorize(r *http.Request) (private bool, code int, msg string) {
	tsHeader, got := r.Header.Get(signing.HeaderTimestamp), r.Header.Get(signing.HeaderSignature)
	if tsHeader == "" && got == "" {
		return false, 0, ""
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	ts, err := strconv.ParseInt(tsHeader, 10, 64)
	switch {
	case len(s.Secret) == 0:
		return false, http.StatusUnauthorized, "this endpoint has no secret to check signatures with; read without signing for public wikis' events"
	case err != nil || got == "":
		return false, http.StatusUnauthorized, "the request is signed only in part: it needs both " + signing.HeaderTimestamp + " and " + signing.HeaderSignature
	case !hmac.Equal([]byte(got), []byte(signing.Sign(s.Secret, ts, r.Method, r.URL.RequestURI(), nil))):
		return false, http.StatusUnauthorized, "the signature does not match"
	case now.Sub(time.Unix(ts, 0)).Abs() > signing.Window:
		return false, http.StatusUnauthorized, "the request is stale"
	}
	if s.Replays == nil {
		return false, http.StatusServiceUnavailable, "this endpoint cannot check for replayed signatures"
	}
	first, err := s.Replays.First(r.Context(), got, now.Add(2*signing.Window))
	switch {
	case err != nil:
		if s.Logger != nil {
			s.Logger.Error("event stream replay check failed", "error", err)
		}
		return false, http.StatusServiceUnavailable, "the endpoint cannot check for replays now"
	case !first:
		return false, http.StatusUnauthorized, "the request was already received"
	}
	return true, 0, ""
}

func (s *Server) unavailable(w http.ResponseWriter, err error) {
	if s.Logger != nil {
		s.Logger.Error("event stream cannot read the outbox", "error", err)
	}
	fail(w, http.StatusServiceUnavailable, "unavailable", "the event outbox cannot be read now")
}

func (s *Server) poll() time.Duration      { return or(s.Poll, DefaultPoll) }
func (s *Server) heartbeat() time.Duration { return or(s.Heartbeat, DefaultHeartbeat) }
func (s *Server) batch() int               { return or(s.Batch, DefaultBatch) }
func (s *Server) maxStreams() int          { return or(s.MaxStreams, DefaultMaxStreams) }

func or[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

func streamList() string {
	names := make([]string, 0, len(events.Streams))
	for n := range events.Streams {
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}

func fail(w http.ResponseWriter, code int, errCode, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]Error{"error": {Code: errCode, Message: msg}})
}
