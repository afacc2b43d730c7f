//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/process"
)

// mw_settings as ManageWiki writes it: json_encode of an empty set is [],
// and its form stores integers and checkboxes as text. The next change
// through WikiFlow works on such a row, and the wiki applies the values
// with their registry types.
func TestManageWikiSettingsRowsAreRead(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	db, owner := liveWiki(t, "mwrows")
	centralExec(t, ctx, `UPDATE mw_settings SET s_settings = '[]' WHERE s_dbname = ?`, db)
	st, err := cli.ChangeSetting(ctx, db, "wgDefaultSkin", `"monobook"`, owner, "after ManageWiki")
	if err != nil {
		t.Fatalf("a change on a row holding []: %v", err)
	}
	st = waitFor(t, cli, st.ID, time.Minute, process.StateCompleted)
	if s := st.Step("apply"); s == nil || s.Attempts != 1 {
		t.Fatalf("the change needed a person or retries on a [] row: %+v", st.Steps)
	}
	settings, err := deps.Central.ReadSettings(ctx, db)
	if err != nil || string(settings["wgDefaultSkin"]) != `"monobook"` {
		t.Fatalf("settings after the change: %v %v", settings, err)
	}

	// As ManageWiki's form leaves them: text for an integer and a checkbox.
	centralExec(t, ctx, `UPDATE mw_settings SET s_settings = '{"wgMaxArticleSize":"1500","wgMainPageIsDomainRoot":"1"}' WHERE s_dbname = ?`, db)
	si, err := deps.API.SiteInfo(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if si.MaxArticleSize != 1500*1024 {
		t.Errorf("maxarticlesize %d: the wiki dropped ManageWiki's \"1500\"", si.MaxArticleSize)
	}
	if v, _ := si.Raw["mainpageisdomainroot"].(bool); !v {
		t.Errorf("mainpageisdomainroot %v: the wiki dropped ManageWiki's \"1\"", si.Raw["mainpageisdomainroot"])
	}

	// The old value the next change records is read with its type.
	st, err = cli.ChangeSetting(ctx, db, "wgMainPageIsDomainRoot", "false", owner, "back")
	if err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, cli, st.ID, time.Minute, process.StateCompleted)
	if st.Result["old"] != "true" || st.Result["new"] != "false" {
		t.Errorf("old %q new %q, want true -> false", st.Result["old"], st.Result["new"])
	}
}

// CreateWiki's cached wiki lists follow every change of a wiki's existence:
// created, deleted (its grace period), undeleted.
func TestWikiListsFollowTheFarm(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	db, owner := liveWiki(t, "listed")
	wantListed(t, db, "databases", "combi")
	steward := newUser(t, "Steward", "steward")
	c := shortGrace(time.Hour)
	id := stewardApprovedDeletion(t, c, db, owner, "lists", steward, "")
	waitFor(t, c, id, time.Minute, process.StateGracePeriod)
	wantListed(t, db, "deleted", "databases")
	if _, err := c.Undelete(ctx, id, owner); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, id, time.Minute, process.StateCancelled)
	wantListed(t, db, "databases", "combi")
}

// wantListed checks that db is in the list file's section, and only there.
func wantListed(t *testing.T, db, file, section string) {
	t.Helper()
	read := func(name, key string) map[string]any {
		b, err := os.ReadFile(filepath.Join(config.Abs(deps.Config.MediaWiki.WikiListDir), name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s.json: %v", name, err)
		}
		m, _ := out[key].(map[string]any)
		return m
	}
	in := read(file, section)
	if _, ok := in[db]; !ok {
		t.Fatalf("%s is not in %s.json", db, file)
	}
	other, otherSection := "deleted", "databases"
	if file == "deleted" {
		other, otherSection = "databases", "combi"
	}
	if _, ok := read(other, otherSection)[db]; ok {
		t.Fatalf("%s is also in %s.json", db, other)
	}
}
