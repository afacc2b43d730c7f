package client

import (
	"strings"
	"testing"
)

// Visibility queries are built only from checked values: input that would
// change the query's shape is refused, never pasted.
func TestListQueryRefusesInjection(t *testing.T) {
	q, err := ListQuery(ListFilter{Wiki: "demowiki", Kind: "delete-wiki", State: "waiting-approval"})
	if err != nil {
		t.Fatal(err)
	}
	if q != "WikiDB = 'demowiki' AND ProcessKind = 'delete-wiki' AND ProcessState = 'waiting-approval'" {
		t.Fatalf("query: %s", q)
	}
	for _, f := range []ListFilter{
		{Wiki: "x' OR WikiDB != 'y"},
		{Kind: "create-wiki' OR 1=1 OR '"},
		{State: "running OR true"},
	} {
		if q, err := ListQuery(f); err == nil {
			t.Errorf("%+v accepted as %s", f, q)
		}
	}
	if q, _ := ListQuery(ListFilter{}); !strings.Contains(q, "ProcessKind IS NOT NULL") {
		t.Fatalf("empty filter: %s", q)
	}
}

func TestCheckID(t *testing.T) {
	for _, ok := range []string{"create-wiki:demowiki", "change-setting:demowiki:wgMaxArticleSize", "request-wiki:newwiki"} {
		if err := CheckID(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "demowiki", "create-wiki:Demo", "create-wiki:x;drop", "create-wiki:a/../b", "x:y:z:w"} {
		if err := CheckID(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestKnownActions(t *testing.T) {
	for _, a := range []string{"approve", "decline", "cancel", "undelete", "hold", "more-details", "edit-request", "retry", "abort"} {
		if !KnownAction(a) {
			t.Errorf("%s unknown", a)
		}
	}
	if KnownAction("promote") {
		t.Error("promote known")
	}
}
