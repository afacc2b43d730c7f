package requestwiki

import (
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/farmdb"
)

// The comment an update writes is the person's words, as CreateWiki
// records them: decisions lose the gate's "approve: " prefix, an empty
// decision writes nothing, a reopened request gets CreateWiki's own text by
// the farm, and the farm's status changes follow the decisions of their time.
func TestRequestComment(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in       UpdateRequestInput
		text     string
		bySystem bool
		follows  bool
	}{
		{UpdateRequestInput{Action: "approve", Comment: "approve: fine", User: "A", At: at}, "fine", false, false},
		{UpdateRequestInput{Action: "approve", Comment: "approve: ", User: "A", At: at}, "", false, false},
		{UpdateRequestInput{Action: "decline", Comment: "decline:", User: "A", At: at}, "", false, false},
		{UpdateRequestInput{Action: "cancel", Comment: "cancel: changed my mind", User: "R", At: at}, "changed my mind", false, false},
		{UpdateRequestInput{Status: farmdb.RequestOnHold, Action: farmdb.RequestOnHold, User: "A", At: at}, "", false, false},
		{UpdateRequestInput{Status: farmdb.RequestMoreDetails, Comment: "why?", User: "A", At: at}, "why?", false, false},
		{UpdateRequestInput{Status: farmdb.RequestInReview, Comment: "Edited by the requester: x", User: "R", At: at}, farmdb.ReopenedComment, true, false},
		{UpdateRequestInput{Status: farmdb.RequestApproved, Comment: "Approved by A and B", At: at}, "Approved by A and B", true, true},
		{UpdateRequestInput{Action: "create-wiki", Comment: "The wiki's creation ended completed.", At: at}, "The wiki's creation ended completed.", true, false},
		{UpdateRequestInput{Comment: "approve: stays", User: "A", At: at}, "approve: stays", false, false},
	} {
		text, bySystem, follows := requestComment(tc.in)
		if text != tc.text || bySystem != tc.bySystem || follows != tc.follows {
			t.Errorf("%+v: got %q %v %v, want %q %v %v", tc.in, text, bySystem, follows, tc.text, tc.bySystem, tc.follows)
		}
	}
}
