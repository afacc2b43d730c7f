//go:build integration

package integration

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
)

// The central tables as CreateWiki and ManageWiki define them, read from
// their schema files (CreateWiki sql/cw_*.sql at 021ce822, 2026-08-17;
// ManageWiki sql/mw_*.sql at 78c2e16a, 2026-08-08): each column's declared
// type, nullability and default, the keys, and which database they live
// in. MediaWiki's updater creates them with $wgDBTableOptions
// (ENGINE=InnoDB, DEFAULT CHARSET=binary); mariadbColumnType says what
// MariaDB makes of a declared type in such a table.
type compatColumn struct {
	name     string
	declared string // as in the extension's CREATE TABLE
	null     bool
	// def is the default as information_schema shows it: "" none, "NULL",
	// a number, or a quoted string.
	def   string
	extra string // auto_increment
}

type compatKey struct {
	name    string
	unique  bool
	columns []string
}

type compatTable struct {
	name    string
	central bool // in the central wiki's database (virtual-createwiki-central), not the global one
	columns []compatColumn
	keys    []compatKey
}

var compatSchema = []compatTable{
	compatTableOf("cw_wikis", false, `
		wiki_dbname VARCHAR(64) NOT NULL
		wiki_sitename VARCHAR(128) NOT NULL
		wiki_language VARCHAR(12) NOT NULL
		wiki_private TINYINT NOT NULL
		wiki_creation BINARY(14) NOT NULL
		wiki_url TEXT NULL DEFAULT NULL
		wiki_closed TINYINT NOT NULL DEFAULT 0
		wiki_closed_timestamp BINARY(14) NULL DEFAULT NULL
		wiki_closed_reason TEXT NULL DEFAULT NULL
		wiki_inactive TINYINT NOT NULL DEFAULT 0
		wiki_inactive_timestamp BINARY(14) NULL DEFAULT NULL
		wiki_inactive_exempt TINYINT NOT NULL DEFAULT 0
		wiki_inactive_exempt_reason TEXT NULL DEFAULT NULL
		wiki_inactive_exempt_expiry VARBINARY(14) NULL DEFAULT NULL
		wiki_deleted TINYINT NOT NULL DEFAULT 0
		wiki_deleted_timestamp BINARY(14) NULL DEFAULT NULL
		wiki_locked TINYINT NOT NULL DEFAULT 0
		wiki_dbcluster VARCHAR(5) NULL DEFAULT 'c1'
		wiki_category VARCHAR(64) NOT NULL
		wiki_experimental TINYINT NOT NULL DEFAULT 0
		wiki_extra JSON NULL DEFAULT NULL
		PRIMARY KEY (wiki_dbname)
		KEY wiki_dbname (wiki_dbname)
		KEY wiki_dbcluster (wiki_dbcluster)
	`),
	compatTableOf("cw_requests", true, `
		cw_id INT NOT NULL AUTO_INCREMENT
		cw_comment TEXT NULL DEFAULT NULL
		cw_dbname VARCHAR(64) NULL DEFAULT NULL
		cw_language VARCHAR(12) NOT NULL
		cw_private TINYINT UNSIGNED NOT NULL DEFAULT 0
		cw_sitename VARCHAR(128) NOT NULL
		cw_status VARCHAR(16) NULL DEFAULT NULL
		cw_timestamp BINARY(14) NOT NULL
		cw_url VARCHAR(96) NOT NULL
		cw_user INT(10) NOT NULL
		cw_category VARCHAR(64) NOT NULL
		cw_visibility TINYINT UNSIGNED NOT NULL DEFAULT 0
		cw_locked TINYINT UNSIGNED NOT NULL DEFAULT 0
		cw_bio TINYINT UNSIGNED NOT NULL DEFAULT 0
		cw_extra JSON NULL DEFAULT NULL
		PRIMARY KEY (cw_id)
		KEY cw_status (cw_status)
		KEY cw_timestamp (cw_timestamp)
	`),
	compatTableOf("cw_comments", true, `
		cw_id INT NOT NULL
		cw_comment BLOB NOT NULL
		cw_comment_timestamp BINARY(14) NOT NULL
		cw_comment_user INT(10) NOT NULL
	`),
	compatTableOf("cw_history", true, `
		cw_history_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT
		cw_id INT NOT NULL
		cw_history_action VARCHAR(50) NOT NULL
		cw_history_actor INT(10) NOT NULL
		cw_history_details BLOB NOT NULL
		cw_history_timestamp BINARY(14) NOT NULL
		PRIMARY KEY (cw_history_id)
	`),
	compatTableOf("mw_settings", false, `
		s_dbname VARCHAR(64) NOT NULL
		s_settings JSON NULL DEFAULT NULL
		s_extensions JSON NULL DEFAULT NULL
		PRIMARY KEY (s_dbname)
		KEY s_dbname (s_dbname)
	`),
	compatTableOf("mw_permissions", false, `
		perm_dbname VARCHAR(64) NOT NULL
		perm_group VARCHAR(64) NOT NULL
		perm_permissions JSON NOT NULL
		perm_addgroups JSON NOT NULL
		perm_removegroups JSON NOT NULL
		perm_addgroupstoself JSON NOT NULL
		perm_removegroupsfromself JSON NOT NULL
		perm_autopromote JSON NULL DEFAULT NULL
		UNIQUE KEY uniqueperm (perm_dbname, perm_group)
		KEY perm_dbname (perm_dbname)
		KEY perm_group (perm_group)
	`),
	compatTableOf("mw_namespaces", false, `
		ns_dbname VARCHAR(64) NOT NULL
		ns_namespace_id INT(4) NOT NULL
		ns_namespace_name VARCHAR(128) NOT NULL
		ns_searchable TINYINT NOT NULL
		ns_subpages TINYINT NOT NULL
		ns_content TINYINT NOT NULL
		ns_content_model VARCHAR(32) NOT NULL
		ns_protection VARCHAR(32) NOT NULL
		ns_aliases JSON NOT NULL
		ns_core INT(1) NOT NULL DEFAULT 0
		ns_additional JSON NOT NULL
		UNIQUE KEY uniquens (ns_dbname, ns_namespace_id)
		KEY ns_dbname (ns_dbname)
	`),
}

// compatTableOf is a table as the extension's CREATE TABLE writes it, one
// definition a line: first the columns (name, declared type, NULL or NOT
// NULL, then DEFAULT and a value, and AUTO_INCREMENT, where the column has
// them), then the keys (PRIMARY KEY, UNIQUE KEY name or KEY name, and the
// columns in parentheses).
func compatTableOf(name string, central bool, definition string) compatTable {
	tbl := compatTable{name: name, central: central}
	for _, line := range strings.Split(strings.TrimSpace(definition), "\n") {
		line = strings.TrimSpace(line)
		if m := compatKeyLine.FindStringSubmatch(line); m != nil {
			k := compatKey{name: "PRIMARY", unique: true, columns: strings.Split(m[4], ", ")}
			switch {
			case m[2] != "":
				k.name = m[2]
			case m[3] != "":
				k.name, k.unique = m[3], false
			}
			tbl.keys = append(tbl.keys, k)
			continue
		}
		tbl.columns = append(tbl.columns, compatColumnOf(name, line))
	}
	return tbl
}

var compatKeyLine = regexp.MustCompile(`^(PRIMARY KEY|UNIQUE KEY (\w+)|KEY (\w+)) \(([\w, ]+)\)$`)

// compatColumnOf reads one column definition of table.
func compatColumnOf(table, line string) compatColumn {
	f := strings.Fields(line)
	i := 1
	for i < len(f) && f[i] != "NULL" && f[i] != "NOT" {
		i++
	}
	c := compatColumn{name: f[0], declared: strings.Join(f[1:i], " ")}
	rest := f[i:]
	switch {
	case len(rest) >= 2 && rest[0] == "NOT" && rest[1] == "NULL":
		rest = rest[2:]
	case len(rest) >= 1 && rest[0] == "NULL":
		c.null, rest = true, rest[1:]
	default:
		panic(table + ": a column without NULL or NOT NULL: " + line)
	}
	if len(rest) >= 2 && rest[0] == "DEFAULT" {
		c.def, rest = rest[1], rest[2:]
	}
	if len(rest) >= 1 && rest[0] == "AUTO_INCREMENT" {
		c.extra, rest = "auto_increment", rest[1:]
	}
	if len(rest) != 0 || c.declared == "" {
		panic(table + ": a column definition not understood: " + line)
	}
	return c
}

// mariadbColumnType is the COLUMN_TYPE, character set and collation
// MariaDB gives a declared type in a DEFAULT CHARSET=binary table: text
// types become their byte-string twins, JSON stays LONGTEXT in utf8mb4_bin
// (MariaDB's JSON alias carries its own collation), integers get their
// display widths.
func mariadbColumnType(declared string) (colType, charset, collation string) {
	d := strings.ToLower(declared)
	if m := regexp.MustCompile(`^varchar\((\d+)\)$`).FindStringSubmatch(d); m != nil {
		return "varbinary(" + m[1] + ")", "", ""
	}
	if m, ok := mariadbTypes[d]; ok {
		return m[0], m[1], m[2]
	}
	return d, "", "" // int(10), binary(14), varbinary(14), blob: as declared
}

// mariadbTypes are the declared types (in lower case) MariaDB changes, each
// with its COLUMN_TYPE, character set and collation.
var mariadbTypes = map[string][3]string{
	"text":             {"blob", "", ""},
	"json":             {"longtext", "utf8mb4", "utf8mb4_bin"},
	"tinyint":          {"tinyint(4)", "", ""},
	"tinyint unsigned": {"tinyint(3) unsigned", "", ""},
	"int":              {"int(11)", "", ""},
	"bigint unsigned":  {"bigint(20) unsigned", "", ""},
}

// The live central tables have CreateWiki's and ManageWiki's columns and
// keys, column by column, in the databases CreateWiki reads them from, and
// as MediaWiki makes them (binary).
func TestCompatCentralSchema(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	global, central := compatDBName(t, deps.Central.DB), compatDBName(t, deps.Central.Requests())
	if central != deps.Config.MediaWiki.CentralWiki {
		t.Errorf("the request tables are in %q; CreateWiki reads them from the central wiki's database %q", central, deps.Config.MediaWiki.CentralWiki)
	}
	info := deps.Central.DB
	for _, tbl := range compatSchema {
		schema, other := global, central
		if tbl.central {
			schema, other = central, global
		}
		var engine, collation string
		err := info.QueryRowContext(ctx, `SELECT ENGINE, TABLE_COLLATION FROM information_schema.TABLES
			WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`, schema, tbl.name).Scan(&engine, &collation)
		if err != nil {
			t.Errorf("%s.%s: %v", schema, tbl.name, err)
			continue
		}
		if engine != "InnoDB" || collation != "binary" {
			t.Errorf("%s.%s: ENGINE=%s, collation %s; MediaWiki makes ENGINE=InnoDB, DEFAULT CHARSET=binary", schema, tbl.name, engine, collation)
		}
		var stray int
		if err := info.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`,
			other, tbl.name).Scan(&stray); err != nil || stray != 0 {
			t.Errorf("%s.%s exists too (%v): CreateWiki would read one of the two", other, tbl.name, err)
		}

		rows, err := info.QueryContext(ctx, `SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT,
			COALESCE(CHARACTER_SET_NAME, ''), COALESCE(COLLATION_NAME, ''), EXTRA
			FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, schema, tbl.name)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var name, typ, nullable, cs, coll, extra string
			var def sql.NullString
			if err := rows.Scan(&name, &typ, &nullable, &def, &cs, &coll, &extra); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%s %s null=%v default=%s charset=%s/%s %s", name, typ, nullable == "YES", def.String, cs, coll, extra))
		}
		rows.Close()
		var want []string
		for _, c := range tbl.columns {
			typ, cs, coll := mariadbColumnType(c.declared)
			want = append(want, fmt.Sprintf("%s %s null=%v default=%s charset=%s/%s %s", c.name, typ, c.null, c.def, cs, coll, c.extra))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s.%s columns differ from CreateWiki's/ManageWiki's:\ngot:\n  %s\nwant:\n  %s", schema, tbl.name,
				strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}

		rows, err = info.QueryContext(ctx, `SELECT INDEX_NAME, NON_UNIQUE, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX)
			FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
			GROUP BY INDEX_NAME, NON_UNIQUE ORDER BY INDEX_NAME`, schema, tbl.name)
		if err != nil {
			t.Fatal(err)
		}
		got = nil
		for rows.Next() {
			var name, cols string
			var nonUnique int
			if err := rows.Scan(&name, &nonUnique, &cols); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%s unique=%v (%s)", name, nonUnique == 0, cols))
		}
		rows.Close()
		want = nil
		for _, k := range tbl.keys {
			want = append(want, fmt.Sprintf("%s unique=%v (%s)", k.name, k.unique, strings.Join(k.columns, ",")))
		}
		if strings.Join(sortedCopy(got), "\n") != strings.Join(sortedCopy(want), "\n") {
			t.Errorf("%s.%s keys differ:\ngot:  %v\nwant: %v", schema, tbl.name, got, want)
		}
	}

	// Binary columns compare bytes: no case folding, no trailing-space padding.
	for _, name := range []string{strings.ToUpper(deps.Config.MediaWiki.CentralWiki), deps.Config.MediaWiki.CentralWiki + " "} {
		if _, err := deps.Central.Wiki(ctx, name); !errors.Is(err, farmdb.ErrWikiNotFound) {
			t.Errorf("cw_wikis lookup of %q: %v; a binary column matches only the exact name", name, err)
		}
	}
	db := uniqueDB("compatperm")
	t.Cleanup(func() { _, _ = deps.Central.DB.Exec(`DELETE FROM mw_permissions WHERE perm_dbname = ?`, db) })
	for _, group := range []string{"Editor", "editor"} {
		if _, err := deps.Central.DB.ExecContext(ctx, `INSERT INTO mw_permissions (perm_dbname, perm_group, perm_permissions,
			perm_addgroups, perm_removegroups, perm_addgroupstoself, perm_removegroupsfromself) VALUES (?, ?, '[]', '[]', '[]', '[]', '[]')`,
			db, group); err != nil {
			t.Errorf("group %q beside another case of it: %v (ManageWiki's groups are case-sensitive)", group, err)
		}
	}
}

func compatDBName(t *testing.T, db *sql.DB) string {
	t.Helper()
	var name sql.NullString
	if err := db.QueryRowContext(testContext(t, 10*time.Second), `SELECT DATABASE()`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name.String
}

func sortedCopy(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

var (
	compatTimestamp  = regexp.MustCompile(`^\d{14}$`)
	compatChangeLine = regexp.MustCompile(`^(\* )?Field ''[a-z_-]+'' changed:$`)
)

// Every request action of WikiFlow leaves rows CreateWiki reads as its own:
// cw_requests as its form files them (cw_url, no cw_extra), one comment per
// action with words and each in its own second, cw_history only for edits
// in CreateWiki's format, all in the order things happened.
func TestCompatRequestRows(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	_, env := srActivities(t)
	central := deps.Config.MediaWiki.CentralWiki
	requester := newUser(t, "Requester")
	r1, r2 := newUser(t, "Reviewer"), newUser(t, "Reviewer")
	db := uniqueDB("compat")

	val, err := env.ExecuteActivity(requestwiki.NameFileWikiRequest, requestwiki.FileRequestInput{
		DB: db, Sitename: "Compat <Wiki> & 'Co'", Language: "en", Category: "test", Reason: "For the\n\ncompatibility test",
		Requester: requester, Central: central, Key: "compat-" + randomHex(4),
	})
	if err != nil {
		t.Fatal(err)
	}
	var filed requestwiki.FileRequestResult
	if err := val.Get(&filed); err != nil {
		t.Fatal(err)
	}
	id := filed.ID
	srDeleteRequest(t, id)

	// The actions of a review, as the request workflow sends them; several
	// in one second, and the farm's approval before the vote it follows
	// (the two activities run concurrently in the workflow).
	t0 := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	update := func(in requestwiki.UpdateRequestInput) {
		t.Helper()
		in.Central, in.ID = central, id
		if _, err := srUpdate(t, env, in); err != nil {
			t.Fatalf("%+v: %v", in, err)
		}
	}
	update(requestwiki.UpdateRequestInput{Action: "approve", Comment: "approve: fine by me", User: r1, At: t0})
	update(requestwiki.UpdateRequestInput{Status: farmdb.RequestOnHold, Action: farmdb.RequestOnHold, User: r2, At: t0})
	update(requestwiki.UpdateRequestInput{Status: farmdb.RequestMoreDetails, Action: farmdb.RequestMoreDetails, Comment: "what is it for?", User: r2, At: t0})
	if _, err := env.ExecuteActivity(requestwiki.NameEditWikiRequest, requestwiki.EditRequestInput{ID: id, Sitename: "Compat Wiki", Comment: "testing"}); err != nil {
		t.Fatal(err)
	}
	reopened := time.Now().UTC().Truncate(time.Second)
	update(requestwiki.UpdateRequestInput{Status: farmdb.RequestInReview, Action: farmdb.RequestInReview, Comment: "Edited by the requester: testing", User: requester, At: reopened})
	if _, err := env.ExecuteActivity(requestwiki.NameEditWikiRequest, requestwiki.EditRequestInput{ID: id, Category: "other"}); err != nil {
		t.Fatal(err)
	}
	t1 := time.Now().UTC().Truncate(time.Second).Add(time.Minute)
	update(requestwiki.UpdateRequestInput{Status: farmdb.RequestApproved, Action: farmdb.RequestApproved, Comment: "Approved by A and B", At: t1})
	update(requestwiki.UpdateRequestInput{Action: "approve", Comment: "approve: ", User: r2, At: t1})
	update(requestwiki.UpdateRequestInput{Action: "approve", Comment: "approve: second", User: r1, At: t1})
	update(requestwiki.UpdateRequestInput{Action: "create-wiki", Comment: "The wiki's creation ended completed.", At: t1.Add(time.Minute)})

	// cw_requests: as CreateWiki's form files a request.
	var dbname, url, status, ts string
	var extra sql.NullString
	var user int
	if err := deps.Central.Requests().QueryRowContext(ctx, `SELECT cw_dbname, cw_url, cw_status, cw_timestamp, cw_user, cw_extra
		FROM cw_requests WHERE cw_id = ?`, id).Scan(&dbname, &url, &status, &ts, &user, &extra); err != nil {
		t.Fatal(err)
	}
	sub := strings.TrimSuffix(db, deps.Config.MediaWiki.DBSuffix)
	if dbname != sub+deps.Config.MediaWiki.DBSuffix || url != sub+"."+deps.Config.MediaWiki.Subdomain || strings.Contains(url, "/") {
		t.Errorf("cw_dbname %q, cw_url %q; CreateWiki writes %q and %q", dbname, url, db, sub+"."+deps.Config.MediaWiki.Subdomain)
	}
	if !farmdb.ValidRequestStatus(status) || !compatTimestamp.MatchString(ts) || user != filed.UserID {
		t.Errorf("cw_status %q, cw_timestamp %q, cw_user %d", status, ts, user)
	}
	if extra.Valid {
		var m map[string]any
		if json.Unmarshal([]byte(extra.String), &m) != nil || m["wikiflow_key"] != nil {
			t.Errorf("cw_extra %q: CreateWiki hands it to its creation hooks as the request's data", extra.String)
		}
	}

	// cw_comments: who wrote what, in order, each in its own second.
	comments, err := deps.Central.RequestComments(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	system := srUserID(t, activities.SystemUser)
	want := []struct {
		user int
		text string
	}{
		{srUserID(t, r1), "fine by me"},
		{srUserID(t, r2), "what is it for?"},
		{filed.UserID, farmdb.UpdatedComment},
		{system, farmdb.ReopenedComment},
		{filed.UserID, farmdb.UpdatedComment},
		{srUserID(t, r1), "second"},
		{system, "Approved by A and B"},
		{system, "The wiki's creation ended completed."},
	}
	var got, wantText []string
	for _, c := range comments {
		got = append(got, fmt.Sprintf("%d %q", c.UserID, c.Comment))
		if strings.TrimSpace(c.Comment) == "" || !compatTimestamp.MatchString(c.Timestamp) {
			t.Errorf("comment %+v: CreateWiki writes none empty, with a MediaWiki timestamp", c)
		}
	}
	for _, w := range want {
		wantText = append(wantText, fmt.Sprintf("%d %q", w.user, w.text))
	}
	if strings.Join(got, "\n") != strings.Join(wantText, "\n") {
		t.Errorf("cw_comments:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(wantText, "\n  "))
	}
	srDistinctTimestamps(t, id)

	// cw_history: CreateWiki's actions and change messages only, each actor real.
	history, err := deps.Central.RequestHistory(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 2 || history[0].Action != farmdb.HistoryReopened || history[1].Action != farmdb.HistoryEdited {
		t.Fatalf("cw_history: %+v; want reopened (the edit while waiting for details), then edited", history)
	}
	wantFirst := "* Field ''sitename'' changed:\n** '''Old value''': Compat &lt;Wiki&gt; &amp; &#039;Co&#039;\n** '''New value''': Compat Wiki\n" +
		"* Field ''reason'' changed:\n** '''Old value''': For the\n*: compatibility test\n** '''New value''': testing"
	if history[0].Details != wantFirst {
		t.Errorf("details %q\nwant    %q", history[0].Details, wantFirst)
	}
	if history[1].Details != "Field ''category'' changed:\n*'''Old value''': test\n*'''New value''': other" {
		t.Errorf("details of a one-field edit: %q", history[1].Details)
	}
	for _, h := range history {
		if !compatChangeLine.MatchString(strings.SplitN(h.Details, "\n", 2)[0]) || h.ActorID != srActor(t, requester) || !compatTimestamp.MatchString(h.Timestamp) {
			t.Errorf("history entry %+v", h)
		}
	}
}

// Updates of one request made at the same time and run at once (as the
// workflow's concurrent activities are) each get their own second.
func TestCompatRequestConcurrentComments(t *testing.T) {
	ctx := testContext(t, time.Minute)
	central := deps.Config.MediaWiki.CentralWiki
	requester, reviewer := newUser(t, "Requester"), newUser(t, "Reviewer")
	who := srUserID(t, requester)
	id, err := deps.Central.CreateRequest(ctx, farmdb.Request{DBName: uniqueDB("conc"), Sitename: "C", Language: "en", URL: "conc.localhost", UserID: who})
	if err != nil {
		t.Fatal(err)
	}
	srDeleteRequest(t, id)
	at := time.Now().UTC().Truncate(time.Second)
	errs := make(chan error, 6)
	for i := 0; i < 6; i++ {
		_, env := srActivities(t)
		go func() {
			_, err := srUpdate(t, env, requestwiki.UpdateRequestInput{Central: central, ID: id, Comment: fmt.Sprint("comment ", i), User: reviewer, At: at})
			errs <- err
		}()
	}
	for i := 0; i < 6; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := srCount(t, "cw_comments", id); n != 6 {
		t.Fatalf("%d comments, want 6", n)
	}
	srDistinctTimestamps(t, id)
}

// A 100-letter Hebrew sitename is 200 bytes: the binary VARCHAR(128) refuses
// it, so WikiFlow refuses it first, saying why, and writes nothing.
func TestCompatRequestHebrewSitename(t *testing.T) {
	ctx := testContext(t, time.Minute)
	_, env := srActivities(t)
	db := uniqueDB("hebrew")
	t.Cleanup(func() { _, _ = deps.Central.Requests().Exec(`DELETE FROM cw_requests WHERE cw_dbname = ?`, db) })
	_, err := env.ExecuteActivity(requestwiki.NameFileWikiRequest, requestwiki.FileRequestInput{
		DB: db, Sitename: strings.Repeat("א", 100), Language: "he", Requester: newUser(t, "Requester"),
		Central: deps.Config.MediaWiki.CentralWiki, Key: "hebrew-" + randomHex(4),
	})
	wantPermanent(t, err, activities.ErrTypeInvalidInput, "200 bytes", "at most 128 bytes")
	var n int
	if err := deps.Central.Requests().QueryRowContext(ctx, `SELECT COUNT(*) FROM cw_requests WHERE cw_dbname = ?`, db).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows for the refused request (%v)", n, err)
	}
	// The database agrees: the column holds 128 bytes.
	_, err = deps.Central.Requests().ExecContext(ctx, `INSERT INTO cw_requests (cw_dbname, cw_language, cw_sitename, cw_timestamp, cw_url, cw_user, cw_category)
		VALUES (?, 'he', ?, '20260101000000', 'x.localhost', 1, '')`, db, strings.Repeat("א", 100))
	if err == nil || !strings.Contains(err.Error(), "Data too long") {
		t.Fatalf("the binary column took a 200-byte sitename: %v", err)
	}
}

func srUserID(t *testing.T, name string) int {
	t.Helper()
	server, _ := deps.Clusters.Server("c1")
	var id int
	err := server.QueryRowContext(testContext(t, 10*time.Second), "SELECT user_id FROM metawiki.user WHERE user_name = ?", name).Scan(&id)
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	return id
}
