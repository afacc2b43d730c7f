package requestwiki

import "github.com/wikiflow/wikiflow/activities"

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
