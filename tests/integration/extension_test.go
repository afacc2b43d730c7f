//go:build integration

package integration

import (
	"database/sql"
	"errors"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/extension"
)

const abuseFilterSQL = "extensions/AbuseFilter/db_patches/mysql/tables-generated.sql"

var abuseFilterTables = []string{"abuse_filter", "abuse_filter_action", "abuse_filter_history", "abuse_filter_log"}

// tableDefinitions are SHOW CREATE TABLE of tables on db, without the
// AUTO_INCREMENT counter.
func tableDefinitions(t *testing.T, db string, tables []string) map[string]string {
	t.Helper()
	server, err := deps.Clusters.Server("c1")
	if err != nil {
		t.Fatal(err)
	}
	counter := regexp.MustCompile(` AUTO_INCREMENT=\d+`)
	out := map[string]string{}
	for _, table := range tables {
		var name, def string
		if err := server.QueryRowContext(testContext(t, 10*time.Second), "SHOW CREATE TABLE `"+db+"`.`"+table+"`").Scan(&name, &def); err != nil {
			t.Fatalf("%s.%s: %v", db, table, err)
		}
		out[table] = counter.ReplaceAllString(def, "")
	}
	return out
}

// wantTablesAsMediaWikiMakesThem compares the AbuseFilter tables of db with
// those MediaWiki's own sql.php makes from the same file on another new wiki.
func wantTablesAsMediaWikiMakesThem(t *testing.T, db string) {
	t.Helper()
	ref, _ := liveWiki(t, "extref")
	file := filepath.Join(config.Abs(deps.Config.MediaWiki.InstallPath), abuseFilterSQL)
	if _, err := deps.Scripts.Run(testContext(t, time.Minute), ref, "sql", file); err != nil {
		t.Fatal(err)
	}
	got, want := tableDefinitions(t, db, abuseFilterTables), tableDefinitions(t, ref, abuseFilterTables)
	for _, table := range abuseFilterTables {
		if got[table] != want[table] {
			t.Errorf("%s differs from what MediaWiki's sql.php makes:\n got %s\nwant %s", table, got[table], want[table])
		}
	}
}

// specialPage fetches a special page of db anonymously: its status code.
func specialPage(t *testing.T, db, page string) int {
	t.Helper()
	code, _ := newVisitor(t, farmAddr(), db).page("Special:" + page)
	return code
}

func enabledOn(t *testing.T, db string) []string {
	t.Helper()
	list, err := deps.Central.EnabledExtensions(testContext(t, 10*time.Second), db)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// groupRights reads the group's row of db in mw_permissions.
func groupRights(t *testing.T, db, group string) string {
	t.Helper()
	var perms string
	if err := deps.Central.DB.QueryRowContext(testContext(t, 10*time.Second),
		`SELECT perm_permissions FROM mw_permissions WHERE perm_dbname = ? AND perm_group = ?`, db, group).Scan(&perms); err != nil {
		t.Fatal(err)
	}
	return perms
}

// AbuseFilter enabled through a process works on the wiki: its tables are
// exactly what its own SQL makes, sysops get its rights, Special:AbuseFilter
// answers. Refusals (an unknown extension, a user without the right, the
// same extension twice) change nothing; disabling keeps the data.
func TestEnableAbuseFilterOnANewWiki(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	db, owner := liveWiki(t, "ext")
	if code := specialPage(t, db, "AbuseFilter"); code != http.StatusNotFound {
		t.Fatalf("Special:AbuseFilter before: HTTP %d, want 404 (no such special page)", code)
	}
	var refused *client.RefusedError
	if _, err := cli.EnableExtension(ctx, db, "NoSuchExtension", owner, ""); !errors.As(err, &refused) {
		t.Fatalf("unknown extension: %v, want refused", err)
	}
	plain := newUser(t, "Plain")
	if _, err := cli.EnableExtension(ctx, db, "AbuseFilter", plain, ""); !errors.As(err, &refused) || !strings.Contains(err.Error(), "managewiki-extensions") {
		t.Fatalf("a plain user: %v, want refused", err)
	}
	if len(enabledOn(t, db)) != 0 || !strings.Contains(groupRights(t, db, "sysop"), "delete") || strings.Contains(groupRights(t, db, "sysop"), "abusefilter") {
		t.Fatal("a refused request changed the wiki")
	}

	st, err := cli.EnableExtension(ctx, db, "AbuseFilter", owner, "spam fighting")
	if err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, cli, st.ID, 2*time.Minute, process.StateCompleted)
	if got := enabledOn(t, db); !slices.Equal(got, []string{"AbuseFilter"}) {
		t.Fatalf("s_extensions: %v", got)
	}
	if code := specialPage(t, db, "AbuseFilter"); code != http.StatusOK {
		t.Fatalf("Special:AbuseFilter after: HTTP %d", code)
	}
	if perms := groupRights(t, db, "sysop"); strings.Count(perms, `"abusefilter-modify"`) != 1 {
		t.Errorf("sysop rights %s, want abusefilter-modify once", perms)
	}
	wantTablesAsMediaWikiMakesThem(t, db)
	if _, err := cli.EnableExtension(ctx, db, "AbuseFilter", owner, ""); err == nil || !strings.Contains(err.Error(), "already enabled") {
		t.Errorf("enabling twice: %v, want refused", err)
	}
	replayHistory(t, st.ID)

	server, _ := deps.Clusters.Server("c1")
	if _, err := server.ExecContext(ctx, "INSERT INTO `"+db+"`.abuse_filter_action (afa_filter, afa_consequence, afa_parameters) VALUES (1, 'warn', '')"); err != nil {
		t.Fatal(err)
	}
	st, err = cli.DisableExtension(ctx, db, "AbuseFilter", owner, "not needed")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, st.ID, 2*time.Minute, process.StateCompleted)
	if code := specialPage(t, db, "AbuseFilter"); code != http.StatusNotFound || len(enabledOn(t, db)) != 0 {
		t.Errorf("after disabling: Special:AbuseFilter HTTP %d, s_extensions %v", code, enabledOn(t, db))
	}
	var rows int
	if err := server.QueryRowContext(ctx, "SELECT COUNT(*) FROM `"+db+"`.abuse_filter_action").Scan(&rows); err != nil || rows != 1 {
		t.Errorf("after disabling, abuse_filter_action has %d rows (%v): the data must stay", rows, err)
	}
}

// A restricted extension (OATHAuth), asked for through the signed hook as
// Special:Processes does, waits for a steward; the wiki's own bureaucrat
// cannot approve it; an unknown extension is refused by the hook.
func TestRestrictedExtensionWaitsForASteward(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	db, owner := liveWiki(t, "extr")
	crat := bureaucrat(t, db)
	steward := newUser(t, "Steward", "steward")
	code, out := signedCall("POST", "/v1/processes/enable-extension", map[string]string{"wiki": db, "extension": "Nope", "user": owner}).do(t)
	if code != http.StatusBadRequest || errorCode(out) != "invalid_request" {
		t.Fatalf("an unknown extension through the hook: %d %v", code, out)
	}
	code, out = signedCall("POST", "/v1/processes/enable-extension", map[string]string{"wiki": db, "extension": "OATHAuth", "user": owner, "reason": "2FA for admins"}).do(t)
	id := extension.ChangeID(extension.KindEnable, db, "OATHAuth")
	if code != http.StatusAccepted || out["id"] != id {
		t.Fatalf("enable OATHAuth through the hook: %d %v", code, out)
	}
	waitFor(t, cli, id, time.Minute, process.StateWaitingApproval)
	wantRefused(t, cli, id, process.DecisionApprove, crat, "managewiki-restricted")
	if len(enabledOn(t, db)) != 0 {
		t.Fatal("enabled before a steward approved")
	}
	if _, err := cli.Decide(ctx, id, process.DecisionApprove, steward, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, id, time.Minute, process.StateCompleted)
	if got := enabledOn(t, db); !slices.Equal(got, []string{"OATHAuth"}) {
		t.Errorf("s_extensions %v", got)
	}
}

// The worker dies while enabling AbuseFilter (its SQL done, the rights step
// blocked on a row lock); a new worker finishes it: tables, rights once,
// the extension loaded.
func TestEnablingFinishesAfterTheWorkerDies(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	bin := buildBinary(t, "worker")
	queue := "wikiflow-ext-" + randomHex(3)
	c := queueClient(queue)
	db, owner := liveWiki(t, "extcrash")
	worker := startWorkerProcess(t, bin, queue)

	tx, err := deps.Central.DB.BeginTx(ctx, &sql.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	var perms string
	if err := tx.QueryRowContext(ctx, `SELECT perm_permissions FROM mw_permissions WHERE perm_dbname = ? AND perm_group = 'sysop' FOR UPDATE`, db).Scan(&perms); err != nil {
		t.Fatal(err)
	}
	st, err := c.EnableExtension(ctx, db, "AbuseFilter", owner, "crash test")
	if err != nil {
		t.Fatal(err)
	}
	for stepState(statusOf(ctx, c, st.ID), "sql-1") != process.StepSucceeded || stepState(statusOf(ctx, c, st.ID), extension.StepRights) != process.StepRunning {
		if ctx.Err() != nil {
			t.Fatalf("never reached the blocked rights step: %+v", statusOf(ctx, c, st.ID).Steps)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = worker.Process.Kill()
	_, _ = worker.Process.Wait()
	_ = tx.Rollback()
	startWorkerProcess(t, bin, queue)

	st = waitFor(t, c, st.ID, 3*time.Minute, process.StateCompleted)
	if s := st.Step(extension.StepRights); s == nil || s.Attempts < 2 {
		t.Errorf("rights step %+v, want it run again after the crash", s)
	}
	if perms := groupRights(t, db, "sysop"); strings.Count(perms, `"abusefilter-modify"`) != 1 {
		t.Errorf("sysop rights %s, want abusefilter-modify once", perms)
	}
	if code := specialPage(t, db, "AbuseFilter"); code != http.StatusOK || !slices.Equal(enabledOn(t, db), []string{"AbuseFilter"}) {
		t.Errorf("after the crash: Special:AbuseFilter HTTP %d, s_extensions %v", code, enabledOn(t, db))
	}
	wantTablesAsMediaWikiMakesThem(t, db)
}

// A bureaucrat enables an extension from the wiki's Special:Processes; a
// plain user gets no extension form.
func TestExtensionFormOnSpecialProcesses(t *testing.T) {
	db, owner := liveWiki(t, "extform")
	plain := newUser(t, "Plain")
	_, page := newVisitor(t, farmAddr(), db).login(plain, withPassword(t, plain)).page("Special:Processes")
	if _, _, ok := formFields(page, "wikiflow-extension"); ok {
		t.Fatal("a plain user is offered the extension form")
	}
	crat := newVisitor(t, farmAddr(), db).login(owner, withPassword(t, owner))
	_, page = crat.page("Special:Processes")
	fields, _, ok := formFields(page, "wikiflow-extension")
	if !ok || fields.Get("wpchange") != "enable" {
		t.Fatalf("the bureaucrat's extension form: %v %v, errors %q", ok, fields, errorBoxes(page))
	}
	fields.Set("wpextension", "ParserFunctions")
	fields.Set("wpreason", "templates")
	if code, page := crat.post("Special:Processes", fields); code != http.StatusOK {
		t.Fatalf("posting the form: HTTP %d, errors %q", code, errorBoxes(page))
	}
	waitFor(t, cli, extension.ChangeID(extension.KindEnable, db, "ParserFunctions"), time.Minute, process.StateCompleted)
	if got := enabledOn(t, db); !slices.Equal(got, []string{"ParserFunctions"}) {
		t.Errorf("s_extensions %v", got)
	}
}
