package farmdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseSchemaMakesEveryStatementIdempotent(t *testing.T) {
	src := `-- comment
CREATE TABLE /*_*/updatelog (
  ul_key VARCHAR(255) NOT NULL,
  PRIMARY KEY(ul_key)
) /*$wgDBTableOptions*/;

CREATE UNIQUE INDEX /*i*/ul_x ON /*_*/updatelog (ul_key);
INSERT INTO /*_*/updatelog SELECT 'a' AS ul_key UNION SELECT 'b';
`
	got, err := ParseSchema(strings.ReplaceAll(src, "/*i*/", ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("want 3 statements, got %d: %+v", len(got), got)
	}
	want := []string{
		"CREATE TABLE IF NOT EXISTS updatelog (",
		"CREATE UNIQUE INDEX IF NOT EXISTS ul_x ON updatelog",
		"INSERT IGNORE INTO updatelog SELECT",
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i].SQL, w) {
			t.Errorf("statement %d: want prefix %q, got %q", i, w, got[i].SQL)
		}
	}
	if !strings.Contains(got[0].SQL, TableOptions) || strings.Contains(got[0].SQL, "/*") {
		t.Errorf("placeholders not replaced: %s", got[0].SQL)
	}
	if got[0].Object != "table updatelog" {
		t.Errorf("object: %q", got[0].Object)
	}
}

func TestParseSchemaRefusesWhatCannotBeRerun(t *testing.T) {
	_, err := ParseSchema("ALTER TABLE page ADD x INT;\n")
	if err == nil || !strings.Contains(err.Error(), "ALTER TABLE") {
		t.Fatalf("want a refusal naming the statement, got %v", err)
	}
}

func TestInterwikiLikeTheInstaller(t *testing.T) {
	got := Interwiki("# header\nacronym|https://a.example/$1|0|\nit's|http://x/$1|1|  # trailing\n\n")
	if len(got) != 1 || got[0].Object != "2 rows of interwiki" {
		t.Fatalf("want one statement of 2 rows, got %+v", got)
	}
	if !strings.HasPrefix(got[0].SQL, "INSERT IGNORE INTO interwiki (iw_prefix, iw_url, iw_local, iw_api, iw_wikiid) VALUES ('acronym', 'https://a.example/$1', '0', '', ''), ") {
		t.Fatalf("rows: %s", got[0].SQL)
	}
	if !strings.Contains(got[0].SQL, "'it''s'") {
		t.Fatalf("quote not escaped: %s", got[0].SQL)
	}
}

func TestQuoteDBRefusesUnsafeNames(t *testing.T) {
	for _, bad := range []string{"x;drop", "Bad-Name", "a`b", "", strings.Repeat("a", 65)} {
		if _, err := QuoteDB(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if q, err := QuoteDB("demowiki"); err != nil || q != "`demowiki`" {
		t.Fatalf("got %q %v", q, err)
	}
}

func TestExecAllBoundsConcurrencyAndReportsErrors(t *testing.T) {
	stmts := make([]Statement, 20)
	for i := range stmts {
		stmts[i] = Statement{Object: fmt.Sprint(i), CreatesTable: true}
	}
	var mu sync.Mutex
	inFlight, most, ran := 0, 0, 0
	err := execAll(context.Background(), stmts, 4, func(st Statement) error {
		mu.Lock()
		inFlight++
		ran++
		most = max(most, inFlight)
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		if st.Object == "7" {
			return errors.New("table 7 failed")
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "table 7 failed") {
		t.Fatalf("want the failure reported, got %v", err)
	}
	if most > 4 || most < 2 || ran != 20 {
		t.Fatalf("at most %d at once (want 2..4), %d ran (want all 20)", most, ran)
	}
}
