package requestwiki

import (
	"context"

	"github.com/wikiflow/wikiflow/activities"
)

// The activities of the wiki-request review (CreateWiki's cw_requests,
// cw_comments and cw_history).
const (
	NameFileWikiRequest = "FileWikiRequest" // FileRequestInput -> FileRequestResult
	NameEditWikiRequest = "EditWikiRequest" // EditRequestInput -> process.StepResult
	NameUpdateRequest   = "UpdateRequest"   // UpdateRequestInput -> UpdateRequestResult
	NameRequestUserID   = "RequestUserID"   // RequestUserIDInput -> RequestUserIDResult
)

// RequestActionComment is the history action UpdateRequest records for a
// comment alone (with a status and no action, the action is the status).
const RequestActionComment = "comment"

// Activities are the requestwiki process's own activities, on the farm's shared
// dependencies. Their methods are registered one by one (see Register), so
// the helpers of the embedded Farm are never registered a second time.
type Activities struct{ *activities.Farm }

// ErrTypeRequestNotFound is the error type of a request id cw_requests does not have.
const ErrTypeRequestNotFound = "RequestNotFound"

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
