package mediawiki

import (
	"context"
	"net/url"
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
