package mediawiki

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/wikiflow/wikiflow/failure"
)

// fakeWrites is a farm whose wikis answer logins, tokens and
// action=wikiflowwrite like the WikiFlow extension, counting what is asked.
type fakeWrites struct {
	mu       sync.Mutex
	logins   map[string]int
	tokens   map[string]int // csrf tokens fetched, by wiki
	writes   []string       // "<wiki> <do>" of each accepted write
	badtoken int            // badtoken answers
	// secret is part of every csrf token; changing it makes the tokens stale.
	secret string
}

func newFakeWrites(t *testing.T) (*fakeWrites, *httptest.Server) {
	f := &fakeWrites{logins: map[string]int{}, tokens: map[string]int{}, secret: "a"}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeWrites) serve(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
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
	loggedIn := false
	if c, err := r.Cookie("session_" + wiki); err == nil && c.Value == "in" {
		loggedIn = true
	}
	if r.Form.Get("assert") == "user" && !loggedIn {
		apiError("assertuserfailed", nil)
		return
	}
	switch {
	case r.Form.Get("meta") == "tokens" && r.Form.Get("type") == "login":
		answer(map[string]any{"query": map[string]any{"tokens": map[string]any{"logintoken": "L+\\"}}})
	case r.Form.Get("action") == "login":
		f.logins[wiki]++
		http.SetCookie(w, &http.Cookie{Name: "session_" + wiki, Value: "in", Path: "/"})
		answer(map[string]any{"login": map[string]any{"result": "Success", "lgusername": "WikiFlow"}})
	case r.Form.Get("meta") == "tokens" && r.Form.Get("type") == "csrf":
		f.tokens[wiki]++
		answer(map[string]any{"query": map[string]any{"tokens": map[string]any{"csrftoken": f.secret + wiki + "+\\"}}})
	case r.Form.Get("action") == writeModule:
		if r.Method != http.MethodPost {
			apiError("mustbeposted", nil)
			return
		}
		if r.Form.Get("token") != f.secret+wiki+"+\\" {
			f.badtoken++
			apiError("badtoken", nil)
			return
		}
		do := r.Form.Get("do")
		if do == "log" && r.Form.Get("central") == "1" && wiki != "metawiki" {
			apiError("wikiflow-notcentral", map[string]any{"central": "metawiki"})
			return
		}
		if do == "log" && r.Form.Get("performer") == "Nobody" {
			apiError("wikiflow-refused", nil)
			return
		}
		f.writes = append(f.writes, wiki+" "+do)
		switch do {
		case "log":
			answer(map[string]any{writeModule: map[string]any{"wiki": wiki, "logid": 7, "performer": "FarmAdmin", "created": true, "published": true}})
		case "grant-groups":
			answer(map[string]any{writeModule: map[string]any{"user": r.Form.Get("user"), "added": strings.Split(r.Form.Get("groups"), "|"), "groups": strings.Split(r.Form.Get("groups"), "|")}})
		default:
			answer(map[string]any{writeModule: map[string]any{"title": r.Form.Get("title"), "pageid": 3, "revid": 4, "created": true}})
		}
	default:
		apiError("unexpected", nil)
	}
}

func (f *fakeWrites) count() (logins, tokens map[string]int, writes []string, badtoken int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	logins, tokens = map[string]int{}, map[string]int{}
	for k, v := range f.logins {
		logins[k] = v
	}
	for k, v := range f.tokens {
		tokens[k] = v
	}
	return logins, tokens, append([]string(nil), f.writes...), f.badtoken
}

// One login and one csrf token per wiki session, whatever the number of writes.
func TestWritesReuseTheSessionsToken(t *testing.T) {
	f, srv := newFakeWrites(t)
	c := NewClient(srv.URL+"/{wiki}", "", WithServiceAccount("WikiFlow@worker", "pw"))
	ctx := context.Background()
	if g, err := c.GrantGroups(ctx, "demowiki", "Bob", []string{"bureaucrat", "sysop"}); err != nil || g.User != "Bob" || len(g.Added) != 2 {
		t.Fatalf("GrantGroups: %+v, %v", g, err)
	}
	if p, err := c.WriteMainPage(ctx, "demowiki", "Main Page", "text", "Created with the wiki"); err != nil || p.RevID != 4 || !p.Created {
		t.Fatalf("WriteMainPage: %+v, %v", p, err)
	}
	if l, err := c.WriteLogEntry(ctx, "demowiki", LogWrite{Type: "managewiki", Action: "settings", Performer: "FarmAdmin", Target: "X", Key: "k"}); err != nil || l.LogID != 7 {
		t.Fatalf("WriteLogEntry: %+v, %v", l, err)
	}
	logins, tokens, writes, _ := f.count()
	if logins["demowiki"] != 1 || tokens["demowiki"] != 1 || len(writes) != 3 {
		t.Fatalf("logins %v, tokens %v, writes %v: want one login, one token, three writes", logins, tokens, writes)
	}
}

// A token the wiki no longer takes is fetched again once, and the write
// goes through; a write that still gets badtoken fails with it.
func TestWriteRefetchesAStaleToken(t *testing.T) {
	f, srv := newFakeWrites(t)
	c := NewClient(srv.URL+"/{wiki}", "", WithServiceAccount("WikiFlow@worker", "pw"))
	ctx := context.Background()
	if _, err := c.WriteMainPage(ctx, "demowiki", "Main Page", "text", ""); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.secret = "b"
	f.mu.Unlock()
	if _, err := c.WriteMainPage(ctx, "demowiki", "Main Page", "text", ""); err != nil {
		t.Fatalf("after the token went stale: %v", err)
	}
	_, tokens, writes, bad := f.count()
	if tokens["demowiki"] != 2 || bad != 1 || len(writes) != 2 {
		t.Fatalf("tokens %v, badtoken %d, writes %v: want 2 tokens, 1 badtoken, 2 writes", tokens, bad, writes)
	}
}

// An entry for the central wiki asked of another wiki is written where that
// wiki says the central wiki is.
func TestCentralLogEntryFollowsTheWiki(t *testing.T) {
	f, srv := newFakeWrites(t)
	c := NewClient(srv.URL+"/{wiki}", "", WithServiceAccount("WikiFlow@worker", "pw"))
	l, err := c.WriteLogEntry(context.Background(), "testwiki", LogWrite{Central: true, Type: "farmer", Action: "createwiki", Performer: "FarmAdmin", Target: "X", Key: "k"})
	if err != nil || l.Wiki != "metawiki" {
		t.Fatalf("WriteLogEntry: %+v, %v", l, err)
	}
	if _, _, writes, _ := f.count(); len(writes) != 1 || writes[0] != "metawiki log" {
		t.Fatalf("writes %v, want one on metawiki", writes)
	}
}

// Refusals come back as the module's API error, permanent; nothing is written.
func TestWriteRefusalIsPermanent(t *testing.T) {
	f, srv := newFakeWrites(t)
	c := NewClient(srv.URL+"/{wiki}", "", WithServiceAccount("WikiFlow@worker", "pw"))
	_, err := c.WriteLogEntry(context.Background(), "metawiki", LogWrite{Type: "farmer", Action: "createwiki", Performer: "Nobody", Target: "X", Key: "k"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "wikiflow-refused" || Classify(err) != failure.Permanent {
		t.Fatalf("got %v (%s), want a permanent wikiflow-refused", err, Classify(err))
	}
	if _, _, writes, _ := f.count(); len(writes) != 0 {
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
