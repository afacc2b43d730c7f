//go:build integration

package integration

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/mediawiki"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/service"
)

// anonymous is a client without the service account, as a visitor calls.
func anonymous() *mediawiki.Client {
	return mediawiki.NewClient(deps.Config.MediaWiki.URLPattern, deps.Config.MediaWiki.DialAddress)
}

// serviceClient is a new client logged in as the service account, with no
// session yet on any wiki.
func serviceClient() *mediawiki.Client {
	mw := deps.Config.MediaWiki
	return mediawiki.NewClient(mw.URLPattern, mw.DialAddress, mediawiki.WithServiceAccount(mw.ServiceUser, mw.ServicePassword))
}

// wantReadDenied checks that a client may not read the wiki at all.
func wantReadDenied(t *testing.T, c *mediawiki.Client, db, who string) {
	t.Helper()
	_, err := c.SiteInfo(testContext(t, 30*time.Second), db)
	var apiErr *mediawiki.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "readapidenied" {
		t.Fatalf("%s reading the private wiki %s: want readapidenied, got %v", who, db, err)
	}
}

// privateWiki creates a private wiki through the worker and returns its name
// and its requester (its first bureaucrat).
func privateWiki(t *testing.T, prefix string) (db, owner string) {
	t.Helper()
	return createdWiki(t, prefix, "Private ", true)
}

// sessionRights is what the client's own session may do on a wiki.
func sessionRights(t *testing.T, c *mediawiki.Client, db string) (name string, groups, rights []string) {
	t.Helper()
	var out struct {
		Query struct {
			UserInfo struct {
				Name   string   `json:"name"`
				Groups []string `json:"groups"`
				Rights []string `json:"rights"`
			} `json:"userinfo"`
		} `json:"query"`
	}
	err := c.Get(testContext(t, 30*time.Second), db, url.Values{
		"action": {"query"}, "meta": {"userinfo"}, "uiprop": {"groups|rights"},
	}, &out)
	if err != nil {
		t.Fatal(err)
	}
	u := out.Query.UserInfo
	return u.Name, u.Groups, u.Rights
}

// A private wiki is created completely: every step succeeds, the requester's
// groups are checked over the private wiki's API (which answers the worker's
// service account), and the wiki stays closed to visitors and to other farm
// accounts.
func TestPrivateWikiCreation(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	requester := newUser(t, "Requester")
	db := uniqueDB("priv")
	id, err := cli.CreateWiki(ctx, client.CreateWikiRequest{
		Wiki:      process.WikiSpec{DB: db, Sitename: "Private Wiki " + db, Language: "en", Private: true},
		Requester: requester,
	})
	if err != nil {
		t.Fatal(err)
	}
	st := waitFor(t, cli, id, 2*time.Minute, process.StateCompleted)
	for _, s := range st.Steps {
		if s.State != process.StepSucceeded {
			t.Errorf("step %s is %s: %s", s.Name, s.State, s.Error)
		}
	}
	if w, err := deps.Central.Wiki(ctx, db); err != nil || !w.Private {
		t.Fatalf("cw_wikis: want a private wiki, got %+v (%v)", w, err)
	}

	u := requesterAdmin(t, db, requester, "private wiki")
	if !u.Has("read") || !u.Has("managewiki-core") {
		t.Errorf("the private wiki's bureaucrat lacks read or managewiki-core: %v", u.Rights)
	}
	si, err := deps.API.SiteInfo(ctx, db)
	if err != nil || si.SiteName != "Private Wiki "+db {
		t.Fatalf("siteinfo of the private wiki as the service account: %+v (%v)", si, err)
	}
	if exists, err := deps.API.PageExists(ctx, db, si.MainPage); err != nil || !exists {
		t.Fatalf("main page %q exists=%v err=%v", si.MainPage, exists, err)
	}

	// It stays private: a visitor and a farm account that is no member are refused.
	wantReadDenied(t, anonymous(), db, "a visitor")
	outsider, password := userWithPassword(t, "Outsider")
	s := deps.API.Session()
	if err := s.Login(ctx, db, outsider, password); err != nil {
		t.Fatal(err)
	}
	wantReadDenied(t, s, db, "a logged-in farm account that is no member")

	// The service account reads and may do nothing else.
	name, groups, rights := sessionRights(t, deps.API, db)
	if name != strings.Split(deps.Config.MediaWiki.ServiceUser, "@")[0] || !slices.Contains(groups, "wikiflow-service") {
		t.Fatalf("service session on %s: %s in %v", db, name, groups)
	}
	if !slices.Equal(rights, []string{"read"}) {
		t.Fatalf("the service account's session on a private wiki holds %v, want only read", rights)
	}
	replayHistory(t, id)
}

// A private wiki's deletion approved by two of its bureaucrats closes it, waits
// out its grace period and removes it, with a verified backup.
func TestPrivateWikiDeletion(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	db, owner := privateWiki(t, "privdel")
	d := askDeletion(t, ctx, db, owner, "Members only.")
	c, id, st := d.client, d.id, d.status
	if st.Result["quorum"] != "2" {
		t.Fatalf("quorum on a private wiki with three bureaucrats: %q", st.Result["quorum"])
	}
	for _, b := range d.bureaucrats {
		if _, err := c.Decide(ctx, id, process.DecisionApprove, b, ""); err != nil {
			t.Fatalf("approval by the private wiki's bureaucrat %s: %v", b, err)
		}
	}
	st, _ = c.Status(ctx, id)
	for _, a := range st.Approvals {
		if !a.Accepted {
			t.Fatalf("an approval by a bureaucrat of the private wiki was refused: %+v", a)
		}
	}
	waitFor(t, c, id, time.Minute, process.StateGracePeriod, process.StateCompleted)
	st = waitFor(t, c, id, 2*time.Minute, process.StateCompleted)
	for _, s := range st.Steps {
		if s.State != process.StepSucceeded {
			t.Errorf("step %s is %s: %s", s.Name, s.State, s.Error)
		}
	}
	if st.Result["backup_path"] == "" {
		t.Fatalf("no backup recorded: %+v", st.Result)
	}
	assertDeleted(t, db, st)
	if unknown, err := wikiUnknown(ctx, db); !unknown {
		t.Fatalf("the deleted private wiki still answers: %v", err)
	}
	replayHistory(t, id)
}

// A restricted setting of a private wiki, approved by one steward, is applied:
// the wiki shows it to its readers and mw_settings has it.
func TestPrivateWikiRestrictedSetting(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	db, owner := privateWiki(t, "privset")
	steward := newUser(t, "Steward", "steward")

	st, err := cli.ChangeSetting(ctx, db, "wgMaxArticleSize", "1234", owner, "long pages")
	if err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, cli, st.ID, time.Minute, process.StateWaitingApproval)
	if _, err := cli.Decide(ctx, st.ID, process.DecisionApprove, steward, ""); err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, cli, st.ID, time.Minute, process.StateCompleted)
	if st.Result["new"] != "1234" {
		t.Fatalf("result: %+v", st.Result)
	}
	values, err := deps.Central.ReadSettings(ctx, db)
	if err != nil || string(values["wgMaxArticleSize"]) != "1234" {
		t.Fatalf("mw_settings of the private wiki: %s (%v)", values, err)
	}
	// siteinfo reports $wgMaxArticleSize (kilobytes) in bytes.
	if si, err := serviceClient().SiteInfo(ctx, db); err != nil || si.MaxArticleSize != 1234*1024 {
		t.Fatalf("maxarticlesize on the private wiki: %d (%v)", si.MaxArticleSize, err)
	}
	wantReadDenied(t, anonymous(), db, "a visitor")
	replayHistory(t, st.ID)
}

// The service account's sessions: many concurrent first calls share one
// login, a lost session is renewed, a closed (read-only) private wiki still
// lets the account in, and a wrong password is an error naming the key.
func TestPrivateWikiServiceSessions(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	db, _ := privateWiki(t, "privsess")
	sessions := func() map[string]bool {
		server, err := deps.Clusters.Server("c1")
		if err != nil {
			t.Fatal(err)
		}
		rows, err := server.QueryContext(ctx, "SELECT keyname FROM `"+db+"`.objectcache WHERE keyname LIKE ?", db+":MWSession:%")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		keys := map[string]bool{}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				t.Fatal(err)
			}
			keys[k] = true
		}
		return keys
	}

	c := serviceClient()
	before := sessions()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.SiteInfo(ctx, db); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent first calls on a private wiki: %v", err)
	}
	// One login makes a token session and the bot password session.
	var made int
	for k := range sessions() {
		if !before[k] {
			made++
		}
	}
	if made == 0 || made > 2 {
		t.Fatalf("20 concurrent first calls made %d sessions on %s, want one login (at most 2)", made, db)
	}

	// The wiki forgets every session: the next call logs in again by itself.
	server, _ := deps.Clusters.Server("c1")
	if _, err := server.ExecContext(ctx, "DELETE FROM `"+db+"`.objectcache WHERE keyname LIKE ?", db+":MWSession:%"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SiteInfo(ctx, db); err != nil {
		t.Fatalf("after the wiki lost the session: %v", err)
	}
	if len(sessions()) == 0 {
		t.Fatal("no new session after the renewal")
	}
	if _, _, rights := sessionRights(t, c, db); !slices.Equal(rights, []string{"read"}) {
		t.Fatalf("renewed session holds %v, want only read", rights)
	}

	// A closed wiki is read-only; the worker must still read it (closing checks that).
	if err := deps.Central.CloseWiki(ctx, db, "closing test", time.Now()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := deps.Central.Reopen(context.Background(), db); err != nil {
			t.Errorf("reopening %s: %v", db, err)
		}
	}()
	si, err := serviceClient().SiteInfo(ctx, db)
	if err != nil || !si.ReadOnly {
		t.Fatalf("a new service session on the closed private wiki: %+v (%v)", si, err)
	}

	mw := deps.Config.MediaWiki
	wrong := mediawiki.NewClient(mw.URLPattern, mw.DialAddress, mediawiki.WithServiceAccount(mw.ServiceUser, strings.Repeat("0", 32)))
	_, err = wrong.SiteInfo(ctx, db)
	var loginErr *mediawiki.LoginError
	if !errors.As(err, &loginErr) || !strings.Contains(err.Error(), "mediawiki.service_password_file") {
		t.Fatalf("a wrong service password: want a login error naming the key, got %v", err)
	}
}

// A worker without the service account's password refuses to start, naming
// the key, before it connects to anything.
func TestPrivateWikiWorkerNeedsTheServicePassword(t *testing.T) {
	cfg := *deps.Config
	cfg.MediaWiki.ServicePassword = ""
	cfg.MediaWiki.ServicePasswordFile = "/nonexistent/service-password"
	d, err := service.Open(testContext(t, 30*time.Second), &cfg, deps.Logger)
	if err == nil {
		d.Close()
		t.Fatal("the worker started without a service password")
	}
	var cfgErr *config.Error
	if !errors.As(err, &cfgErr) || cfgErr.Key != "mediawiki.service_password_file" {
		t.Fatalf("want a configuration error naming mediawiki.service_password_file, got %v", err)
	}
}
