//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
)

// volatileTables change on their own (caches), whatever the activities do.
var volatileTables = map[string]bool{"objectcache": true, "l10n_cache": true, "job": true}

// wikiState is everything a create-wiki activity may change, as text.
func wikiState(t *testing.T, db, requester string) string {
	t.Helper()
	ctx := testContext(t, time.Minute)
	var b strings.Builder
	server, _ := deps.Clusters.Server("c1")
	tables, err := farmdb.Tables(ctx, server, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		if volatileTables[table] {
			continue
		}
		var n int
		if err := server.QueryRowContext(ctx, "SELECT COUNT(*) FROM `"+db+"`.`"+table+"`").Scan(&n); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s=%d ", table, n)
	}
	rows, err := deps.Central.RowCounts(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range sortedKeys(rows) {
		fmt.Fprintf(&b, "\n%s=%d", k, rows[k])
	}
	if w, err := deps.Central.Wiki(ctx, db); err == nil {
		fmt.Fprintf(&b, "\ncw_wikis: %s %s %s %v %s", w.Sitename, w.Language, w.Cluster, w.Private, w.Creation)
	}
	claim, ok, _ := deps.Central.GetClaim(ctx, db)
	fmt.Fprintf(&b, "\nclaim: %v %s", ok, claim.Process)
	_, err = os.Stat(filepath.Join(config.Abs(deps.Config.MediaWiki.UploadRoot), db))
	fmt.Fprintf(&b, "\nuploads: %v", err == nil)
	if len(tables) > 0 {
		var groups string
		_ = server.QueryRowContext(ctx, "SELECT COALESCE(GROUP_CONCAT(ug_group ORDER BY ug_group), '') FROM `"+db+"`.user_groups g JOIN metawiki.user u ON u.user_id = g.ug_user WHERE u.user_name = ?", requester).Scan(&groups)
		fmt.Fprintf(&b, "\nrequester groups: %s", groups)
	}
	return b.String()
}

// creationInput is what the create-wiki activities take to create the
// English wiki db called sitename for requester.
func creationInput(requester, db, sitename string) process.StepInput {
	return process.StepInput{
		ProcessID: createwiki.CreateWikiID(db), Kind: createwiki.KindCreateWiki,
		Wiki:      process.WikiSpec{DB: db, Sitename: sitename, Language: "en"},
		Requester: requester,
	}
}

// Every create-wiki activity, and every undo, run twice in a row against
// the real farm leaves the same state as running it once.
func TestCreateWikiActivitiesAreIdempotent(t *testing.T) {
	farm, err := deps.Activities()
	if err != nil {
		t.Fatal(err)
	}
	env := activityEnv(farm)

	in := creationInput(newUser(t, "Requester"), uniqueDB("idem"), "Idempotent Wiki")
	in.Args = map[string]string{"email": "idem@example.org"}
	requester, db := in.Requester, in.Wiki.DB
	heldByCreation(t, db) // as the creation workflow holds it around its steps
	steps := []struct{ step, activity string }{
		{createwiki.StepValidate, "ValidateWiki"},
		{createwiki.StepCreateDatabase, "CreateDatabase"},
		{createwiki.StepSchema, "CreateSchema"},
		{createwiki.StepRegister, "RegisterWiki"},
		{createwiki.StepRights, "GrantRequesterRights"},
		{createwiki.StepMainPage, "CreateMainPage"},
		{createwiki.StepStorage, "CreateStorage"},
		{createwiki.StepNotify, "NotifyCreated"},
		{"undo storage", "RemoveStorage"},
		{"undo register", "UnregisterWiki"},
		{"undo create-database", "DropDatabase"},
	}
	for _, s := range steps {
		in.Step = s.step
		var states [2]string
		for run := 0; run < 2; run++ {
			if _, err := env.ExecuteActivity(s.activity, in); err != nil {
				t.Fatalf("%s run %d: %v", s.activity, run+1, err)
			}
			states[run] = wikiState(t, db, requester)
		}
		if states[0] != states[1] {
			t.Errorf("%s is not idempotent:\nafter one run:  %s\nafter two runs: %s", s.activity, states[0], states[1])
		}
	}
	if final := wikiState(t, db, requester); !strings.Contains(final, "claim: false") || strings.Contains(final, "cw_wikis:") {
		t.Fatalf("undo left state behind: %s", final)
	}
}
