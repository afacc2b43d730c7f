//go:build integration

package integration

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/mediawiki"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
)

// action=wikiflowwrite, the WikiFlow extension's module behind the worker's
// log entries, the requester's groups and the main page: it answers the
// worker's service account only, each of its writes made twice changes
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

// A caller other than the service account is refused whatever it holds
// (a plain account, a bureaucrat of the wiki, a logged-out reader with the
// anonymous token), and nothing is written: no log entry, no group, no page.
func TestWikiFlowWriteRefusesOtherCallers(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	const wiki = "testwiki"
	password := "pw-" + randomHex(12)
	plain, crat := "Plain"+randomHex(4), "Crat"+randomHex(4)
	for _, name := range []string{plain, crat} {
		if _, err := deps.Scripts.Run(ctx, "metawiki", "createAndPromote", name, password); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := deps.Scripts.Run(ctx, wiki, "createAndPromote", "--force", "--bureaucrat", "--sysop", crat); err != nil {
		t.Fatal(err)
	}
	target := newUser(t, "Target")
	page := "Special:Processes/request-wiki:" + uniqueDB("refused")
	title := "WikiFlow refused " + randomHex(4)

	callers := map[string]*mediawiki.Client{"logged out": deps.API.Session()}
	for _, name := range []string{plain, crat} {
		s := deps.API.Session()
		if err := s.Login(ctx, wiki, name, password); err != nil {
			t.Fatalf("login as %s: %v", name, err)
		}
		callers[name] = s
	}
	for who, c := range callers {
		_, err := c.WriteLogEntry(ctx, wiki, mediawiki.LogWrite{Type: "managewiki", Action: "settings",
			Performer: target, Target: page, Key: page + "/" + who, Params: map[string]any{"4::wiki": wiki}})
		wantServiceOnly(t, who, "do=log", err)
		_, err = c.GrantGroups(ctx, wiki, target, []string{"bureaucrat", "sysop", "interface-admin"})
		wantServiceOnly(t, who, "do=grant-groups", err)
		_, err = c.WriteMainPage(ctx, wiki, title, "not written", createwiki.MainPageSummary)
		wantServiceOnly(t, who, "do=main-page", err)
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

func wantServiceOnly(t *testing.T, who, op string, err error) {
	t.Helper()
	var ae *mediawiki.APIError
	if !errors.As(err, &ae) || ae.Code != "permissiondenied" {
		t.Errorf("%s called %s: got %v, want permissiondenied", who, op, err)
	}
}

// The service account's writes, each made twice: the second finds the
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

// A wiki that lost the worker's session (and so its csrf token) takes the
// next write after a new login and a new token. A closed wiki is read-only:
// the module writes nothing there and says readonly (transient: the step
// waits for the wiki to open again).
func TestWikiFlowWriteLostSessionAndClosedWiki(t *testing.T) {
	db, owner := liveWiki(t, "shut") // its creation logged the worker in and fetched a token
	ctx := testContext(t, time.Minute)
	server, err := deps.Clusters.Server("c1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.ExecContext(ctx, "DELETE FROM `"+db+"`.objectcache WHERE keyname LIKE ?", db+":MWSession:%"); err != nil {
		t.Fatal(err)
	}
	heldByCreation(t, db)
	if _, err := deps.API.GrantGroups(ctx, db, owner, []string{"sysop"}); err != nil {
		t.Fatalf("a write after the wiki lost the session: %v", err)
	}

	if err := deps.Central.CloseWiki(ctx, db, "closing test", time.Now()); err != nil {
		t.Fatal(err)
	}
	title := "WikiFlow closed " + randomHex(4)
	_, err = deps.API.WriteMainPage(ctx, db, title, "text", createwiki.MainPageSummary)
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
