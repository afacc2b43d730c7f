package farmdb

import (
	"context"
	"database/sql"
	"time"
)

// A wiki's users as the databases know them, for when the wiki's API no
// longer answers (a wiki marked deleted is not served): group memberships
// are in the wiki's own user_groups, names and email addresses in the
// farm's shared user table.

// GroupMemberIDs lists the user ids of a group's current members from the
// wiki's own user_groups on server (the wiki's cluster). A membership
// whose expiry has passed does not count, as MediaWiki does not count it.
func GroupMemberIDs(ctx context.Context, server *sql.DB, dbname, group string) ([]int64, error) {
	query, err := groupMembersQuery(dbname)
	if err != nil {
		return nil, err
	}
	return queryAll(ctx, server, scanValue[int64], query, group, Timestamp(time.Now()))
}

func groupMembersQuery(dbname string) (string, error) {
	quoted, err := QuoteDB(dbname)
	if err != nil {
		return "", err
	}
	return "SELECT ug_user FROM " + quoted + ".user_groups WHERE ug_group = ? AND (ug_expiry IS NULL OR ug_expiry > ?)", nil
}

// SharedUsers is the farm's shared user table: the `user` table of the
// central wiki's database (MediaWiki's $wgSharedDB), which every wiki
// reads its accounts from, on the server of the cluster that holds it.
type SharedUsers struct {
	Server *sql.DB
	DB     string // the central wiki's database
}

// table is the table's quoted name, database included.
func (s SharedUsers) table() (string, error) {
	quoted, err := QuoteDB(s.DB)
	if err != nil {
		return "", err
	}
	return quoted + ".`user`", nil
}

// Names are the names of the users with these ids, sorted. An id with no
// account is left out; no ids ask nothing and answer none.
func (s SharedUsers) Names(ctx context.Context, ids []int64) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	query, err := s.namesQuery(len(ids))
	if err != nil {
		return nil, err
	}
	return queryAll(ctx, s.Server, scanValue[string], query, anys(ids)...)
}

func (s SharedUsers) namesQuery(n int) (string, error) {
	table, err := s.table()
	if err != nil {
		return "", err
	}
	return "SELECT user_name FROM " + table + " WHERE user_id IN (" + placeholders(n) + ") ORDER BY user_name", nil
}

// ConfirmedEmails maps each of the named users who has an email address
// they confirmed (user_email_authenticated is set) to that address; the
// others are left out, since mail to an unconfirmed address may reach
// someone else. No names ask nothing and answer an empty map.
func (s SharedUsers) ConfirmedEmails(ctx context.Context, names []string) (map[string]string, error) {
	out := map[string]string{}
	if len(names) == 0 {
		return out, nil
	}
	query, err := s.confirmedEmailsQuery(len(names))
	if err != nil {
		return nil, err
	}
	type address struct{ name, email string }
	found, err := queryAll(ctx, s.Server, func(rows *sql.Rows) (a address, err error) {
		err = rows.Scan(&a.name, &a.email)
		return a, err
	}, query, anys(names)...)
	if err != nil {
		return nil, err
	}
	for _, a := range found {
		out[a.name] = a.email
	}
	return out, nil
}

func (s SharedUsers) confirmedEmailsQuery(n int) (string, error) {
	table, err := s.table()
	if err != nil {
		return "", err
	}
	return "SELECT user_name, user_email FROM " + table + " WHERE user_name IN (" + placeholders(n) +
		") AND user_email <> '' AND user_email_authenticated IS NOT NULL", nil
}
