//go:build integration

package integration

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/mediawiki"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
)

// newUser creates a farm account (on the central wiki, shared by every
// wiki) in the given central groups, as an operator would with mwscript.
func newUser(t testing.TB, prefix string, groups ...string) string {
	t.Helper()
	ctx := testContext(t, time.Minute)
	name := prefix + randomHex(4)
	if _, err := deps.Scripts.Run(ctx, "metawiki", "createAndPromote", name, "pw-"+randomHex(12)); err != nil {
		t.Fatal(err)
	}
	if len(groups) > 0 {
		if _, err := deps.Scripts.Run(ctx, "metawiki", "createAndPromote", "--force", "--custom-groups="+strings.Join(groups, ","), name); err != nil {
			t.Fatal(err)
		}
	}
	return name
}

func uniqueDB(prefix string) string { return prefix + randomHex(3) + "wiki" }

// waitFor polls a process until its state is one of want or terminal.
func waitFor(t *testing.T, c *client.Client, id string, timeout time.Duration, want ...process.State) process.Status {
	t.Helper()
	ctx := testContext(t, timeout)
	for {
		st, err := c.Status(ctx, id)
		if err == nil {
			for _, w := range want {
				if st.State == w {
					if process.Ended(w) {
						waitClosed(t, ctx, id)
					}
					return st
				}
			}
			if process.Ended(st.State) {
				t.Fatalf("%s ended %s, want %v: %+v", id, st.State, want, st.Steps)
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("%s never reached %v (last %+v, %v)", id, want, st, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitClosed waits until the workflow of a process that has ended closes:
// it stays open a moment to store its last events (workflows.Announcer),
// and what a test checks next (the outbox, the owner row, the next process)
// is the end a person sees once it has closed. The client's own wait for a
// closing process is TestStartWaitsForAClosingProcess's.
func waitClosed(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	for {
		desc, err := deps.Temporal.DescribeWorkflowExecution(ctx, id, "")
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) || err == nil && desc.WorkflowExecutionInfo.Status != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
			return // none, or closed
		}
		if ctx.Err() != nil {
			t.Fatalf("%s has ended but its workflow never closed (%v)", id, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// requesterAdmin checks that requester is bureaucrat, sysop and
// interface-admin of db (called wiki in the messages) and returns them as
// the wiki's API shows them.
func requesterAdmin(t *testing.T, db, requester, wiki string) mediawiki.User {
	t.Helper()
	u, err := deps.API.User(testContext(t, time.Minute), db, requester)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"bureaucrat", "sysop", "interface-admin"} {
		if !u.InGroup(g) {
			t.Errorf("requester not in %s on the %s: %v", g, wiki, u.Groups)
		}
	}
	return u
}

// failingCreation is a creation on the failingCreations client, which
// stops in needs-attention, with its requester and a wiki creator.
type failingCreation struct {
	c                          *client.Client
	db, id, requester, creator string
}

func startFailingCreation(t *testing.T, prefix, sitename string) failingCreation {
	t.Helper()
	f := failingCreation{c: failingCreations(), requester: newUser(t, "Requester"), creator: newUser(t, "Creator", "wikicreator"), db: uniqueDB(prefix)}
	var err error
	f.id, err = f.c.CreateWiki(testContext(t, time.Minute), client.CreateWikiRequest{
		Wiki: process.WikiSpec{DB: f.db, Sitename: sitename, Language: "en"}, Requester: f.requester,
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func stepState(st process.Status, name string) process.StepState {
	if s := st.Step(name); s != nil {
		return s.State
	}
	return ""
}

// The whole creation through the worker, checked over the new wiki's own API.
func TestCreateWikiEndToEnd(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	requester := newUser(t, "Requester")
	db := uniqueDB("demo")
	email := strings.ToLower(requester) + "@example.org"
	id, err := cli.CreateWiki(ctx, client.CreateWikiRequest{
		Wiki:      process.WikiSpec{DB: db, Sitename: "Demo Wiki " + db, Language: "de", Category: "test"},
		Requester: requester,
		Email:     email,
	})
	if err != nil {
		t.Fatal(err)
	}
	if id != createwiki.CreateWikiID(db) {
		t.Fatalf("process ID %q", id)
	}
	st := waitFor(t, cli, id, 2*time.Minute, process.StateCompleted)
	for _, s := range st.Steps {
		if s.State != process.StepSucceeded {
			t.Errorf("step %s is %s: %s", s.Name, s.State, s.Error)
		}
	}

	si, err := deps.API.SiteInfo(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if si.SiteName != "Demo Wiki "+db || si.Lang != "de" || si.DBName != db {
		t.Fatalf("siteinfo of the new wiki: %+v", si)
	}
	u := requesterAdmin(t, db, requester, "new wiki")
	if !u.Has("managewiki-core") {
		t.Errorf("the new wiki's bureaucrat lacks managewiki-core: %v", u.Rights)
	}
	if exists, err := deps.API.PageExists(ctx, db, si.MainPage); err != nil || !exists || si.MainPage != "Hauptseite" {
		t.Fatalf("main page %q exists=%v err=%v", si.MainPage, exists, err)
	}
	rows, err := deps.Central.RowCounts(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defaults, _ := deps.Central.RowCounts(ctx, "default")
	for _, table := range []string{"mw_settings", "mw_permissions", "mw_namespaces"} {
		if rows[table] != defaults[table] || rows[table] == 0 {
			t.Errorf("%s: %d rows for the wiki, %d defaults", table, rows[table], defaults[table])
		}
	}
	if fi, err := os.Stat(filepath.Join(config.Abs(deps.Config.MediaWiki.UploadRoot), db)); err != nil || !fi.IsDir() {
		t.Errorf("upload directory: %v", err)
	}
	mails := mailbox.To(email)
	if len(mails) != 1 || !strings.Contains(mails[0].Data, "Demo Wiki") || !strings.Contains(mails[0].Data, db+".localhost") {
		t.Errorf("want one email to %s naming the wiki, got %+v", email, mails)
	}
	if len(webhook.Containing(db)) != 1 {
		t.Errorf("want one staff webhook message naming %s", db)
	}
	assertSchemaLikeInstaller(t, db)
	replayHistory(t, id)

	// The same request again is refused, and changes nothing.
	_, err = cli.CreateWiki(ctx, client.CreateWikiRequest{
		Wiki: process.WikiSpec{DB: db, Sitename: "Again", Language: "en"}, Requester: requester,
	})
	var refusedErr *client.RefusedError
	if !errors.As(err, &refusedErr) || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second create: want a refusal saying the wiki exists, got %v", err)
	}
	if si2, _ := deps.API.SiteInfo(ctx, db); si2.SiteName != si.SiteName {
		t.Fatalf("second create changed the wiki: %q", si2.SiteName)
	}
}

// assertSchemaLikeInstaller compares a created wiki's database with testwiki,
// which the stack made with MediaWiki's own install.php: the same tables,
// the same interwiki rows and update keys, and a site_stats row.
func assertSchemaLikeInstaller(t *testing.T, db string) {
	t.Helper()
	ctx := testContext(t, time.Minute)
	server, err := deps.Clusters.Server("c1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := farmdb.Tables(ctx, server, db)
	if err != nil {
		t.Fatal(err)
	}
	want, err := farmdb.Tables(ctx, server, "testwiki")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("tables differ from the installer's:\n got %v\nwant %v", got, want)
	}
	for _, q := range []string{
		"SELECT GROUP_CONCAT(iw_prefix, iw_url, iw_local ORDER BY iw_prefix) FROM %s.interwiki",
		"SELECT GROUP_CONCAT(ul_key ORDER BY ul_key) FROM %s.updatelog",
		"SELECT COUNT(*) FROM %s.site_stats WHERE ss_row_id = 1",
	} {
		var a, b string
		if err := server.QueryRowContext(ctx, strings.Replace(q, "%s", "`"+db+"`", 1)).Scan(&a); err != nil {
			t.Fatal(err)
		}
		if err := server.QueryRowContext(ctx, strings.Replace(q, "%s", "testwiki", 1)).Scan(&b); err != nil {
			t.Fatal(err)
		}
		if a != b {
			t.Errorf("%s: differs from the installer's wiki (%d vs %d bytes)", q, len(a), len(b))
		}
	}
}

// Invalid names are refused before anything exists.
func TestCreateWikiRefusesInvalidNames(t *testing.T) {
	ctx := testContext(t, time.Minute)
	requester := newUser(t, "Requester")
	for _, db := range []string{"Bad-Name", "x;drop", strings.Repeat("a", 66) + "wiki", "nosuffix"} {
		_, err := cli.CreateWiki(ctx, client.CreateWikiRequest{
			Wiki: process.WikiSpec{DB: db, Sitename: "X", Language: "en"}, Requester: requester,
		})
		var refusedErr *client.RefusedError
		if !errors.As(err, &refusedErr) || !strings.Contains(err.Error(), "invalid wiki request") {
			t.Errorf("%q: want a refusal, got %v", db, err)
		}
		if _, err := deps.Temporal.DescribeWorkflowExecution(ctx, createwiki.CreateWikiID(db), ""); err == nil {
			t.Errorf("%q: a workflow was started", db)
		}
		if cluster, _ := deps.Clusters.FindDatabase(ctx, strings.ToLower(db)); cluster != "" {
			t.Errorf("%q: a database exists", db)
		}
	}
	// A language MediaWiki does not know passes the client's shape check
	// but is refused by the workflow's validation, which creates nothing.
	db := uniqueDB("lang")
	_, err := cli.CreateWiki(ctx, client.CreateWikiRequest{
		Wiki: process.WikiSpec{DB: db, Sitename: "X", Language: "xx-nope"}, Requester: requester,
	})
	if err == nil || !strings.Contains(err.Error(), "does not know the language") {
		t.Fatalf("unknown language: %v", err)
	}
	// The refusal ends the workflow completed (not in the Web UI's Failed
	// list), in the state refused, before any step.
	st, _ := cli.Status(ctx, createwiki.CreateWikiID(db))
	if st.State != process.StateRefused || len(st.Steps) != 0 || !strings.Contains(st.Result[process.ResultError], "does not know the language") {
		t.Fatalf("status after a refused validation: %+v", st)
	}
	if desc, err := deps.Temporal.DescribeWorkflowExecution(ctx, createwiki.CreateWikiID(db), ""); err != nil ||
		desc.WorkflowExecutionInfo.Status != enums.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Fatalf("the refused creation's workflow: %v %v", desc.GetWorkflowExecutionInfo().GetStatus(), err)
	}
	if databaseExists(ctx, db) {
		t.Fatal("a database was created for a refused request")
	}
	if registered, err := wikiRegistered(ctx, db); registered {
		t.Fatalf("a row was registered for a refused request: %v", err)
	}
}

// A worker whose MediaWiki API is down for longer than the retry budget:
// the critical path still completes, the optional steps that need the API
// fail once their budget is spent (a step's budget is never shorter than
// one attempt's timeout, two minutes here), notify is blocked; once the API
// is back a wiki creator's retry finishes them, while a plain user's retry
// is refused and recorded.
func TestCreateWikiWithTheAPIDown(t *testing.T) {
	ctx := testContext(t, 5*time.Minute)
	proxy := startSwitchProxy(t, deps.Config.MediaWiki.DialAddress)
	queue := "wikiflow-apidown-" + randomHex(3)
	d := *deps
	mw := deps.Config.MediaWiki
	secret, err := deps.Config.HookSecret()
	if err != nil {
		t.Fatal(err)
	}
	d.API = mediawiki.NewClient(mw.URLPattern, proxy.Addr(), mediawiki.WithServiceAccount(mw.ServiceUser, mw.ServicePassword),
		mediawiki.WithWriteSecret(secret))
	w, err := d.NewWorker(ctx, queue)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	c := clientWith(func(cfg *config.Config) {
		cfg.Temporal.TaskQueue = queue
		cfg.Processes.TransientRetryBudget = 10 * time.Second
	})

	requester := newUser(t, "Requester")
	creator := newUser(t, "Creator", "wikicreator")
	plain := newUser(t, "Plain")
	db := uniqueDB("down")
	id, err := c.CreateWiki(ctx, client.CreateWikiRequest{
		Wiki: process.WikiSpec{DB: db, Sitename: "Down Wiki", Language: "en"}, Requester: requester,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Down once the request is validated (the validation asks the API who
	// the requester is, and would wait the outage out).
	proxy.on.Store(false)
	st := waitFor(t, c, id, 4*time.Minute, process.StateNeedsAttention)
	for step, want := range map[string]process.StepState{
		createwiki.StepCreateDatabase: process.StepSucceeded,
		createwiki.StepSchema:         process.StepSucceeded,
		createwiki.StepRegister:       process.StepSucceeded,
		createwiki.StepStorage:        process.StepSucceeded,
		createwiki.StepRights:         process.StepFailed,
		createwiki.StepMainPage:       process.StepFailed,
		createwiki.StepNotify:         process.StepBlocked,
	} {
		if got := stepState(st, step); got != want {
			t.Errorf("API down: step %s is %s, want %s (%s)", step, got, want, st.Step(step).Error)
		}
	}
	if s := st.Step(createwiki.StepRights); s.Attempts < 2 {
		t.Errorf("rights was not retried automatically: %d attempts", s.Attempts)
	}
	// The wiki itself works: the critical path is done.
	if _, err := deps.API.SiteInfo(ctx, db); err != nil {
		t.Fatalf("the wiki does not answer after its critical path: %v", err)
	}

	proxy.on.Store(true)
	if _, err := c.Retry(ctx, id, createwiki.StepRights, plain); err == nil {
		t.Fatal("a user without createwiki retried a step")
	}
	st, _ = c.Status(ctx, id)
	last := st.Actions[len(st.Actions)-1]
	if last.User != plain || last.Accepted || !strings.Contains(last.Reason, "createwiki") {
		t.Fatalf("the refused retry is not recorded with its reason: %+v", st.Actions)
	}
	if stepState(st, createwiki.StepRights) != process.StepFailed {
		t.Fatal("a refused retry moved the process")
	}
	for _, step := range []string{createwiki.StepRights, createwiki.StepMainPage} {
		if _, err := c.Retry(ctx, id, step, creator); err != nil {
			t.Fatalf("retry %s by a wiki creator: %v", step, err)
		}
	}
	st = waitFor(t, c, id, time.Minute, process.StateCompleted)
	if stepState(st, createwiki.StepNotify) != process.StepSucceeded {
		t.Fatalf("notify after the retries: %+v", st.Step(createwiki.StepNotify))
	}
	if u, _ := deps.API.User(ctx, db, requester); !u.InGroup("bureaucrat") {
		t.Fatalf("requester not bureaucrat after the retry: %+v", u)
	}
	replayHistory(t, id)
}

// A farm's own critical step fails; a wiki creator aborts, and the process
// undoes exactly what it did: registration, storage, database.
func TestAbortUndoesWhatTheProcessDid(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	f := startFailingCreation(t, "abort", "Abort Wiki")
	c, requester, creator, db, id := f.c, f.requester, f.creator, f.db, f.id
	st := waitFor(t, c, id, time.Minute, process.StateNeedsAttention)
	if s := st.Step("extension-tables"); s == nil || s.State != process.StepFailed || !strings.Contains(s.Error, "nonexistent") {
		t.Fatalf("the farm's step: %+v", s)
	}
	if _, err := deps.Central.Wiki(ctx, db); err != nil {
		t.Fatalf("registered before the failing step: %v", err)
	}
	// Wait for the optional steps to settle so storage has been created.
	waitSettled(t, c, id)
	st, err := c.Abort(ctx, id, creator, "test")
	if err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, c, id, time.Minute, process.StateAborted)
	replayHistory(t, id)
	if databaseExists(ctx, db) {
		t.Error("the database was not dropped")
	}
	wantNoCentralRows(t, ctx, db)
	if _, err := os.Stat(filepath.Join(config.Abs(deps.Config.MediaWiki.UploadRoot), db)); !os.IsNotExist(err) {
		t.Errorf("upload directory left behind: %v", err)
	}
	if _, ok, _ := deps.Central.GetClaim(ctx, db); ok {
		t.Error("the claim on the name was not released")
	}
	// The name is free again: a new creation may start.
	id2, err := cli.CreateWiki(ctx, client.CreateWikiRequest{
		Wiki: process.WikiSpec{DB: db, Sitename: "Abort Wiki", Language: "en"}, Requester: requester,
	})
	if err != nil || id2 != id {
		t.Fatalf("re-creating after an abort: %v", err)
	}
	waitFor(t, cli, id, time.Minute, process.StateCompleted)
}

// waitSettled waits until no step is running.
func waitSettled(t *testing.T, c *client.Client, id string) {
	t.Helper()
	ctx := testContext(t, time.Minute)
	for ctx.Err() == nil {
		st, err := c.Status(ctx, id)
		running := err != nil
		for _, s := range st.Steps {
			running = running || s.State == process.StepRunning
		}
		if !running {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("steps never settled")
}

// A database that exists and is not this process's is refused, never used.
func TestCreateDatabaseRefusesAForeignDatabase(t *testing.T) {
	ctx := testContext(t, time.Minute)
	db := uniqueDB("foreign")
	defer createDatabase(t, ctx, db)()
	server, _ := deps.Clusters.Server("c1")
	requester := newUser(t, "Requester")
	_, err := cli.CreateWiki(ctx, client.CreateWikiRequest{
		Wiki: process.WikiSpec{DB: db, Sitename: "X", Language: "en"}, Requester: requester,
	})
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("want a refusal for an existing database, got %v", err)
	}
	tables, _ := farmdb.Tables(ctx, server, db)
	if len(tables) != 0 {
		t.Fatalf("the foreign database was touched: %v", tables)
	}
}

// failingCreations is a client whose creations stop in needs-attention
// after registration: a critical extra step sources a file that does not exist.
func failingCreations() *client.Client {
	cfg := *deps.Config
	cfg.Processes.CreateWikiExtraSteps = []config.ExtraStep{{
		Name: "extension-tables", Activity: "SourceSQLFile", Requires: []string{createwiki.StepRegister},
		Critical: true, Params: map[string]string{"file": "/nonexistent/extension.sql"},
	}}
	return &client.Client{Temporal: deps.Temporal, Config: &cfg}
}
