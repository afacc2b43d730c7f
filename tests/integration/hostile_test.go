//go:build integration

package integration

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/hook"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/signing"
	"github.com/wikiflow/wikiflow/workflows/changesetting"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
)

// The hostile-input suite: requests an attacker (or a confused user) sends,
// one case a line. Every case asserts the refusal with its reason AND that
// nothing changed: no database, no row of the farm's tables, no process
// moved, no workflow started. The count of cases by area is written to
// <artifacts>/hostile-input.txt, which `make test` prints.

var hostile = struct {
	sync.Mutex
	byArea map[string]int
}{byArea: map[string]int{}}

func countHostile(area string) {
	hostile.Lock()
	defer hostile.Unlock()
	hostile.byArea[area]++
}

// writeHostileCount reports the suite's size; called once its areas ran.
func writeHostileCount(t *testing.T) {
	hostile.Lock()
	defer hostile.Unlock()
	areas := make([]string, 0, len(hostile.byArea))
	total := 0
	for a, n := range hostile.byArea {
		areas = append(areas, fmt.Sprintf("%s %d", a, n))
		total += n
	}
	sort.Strings(areas)
	line := fmt.Sprintf("hostile-input suite: %d cases (%s)\n", total, strings.Join(areas, ", "))
	t.Log(line)
	if err := os.WriteFile(filepath.Join(artifactDir(t), "hostile-input.txt"), []byte(line), 0o644); err != nil {
		t.Error(err)
	}
}

// farmSnapshot is what a person would look at to see whether a request
// changed the farm: the databases on the cluster, and the checksums of the
// central tables of CreateWiki, ManageWiki and WikiFlow.
type farmSnapshot struct {
	databases string
	tables    map[string]string
}

var centralTables = []string{"cw_wikis", "cw_requests", "cw_comments", "cw_history", "mw_settings", "mw_permissions", "mw_namespaces", "wf_database_claims", "wf_wiki_owners"}

func snapshotFarm(t *testing.T) farmSnapshot {
	t.Helper()
	ctx := testContext(t, 30*time.Second)
	s := farmSnapshot{tables: map[string]string{}}
	for _, table := range centralTables {
		var name string
		var sum sql.NullInt64
		// Table names come from the list above, never from input. CreateWiki's
		// request tables live in the central wiki's database.
		db := deps.Central.DB
		if table == "cw_requests" || table == "cw_comments" || table == "cw_history" {
			db = deps.Central.Requests()
		}
		if err := db.QueryRowContext(ctx, "CHECKSUM TABLE "+table).Scan(&name, &sum); err != nil {
			t.Fatalf("checksum %s: %v", table, err)
		}
		s.tables[table] = fmt.Sprint(sum.Int64)
	}
	server, err := deps.Clusters.Server("c1")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := server.QueryContext(ctx, "SHOW DATABASES")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		if !farmdb.IsSchemaPoolDatabase(n) { // the ready schemas refill on their own
			names = append(names, n)
		}
	}
	s.databases = strings.Join(names, ",")
	return s
}

func (s farmSnapshot) diff(after farmSnapshot) string {
	var changed []string
	if s.databases != after.databases {
		changed = append(changed, "the list of databases")
	}
	for _, table := range centralTables {
		if s.tables[table] != after.tables[table] {
			changed = append(changed, table)
		}
	}
	return strings.Join(changed, ", ")
}

// hostileCase is one hostile request: do sends it, why is (part of) the
// reason the refusal must give. unchanged, when set, checks what the case
// must have left alone beyond the farm's tables (a process's state).
type hostileCase struct {
	name string
	do   func(ctx context.Context) error
	why  string
}

// runHostile runs an area's cases, each with its before/after snapshot.
// processIDs are workflows no case may start (checked after each case).
func runHostile(t *testing.T, area string, cases []hostileCase, unchanged func(t *testing.T)) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			countHostile(area)
			ctx := testContext(t, time.Minute)
			before := snapshotFarm(t)
			err := c.do(ctx)
			if err == nil {
				t.Fatalf("accepted; want a refusal saying %q", c.why)
			}
			if !strings.Contains(err.Error(), c.why) {
				t.Errorf("refused with %q; want the reason to say %q", err, c.why)
			}
			if d := before.diff(snapshotFarm(t)); d != "" {
				t.Errorf("a refused request changed %s", d)
			}
			if unchanged != nil {
				unchanged(t)
			}
		})
	}
}

// noWorkflow fails when a workflow with this ID exists and is not a
// completed refusal.
func noWorkflow(t *testing.T, id string) {
	t.Helper()
	ctx := testContext(t, 10*time.Second)
	_, err := deps.Temporal.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return
	}
	if err != nil {
		t.Fatalf("describe %s: %v", id, err)
	}
	// It may still be storing the events of its refusal: wait, then look.
	waitClosed(t, ctx, id)
	desc, err := deps.Temporal.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		t.Fatalf("describe %s: %v", id, err)
	}
	// A refusal found by the workflow itself ends completed (never in the
	// Web UI's Failed list) in the state refused.
	st, _ := cli.Status(ctx, id)
	if desc.WorkflowExecutionInfo.Status != enums.WORKFLOW_EXECUTION_STATUS_COMPLETED || st.State != process.StateRefused {
		t.Errorf("%s: a workflow %s exists in state %q", id, desc.WorkflowExecutionInfo.Status, st.State)
	}
}

func TestHostileInput(t *testing.T) {
	requester := newUser(t, "Hostile")
	t.Run("names", func(t *testing.T) { hostileNames(t, requester) })
	t.Run("sitenames", func(t *testing.T) { hostileSitenames(t, requester) })
	t.Run("languages", func(t *testing.T) { hostileLanguages(t, requester) })
	t.Run("requesters", func(t *testing.T) { hostileRequesters(t) })
	t.Run("approvals", hostileApprovals)
	t.Run("settings", hostileSettings)
	t.Run("protected wikis", hostileProtected)
	t.Run("hook", hostileHook)
	t.Run("pages", hostilePages)
	writeHostileCount(t)
}

// withDefaults fills what a case does not set itself, so each case is
// hostile in one field only.
func withDefaults(w process.WikiSpec, keepSitename, keepLanguage bool) process.WikiSpec {
	if w.Sitename == "" && !keepSitename {
		w.Sitename = "Hostile"
	}
	if w.Language == "" && !keepLanguage {
		w.Language = "en"
	}
	return w
}

func createCase(name, requester string, w process.WikiSpec, why string) hostileCase {
	w = withDefaults(w, strings.HasPrefix(name, "sitename"), strings.HasPrefix(name, "language"))
	return hostileCase{name: name, why: why, do: func(ctx context.Context) error {
		_, err := cli.CreateWiki(ctx, client.CreateWikiRequest{Wiki: w, Requester: requester})
		return err
	}}
}

func requestCase(name, requester string, w process.WikiSpec, why string) hostileCase {
	w = withDefaults(w, strings.HasPrefix(name, "sitename"), strings.HasPrefix(name, "language"))
	return hostileCase{name: "request " + name, why: why, do: func(ctx context.Context) error {
		_, err := cli.RequestWiki(ctx, client.CreateWikiRequest{Wiki: w, Requester: requester}, "hostile test")
		return err
	}}
}

// Database names CreateWiki refuses: they never reach a database, a row or
// a workflow (the shape is checked before any process starts).
func hostileNames(t *testing.T, requester string) {
	existing := []string{"metawiki", "testwiki"}
	names := map[string]string{
		"empty":                "",
		"suffix only":          "wiki",
		"no suffix":            "hostile",
		"capital":              "Hostilewiki",
		"all capitals":         "HOSTILEWIKI",
		"hyphen":               "host-ilewiki",
		"underscore":           "host_ilewiki",
		"space":                "host ilewiki",
		"leading space":        " hostilewiki",
		"trailing space":       "hostilewiki ",
		"trailing newline":     "hostilewiki\n",
		"NUL":                  "host\x00ilewiki",
		"semicolon":            "x;drop database metawiki;wiki",
		"quote":                "x'wiki",
		"double quote":         "x\"wiki",
		"backtick":             "x`wiki",
		"percent":              "x%wiki",
		"path":                 "../wiki",
		"slash":                "x/wiki",
		"markup":               "<script>wiki",
		"accented":             "héllowiki",
		"cyrillic lookalike":   "tеstwiki",
		"digit first":          "1hostilewiki",
		"65 characters":        strings.Repeat("a", 61) + "wiki",
		"hundreds":             strings.Repeat("a", 300) + "wiki",
		"suffix in the middle": "wikihostile",
	}
	var cases []hostileCase
	for label, db := range names {
		w := process.WikiSpec{DB: db}
		cases = append(cases, createCase(label, requester, w, "invalid"))
	}
	for _, db := range existing {
		cases = append(cases, createCase("existing "+db, requester, process.WikiSpec{DB: db}, "already exists"))
		cases = append(cases, requestCase("existing "+db, requester, process.WikiSpec{DB: db}, "already exists"))
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].name < cases[j].name })
	runHostile(t, "names", cases, func(t *testing.T) {
		for _, db := range names {
			if client.ValidateDBName(db) == nil {
				noWorkflow(t, createwiki.CreateWikiID(db))
				noWorkflow(t, requestwiki.RequestWikiID(db))
			}
		}
	})
}

func hostileSitenames(t *testing.T, requester string) {
	sitenames := map[string]string{
		"sitename empty":       "",
		"sitename blank":       "   ",
		"sitename tab only":    "\t",
		"sitename 129 letters": strings.Repeat("s", 129),
		"sitename 1000":        strings.Repeat("long ", 200),
	}
	var cases []hostileCase
	for label, s := range sitenames {
		w := process.WikiSpec{DB: uniqueDB("site"), Sitename: s, Language: "en"}
		cases = append(cases, createCase(label, requester, w, "sitename"))
		w2 := w
		w2.DB = uniqueDB("site")
		cases = append(cases, requestCase(label, requester, w2, "sitename"))
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].name < cases[j].name })
	runHostile(t, "sitenames", cases, nil)
}

func hostileLanguages(t *testing.T, requester string) {
	languages := map[string]string{
		"language empty":      "",
		"language unknown":    "zz",
		"language klingon":    "tlh-x-klingon",
		"language capitals":   "EN",
		"language underscore": "en_US",
		"language semicolon":  "en;",
		"language path":       "../en",
		"language markup":     "<en>",
		"language newline":    "en\n",
		"language too long":   "en-" + strings.Repeat("x", 40),
	}
	var cases []hostileCase
	for label, l := range languages {
		cases = append(cases, createCase(label, requester, process.WikiSpec{DB: uniqueDB("lang"), Sitename: "Hostile", Language: l}, "language"))
		cases = append(cases, requestCase(label, requester, process.WikiSpec{DB: uniqueDB("lang"), Sitename: "Hostile", Language: l}, "language"))
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].name < cases[j].name })
	runHostile(t, "languages", cases, nil)
}

// Requesters MediaWiki knows no account for, or no user name at all.
func hostileRequesters(t *testing.T) {
	users := map[string]string{
		"no account":     "Nobody" + randomHex(6),
		"hash":           "Foo#bar",
		"pipe":           "Foo|Bar",
		"brackets":       "Foo[bar]",
		"an IP address":  "127.0.0.1",
		"only spaces":    "   ",
		"a namespace":    "Talk:FarmAdmin",
		"an interwiki":   "wikipedia:FarmAdmin",
		"unit separator": "\x1fFarmAdmin",
		"256 bytes":      strings.Repeat("u", 256),
	}
	var cases []hostileCase
	for label, u := range users {
		why := "not a valid user name"
		if label == "no account" {
			why = "has no account"
		}
		cases = append(cases, createCase("requester "+label, u, process.WikiSpec{DB: uniqueDB("who")}, why))
		cases = append(cases, requestCase("requester "+label, u, process.WikiSpec{DB: uniqueDB("who")}, why))
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].name < cases[j].name })
	runHostile(t, "requesters", cases, nil)
}

// Approvals of a deletion waiting for two bureaucrats: every way one person
// could count twice, approve their own request or pass for someone else.
func hostileApprovals(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	db, owner := liveWiki(t, "hostile")
	b1 := bureaucratNamed(t, db, "Hx Bur"+randomHex(3))
	bureaucrat(t, db)
	plain := newUser(t, "Plain")
	other, otherOwner := liveWiki(t, "other")
	_ = other
	st, err := cli.DeleteWiki(ctx, db, owner, "hostile approvals")
	if err != nil {
		t.Fatal(err)
	}
	id := st.ID
	waitFor(t, cli, id, time.Minute, process.StateWaitingApproval)
	if _, err := cli.Decide(ctx, id, process.DecisionApprove, b1, "the real one"); err != nil {
		t.Fatal(err)
	}
	lower := strings.ToLower(b1[:1]) + b1[1:]
	underscored := strings.ReplaceAll(b1, " ", "_")
	decide := func(user string, action process.Decision) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			_, err := cli.Decide(ctx, id, action, user, "")
			return err
		}
	}
	cases := []hostileCase{
		{"same bureaucrat again", decide(b1, "approve"), "already approved"},
		{"lowercase first letter", decide(lower, "approve"), "already approved"},
		{"underscores for spaces", decide(underscored, "approve"), "already approved"},
		{"trailing underscore", decide(b1+"_", "approve"), "already approved"},
		{"leading underscore", decide("_"+b1, "approve"), "already approved"},
		{"leading space", decide(" "+b1, "approve"), "already approved"},
		{"trailing space", decide(b1+" ", "approve"), "already approved"},
		{"User: prefix", decide("User:"+b1, "approve"), "already approved"},
		{"left-to-right mark", decide(b1+"\u200e", "approve"), "already approved"},
		{"requester", decide(owner, "approve"), "own request"},
		{"requester lowercase", decide(strings.ToLower(owner[:1])+owner[1:], "approve"), "own request"},
		{"requester with underscore", decide(owner+"_", "approve"), "own request"},
		{"plain user", decide(plain, "approve"), "managewiki-core"},
		{"bureaucrat of another wiki", decide(otherOwner, "approve"), "managewiki-core"},
		{"no account", decide("Nobody"+randomHex(6), "approve"), "no account"},
		{"invalid name", decide("Foo#bar", "approve"), "not a valid user name"},
		{"two names in one", decide(b1+"|"+plain, "approve"), "not a valid user name"},
		{"stranger cancels", decide(plain, "cancel"), "may cancel"},
		{"bureaucrat cancels", decide(b1, "cancel"), "may cancel"},
		{"unknown decision", decide(b1, "veto"), "unknown decision"},
		{"no user", decide("", "approve"), "needs a user"},
	}
	runHostile(t, "approvals", cases, func(t *testing.T) {
		st, err := cli.Status(testContext(t, 10*time.Second), id)
		if err != nil {
			t.Fatal(err)
		}
		if st.State != process.StateWaitingApproval {
			t.Fatalf("the deletion moved to %s", st.State)
		}
		counted := 0
		for _, a := range st.Approvals {
			if a.Accepted && !a.Replaced {
				counted++
			}
		}
		if counted != 1 {
			t.Fatalf("%d decisions count, want only %s's first approval", counted, b1)
		}
		w, err := deps.Central.Wiki(testContext(t, 10*time.Second), db)
		if err != nil || w.Closed || w.Deleted {
			t.Fatalf("the wiki is closed or deleted after refused approvals: %+v %v", w, err)
		}
	})
	// The deletion cannot be approved by one person: cancel it.
	if _, err := cli.Decide(ctx, id, process.DecisionCancel, owner, "done testing"); err != nil {
		t.Fatal(err)
	}
}

// bureaucratNamed makes a farm account with exactly this name (spaces
// included) a bureaucrat of db.
func bureaucratNamed(t *testing.T, db, name string) string {
	t.Helper()
	ctx := testContext(t, time.Minute)
	if _, err := deps.Scripts.Run(ctx, "metawiki", "createAndPromote", name, "pw-"+randomHex(12)); err != nil {
		t.Fatal(err)
	}
	if _, err := deps.Scripts.Run(ctx, db, "createAndPromote", "--force", "--bureaucrat", name); err != nil {
		t.Fatal(err)
	}
	return name
}

// Setting changes a wiki's bureaucrat might send: settings the registry
// does not list, values of the wrong type or out of bounds, markup where
// the skin prints it. The registry refuses them before any process starts;
// a user without the right gets a process that ends refused.
func hostileSettings(t *testing.T) {
	db, owner := liveWiki(t, "hostileset")
	plain := newUser(t, "Plain")
	set := func(user, setting, value string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			_, err := cli.ChangeSetting(ctx, db, setting, value, user, "hostile")
			return err
		}
	}
	type sc struct{ name, setting, value, why string }
	table := []sc{
		{"unknown setting", "wgNoSuchThing", "1", "unknown setting"},
		{"a secret of the farm", "wgDBpassword", `"x"`, "unknown setting"},
		{"permissions", "wgGroupPermissions", `{"*":{"edit":true}}`, "unknown setting"},
		{"empty name", "", "1", "unknown setting"},
		{"name with a space", "wgMaxArticleSize ", "1", "unknown setting"},
		{"name in capitals", "WGMAXARTICLESIZE", "1", "unknown setting"},
		{"int as a string word", "wgMaxArticleSize", `"big"`, "must be a JSON"},
		{"int as a fraction", "wgMaxArticleSize", "1.5", "not an integer"},
		{"int as a bool", "wgMaxArticleSize", "true", "must be a JSON"},
		{"int as null", "wgMaxArticleSize", "null", "must be a JSON"},
		{"int as a list", "wgMaxArticleSize", "[1]", "must be a JSON"},
		{"int as an object", "wgMaxArticleSize", `{"a":1}`, "must be a JSON"},
		{"int below its minimum", "wgMaxArticleSize", "0", "must be"},
		{"int above its maximum", "wgMaxArticleSize", "4097", "must be"},
		{"negative int", "wgMaxArticleSize", "-1", "must be"},
		{"int beyond 64 bits", "wgMaxArticleSize", "99999999999999999999", "64-bit"},
		{"bool as a string", "wgEnableUploads", `"true"`, "must be a JSON"},
		{"bool as a number", "wgEnableUploads", "1", "must be a JSON"},
		{"string not allowed", "wgDefaultSkin", `"evil"`, "must be one of"},
		{"string in other case", "wgDefaultSkin", `"VECTOR"`, "must be one of"},
		{"string as a number", "wgDefaultSkin", "1", "must be a JSON"},
		{"string with a NUL", "wgDefaultSkin", `"vector\u0000"`, "must be one of"},
		{"list item not allowed", "wgFileExtensions", `["exe"]`, "not allowed"},
		{"list as a string", "wgFileExtensions", `"png"`, "must be a JSON"},
		{"list of numbers", "wgFileExtensions", "[1]", "must be a JSON string"},
		{"list of lists", "wgFileExtensions", `[["png"]]`, "must be a JSON string"},
		{"list as an object", "wgFileExtensions", `{"a":"png"}`, "must be a JSON"},
		{"not JSON", "wgDefaultSkin", "{", "not one valid JSON value"},
		{"empty value", "wgDefaultSkin", "", "empty"},
		{"two JSON values", "wgDefaultSkin", `"vector" "monobook"`, "not one valid JSON value"},
		{"single quotes", "wgDefaultSkin", "'vector'", "not one valid JSON value"},
		{"script in the footer text", "wgRightsText", `"<script>alert(1)</script>"`, "wgRightsText"},
		{"a tag in the footer text", "wgRightsText", `"<b>bold</b>"`, "wgRightsText"},
		{"an event handler", "wgRightsText", `"<img src=x onerror=alert(1)>"`, "wgRightsText"},
		{"over-long text", "wgRightsText", `"` + strings.Repeat("x", 5000) + `"`, "wgRightsText"},
	}
	var cases []hostileCase
	for _, c := range table {
		cases = append(cases, hostileCase{name: c.name, do: set(owner, c.setting, c.value), why: c.why})
	}
	cases = append(cases,
		hostileCase{name: "plain user", do: set(plain, "wgDefaultSkin", `"monobook"`), why: "may not change settings"},
		hostileCase{name: "no account", do: set("Nobody"+randomHex(6), "wgDefaultSkin", `"monobook"`), why: "no account"},
		hostileCase{name: "bureaucrat of another wiki", do: set("FarmAdmin", "wgDefaultSkin", `"monobook"`), why: "may not change settings"},
	)
	runHostile(t, "settings", cases, func(t *testing.T) {
		for _, c := range table {
			if client.CheckID(changesetting.ChangeSettingID(db, c.setting)) == nil {
				noWorkflow(t, changesetting.ChangeSettingID(db, c.setting))
			}
		}
	})
}

// The central wiki and the configured protected wikis are never deleted.
func hostileProtected(t *testing.T) {
	c := clientWith(func(cfg *config.Config) { cfg.Processes.ProtectedWikis = []string{"testwiki"} })
	del := func(db string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			_, err := c.DeleteWiki(ctx, db, "FarmAdmin", "hostile")
			return err
		}
	}
	hook := func(db string) func(ctx context.Context) error {
		return func(context.Context) error {
			return hookAnswer(signedCall("POST", "/v1/processes/delete-wiki", map[string]string{"wiki": db, "user": "FarmAdmin", "reason": "hostile"}).do(t))
		}
	}
	runHostile(t, "protected wikis", []hostileCase{
		{"the central wiki", del("metawiki"), "protected"},
		{"a listed wiki", del("testwiki"), "protected"},
		{"the central wiki through the hook", hook("metawiki"), "409 refused"},
	}, func(t *testing.T) {
		for _, db := range []string{"metawiki", "testwiki"} {
			w, err := deps.Central.Wiki(testContext(t, 10*time.Second), db)
			if err != nil || w.Closed || w.Deleted {
				t.Fatalf("%s after a refused deletion: %+v %v", db, w, err)
			}
		}
	})
}

// hookAnswer turns an endpoint's answer into the error a case checks: nil
// when it was accepted, else its code and error code.
func hookAnswer(code int, out map[string]any) error {
	if code >= 200 && code < 300 {
		return nil
	}
	return fmt.Errorf("%d %s", code, errorCode(out))
}

// Requests to the signed endpoint that must not reach any process: every
// kind of signature trouble, tampering and malformed body, and requests
// the process could never take. The open process's history gets no signal.
func hostileHook(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	db, owner, id := waitingChange(t, "hostilehook", "hostile hook")
	path := "/v1/processes/" + id + "/actions"
	approve := map[string]string{"action": "approve", "user": owner}
	call := func(mutate func(*hookCall)) func(context.Context) error {
		return func(context.Context) error {
			h := signedCall("POST", path, approve)
			mutate(&h)
			return hookAnswer(h.do(t))
		}
	}
	send := func(h hookCall) func(context.Context) error {
		return func(context.Context) error { return hookAnswer(h.do(t)) }
	}
	// A request accepted once (a read), to replay.
	read := signedCall("GET", "/v1/processes/"+id+"?viewer="+owner, nil)
	if code, out := read.do(t); code != 200 {
		t.Fatalf("a valid read: %d %v", code, out)
	}
	body := func(raw string) hookCall {
		return hookCall{method: "POST", path: path, body: []byte(raw), timestamp: time.Now().Unix(), secret: hookSecret()}
	}
	cases := []hostileCase{
		{"unsigned", call(func(h *hookCall) { h.secret = nil }), "401 unauthorized"},
		{"forged secret", call(func(h *hookCall) { h.secret = []byte("not-the-secret-at-all") }), "401 unauthorized"},
		{"empty secret", call(func(h *hookCall) { h.secret = []byte{} }), "401 unauthorized"},
		{"stale", call(func(h *hookCall) { h.timestamp -= 600 }), "401 unauthorized"},
		{"from the future", call(func(h *hookCall) { h.timestamp += 600 }), "401 unauthorized"},
		{"timestamp zero", call(func(h *hookCall) { h.timestamp = 0 }), "401 unauthorized"},
		{"signed for another path", call(func(h *hookCall) {
			h.signedPath = h.path
			h.path = "/v1/processes/delete-wiki:" + db + "/actions"
		}), "401 unauthorized"},
		{"query added after signing", call(func(h *hookCall) { h.signedPath = h.path; h.path += "?x=1" }), "401 unauthorized"},
		{"body changed after signing", func(context.Context) error {
			h := signedCall("POST", path, approve)
			h.signature = signing.Sign(h.secret, h.timestamp, h.method, h.path, h.body)
			h.body = []byte(strings.Replace(string(h.body), owner, "FarmAdmin", 1))
			return hookAnswer(h.do(t))
		}, "401 unauthorized"},
		{"method changed after signing", func(context.Context) error {
			h := signedCall("POST", path, approve)
			h.signature = signing.Sign(h.secret, h.timestamp, "PUT", h.path, h.body)
			return hookAnswer(h.do(t))
		}, "401 unauthorized"},
		{"replayed", send(read), "401 unauthorized"},
		{"oversized", call(func(h *hookCall) {
			h.body, _ = json.Marshal(map[string]string{"action": "approve", "user": owner, "comment": strings.Repeat("x", hook.MaxBody)})
		}), "413 body_too_large"},
		{"malformed JSON", send(body(`{"action": "approve", `)), "400 malformed_json"},
		{"two JSON values", send(body(`{"action":"approve","user":"x"} {}`)), "400 malformed_json"},
		{"a list, not an object", send(body(`["approve"]`)), "400 malformed_json"},
		{"a number for the user", send(body(`{"action":"approve","user":7}`)), "400 malformed_json"},
		{"unknown field", send(body(`{"action":"approve","user":"x","admin":"yes"}`)), "400 malformed_json"},
		{"no user", send(body(`{"action":"approve"}`)), "400 invalid_request"},
		{"unknown action", send(body(`{"action":"promote","user":"x"}`)), "400 unknown_action"},
		{"unsupported action: hold", send(body(`{"action":"hold","user":"x"}`)), "409 unsupported_action"},
		{"unsupported action: undelete", send(body(`{"action":"undelete","user":"x"}`)), "409 unsupported_action"},
		{"unknown process", send(signedCall("POST", "/v1/processes/delete-wiki:nosuchwiki/actions", approve)), "404 unknown_process"},
		{"invalid process ID", send(signedCall("POST", "/v1/processes/x%3B%20drop/actions", approve)), "404 unknown_process"},
		{"unknown endpoint", send(signedCall("GET", "/v1/secrets", nil)), "404 not_found"},
		{"invalid viewer", send(signedCall("GET", "/v1/processes?viewer=a%7Cb", nil)), "400 invalid_request"},
		{"deletion of an invalid name", send(signedCall("POST", "/v1/processes/delete-wiki", map[string]string{"wiki": "x;drop", "user": owner, "reason": "r"})), "400 invalid_request"},
		{"setting out of range", send(signedCall("POST", "/v1/processes/change-setting", map[string]any{"wiki": db, "setting": "wgMaxArticleSize", "value": 999999, "user": owner})), "400 invalid_request"},
		{"setting with markup", send(signedCall("POST", "/v1/processes/change-setting", map[string]any{"wiki": db, "setting": "wgRightsText", "value": "<script>x</script>", "user": owner})), "400 invalid_request"},
		{"request of an invalid name", send(signedCall("POST", "/v1/processes/request-wiki", map[string]any{"wiki": "Bad-Name", "sitename": "x", "language": "en", "user": owner, "reason": "r"})), "400 invalid_request"},
	}
	signals := signalCount(t, id)
	runHostile(t, "hook", cases, func(t *testing.T) {
		if n := signalCount(t, id); n != signals {
			t.Fatalf("%d signals reached the process, want %d", n, signals)
		}
		if st, _ := cli.Status(testContext(t, 10*time.Second), id); st.State != process.StateWaitingApproval || len(st.Approvals) != 0 {
			t.Fatalf("the process moved: %s, %+v", st.State, st.Approvals)
		}
	})
	if _, err := cli.Decide(ctx, id, process.DecisionCancel, owner, "done"); err != nil {
		t.Fatal(err)
	}
}

// Forms of Special:Processes sent by people who may not, or without a
// valid edit token: the page refuses and nothing is sent.
func hostilePages(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	db, owner, id := waitingChange(t, "hostilepage", "hostile page")
	plain := newUser(t, "Plain")
	ownerV := newVisitor(t, farmAddr(), db).login(owner, withPassword(t, owner))
	plainV := newVisitor(t, farmAddr(), db).login(plain, withPassword(t, plain))
	anon := newVisitor(t, farmAddr(), db)
	_, list := ownerV.page("Special:Processes")
	deleteForm, _, ok := formFields(list, "wikiflow-delete")
	if !ok {
		t.Fatalf("no deletion form for the wiki's bureaucrat: %q", errorBoxes(list))
	}
	_, page := ownerV.page("Special:Processes/" + id)
	actionForm, _, ok := formFields(page, "wikiflow-action:"+id)
	if !ok {
		t.Fatalf("no action form for the requester: %q", errorBoxes(page))
	}
	plainToken := plainV.csrfToken()
	with := func(form url.Values, set map[string]string, del ...string) url.Values {
		out := url.Values{}
		for k, v := range form {
			out[k] = v
		}
		for k, v := range set {
			out.Set(k, v)
		}
		for _, k := range del {
			out.Del(k)
		}
		return out
	}
	post := func(v *visitor, title string, form url.Values) func(context.Context) error {
		return func(context.Context) error {
			form = with(form, map[string]string{"title": title})
			code, page := v.post(title, form)
			boxes := append(errorBoxes(page), formErrors(page)...)
			if code == http.StatusOK && len(boxes) == 0 {
				return nil
			}
			return fmt.Errorf("HTTP %d: %s", code, strings.Join(boxes, " | "))
		}
	}
	cases := []hostileCase{
		{"deletion without a token", post(ownerV, "Special:Processes", with(deleteForm, map[string]string{"wpreason": "x"}, "wpEditToken")), "session token"},
		{"deletion with a made-up token", post(ownerV, "Special:Processes", with(deleteForm, map[string]string{"wpreason": "x", "wpEditToken": "0123456789abcdef+\\"})), "session token"},
		{"deletion with another session's token", post(ownerV, "Special:Processes", with(deleteForm, map[string]string{"wpreason": "x", "wpEditToken": plainToken})), "session token"},
		{"deletion with the anonymous token", post(ownerV, "Special:Processes", with(deleteForm, map[string]string{"wpreason": "x", "wpEditToken": "+\\"})), "session token"},
		{"deletion while logged out", post(anon, "Special:Processes", with(deleteForm, map[string]string{"wpreason": "x", "wpEditToken": "+\\"})), "logged in"},
		{"approve while logged out", post(anon, "Special:Processes/"+id, with(actionForm, map[string]string{"wfaction": "approve", "wpEditToken": "+\\"})), "logged in"},
		{"approve by the requester", post(ownerV, "Special:Processes/"+id, with(actionForm, map[string]string{"wfaction": "approve"})), "not something you can do"},
		{"approve by a plain user", post(plainV, "Special:Processes/"+id, with(actionForm, map[string]string{"wfaction": "approve", "wpEditToken": plainToken})), "not something you can do"},
		{"hold on a setting change", post(ownerV, "Special:Processes/"+id, with(actionForm, map[string]string{"wfaction": "hold"})), "not something you can do"},
		{"an invented action", post(ownerV, "Special:Processes/"+id, with(actionForm, map[string]string{"wfaction": "promote"})), "not something you can do"},
		{"an invalid process ID", post(ownerV, "Special:Processes/x;drop", with(actionForm, map[string]string{"wfaction": "cancel"})), "is not a process ID"},
	}
	runHostile(t, "pages", cases, func(t *testing.T) {
		if n := signalCount(t, id); n != 0 {
			t.Fatalf("%d signals reached the process", n)
		}
		if _, err := cli.Status(testContext(t, 10*time.Second), deletewiki.DeleteWikiID(db)); !errors.Is(err, client.ErrNoProcess) {
			t.Fatalf("a deletion exists after refused forms: %v", err)
		}
	})
	if _, err := cli.Decide(ctx, id, process.DecisionCancel, owner, "done"); err != nil {
		t.Fatal(err)
	}
}

var reFormError = regexp.MustCompile(`(?s)oo-ui-flaggedElement-error[^>]*>.*?<span class='oo-ui-labelElement-label'>(.*?)</span>`)

// formErrors are the messages HTMLForm shows beside a refused form.
func formErrors(page string) []string {
	var out []string
	for _, m := range reFormError.FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}
