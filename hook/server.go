package hook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	sdkclient "go.temporal.io/sdk/client"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/settings"
	"github.com/wikiflow/wikiflow/signing"
)

// MaxBody is the largest request body accepted.
const MaxBody = 64 << 10

// Server answers the wikis' signed requests.
type Server struct {
	Client   *client.Client
	Secret   []byte
	Settings *settings.Registry
	// Readers decides which processes a viewer may see (private wikis);
	// without it the list and the status show nothing.
	Readers Readers
	Logger  *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Replays keeps the signatures already accepted; nil keeps them in this
	// process's memory only.
	Replays ReplayStore
	memory  memoryReplays
	// Metrics counts every request by route and status code
	// (process.MetricHookRequests); nil counts nothing.
	Metrics sdkclient.MetricsHandler
}

// Error is the one shape of every refusal.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Handler routes the endpoint; every route is behind the signature check.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/processes", s.list)
	mux.HandleFunc("GET /v1/processes/{id}", s.status)
	mux.HandleFunc("POST /v1/processes/delete-wiki", s.deleteWiki)
	mux.HandleFunc("POST /v1/processes/change-setting", s.changeSetting)
	mux.HandleFunc("POST /v1/processes/request-wiki", s.requestWiki)
	mux.HandleFunc("POST /v1/processes/restore-wiki", s.restoreWiki)
	mux.HandleFunc("POST /v1/processes/enable-extension", s.extension(true))
	mux.HandleFunc("POST /v1/processes/disable-extension", s.extension(false))
	mux.HandleFunc("POST /v1/processes/rename-wiki", s.renameWiki)
	mux.HandleFunc("POST /v1/processes/{id}/actions", s.action)
	mux.HandleFunc("GET /v1/settings", s.settings)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fail(w, http.StatusNotFound, "not_found", "no such endpoint")
	})
	return s.count(mux, s.verify(mux))
}

// count counts each request under the route pattern it would take (for
// refused requests too; "other" for a path that matches no route), so the
// labels are a closed set whatever the requests say.
func (s *Server) count(mux *http.ServeMux, next http.Handler) http.Handler {
	if s.Metrics == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := "other"
		if _, pattern := mux.Handler(r); pattern != "" && pattern != "/" {
			route = pattern
		}
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		s.Metrics.WithTags(map[string]string{
			process.MetricRouteTag: route, process.MetricCodeTag: strconv.Itoa(rec.code),
		}).Counter(process.MetricHookRequests).Inc(1)
	})
}

// statusRecorder remembers the status code a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// verify refuses unsigned, wrongly signed, stale and replayed requests and
// oversized bodies before anything else runs.
func (s *Server) verify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
		if err != nil {
			fail(w, http.StatusBadRequest, "malformed_json", "could not read the body")
			return
		}
		if len(body) > MaxBody {
			fail(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("the body is over %d bytes", MaxBody))
			return
		}
		now := time.Now()
		if s.Now != nil {
			now = s.Now()
		}
		ts, err := strconv.ParseInt(r.Header.Get(signing.HeaderTimestamp), 10, 64)
		got := r.Header.Get(signing.HeaderSignature)
		want := signing.Sign(s.Secret, ts, r.Method, r.URL.RequestURI(), body)
		switch {
		case len(s.Secret) == 0 || err != nil || got == "":
			fail(w, http.StatusUnauthorized, "unauthorized", "the request is not signed")
			return
		case !hmac.Equal([]byte(got), []byte(want)):
			fail(w, http.StatusUnauthorized, "unauthorized", "the signature does not match")
			return
		case now.Sub(time.Unix(ts, 0)).Abs() > signing.Window:
			fail(w, http.StatusUnauthorized, "unauthorized", "the request is stale")
			return
		}
		// A timestamp up to Window in the future is accepted, so a signature
		// matters for two windows.
		first, err := s.replays().First(r.Context(), got, now.Add(2*signing.Window))
		switch {
		case err != nil:
			if s.Logger != nil {
				s.Logger.Error("hook replay check failed", "error", err)
			}
			fail(w, http.StatusServiceUnavailable, "unavailable", "the endpoint cannot check for replays now; nothing was done")
			return
		case !first:
			fail(w, http.StatusUnauthorized, "unauthorized", "the request was already received")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

func (s *Server) replays() ReplayStore {
	if s.Replays != nil {
		return s.Replays
	}
	return &s.memory
}

func fail(w http.ResponseWriter, code int, errCode, msg string) {
	reply(w, code, map[string]Error{"error": {Code: errCode, Message: msg}})
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON object strictly: unknown fields are an error.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		fail(w, http.StatusBadRequest, "malformed_json", "the body is not the JSON object expected: "+err.Error())
		return false
	}
	if dec.More() {
		fail(w, http.StatusBadRequest, "malformed_json", "the body has more than one JSON value")
		return false
	}
	return true
}

// failFor maps the client's errors to the endpoint's codes.
func (s *Server) failFor(w http.ResponseWriter, err error) {
	var usage *client.UsageError
	var invalid *client.InvalidError
	var unsupported *client.UnsupportedActionError
	var refusedErr *client.RefusedError
	switch {
	case errors.As(err, &unsupported):
		fail(w, http.StatusConflict, "unsupported_action", unsupported.Error())
	case errors.As(err, &invalid):
		fail(w, http.StatusBadRequest, "invalid_request", invalid.Msg)
	case errors.As(err, &usage):
		fail(w, http.StatusBadRequest, "invalid_request", usage.Msg)
	case errors.As(err, &refusedErr):
		fail(w, http.StatusConflict, "refused", refusedErr.Msg)
	case errors.Is(err, client.ErrNoProcess):
		fail(w, http.StatusNotFound, "unknown_process", err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		fail(w, http.StatusServiceUnavailable, "unavailable", "the workflow service did not answer in time")
	default:
		if s.Logger != nil {
			s.Logger.Error("hook request failed", "error", err)
		}
		fail(w, http.StatusServiceUnavailable, "unavailable", "the workflow service could not be reached")
	}
}

func ctx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), 20*time.Second)
}

// viewer reads the user a read is for; false when it answered already.
func viewer(w http.ResponseWriter, r *http.Request) (string, bool) {
	v := r.URL.Query().Get(ParamViewer)
	if err := checkViewer(v); err != nil {
		fail(w, http.StatusBadRequest, "invalid_request", err.Error())
		return "", false
	}
	return v, true
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	who, ok := viewer(w, r)
	if !ok {
		return
	}
	c, cancel := ctx(r)
	defer cancel()
	q := r.URL.Query()
	items, err := s.Client.List(c, client.ListFilter{Wiki: q.Get("wiki"), Kind: q.Get("kind"), State: q.Get("state")})
	if err != nil {
		s.failFor(w, err)
		return
	}
	vis := s.visibility(who)
	shown := []client.ListItem{}
	for _, it := range items {
		if vis.may(c, processOf(it)) {
			shown = append(shown, it)
		}
	}
	reply(w, http.StatusOK, map[string]any{"processes": shown})
}

// statusView is a process's status with its place in the Web UI.
type statusView struct {
	process.Status
	UIURL string `json:"ui_url"`
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := client.CheckID(id); err != nil {
		fail(w, http.StatusNotFound, "unknown_process", err.Error())
		return
	}
	who, ok := viewer(w, r)
	if !ok {
		return
	}
	c, cancel := ctx(r)
	defer cancel()
	st, err := s.Client.Status(c, id)
	if err != nil && st.ID == "" {
		s.failFor(w, err)
		return
	}
	p := Process{ID: id, Kind: st.Kind, Wiki: st.Wiki, Requester: st.Requester}
	if p.Kind == "" {
		p.Kind = client.KindOf(id)
	}
	if !s.visibility(who).may(c, p) {
		// The same answer as for a process that does not exist: a hidden
		// process is not even said to be there.
		s.failFor(w, fmt.Errorf("%w: %s", client.ErrNoProcess, id))
		return
	}
	cfg := s.Client.Config.Temporal
	reply(w, http.StatusOK, statusView{Status: st, UIURL: fmt.Sprintf("%s/namespaces/%s/workflows/%s",
		cfg.UIURL, url.PathEscape(cfg.Namespace), url.PathEscape(id))})
}

func accepted(w http.ResponseWriter, st process.Status, err error, s *Server) {
	if err != nil {
		s.failFor(w, err)
		return
	}
	reply(w, http.StatusAccepted, map[string]string{"id": st.ID, "state": string(st.State)})
}

// acceptedUnlessInvalid answers a start the farm refused before any
// process existed (the value, the setting or the name is wrong) with 400
// invalid_request, and any other outcome as accepted does.
func (s *Server) acceptedUnlessInvalid(w http.ResponseWriter, st process.Status, err error) {
	var refusedErr *client.RefusedError
	if errors.As(err, &refusedErr) && st.ID == "" {
		fail(w, http.StatusBadRequest, "invalid_request", refusedErr.Msg)
		return
	}
	accepted(w, st, err, s)
}

func (s *Server) deleteWiki(w http.ResponseWriter, r *http.Request) {
	s.startForWiki(w, r, s.Client.DeleteWiki)
}

func (s *Server) restoreWiki(w http.ResponseWriter, r *http.Request) {
	s.startForWiki(w, r, s.Client.RestoreWiki)
}

func (s *Server) renameWiki(w http.ResponseWriter, r *http.Request) {
	var req struct{ Wiki, To, User, Reason string }
	if !decode(w, r, &req) {
		return
	}
	if req.To == "" || req.User == "" || req.Reason == "" {
		fail(w, http.StatusBadRequest, "invalid_request", "to, user and reason are required")
		return
	}
	c, cancel := ctx(r)
	defer cancel()
	st, err := s.Client.RenameWiki(c, req.Wiki, req.To, req.User, req.Reason)
	accepted(w, st, err, s)
}

// startForWiki starts a process that takes a wiki, a user and a reason.
func (s *Server) startForWiki(w http.ResponseWriter, r *http.Request,
	start func(ctx context.Context, db, user, reason string) (process.Status, error)) {
	var req struct{ Wiki, User, Reason string }
	if !decode(w, r, &req) {
		return
	}
	if req.User == "" || req.Reason == "" {
		fail(w, http.StatusBadRequest, "invalid_request", "user and reason are required")
		return
	}
	c, cancel := ctx(r)
	defer cancel()
	st, err := start(c, req.Wiki, req.User, req.Reason)
	accepted(w, st, err, s)
}

func (s *Server) changeSetting(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Wiki, Setting, User, Reason string
		Value                       json.RawMessage
	}
	if !decode(w, r, &req) {
		return
	}
	if req.User == "" || req.Setting == "" || len(req.Value) == 0 {
		fail(w, http.StatusBadRequest, "invalid_request", "wiki, setting, value and user are required")
		return
	}
	c, cancel := ctx(r)
	defer cancel()
	st, err := s.Client.ChangeSetting(c, req.Wiki, req.Setting, string(req.Value), req.User, req.Reason)
	s.acceptedUnlessInvalid(w, st, err)
}

// extension starts enable-extension (enable) or disable-extension.
func (s *Server) extension(enable bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Wiki, Extension, User, Reason string }
		if !decode(w, r, &req) {
			return
		}
		if req.User == "" || req.Extension == "" {
			fail(w, http.StatusBadRequest, "invalid_request", "wiki, extension and user are required")
			return
		}
		c, cancel := ctx(r)
		defer cancel()
		change := s.Client.DisableExtension
		if enable {
			change = s.Client.EnableExtension
		}
		st, err := change(c, req.Wiki, req.Extension, req.User, req.Reason)
		s.acceptedUnlessInvalid(w, st, err)
	}
}

func (s *Server) requestWiki(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Wiki, Sitename, Language, Category, User, Reason string
		Private                                          bool
	}
	if !decode(w, r, &req) {
		return
	}
	if req.User == "" || req.Reason == "" {
		fail(w, http.StatusBadRequest, "invalid_request", "user and reason are required")
		return
	}
	if req.Category == "" {
		req.Category = "uncategorised"
	}
	c, cancel := ctx(r)
	defer cancel()
	st, err := s.Client.RequestWiki(c, client.CreateWikiRequest{
		Wiki:      process.WikiSpec{DB: req.Wiki, Sitename: req.Sitename, Language: req.Language, Category: req.Category, Private: req.Private},
		Requester: req.User,
	}, req.Reason)
	s.acceptedUnlessInvalid(w, st, err)
}

func (s *Server) action(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req client.Action
	if !decode(w, r, &req) {
		return
	}
	if err := client.CheckID(id); err != nil {
		fail(w, http.StatusNotFound, "unknown_process", err.Error())
		return
	}
	if !client.KnownAction(req.Action) {
		fail(w, http.StatusBadRequest, "unknown_action", fmt.Sprintf("unknown action %q", req.Action))
		return
	}
	// Refused here, not left to the process: a signal its kind never
	// listens for would sit in the history unanswered.
	if err := client.CheckAction(id, req.Action); err != nil {
		s.failFor(w, err)
		return
	}
	if req.User == "" {
		fail(w, http.StatusBadRequest, "invalid_request", "user is required")
		return
	}
	c, cancel := ctx(r)
	defer cancel()
	if err := s.Client.Send(c, id, req); err != nil {
		s.failFor(w, err)
		return
	}
	reply(w, http.StatusAccepted, map[string]string{"id": id, "action": req.Action})
}

func (s *Server) settings(w http.ResponseWriter, r *http.Request) {
	reply(w, http.StatusOK, map[string]any{"settings": s.Settings.All()})
}
