package requestwiki

import (
	"context"
)

type RequestUserIDInput struct {
	// Central is the central wiki, where farm accounts live.
	Central string `json:"central"`
	User    string `json:"user"`
}

type RequestUserIDResult struct {
	ID int `json:"id"`
	// Name is the account's name as MediaWiki writes it (first letter upper case).
	Name string `json:"name"`
}

// RequestUserID returns the farm user id of the person filing a request
// (cw_requests.cw_user); a name without an account is refused.
func (f *Activities) RequestUserID(ctx context.Context, in RequestUserIDInput) (RequestUserIDResult, error) {
	id, name, err := f.LookupFarmUser(ctx, in.Central, in.User)
	if err != nil {
		return RequestUserIDResult{}, err
	}
	return RequestUserIDResult{ID: id, Name: name}, nil
}
