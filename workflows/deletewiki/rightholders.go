package deletewiki

import (
	"context"
	"sort"
	"strings"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
)

// RightHoldersInput asks who holds Right on Wiki, not counting Exclude.
type RightHoldersInput struct {
	Wiki    string        `json:"wiki"`
	Right   process.Right `json:"right"`
	Exclude []string      `json:"exclude,omitempty"`
}

// RightHoldersResult lists them by name, sorted.
type RightHoldersResult struct {
	Users []string `json:"users"`
}

// CountRightHolders lists the local holders of a right on a wiki over its
// API, minus Exclude (the requester), for the deletion quorum ("2 holders of
// managewiki-core, fewer if the wiki has fewer").
func (f *Activities) CountRightHolders(ctx context.Context, in RightHoldersInput) (RightHoldersResult, error) {
	if err := farmdb.CheckDBName(in.Wiki); err != nil {
		return RightHoldersResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "%v", err)
	}
	if in.Right == "" {
		return RightHoldersResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "no right given")
	}
	holders, err := f.API.RightHolders(ctx, in.Wiki, string(in.Right))
	if err != nil {
		return RightHoldersResult{}, activities.ClassifyAPI(err)
	}
	exclude := map[string]bool{}
	for _, e := range in.Exclude {
		exclude[normalUserName(e)] = true
	}
	users := []string{}
	for _, h := range holders {
		if !exclude[normalUserName(h)] {
			users = append(users, h)
		}
	}
	sort.Strings(users)
	return RightHoldersResult{Users: users}, nil
}

// normalUserName is MediaWiki's form of a user name: spaces, first letter capital.
func normalUserName(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "_", " "))
	if s == "" {
		return s
	}
	r := []rune(s)
	return strings.ToUpper(string(r[0])) + string(r[1:])
}
