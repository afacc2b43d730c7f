package farmdb

import (
	"context"
	"testing"
)

// The user queries name their databases only through QuoteDB and bind
// every value (group, time, ids, names) as a parameter, one per value.
func TestUserQueries(t *testing.T) {
	q, err := groupMembersQuery("demowiki")
	if want := "SELECT ug_user FROM `demowiki`.user_groups WHERE ug_group = ? AND (ug_expiry IS NULL OR ug_expiry > ?)"; err != nil || q != want {
		t.Errorf("groupMembersQuery:\n got %q %v\nwant %q", q, err, want)
	}
	users := SharedUsers{DB: "metawiki"}
	q, err = users.namesQuery(3)
	if want := "SELECT user_name FROM `metawiki`.`user` WHERE user_id IN (?, ?, ?) ORDER BY user_name"; err != nil || q != want {
		t.Errorf("namesQuery:\n got %q %v\nwant %q", q, err, want)
	}
	q, err = users.confirmedEmailsQuery(1)
	if want := "SELECT user_name, user_email FROM `metawiki`.`user` WHERE user_name IN (?) AND user_email <> '' AND user_email_authenticated IS NOT NULL"; err != nil || q != want {
		t.Errorf("confirmedEmailsQuery:\n got %q %v\nwant %q", q, err, want)
	}
}

func TestUserQueriesRefuseUnsafeNames(t *testing.T) {
	for _, bad := range []string{"x`.`y", "meta wiki", "Meta", ""} {
		if q, err := groupMembersQuery(bad); err == nil {
			t.Errorf("groupMembersQuery(%q) accepted: %s", bad, q)
		}
		users := SharedUsers{DB: bad}
		if q, err := users.namesQuery(1); err == nil {
			t.Errorf("namesQuery on %q accepted: %s", bad, q)
		}
		if q, err := users.confirmedEmailsQuery(1); err == nil {
			t.Errorf("confirmedEmailsQuery on %q accepted: %s", bad, q)
		}
	}
}

// No ids or names ask the database nothing (an empty IN list is not SQL):
// the zero SharedUsers has no server, so a query would panic.
func TestSharedUsersWithNothingToAsk(t *testing.T) {
	ctx := context.Background()
	if names, err := (SharedUsers{DB: "metawiki"}).Names(ctx, nil); names != nil || err != nil {
		t.Errorf("Names(nil) = %v, %v", names, err)
	}
	emails, err := (SharedUsers{DB: "metawiki"}).ConfirmedEmails(ctx, nil)
	if emails == nil || len(emails) != 0 || err != nil {
		t.Errorf("ConfirmedEmails(nil) = %v, %v; want an empty map", emails, err)
	}
}
