package activities

import (
	"context"
	"errors"
	"fmt"
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
	// URL is not used any more (recorded inputs may carry it): cw_url is
	// always written as CreateWiki writes it, <subdomain>.<mediawiki.subdomain>.
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
	address, err := f.requestURL(in.DB)
	if err != nil {
		return FileRequestResult{}, err
	}
	id, err := f.Central.CreateRequest(ctx, farmdb.Request{
		DBName: in.DB, Sitename: in.Sitename, Language: in.Language, Private: in.Private, Category: in.Category,
		URL: address, Comment: in.Reason, UserID: userID, Bio: in.Bio, Key: key,
	})
	if err != nil {
		return FileRequestResult{}, classifyRequestErr(err)
	}
	if err := f.logRequestFiled(ctx, in, id, canonical); err != nil {
		return FileRequestResult{}, err
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
	// Central is the central wiki (its database holds the shared actor
	// table); empty uses the farm's (WikiRules.CentralWiki).
	Central string `json:"central,omitempty"`
}

// EditWikiRequest changes what the requester may edit in cw_requests
// (sitename, language, category, privacy, reason) as CreateWiki's edit form
// does, in one transaction: the columns, the requester's comment "Updated
// request." and a cw_history entry (edited, or reopened when the request
// was declined, on hold or waiting for details) with CreateWiki's change
// message. Only the requester edits a request (the workflow checks it), so
// the comment and the entry are theirs (cw_user). Idempotent: an edit that
// changes nothing writes nothing.
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
	central := in.Central
	if central == "" {
		central = f.Rules.CentralWiki
	}
	if central == "" {
		return process.StepResult{}, permanent(ErrMisconfigured, "editing a request needs the central wiki (its actor table)")
	}
	actorID, err := f.farmActorID(ctx, central, fmt.Sprint("user ", req.UserID), req.UserID)
	if err != nil {
		return process.StepResult{}, err
	}
	edit, err := f.Central.EditRequest(ctx, in.ID, farmdb.RequestEdit{
		Sitename: in.Sitename, Language: in.Language, Category: in.Category, Reason: in.Comment, Private: in.Private,
	}, actorID, time.Now())
	if err != nil {
		return process.StepResult{}, classifyRequestErr(err)
	}
	if len(edit.Changes) == 0 { // a retry found its own earlier edit
		return process.StepResult{Summary: fmt.Sprintf("request %d: nothing to change", in.ID)}, nil
	}
	return process.StepResult{
		Summary: fmt.Sprintf("request %d: changed %s", in.ID, strings.Join(changed, ", ")),
		Outputs: map[string]string{"changed": strings.Join(changed, ","), "history": edit.Action},
	}, nil
}

// requestURL is the cw_url CreateWiki writes for a database name.
func (f *Farm) requestURL(db string) (string, error) {
	if f.Rules.Subdomain == "" {
		return "", permanent(ErrMisconfigured, "no farm domain for cw_url (mediawiki.subdomain)")
	}
	u := farmdb.RequestURL(db, f.Rules.Suffix, f.Rules.Subdomain)
	if len(u) > 96 {
		return "", permanent(ErrInvalidInput, "invalid wiki request: the wiki's address %s is %d bytes long, cw_url holds at most 96", u, len(u))
	}
	return u, nil
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
	// Comment, when it holds words, is added to cw_comments under User's
	// user id (see UpdateRequest for what is written).
	Comment string `json:"comment,omitempty"`
	// User is who acts and must have a farm account; empty means the farm
	// itself (recorded as SystemUser).
	User string `json:"user,omitempty"`
	// Action names the action (a decision: approve, decline, cancel; or
	// create-wiki, ...); empty means Status, or "comment" when only a
	// comment is given. It is not written to cw_history, which holds only
	// CreateWiki's edit actions.
	Action string `json:"action,omitempty"`
	// At is when the action happened, from the workflow (workflow.Now): the
	// same input with the same At makes a retry add no second comment.
	At time.Time `json:"at"`
	// Expect, when set, is the status the caller last wrote: if another
	// writer (CreateWiki's own form) changed it since, nothing is written
	// and the result says Changed with the status found.
	Expect string `json:"expect,omitempty"`
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
	// Changed: the status was not Expect; nothing was written.
	Changed bool `json:"changed,omitempty"`
}

// UpdateRequest applies an action to a wiki request as CreateWiki records
// one: the status (when given) in cw_requests, and at most one comment in
// cw_comments with the person's words. A decision's comment ("approve:
// <words>" from the approval gate) keeps only the words, and a decision
// without words adds no comment (CreateWiki stores none empty); a request
// put back in review gets CreateWiki's own "back in the queue" comment by
// the farm's system user. Each comment takes the first second from At that
// the request's other comments leave free, and the farm's own status
// change stays after the decisions it carries out (see
// farmdb.CommentWrite.Follows), so CreateWiki's viewer, which keys comments
// by timestamp, shows them all in order. Nothing goes to cw_history (CreateWiki puts status changes in
// Special:Log). A user without a farm account is refused, never recorded
// as user 0. Idempotent: run again with the same input (same At), it adds
// no second row (its key is kept in wf_request_keys).
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
		found, err := f.Central.SetRequestStatusIf(ctx, in.ID, in.Status, in.Expect)
		if errors.Is(err, farmdb.ErrStatusChanged) {
			res.Status, res.Changed = found, true
			return res, nil
		}
		if err != nil {
			return UpdateRequestResult{}, classifyRequestErr(err)
		}
		res.Status = in.Status
	}
	if err := f.logRequestUpdate(ctx, in, req.DBName, res); err != nil {
		return UpdateRequestResult{}, err
	}
	text, bySystem, follows := requestComment(in)
	if strings.TrimSpace(text) == "" {
		return res, nil
	}
	author := userID
	if bySystem && in.User != "" {
		if author, _, err = f.systemUser(ctx, in.Central); err != nil {
			return UpdateRequestResult{}, err
		}
	}
	_, err = f.Central.WriteRequestComment(ctx, farmdb.CommentWrite{
		Request: in.ID, Comment: text, UserID: author, At: in.At, Key: updateKey(in), Follows: follows,
	})
	if err != nil {
		return UpdateRequestResult{}, classifyRequestErr(err)
	}
	return res, nil
}

// requestComment is the comment CreateWiki would show for an update,
// whether the farm's system user writes it, and whether it carries out the
// decisions made until its time (the farm's own status change, which the
// workflow runs beside the decisive vote's comment).
func requestComment(in UpdateRequestInput) (text string, bySystem, follows bool) {
	switch {
	case in.Status == farmdb.RequestInReview:
		// Only the requester's edit puts a request back in review; the edit
		// wrote their comment, CreateWiki adds this one as the farm.
		return farmdb.ReopenedComment, true, false
	case in.Status == "" && isDecision(in.Action):
		text = strings.TrimPrefix(strings.TrimPrefix(in.Comment, in.Action+":"), " ")
	default:
		text = in.Comment
	}
	return text, in.User == "", in.User == "" && in.Status != ""
}

func isDecision(action string) bool {
	switch action {
	case process.DecisionApprove, process.DecisionDecline, process.DecisionCancel:
		return true
	}
	return false
}

// updateKey identifies one update: a retry has the same input.
func updateKey(in UpdateRequestInput) string {
	return strings.Join([]string{"update", in.Status, in.Action, in.User, in.At.UTC().Format(time.RFC3339Nano), in.Comment}, "\x00")
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
	u, err := f.API.Account(ctx, central, user)
	if err != nil {
		return 0, "", classifyAPI(err)
	}
	if u.Invalid {
		return 0, "", permanent(ErrInvalidInput, "%q is not a valid user name", user)
	}
	if u.Missing || u.LocalID <= 0 {
		return 0, "", errNoAccount
	}
	return u.LocalID, u.Name, nil
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
