package activities

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
)

// The activities of the wiki-request review (CreateWiki's cw_requests,
// cw_comments and cw_history).
const (
	NameFileWikiRequest = "FileWikiRequest" // FileRequestInput -> FileRequestResult
	NameEditWikiRequest = "EditWikiRequest" // EditRequestInput -> process.StepResult
	NameUpdateRequest   = "UpdateRequest"   // UpdateRequestInput -> UpdateRequestResult
	NameRequestUserID   = "RequestUserID"   // RequestUserIDInput -> RequestUserIDResult
)

// ErrRequestNotFound is the error type of a request id cw_requests does not have.
const ErrRequestNotFound = "RequestNotFound"

// RequestActionComment is the history action UpdateRequest records for a
// comment alone (with a status and no action, the action is the status).
const RequestActionComment = "comment"

// SystemUser is the farm account under which UpdateRequest records what the
// farm itself does (an input without User): a MediaWiki system user (no
// password, cannot log in), created on first use as CreateWiki does for
// its own comments.
const SystemUser = "WikiFlow"

// FileRequestInput is a request for a new wiki, as its requester files it.
type FileRequestInput struct {
	DB        string `json:"db"`
	Sitename  string `json:"sitename"`
	Language  string `json:"language"`
	Private   bool   `json:"private,omitempty"`
	Category  string `json:"category,omitempty"`
	Reason    string `json:"reason,omitempty"` // cw_comment
	Requester string `json:"requester"`
	// Central is the central wiki, where the requester's account is looked up.
	Central string `json:"central"`
	// URL is cw_url; empty uses the wiki's address on this farm.
	URL string `json:"url,omitempty"`
	Bio bool   `json:"bio,omitempty"`
	// Key makes filing idempotent; empty uses the calling workflow's run.
	Key string `json:"key,omitempty"`
}

type FileRequestResult struct {
	ID     int64 `json:"id"`
	UserID int   `json:"user_id"`
	// Requester is the requester's canonical name, as MediaWiki gives it.
	Requester string `json:"requester,omitempty"`
}

// FileWikiRequest files a request in cw_requests (status inreview) under
// the requester's farm user id, after CreateWiki's checks: the name rules,
// a language MediaWiki ships, a wiki that does not exist yet, a requester
// with an account. A retry returns the request the first attempt filed.
func (f *Farm) FileWikiRequest(ctx context.Context, in FileRequestInput) (FileRequestResult, error) {
	spec := process.WikiSpec{DB: in.DB, Sitename: in.Sitename, Language: in.Language, Category: in.Category, Private: in.Private}
	if err := f.Rules.Check(spec, in.Requester); err != nil {
		return FileRequestResult{}, permanent(ErrInvalidInput, "%v", err)
	}
	known, err := f.knownLanguages()
	if err != nil {
		return FileRequestResult{}, err
	}
	if !known[in.Language] {
		return FileRequestResult{}, permanent(ErrInvalidInput, "invalid wiki request: MediaWiki does not know the language %q", in.Language)
	}
	if _, err := f.Central.Wiki(ctx, in.DB); err == nil {
		return FileRequestResult{}, permanent(ErrWikiExists, "the wiki %s already exists (registered in cw_wikis)", in.DB)
	} else if !errors.Is(err, farmdb.ErrWikiNotFound) {
		return FileRequestResult{}, err
	}
	userID, canonical, err := f.lookupFarmUser(ctx, in.Central, in.Requester)
	if err != nil {
		return FileRequestResult{}, err
	}
	key := in.Key
	if key == "" && activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		key = info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID
	}
	address := in.URL
	if address == "" {
		if u := f.API.BaseURL(in.DB); len(u) <= 96 {
			address = u
		}
	}
	id, err := f.Central.CreateRequest(ctx, farmdb.Request{
		DBName: in.DB, Sitename: in.Sitename, Language: in.Language, Private: in.Private, Category: in.Category,
		URL: address, Comment: in.Reason, UserID: userID, Bio: in.Bio, Key: key,
	})
	if err != nil {
		return FileRequestResult{}, classifyRequestErr(err)
	}
	activity.GetLogger(ctx).Info("wiki request filed", "id", id, "db", in.DB)
	return FileRequestResult{ID: id, UserID: userID, Requester: canonical}, nil
}

// EditRequestInput is the requester's edit of their request; empty fields
// stay as they are.
type EditRequestInput struct {
	ID       int64  `json:"id"`
	Sitename string `json:"sitename,omitempty"`
	Language string `json:"language,omitempty"`
	Category string `json:"category,omitempty"`
	// Comment, when not empty, replaces the request's reason (cw_comment).
	Comment string `json:"comment,omitempty"`
	// Private, when not nil, changes the wiki's privacy.
	Private *bool `json:"private,omitempty"`
}

// EditWikiRequest changes what the requester may edit in cw_requests
// (sitename, language, category, privacy, reason). Idempotent.
func (f *Farm) EditWikiRequest(ctx context.Context, in EditRequestInput) (process.StepResult, error) {
	req, err := f.Central.GetRequest(ctx, in.ID)
	if err != nil {
		return process.StepResult{}, classifyRequestErr(err)
	}
	var changed []string
	set := func(field string, dst *string, v string) {
		if v != "" && v != *dst {
			*dst = v
			changed = append(changed, field)
		}
	}
	set("sitename", &req.Sitename, in.Sitename)
	set("language", &req.Language, in.Language)
	set("category", &req.Category, in.Category)
	set("reason", &req.Comment, in.Comment)
	if in.Private != nil && *in.Private != req.Private {
		req.Private = *in.Private
		changed = append(changed, "privacy")
	}
	if in.Language != "" {
		known, err := f.knownLanguages()
		if err != nil {
			return process.StepResult{}, err
		}
		if !known[in.Language] {
			return process.StepResult{}, permanent(ErrInvalidInput, "invalid request edit: MediaWiki does not know the language %q", in.Language)
		}
	}
	if len(changed) == 0 {
		return process.StepResult{Summary: fmt.Sprintf("request %d: nothing to change", in.ID)}, nil
	}
	err = f.Central.UpdateRequestDetails(ctx, in.ID, req.Sitename, req.Language, req.Private, req.Category, req.Comment)
	if err != nil {
		return process.StepResult{}, classifyRequestErr(err)
	}
	return process.StepResult{
		Summary: fmt.Sprintf("request %d: changed %s", in.ID, strings.Join(changed, ", ")),
		Outputs: map[string]string{"changed": strings.Join(changed, ",")},
	}, nil
}

// UpdateRequestInput is one reviewer's (or the requester's, or the farm's)
// action on a request.
type UpdateRequestInput struct {
	// Central is the central wiki, where farm accounts are looked up; its
	// database also holds the shared actor table.
	Central string `json:"central"`
	ID      int64  `json:"id"`
	// Status, when not empty, becomes the request's status (inreview,
	// approved, declined, onhold, moredetails, abandoned).
	Status string `json:"status,omitempty"`
	// Comment, when not empty, is added under User's user id; it is also
	// the history entry's details.
	Comment string `json:"comment,omitempty"`
	// User is who acts and must have a farm account; empty means the farm
	// itself (recorded as SystemUser).
	User string `json:"user,omitempty"`
	// Action is the history entry's action; empty means Status, or
	// "comment" when only a comment is given.
	Action string `json:"action,omitempty"`
	// At is when the action happened, from the workflow (workflow.Now): the
	// same At makes a retry add no second comment or history row.
	At time.Time `json:"at"`
}

// UpdateRequestResult tells what the request looks like after the update.
type UpdateRequestResult struct {
	// Status is the request's status now; PreviousStatus what it was when
	// this attempt read it (a retry sees its own earlier change).
	Status         string `json:"status"`
	PreviousStatus string `json:"previous_status"`
	Action         string `json:"action"`
	User           string `json:"user"` // the account recorded, as MediaWiki writes it
	UserID         int    `json:"user_id"`
	ActorID        int64  `json:"actor_id"`
}

// UpdateRequest applies an action to a wiki request: the status (when
// given), a comment (when given) under the user's farm user id, and a
// cw_history row (action, the user's actor, details = the comment). A user
// without a farm account is refused, never recorded as user 0. Idempotent:
// run again with the same input (same At), it adds no second row.
func (f *Farm) UpdateRequest(ctx context.Context, in UpdateRequestInput) (UpdateRequestResult, error) {
	if in.ID <= 0 {
		return UpdateRequestResult{}, permanent(ErrInvalidInput, "invalid request update: no request id")
	}
	if in.At.IsZero() {
		return UpdateRequestResult{}, permanent(ErrInvalidInput, "invalid request update: no time (At) given")
	}
	if in.Status != "" && !farmdb.ValidRequestStatus(in.Status) {
		return UpdateRequestResult{}, permanent(ErrInvalidInput, "invalid request update: unknown status %q (want one of %s)",
			in.Status, strings.Join(farmdb.RequestStatuses, ", "))
	}
	action := in.Action
	switch {
	case action != "":
	case in.Status != "":
		action = in.Status
	case strings.TrimSpace(in.Comment) != "":
		action = RequestActionComment
	default:
		return UpdateRequestResult{}, permanent(ErrInvalidInput, "invalid request update: nothing to do (no status, comment or action)")
	}
	req, err := f.Central.GetRequest(ctx, in.ID)
	if err != nil {
		return UpdateRequestResult{}, classifyRequestErr(err)
	}
	var userID int
	var name string
	if in.User == "" {
		userID, name, err = f.systemUser(ctx, in.Central)
	} else {
		userID, name, err = f.lookupFarmUser(ctx, in.Central, in.User)
	}
	if err != nil {
		return UpdateRequestResult{}, err
	}
	actorID, err := f.farmActorID(ctx, in.Central, name, userID)
	if err != nil {
		return UpdateRequestResult{}, err
	}
	res := UpdateRequestResult{Status: req.Status, PreviousStatus: req.Status, Action: action, User: name, UserID: userID, ActorID: actorID}
	if in.Status != "" {
		if err := f.Central.SetRequestStatus(ctx, in.ID, in.Status); err != nil {
			return UpdateRequestResult{}, classifyRequestErr(err)
		}
		res.Status = in.Status
	}
	if strings.TrimSpace(in.Comment) != "" {
		if err := f.Central.AddRequestComment(ctx, in.ID, in.Comment, userID, in.At); err != nil {
			return UpdateRequestResult{}, classifyRequestErr(err)
		}
	}
	if err := f.Central.AddRequestHistory(ctx, in.ID, action, actorID, in.Comment, in.At); err != nil {
		return UpdateRequestResult{}, classifyRequestErr(err)
	}
	return res, nil
}

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
func (f *Farm) RequestUserID(ctx context.Context, in RequestUserIDInput) (RequestUserIDResult, error) {
	id, name, err := f.lookupFarmUser(ctx, in.Central, in.User)
	if err != nil {
		return RequestUserIDResult{}, err
	}
	return RequestUserIDResult{ID: id, Name: name}, nil
}

// errNoAccount marks a well-formed name without an account (a permanent error).
var errNoAccount = errors.New("no account on the farm")

// lookupFarmUser asks the central wiki (list=users) for a user's id.
func (f *Farm) lookupFarmUser(ctx context.Context, central, user string) (int, string, error) {
	id, name, err := f.queryFarmUser(ctx, central, user)
	if errors.Is(err, errNoAccount) {
		return 0, "", permanent(ErrInvalidInput, "%s has no account on the farm (%s)", user, central)
	}
	return id, name, err
}

func (f *Farm) queryFarmUser(ctx context.Context, central, user string) (int, string, error) {
	if err := farmdb.CheckDBName(central); err != nil {
		return 0, "", permanent(ErrMisconfigured, "the central wiki: %v", err)
	}
	if strings.TrimSpace(user) == "" || strings.ContainsAny(user, "|\x1f") {
		return 0, "", permanent(ErrInvalidInput, "invalid user name %q", user)
	}
	var out struct {
		Query struct {
			Users []struct {
				UserID  int    `json:"userid"`
				Name    string `json:"name"`
				Missing bool   `json:"missing"`
				Invalid bool   `json:"invalid"`
			} `json:"users"`
		} `json:"query"`
	}
	err := f.API.Get(ctx, central, url.Values{"action": {"query"}, "list": {"users"}, "ususers": {user}}, &out)
	if err != nil {
		return 0, "", classifyAPI(err)
	}
	if len(out.Query.Users) != 1 {
		return 0, "", fmt.Errorf("list=users for %q on %s returned %d users", user, central, len(out.Query.Users))
	}
	u := out.Query.Users[0]
	if u.Invalid {
		return 0, "", permanent(ErrInvalidInput, "%q is not a valid user name", user)
	}
	if u.Missing || u.UserID <= 0 {
		return 0, "", errNoAccount
	}
	return u.UserID, u.Name, nil
}

var systemUserID = regexp.MustCompile(`wikiflow-system-user:(\d+)`)

// systemUser returns SystemUser's id, creating the system account (no
// password; an existing normal account of that name is never taken over)
// when the farm has none yet.
func (f *Farm) systemUser(ctx context.Context, central string) (int, string, error) {
	id, name, err := f.queryFarmUser(ctx, central, SystemUser)
	if !errors.Is(err, errNoAccount) {
		return id, name, err
	}
	code := fmt.Sprintf(`$u = User::newSystemUser(%q, ['steal' => false]); echo "wikiflow-system-user:", $u ? $u->getId() : 0, "\n";`, SystemUser)
	out, err := f.Scripts.RunWithInput(ctx, central, code, "eval")
	if err != nil {
		return 0, "", err
	}
	m := systemUserID.FindStringSubmatch(out)
	if m == nil {
		return 0, "", fmt.Errorf("creating the system user %s on %s: unexpected output %q", SystemUser, central, lastLine(out))
	}
	if n, _ := strconv.Atoi(m[1]); n <= 0 {
		return 0, "", permanent(ErrMisconfigured, "the farm has a normal account named %s: it cannot record the farm's own actions", SystemUser)
	}
	return f.lookupFarmUser(ctx, central, SystemUser)
}

// farmActorID finds the user's actor id in the shared actor table, which
// lives in the central wiki's database (the farm's $wgSharedDB).
func (f *Farm) farmActorID(ctx context.Context, central, user string, userID int) (int64, error) {
	w, err := f.Central.Wiki(ctx, central)
	if errors.Is(err, farmdb.ErrWikiNotFound) {
		return 0, permanent(ErrMisconfigured, "the central wiki %s is not registered in cw_wikis", central)
	}
	if err != nil {
		return 0, err
	}
	id, ok, err := f.Clusters.ActorID(ctx, w.Cluster, central, userID)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, permanent(ErrInvalidInput, "%s (user %d) has no actor on the farm", user, userID)
	}
	return id, nil
}

func classifyRequestErr(err error) error {
	switch {
	case errors.Is(err, farmdb.ErrRequestNotFound):
		return permanent(ErrRequestNotFound, "%v", err)
	case errors.Is(err, farmdb.ErrInvalidRequest):
		return permanent(ErrInvalidInput, "%v", err)
	}
	return err
}
