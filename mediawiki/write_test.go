package mediawiki

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/wikiflow/wikiflow/failure"
	"github.com/wikiflow/wikiflow/signing"
)

// fakeWrites is a farm whose wikis answer action=wikiflowwrite like the
// WikiFlow extension: signed calls only, for the wiki they name, each
// signature once.
type fakeWrites struct {
	mu     sync.Mutex
	secret []byte
	seen   map[string]bool
	writes []string // "<wiki> <do>" of each accepted write
	other  int      // requests that were not writes (logins, tokens, reads)
}

func newFakeWrites(t *testing.T) (*fakeWrites, *httptest.Server) {
	f := &fakeWrites{secret: []byte("a-shared-secret-of-the-farm"), seen: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeWrites) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	wiki := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/api.php")
	f.mu.Lock()
	defer f.mu.Unlock()
	answer := func(v any) { _ = json.NewEncoder(w).Encode(v) }
	apiError := func(code string, extra map[string]any) {
		e := map[string]any{"code": code, "info": code, "docref": "See the docs."}
		for k, v := range extra {
			e[k] = v
		}
		answer(map[string]any{"error": e})
	}
	if form.Get("action") != writeModule {
		f.other++
		apiError("unexpected", nil)
		return
	}
	ts, _ := strconv.ParseInt(r.Header.Get(signing.HeaderTimestamp), 10, 64)
	sig := r.Header.Get(signing.HeaderSignature)
	switch {
	case r.Method != http.MethodPost:
		apiError("mustbeposted", nil)
		return
	case sig != signing.Sign(f.secret, ts, r.Method, r.URL.RequestURI(), body) || form.Get("wiki") != wiki:
		apiError("permissiondenied", nil)
		return
	case f.seen[sig]:
		apiError("wikiflow-replayed", nil)
		return
	}
	f.seen[sig] = true
	do := form.Get("do")
	if do == "log" && form.Get("central") == "1" && wiki != "metawiki" {
		apiError("wikiflow-notcentral", map[string]any{"central": "metawiki"})
		return
	}
	if do == "log" && form.Get("performer") == "Nobody" {
		apiError("wikiflow-refused", nil)
		return
	}
	f.writes = append(f.writes, wiki+" "+do)
	switch do {
	case "log":
		answer(map[string]any{writeModule: map[string]any{"wiki": wiki, "logid": 7, "performer": "FarmAdmin", "created": true, "published": true}})
	case "grant-groups":
		answer(map[string]any{writeModule: map[string]any{"user": form.Get("user"), "added": strings.Split(form.Get("groups"), "|"), "groups": strings.Split(form.Get("groups"), "|")}})
	default:
		title := form.Get("title")
		if title == "" {
			title = "Main Page"
		}
		answer(map[string]any{writeModule: map[string]any{"title": title, "pageid": 3, "revid": 4, "created": true}})
	}
}

func (f *fakeWrites) count() (writes []string, other int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.writes...), f.other
}

// Every write is one signed request, with no login, token or read before
// it; the same write made twice is two signatures, both taken.
func TestWritesAreOneSignedRequestEach(t *testing.T) {
	f, srv := newFakeWrites(t)
	c := NewClient(srv.URL+"/{wiki}", "", WithServiceAccount("WikiFlow@worker", "pw"), WithWriteSecret(f.secret))
	ctx := context.Background()
	if g, err := c.GrantGroups(ctx, "demowiki", "Bob", []string{"bureaucrat", "sysop"}); err != nil || g.User != "Bob" || len(g.Added) != 2 {
		t.Fatalf("GrantGroups: %+v, %v", g, err)
	}
	for range 2 {
		if p, err := c.WriteMainPage(ctx, "demowiki", "", "text", "Created with the wiki"); err != nil || p.RevID != 4 || p.Title != "Main Page" {
			t.Fatalf("WriteMainPage: %+v, %v", p, err)
		}
	}
	if l, err := c.WriteLogEntry(ctx, "demowiki", LogWrite{Type: "managewiki", Action: "settings", Performer: "FarmAdmin", Target: "X", Key: "k"}); err != nil || l.LogID != 7 {
		t.Fatalf("WriteLogEntry: %+v, %v", l, err)
	}
	if writes, other := f.count(); len(writes) != 4 || other != 0 {
		t.Fatalf("writes %v, other requests %d: want four writes and nothing else", writes, other)
	}
}

// A client with another secret, or none, writes nothing: the wiki refuses
// the first, the second never calls.
func TestWritesNeedTheSharedSecret(t *testing.T) {
	f, srv := newFakeWrites(t)
	ctx := context.Background()
	wrong := NewClient(srv.URL+"/{wiki}", "", WithWriteSecret([]byte("not-the-farms-secret")))
	_, err := wrong.GrantGroups(ctx, "demowiki", "Bob", []string{"sysop"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "permissiondenied" || Classify(err) != failure.Permanent {
		t.Fatalf("wrong secret: got %v (%s), want a permanent permissiondenied", err, Classify(err))
	}
	if _, err := NewClient(srv.URL+"/{wiki}", "").GrantGroups(ctx, "demowiki", "Bob", []string{"sysop"}); !errors.Is(err, ErrNoWriteSecret) {
		t.Fatalf("no secret: got %v", err)
	}
	if writes, _ := f.count(); len(writes) != 0 {
		t.Fatalf("writes %v", writes)
	}
}

// An entry for the central wiki asked of another wiki is written where that
// wiki says the central wiki is.
func TestCentralLogEntryFollowsTheWiki(t *testing.T) {
	f, srv := newFakeWrites(t)
	c := NewClient(srv.URL+"/{wiki}", "", WithWriteSecret(f.secret))
	l, err := c.WriteLogEntry(context.Background(), "testwiki", LogWrite{Central: true, Type: "farmer", Action: "createwiki", Performer: "FarmAdmin", Target: "X", Key: "k"})
	if err != nil || l.Wiki != "metawiki" {
		t.Fatalf("WriteLogEntry: %+v, %v", l, err)
	}
	if writes, _ := f.count(); len(writes) != 1 || writes[0] != "metawiki log" {
		t.Fatalf("writes %v, want one on metawiki", writes)
	}
}

// Refusals come back as the module's API error, permanent; nothing is written.
func TestWriteRefusalIsPermanent(t *testing.T) {
	f, srv := newFakeWrites(t)
	c := NewClient(srv.URL+"/{wiki}", "", WithWriteSecret(f.secret))
	_, err := c.WriteLogEntry(context.Background(), "metawiki", LogWrite{Type: "farmer", Action: "createwiki", Performer: "Nobody", Target: "X", Key: "k"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "wikiflow-refused" || Classify(err) != failure.Permanent {
		t.Fatalf("got %v (%s), want a permanent wikiflow-refused", err, Classify(err))
	}
	if writes, _ := f.count(); len(writes) != 0 {
		t.Fatalf("writes %v", writes)
	}
}

// The error's other fields are kept, MediaWiki's docref is not.
func TestAPIErrorKeepsItsData(t *testing.T) {
	var out struct {
		Error *APIError `json:"error"`
	}
	if err := json.Unmarshal([]byte(`{"error":{"code":"wikiflow-notcentral","info":"no","central":"metawiki","docref":"See ..."}}`), &out); err != nil {
		t.Fatal(err)
	}
	e := out.Error
	if e.Code != "wikiflow-notcentral" || e.Info != "no" || e.Field("central") != "metawiki" || e.Data["docref"] != nil || e.Field("missing") != "" {
		t.Fatalf("%+v", e)
	}
	if got := fmt.Sprint(e); got != "MediaWiki API error wikiflow-notcentral: no" {
		t.Fatalf("Error() = %q", got)
	}
}
