//go:build integration

package integration

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/mediawiki"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/renamewiki"
)

// renameState is what a rename may change of a name: its central rows, its
// database's tables, its upload directory's entries, its owner and claim.
type renameState struct {
	Rows    farmdb.WikiRows
	Tables  []string
	Uploads []string
	Owner   farmdb.Owner
	Claim   farmdb.Claim
}

func stateOf(t *testing.T, db string) renameState {
	t.Helper()
	ctx := testContext(t, time.Minute)
	rows, err := deps.Central.ReadWikiRows(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	server, _ := deps.Clusters.Server("c1")
	tables, err := farmdb.Tables(ctx, server, db)
	if err != nil {
		t.Fatal(err)
	}
	s := renameState{Rows: rows, Tables: tables}
	root := filepath.Join(config.Abs(deps.Config.MediaWiki.UploadRoot), db)
	_ = filepath.WalkDir(root, func(name string, _ os.DirEntry, err error) error {
		if err == nil {
			s.Uploads = append(s.Uploads, strings.TrimPrefix(name, root))
		}
		return nil
	})
	sort.Strings(s.Uploads)
	s.Owner, _, _ = deps.Central.GetOwner(ctx, db)
	s.Claim, _, _ = deps.Central.GetClaim(ctx, db)
	return s
}

// ended waits for the process's run to end: its names are given back by then.
func ended(t *testing.T, id string) {
	t.Helper()
	_ = deps.Temporal.GetWorkflow(testContext(t, time.Minute), id, "").Get(testContext(t, time.Minute), nil)
}

// wantUnchanged checks that the names are as they were.
func wantUnchanged(t *testing.T, what string, before map[string]renameState) {
	t.Helper()
	for db, was := range before {
		if now := stateOf(t, db); !reflect.DeepEqual(now, was) {
			t.Fatalf("%s changed %s: %+v, was %+v", what, db, now, was)
		}
	}
}

// httpStatusOf is the HTTP status the farm answers a wiki's address with.
func httpStatusOf(t *testing.T, db string) int {
	t.Helper()
	resp := farmGet(t, db, "/api.php?action=query&meta=siteinfo&format=json")
	resp.Body.Close()
	return resp.StatusCode
}

// A wiki with pages, files and a changed setting is renamed: refused for
// a protected wiki, a protected name and a taken name, with nothing
// changed; then, on a steward's approval, the new name answers with the
// pages, files and settings, the old one answers 404, and nothing is left
// under the old name.
func TestRenameWikiMovesEverything(t *testing.T) {
	start := time.Now()
	ctx := testContext(t, 6*time.Minute)
	w := newFilledWiki(t, "ren")
	steward := newUser(t, "Steward", "steward")
	plain := newUser(t, "Plain")
	to := uniqueDB("renamed")
	t.Logf("wiki %s with %d files ready after %v", w.db, len(w.files), time.Since(start).Round(time.Millisecond))
	before := map[string]renameState{w.db: stateOf(t, w.db), to: stateOf(t, to), "testwiki": stateOf(t, "testwiki")}
	reg, err := deps.Central.Wiki(ctx, w.db)
	if err != nil {
		t.Fatal(err)
	}

	refusals := []struct {
		name string
		c    *client.Client
		from string
		to   string
		why  string
	}{
		{"a protected wiki", clientWith(func(cfg *config.Config) {
			cfg.Processes.ProtectedWikis = append([]string{w.db}, cfg.Processes.ProtectedWikis...)
		}), w.db, to, "protected"},
		{"the central wiki's name", cli, w.db, deps.Config.MediaWiki.CentralWiki, "protected"},
		{"a taken name", cli, w.db, "testwiki", "taken"},
		{"a name CreateWiki would not give", cli, w.db, "renamed" + randomHex(3), "must end with"},
	}
	for _, r := range refusals {
		st, err := r.c.RenameWiki(ctx, r.from, r.to, w.owner, "refused")
		var refusedErr *client.RefusedError
		if !errors.As(err, &refusedErr) || !strings.Contains(err.Error(), r.why) {
			t.Fatalf("rename to %s (%s): want a refusal saying %q, got %v (%+v)", r.to, r.name, r.why, err, st)
		}
		ended(t, renamewiki.RenameWikiID(r.from))
		if st, err := cli.Status(ctx, renamewiki.RenameWikiID(r.from)); err != nil || st.State != process.StateRefused || len(st.Steps) != 0 {
			t.Fatalf("%s: the process is %s with steps %v (%v), want refused with none", r.name, st.State, st.Steps, err)
		}
		wantUnchanged(t, "the refused rename ("+r.name+")", before)
	}

	st, err := cli.RenameWiki(ctx, w.db, to, w.owner, "a better name")
	if err != nil {
		t.Fatal(err)
	}
	id := st.ID
	if id != renamewiki.RenameWikiID(w.db) {
		t.Fatalf("id %s", id)
	}
	waitFor(t, cli, id, time.Minute, process.StateWaitingApproval)
	wantRefused(t, cli, id, process.DecisionApprove, plain, "managewiki-restricted")
	if owner, ok, _ := deps.Central.GetOwner(ctx, to); !ok || owner.Process != id {
		t.Fatalf("the new name's owner while waiting: %+v %v, want %s", owner, ok, id)
	}
	wantUnchanged(t, "a refused approval", map[string]renameState{"testwiki": before["testwiki"]})
	if _, err := cli.Decide(ctx, id, process.DecisionApprove, steward, "fine"); err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, cli, id, 3*time.Minute, process.StateCompleted)
	ended(t, id)
	t.Logf("renamed after %v: %v", time.Since(start).Round(time.Millisecond), st.Result)

	renamed := w
	renamed.db = to
	renamed.answersAsBefore(t)
	si, err := deps.API.SiteInfo(ctx, to)
	if err != nil || si.SiteName != reg.Sitename || si.DBName != to {
		t.Fatalf("siteinfo of %s: %+v %v, want the sitename %q", to, si, err, reg.Sitename)
	}
	if code := httpStatusOf(t, w.db); code != http.StatusNotFound {
		t.Fatalf("the old name answers %d, want 404", code)
	}
	if _, err := deps.API.SiteInfo(ctx, w.db); !errors.Is(err, mediawiki.ErrUnknownWiki) {
		t.Fatalf("the old name's API: %v, want not served", err)
	}
	after := stateOf(t, to)
	if !reflect.DeepEqual(after.Tables, before[w.db].Tables) || !reflect.DeepEqual(after.Uploads, before[w.db].Uploads) {
		t.Fatalf("the new name has tables %v and uploads %v, want the old name's %v and %v", after.Tables, after.Uploads, before[w.db].Tables, before[w.db].Uploads)
	}
	renamedRows := before[w.db].Rows
	for _, table := range farmdb.WikiTables {
		renamedRows = renamedRows.WithValue(table.Name, table.DBColumn, to)
	}
	if diff := renamedRows.Diff(after.Rows); diff != "" {
		t.Fatalf("the central rows under the new name differ from the old name's: %s", diff)
	}
	if after.Owner != (farmdb.Owner{}) || after.Claim.Process != id {
		t.Fatalf("the new name's owner %+v (want none left) and claim %+v (want this process's)", after.Owner, after.Claim)
	}
	wantNothingOf(t, w.db)
	if _, ok, _ := deps.Central.GetOwner(ctx, w.db); ok {
		t.Fatalf("the old name is still owned")
	}
	wantUnchanged(t, "the rename", map[string]renameState{"testwiki": before["testwiki"]})
	replayHistory(t, id)
}

// A worker killed (SIGKILL) while the tables move leaves them split
// between the two databases; after a restart the rename moves the rest
// and finishes, and the wiki answers under its new name with its page.
func TestRenameWorkerKilledDuringTheTableMoveFinishesAfterRestart(t *testing.T) {
	bin := buildBinary(t, "worker")
	queue := "wikiflow-rename-crash-" + randomHex(3)
	c := queueClient(queue)
	steward := newUser(t, "Steward", "steward")
	server, _ := deps.Clusters.Server("c1")

	for attempt := 1; attempt <= 5; attempt++ {
		ctx := testContext(t, 4*time.Minute)
		db, owner := liveWiki(t, "rcr")
		text := "Text of " + db + " that survives a crash."
		if _, err := deps.Scripts.RunWithInput(ctx, db, text, "edit", "Crash page"); err != nil {
			t.Fatal(err)
		}
		full, err := farmdb.Tables(ctx, server, db)
		if err != nil {
			t.Fatal(err)
		}
		to := uniqueDB("rcrnew")
		worker := startWorkerProcess(t, bin, queue)
		st, err := c.RenameWiki(ctx, db, to, owner, "crash test")
		if err != nil {
			t.Fatal(err)
		}
		id := st.ID
		waitFor(t, c, id, time.Minute, process.StateWaitingApproval)
		if _, err := c.Decide(ctx, id, process.DecisionApprove, steward, ""); err != nil {
			t.Fatal(err)
		}
		// Kill the worker as soon as some tables are in the new database.
		moved := killOnceTablesIn(ctx, worker, server, to, time.Minute)
		if moved == 0 || moved >= len(full) {
			t.Logf("attempt %d: the kill landed outside the table move (%d of %d tables moved); trying again", attempt, moved, len(full))
			startWorkerProcess(t, bin, queue) // let this rename finish before the next try
			waitFor(t, c, id, 2*time.Minute, process.StateCompleted)
			continue
		}
		t.Logf("worker killed with %d of %d tables moved", moved, len(full))
		wantPending(t, ctx, id, renamewiki.NameMoveWikiTables)
		startWorkerProcess(t, bin, queue)
		st = waitFor(t, c, id, 3*time.Minute, process.StateCompleted)
		if s := st.Step(renamewiki.StepMoveTables); s.State != process.StepSucceeded {
			t.Fatalf("table move after the restart: %+v", s)
		}
		if tables, _ := farmdb.Tables(ctx, server, to); !reflect.DeepEqual(tables, full) {
			t.Fatalf("the new database has %d tables, want the %d the wiki had", len(tables), len(full))
		}
		var page struct {
			Parse struct {
				Wikitext string `json:"wikitext"`
			} `json:"parse"`
		}
		if err := deps.API.Get(ctx, to, url.Values{"action": {"parse"}, "page": {"Crash page"}, "prop": {"wikitext"}, "formatversion": {"2"}}, &page); err != nil || page.Parse.Wikitext != text {
			t.Fatalf("the page under the new name: %q %v, want %q", page.Parse.Wikitext, err, text)
		}
		if code := httpStatusOf(t, db); code != http.StatusNotFound {
			t.Fatalf("the old name answers %d, want 404", code)
		}
		wantNothingOf(t, db)
		return
	}
	t.Fatal("could not kill the worker in the middle of the table move in 5 attempts")
}

// Cancelled by its requester while it waits: nothing of either name changes.
func TestRenameWikiCancelledChangesNothing(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	db, owner := liveWiki(t, "rcn")
	to := uniqueDB("rcnnew")
	before := map[string]renameState{db: stateOf(t, db), to: stateOf(t, to)}
	st, err := cli.RenameWiki(ctx, db, to, owner, "changed my mind")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, st.ID, time.Minute, process.StateWaitingApproval)
	if _, err := cli.Decide(ctx, st.ID, process.DecisionCancel, owner, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, st.ID, time.Minute, process.StateCancelled)
	ended(t, st.ID)
	wantUnchanged(t, "the cancelled rename", before)
	if code := httpStatusOf(t, db); code != http.StatusOK {
		t.Fatalf("the wiki answers %d after the cancelled rename, want 200", code)
	}
}
