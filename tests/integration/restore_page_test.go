//go:build integration

package integration

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/restorewiki"
)

// Stewards ask for a restore on the central wiki's Special:Processes; a
// plain user is not offered the form, and a restore of a name with no
// backup is refused by its process, which the page says.
func TestRestoreFormOnTheCentralWiki(t *testing.T) {
	steward := newUser(t, "Steward", "steward")
	plain := newUser(t, "Plain")
	v := newVisitor(t, farmAddr(), "metawiki").login(steward, withPassword(t, steward))
	code, page := v.page("Special:Processes")
	form, _, ok := formFields(page, "wikiflow-restore")
	if code != http.StatusOK || !ok {
		t.Fatalf("a steward's Special:Processes on metawiki: HTTP %d, restore form %v", code, ok)
	}
	_, plainPage := newVisitor(t, farmAddr(), "metawiki").login(plain, withPassword(t, plain)).page("Special:Processes")
	if _, _, ok := formFields(plainPage, "wikiflow-restore"); ok {
		t.Fatal("a plain user is offered the restore form")
	}
	db := uniqueDB("neverwas")
	form.Set("wpwiki", db)
	form.Set("wpreason", "bring it back")
	_, page = v.post("Special:Processes", form)
	if errs := append(errorBoxes(page), formErrors(page)...); !strings.Contains(strings.Join(errs, " "), "no verified backup") {
		t.Fatalf("restore of a wiki with no backup: errors %q", errs)
	}
	st, err := cli.Status(testContext(t, time.Minute), restorewiki.RestoreWikiID(db))
	if err != nil || st.State != process.StateRefused {
		t.Fatalf("the restore process: %+v %v", st, err)
	}
	if cluster, _ := deps.Clusters.FindDatabase(testContext(t, time.Minute), db); cluster != "" {
		t.Fatal("a database was created for a refused restore")
	}
}
