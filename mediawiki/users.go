package mediawiki

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// GroupMembers lists the users in a group on one wiki
// (list=allusers&augroup=<group>), following continuation.
func (c *Client) GroupMembers(ctx context.Context, wiki, group string) ([]string, error) {
	return c.allUsers(ctx, wiki, url.Values{"augroup": {group}})
}

// RightHolders lists the users who hold a right on one wiki through their
// groups there (list=allusers&aurights=<right>), following continuation.
func (c *Client) RightHolders(ctx context.Context, wiki, right string) ([]string, error) {
	return c.allUsers(ctx, wiki, url.Values{"aurights": {right}})
}

func (c *Client) allUsers(ctx context.Context, wiki string, filter url.Values) ([]string, error) {
	params := url.Values{"action": {"query"}, "list": {"allusers"}, "aulimit": {"max"}}
	for k, v := range filter {
		params[k] = v
	}
	var names []string
	seen := map[string]bool{}
	for {
		var out struct {
			Continue map[string]string `json:"continue"`
			Query    struct {
				AllUsers []struct {
					Name string `json:"name"`
				} `json:"allusers"`
			} `json:"query"`
		}
		if err := c.Get(ctx, wiki, params, &out); err != nil {
			return nil, err
		}
		for _, u := range out.Query.AllUsers {
			if !seen[u.Name] {
				seen[u.Name] = true
				names = append(names, u.Name)
			}
		}
		if len(out.Continue) == 0 {
			return names, nil
		}
		for k, v := range out.Continue {
			params.Set(k, v)
		}
	}
}

// Account is a user as one wiki sees them, named the way MediaWiki names
// them. MediaWiki alone decides which spellings are one account (first
// letter case, underscores, surrounding whitespace, directional marks, a
// "User:" prefix and the rest of its title rules), so callers compare
// accounts by CentralID and record Name, never the spelling they were given.
type Account struct {
	// Name is the canonical user name.
	Name string
	// LocalID is the user id on the wiki asked (what that wiki's own rows,
	// like CreateWiki's cw_user, store).
	LocalID int
	// CentralID identifies the person on the whole farm (the CentralIdLookup
	// MediaWiki is configured with; on a farm sharing its user table, the
	// shared user id). Zero when the account does not exist.
	CentralID int
	// Missing: a valid name with no account. Invalid: not a user name at all.
	Missing bool
	Invalid bool
	Groups  []string
	Rights  []string
}

// Exists tells whether the name is an account.
func (a Account) Exists() bool { return !a.Missing && !a.Invalid && a.CentralID > 0 }

// Has tells whether the account holds a right on the wiki it was read on.
func (a Account) Has(right string) bool { return slices.Contains(a.Rights, right) }

// Account asks a wiki who name is (list=users with groups, rights and
// central ids). A name MediaWiki splits into several users (the API's
// separators) is refused as invalid rather than read as one of them.
func (c *Client) Account(ctx context.Context, wiki, name string) (Account, error) {
	if strings.TrimSpace(name) == "" {
		return Account{Name: name, Invalid: true}, nil
	}
	// User's fields, which encoding/json promotes, and the central ids.
	users, err := listUsers[struct {
		User
		CentralIDs map[string]int `json:"centralids"`
	}](ctx, c, wiki, name, "groups|rights|centralids")
	if err != nil {
		return Account{}, err
	}
	if len(users) != 1 {
		return Account{Name: name, Invalid: true}, nil
	}
	u := users[0]
	a := Account{Name: u.Name, LocalID: u.ID, Missing: u.Missing, Invalid: u.Invalid, Groups: u.Groups, Rights: u.Rights}
	if a.Missing || a.Invalid {
		return a, nil
	}
	a.CentralID = centralID(u.CentralIDs, u.ID)
	return a, nil
}

// User is a user as one wiki sees them.
type User struct {
	ID      int      `json:"userid"`
	Name    string   `json:"name"`
	Missing bool     `json:"missing"`
	Invalid bool     `json:"invalid"`
	Groups  []string `json:"groups"`
	Rights  []string `json:"rights"`
}

// Has tells whether the user holds a right on that wiki.
func (u User) Has(right string) bool { return slices.Contains(u.Rights, right) }

// InGroup tells whether the user is a member of a group on that wiki.
func (u User) InGroup(group string) bool { return slices.Contains(u.Groups, group) }

// User reads a user's groups and rights on one wiki (list=users). Unlike
// Account, a name that is not exactly one user is an error.
func (c *Client) User(ctx context.Context, wiki, name string) (User, error) {
	users, err := listUsers[User](ctx, c, wiki, name, "groups|rights")
	if err != nil {
		return User{}, err
	}
	if len(users) != 1 {
		return User{}, fmt.Errorf("list=users for %q on %s returned %d users", name, wiki, len(users))
	}
	return users[0], nil
}

// listUsers asks a wiki about one name (list=users&ususers=<name>) for
// the properties usprop, decoding each user the API lists into a T.
func listUsers[T any](ctx context.Context, c *Client, wiki, name, usprop string) ([]T, error) {
	var out struct {
		Query struct {
			Users []T `json:"users"`
		} `json:"query"`
	}
	err := c.Get(ctx, wiki, url.Values{
		"action": {"query"}, "list": {"users"}, "ususers": {name}, "usprop": {usprop},
	}, &out)
	return out.Query.Users, err
}

// centralID picks the farm-wide id: a central provider's (CentralAuth) when
// MediaWiki reports one, else the local provider's, which on a farm that
// shares its user table is the same on every wiki.
func centralID(ids map[string]int, local int) int {
	for provider, id := range ids {
		if provider != "local" && id > 0 {
			return id
		}
	}
	if id := ids["local"]; id > 0 {
		return id
	}
	return local
}
