//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/mediawiki"
	"github.com/wikiflow/wikiflow/signing"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
)

// action=wikiflowwrite, the WikiFlow extension's module behind the worker's
// log entries, the requester's groups and the main page: it answers calls
// the worker signed only, each once; each of its writes made twice changes
// nothing the second time, and a wiki that is read-only gets none.

type revision struct {
	RevID   int64  `json:"revid"`
	User    string `json:"user"`
	Comment string `json:"comment"`
}

// revisions are a page's revisions, newest first.
func revisions(t *testing.T, wiki, title string) []revision {
	t.Helper()
	var out struct {
		Query struct {
			Pages []struct {
				Revisions []revision `json:"revisions"`
			} `json:"pages"`
		} `json:"query"`
	}
	err := deps.API.Get(testContext(t, time.Minute), wiki, url.Values{
		"action": {"query"}, "prop": {"revisions"}, "titles": {title}, "rvprop": {"ids|user|comment"}, "rvlimit": {"max"},
	}, &out)
	if err != nil {
		t.Fatalf("prop=revisions of %s on %s: %v", title, wiki, err)
	}
	if len(out.Query.Pages) != 1 {
		return nil
	}
	return out.Query.Pages[0].Revisions
}

// A call the worker did not sign is refused whoever makes it (a logged-out
// reader with the anonymous token, a bureaucrat of the wiki with their
// session's csrf token, a client with another secret), and so is a signed
// call that is stale, signed for another wiki, or received before; nothing
// is written: no log entry, no group, no page.
func TestWikiFlowWriteRefusesUnsignedCalls(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	const wiki = "testwiki"
	heldByCreation(t, wiki) // so that only the signature can refuse grant-groups and main-page
	password := "pw-" + randomHex(12)
	crat := "Crat" + randomHex(4)
	if _, err := deps.Scripts.Run(ctx, "metawiki", "createAndPromote", crat, password); err != nil {
		t.Fatal(err)
	}
	if _, err := deps.Scripts.Run(ctx, wiki, "createAndPromote", "--force", "--bureaucrat", "--sysop", crat); err != nil {
		t.Fatal(err)
	}
	target := newUser(t, "Target")
	page := "Special:Processes/request-wiki:" + uniqueDB("refused")
	title := "WikiFlow refused " + randomHex(4)
	secret, err := deps.Config.HookSecret()
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]url.Values{
		"log":          {"do": {"log"}, "logtype": {"managewiki"}, "logaction": {"settings"}, "performer": {target}, "target": {page}, "key": {page + "/refused"}},
		"grant-groups": {"do": {"grant-groups"}, "user": {target}, "groups": {"bureaucrat|sysop|interface-admin"}},
		"main-page":    {"do": {"main-page"}, "title": {title}, "text": {"not written"}},
	}
	anonymous := newVisitor(t, farmAddr(), wiki)
	crats := newVisitor(t, farmAddr(), wiki).login(crat, password)
	now := time.Now().Unix()
	for op, call := range calls {
		// Unsigned, with the csrf token MediaWiki gives the caller's session.
		wantWriteError(t, "logged out", op, postWrite(t, anonymous, call, wiki, "+\\", nil, now), "permissiondenied")
		wantWriteError(t, "a bureaucrat", op, postWrite(t, crats, call, wiki, crats.csrfToken(), nil, now), "permissiondenied")
		// Signed, but with another secret, ten minutes ago, or for another wiki.
		wantWriteError(t, "another secret", op, postWrite(t, anonymous, call, wiki, "", []byte("not-the-farms-secret"), now), "permissiondenied")
		wantWriteError(t, "stale", op, postWrite(t, anonymous, call, wiki, "", secret, now-600), "permissiondenied")
		wantWriteError(t, "for metawiki", op, postWrite(t, anonymous, call, "metawiki", "", secret, now), "permissiondenied")
	}
	other := mediawiki.NewClient(deps.Config.MediaWiki.URLPattern, deps.Config.MediaWiki.DialAddress, mediawiki.WithWriteSecret([]byte("not-the-farms-secret")))
	_, err = other.GrantGroups(ctx, wiki, target, []string{"bureaucrat", "sysop", "interface-admin"})
	if !apiCode(err, "permissiondenied") || mediawiki.Classify(err) != mediawiki.Permanent {
		t.Errorf("a client with another secret: %v, want a permanent permissiondenied", err)
	}

	if n := len(logEvents(t, wiki, page)); n != 0 {
		t.Errorf("%d log entries on %s", n, page)
	}
	u, err := deps.API.User(ctx, wiki, target)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"bureaucrat", "sysop", "interface-admin"} {
		if u.InGroup(g) {
			t.Errorf("%s was made %s", target, g)
		}
	}
	if exists, err := deps.API.PageExists(ctx, wiki, title); err != nil || exists {
		t.Errorf("page %q exists=%v (%v)", title, exists, err)
	}
}

// A signed call sent again, byte for byte, is refused as a replay: the
// first writes the page, the second leaves it as it is (here after a later
// edit, which the replay would otherwise undo).
func TestWikiFlowWriteRefusesAReplay(t *testing.T) {
	ctx := testContext(t, time.Minute)
	const wiki = "testwiki"
	heldByCreation(t, wiki)
	secret, err := deps.Config.HookSecret()
	if err != nil {
		t.Fatal(err)
	}
	title := "WikiFlow replayed " + randomHex(4)
	v := newVisitor(t, farmAddr(), wiki)
	call := url.Values{"do": {"main-page"}, "title": {title}, "text": {"first text"}, "nonce": {randomHex(8)}}
	now := time.Now().Unix()
	if code := postWrite(t, v, call, wiki, "", secret, now); code != "" {
		t.Fatalf("the first call: %s", code)
	}
	if _, err := deps.API.WriteMainPage(ctx, wiki, title, "a person's text", "edited"); err != nil {
		t.Fatal(err)
	}
	wantWriteError(t, "the same call again", "main-page", postWrite(t, v, call, wiki, "", secret, now), "wikiflow-replayed")
	revs := revisions(t, wiki, title)
	if len(revs) != 2 || revs[0].Comment != "edited" {
		t.Fatalf("revisions of %q: %+v, want the first call's and the edit after it, nothing more", title, revs)
	}
}

// postWrite POSTs action=wikiflowwrite as v, for the wiki named (the body's
// wiki), with the csrf token when given and signed with secret at ts when
// a secret is given; it returns the API error's code, "" for none.
func postWrite(t *testing.T, v *visitor, call url.Values, signedFor, token string, secret []byte, ts int64) string {
	t.Helper()
	form := url.Values{"action": {"wikiflowwrite"}, "format": {"json"}, "wiki": {signedFor}}
	for k, vals := range call {
		form[k] = vals
	}
	if form.Get("nonce") == "" {
		form.Set("nonce", randomHex(8))
	}
	if token != "" {
		form.Set("token", token)
	}
	body := form.Encode()
	req, err := http.NewRequest(http.MethodPost, v.base+"/api.php", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != nil {
		req.Header.Set(signing.HeaderTimestamp, strconv.FormatInt(ts, 10))
		req.Header.Set(signing.HeaderSignature, signing.Sign(secret, ts, http.MethodPost, req.URL.RequestURI(), []byte(body)))
	}
	resp, err := v.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		t.Fatalf("wikiflowwrite answered HTTP %d with something that is not JSON: %v", resp.StatusCode, err)
	}
	return answer.Error.Code
}

func wantWriteError(t *testing.T, who, op, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s called %s: got %q, want %s", who, op, got, want)
	}
}

// The worker's writes, each made twice: the second finds the
// first's work and adds nothing (no second entry, group change or revision).
func TestWikiFlowWriteTwiceChangesNothing(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	const wiki = "testwiki"

	// A log entry: one entry, published once, under the canonical name.
	user := newUser(t, "Logger")
	page := "Special:Processes/change-setting:" + uniqueDB("twice")
	e := mediawiki.LogWrite{Type: "managewiki", Action: "settings", Performer: user, Target: page,
		Comment: "twice", Key: page + "/settings", Params: map[string]any{"4::wiki": wiki, "5::changes": "wgSitename"}}
	first, err := deps.API.WriteLogEntry(ctx, wiki, e)
	if err != nil || !first.Created || !first.Published || first.Wiki != wiki || first.Performer != user {
		t.Fatalf("first write: %+v, %v", first, err)
	}
	second, err := deps.API.WriteLogEntry(ctx, wiki, e)
	if err != nil || second.Created || !second.Published || second.LogID != first.LogID {
		t.Fatalf("second write: %+v, %v (first %+v)", second, err, first)
	}
	wantLog(t, wiki, page, wantEntry{"managewiki", "settings", user, "twice", map[string]string{"changes": "wgSitename"}})

	// Groups: added once; as with createAndPromote, no rights log entry.
	heldByCreation(t, wiki)
	target := newUser(t, "Target")
	groups := []string{"bureaucrat", "sysop", "interface-admin"}
	g1, err := deps.API.GrantGroups(ctx, wiki, target, groups)
	if err != nil || g1.User != target || len(g1.Added) != 3 {
		t.Fatalf("first grant: %+v, %v", g1, err)
	}
	g2, err := deps.API.GrantGroups(ctx, wiki, target, groups)
	if err != nil || len(g2.Added) != 0 || !slices.Equal(g2.Groups, g1.Groups) {
		t.Fatalf("second grant: %+v, %v (first %+v)", g2, err, g1)
	}
	u := requesterAdmin(t, wiki, target, "test wiki")
	for _, g := range u.Groups {
		if !slices.Contains(g1.Groups, g) && !slices.Contains([]string{"*", "user", "autoconfirmed"}, g) {
			t.Errorf("%s is also in %s", target, g)
		}
	}
	if n := len(logEvents(t, wiki, "User:"+target)); n != 0 {
		t.Errorf("%d log entries on User:%s, want none as createAndPromote writes", n, target)
	}
	if _, err := deps.API.GrantGroups(ctx, wiki, "Nobody"+randomHex(6), groups); !apiCode(err, "nosuchuser") {
		t.Errorf("a user without an account: %v, want nosuchuser", err)
	}

	// A page: one revision by the maintenance script user, as edit.php writes it.
	title := "WikiFlow twice " + randomHex(4)
	p1, err := deps.API.WriteMainPage(ctx, wiki, title, "Hello from {{SITENAME}}.\n", createwiki.MainPageSummary)
	if err != nil || !p1.Created || p1.NoChange || p1.RevID <= 0 {
		t.Fatalf("first edit: %+v, %v", p1, err)
	}
	p2, err := deps.API.WriteMainPage(ctx, wiki, title, "Hello from {{SITENAME}}.\n", createwiki.MainPageSummary)
	if err != nil || p2.Created || !p2.NoChange || p2.RevID != p1.RevID || p2.PageID != p1.PageID {
		t.Fatalf("second edit: %+v, %v (first %+v)", p2, err, p1)
	}
	revs := revisions(t, wiki, title)
	if len(revs) != 1 || revs[0].RevID != p1.RevID || revs[0].User != "Maintenance script" || revs[0].Comment != createwiki.MainPageSummary {
		t.Fatalf("revisions of %q: %+v, want one by Maintenance script with the summary", title, revs)
	}
}

// A closed wiki is read-only: the module writes nothing there and says
// readonly (transient: the step waits for the wiki to open again).
func TestWikiFlowWriteOnAClosedWiki(t *testing.T) {
	db, _ := liveWiki(t, "shut")
	ctx := testContext(t, time.Minute)
	heldByCreation(t, db)
	if err := deps.Central.CloseWiki(ctx, db, "closing test", time.Now()); err != nil {
		t.Fatal(err)
	}
	title := "WikiFlow closed " + randomHex(4)
	_, err := deps.API.WriteMainPage(ctx, db, title, "text", createwiki.MainPageSummary)
	if !apiCode(err, "readonly") || mediawiki.Classify(err) != mediawiki.Transient {
		t.Fatalf("on a closed wiki: %v (%s), want a transient readonly", err, mediawiki.Classify(err))
	}
	if exists, err := deps.API.PageExists(ctx, db, title); err != nil || exists {
		t.Errorf("page %q exists=%v (%v)", title, exists, err)
	}
}

// heldByCreation makes wiki held by its creation (the one-owner claim of
// create-wiki:<wiki>), as while WikiFlow creates it: the module writes
// groups and main pages only then. The returned release ends the hold;
// the test's end does too.
func heldByCreation(t *testing.T, wiki string) (release func()) {
	t.Helper()
	ctx := testContext(t, time.Minute)
	// The wiki's creation gives its claim back as it closes.
	waitClosed(t, ctx, createwiki.CreateWikiID(wiki))
	o := farmdb.Owner{DBName: wiki, Process: createwiki.CreateWikiID(wiki), Run: "test-" + randomHex(4), Kind: createwiki.KindCreateWiki}
	if _, err := deps.Central.TakeOwnership(ctx, o, func(farmdb.Owner) (bool, error) { return true, nil }); err != nil {
		t.Fatal(err)
	}
	release = func() { _ = deps.Central.ReleaseOwnership(context.Background(), wiki, o.Process, o.Run) }
	t.Cleanup(release)
	return release
}

func apiCode(err error, code string) bool {
	var ae *mediawiki.APIError
	return errors.As(err, &ae) && ae.Code == code
}

// Groups and a main page are written only while a creation holds the
// wiki: on a wiki that exists and is not being created, or that a deletion
// holds, the service account's call is refused and nothing changes.
func TestWikiFlowWriteOnlyForACreation(t *testing.T) {
	db, _ := liveWiki(t, "held")
	ctx := testContext(t, time.Minute)
	target := newUser(t, "Target")
	title := "WikiFlow not creating " + randomHex(4)
	refused := func(when string) {
		t.Helper()
		if _, err := deps.API.GrantGroups(ctx, db, target, []string{"bureaucrat", "sysop"}); !apiCode(err, "wikiflow-notcreating") || mediawiki.Classify(err) != mediawiki.Permanent {
			t.Fatalf("grant-groups %s: %v, want a permanent wikiflow-notcreating", when, err)
		}
		if _, err := deps.API.WriteMainPage(ctx, db, title, "not written", createwiki.MainPageSummary); !apiCode(err, "wikiflow-notcreating") {
			t.Fatalf("main-page %s: %v, want wikiflow-notcreating", when, err)
		}
		if u, err := deps.API.User(ctx, db, target); err != nil || u.InGroup("sysop") || u.InGroup("bureaucrat") {
			t.Fatalf("%s is in %v on %s after the refusal (%v)", target, u.Groups, db, err)
		}
		if exists, err := deps.API.PageExists(ctx, db, title); err != nil || exists {
			t.Fatalf("page %q exists=%v after the refusal (%v)", title, exists, err)
		}
	}
	refused("on a created wiki nobody holds")
	o := farmdb.Owner{DBName: db, Process: "delete-wiki:" + db, Run: "test-" + randomHex(4), Kind: "delete-wiki"}
	if _, err := deps.Central.TakeOwnership(ctx, o, func(farmdb.Owner) (bool, error) { return true, nil }); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = deps.Central.ReleaseOwnership(context.Background(), db, o.Process, o.Run) }()
	refused("on a wiki a deletion holds")
}
