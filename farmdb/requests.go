package farmdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// CreateWiki's wiki requests: cw_requests, with their comments (cw_comments)
// and edit history (cw_history), in the extension's own columns and in the
// database CreateWiki reads them from (Central.Requests, the central wiki's),
// written as CreateWiki writes them: one comment per action and none empty,
// each comment and history entry of a request in its own second (its
// viewer keys them by timestamp), cw_history only for what CreateWiki puts
// there (edits), lengths in bytes (the tables are binary).

// Request statuses (cw_requests.cw_status).
const (
	RequestInReview    = "inreview"
	RequestApproved    = "approved"
	RequestDeclined    = "declined"
	RequestOnHold      = "onhold"
	RequestMoreDetails = "moredetails"
	RequestAbandoned   = "abandoned"
)

// RequestStatuses are the only statuses a request may have.
var RequestStatuses = []string{
	RequestInReview, RequestApproved, RequestDeclined, RequestOnHold, RequestMoreDetails, RequestAbandoned,
}

// ValidRequestStatus tells whether s is one of RequestStatuses.
func ValidRequestStatus(s string) bool { return slices.Contains(RequestStatuses, s) }

var (
	// ErrRequestNotFound means cw_requests has no row with that id.
	ErrRequestNotFound = errors.New("no such wiki request in cw_requests")
	// ErrInvalidRequest wraps every refusal of a request's content (a bad
	// status, a field too long, ...): retrying cannot fix it.
	ErrInvalidRequest = errors.New("invalid wiki request")
)

func invalidRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
}

// Request is a row of cw_requests.
type Request struct {
	ID       int64
	DBName   string // cw_dbname
	Sitename string
	Language string
	Private  bool
	Category string
	URL      string // cw_url, the requested address
	Comment  string // cw_comment: the requester's reason
	UserID   int    // cw_user: the requester's user id on the farm
	Bio      bool   // cw_bio: the wiki is about a living person
	// Visibility is cw_visibility (0 public; CreateWiki uses higher values
	// for hidden and suppressed requests).
	Visibility int
	Locked     bool   // cw_locked
	Status     string // cw_status
	Timestamp  string // cw_timestamp, MediaWiki format (UTC, yyyymmddhhmmss)
	// Key, when set, makes CreateRequest idempotent: a second CreateRequest
	// with the same key and database name returns the first one's id. It is
	// kept in WikiFlow's wf_request_keys, never in cw_extra. Input only:
	// GetRequest leaves it empty.
	Key string
}

// History actions: the only ones CreateWiki writes to cw_history (status
// changes go to Special:Log instead).
const (
	HistoryEdited   = "edited"
	HistoryReopened = "reopened"
	HistoryAIError  = "ai-error"
)

// HistoryActions are the actions cw_history may hold.
var HistoryActions = []string{HistoryEdited, HistoryReopened, HistoryAIError}

// CreateWiki's own texts (its i18n/en.json, content language English) for
// the comments it writes itself.
const (
	// UpdatedComment is the requester's comment on an edit of their request
	// (createwiki-request-updated).
	UpdatedComment = "Updated request."
	// ReopenedComment is the farm's comment when an edit puts a request back
	// in review (requestwiki-moredetails-reopened).
	ReopenedComment = "Thank you for updating your wiki request. Your wiki request is now back in the queue."
)

// RequestURL is cw_url as CreateWiki writes it: the subdomain (the
// database name without its suffix), a dot and the farm's domain
// ($wgCreateWikiSubdomain), no scheme.
func RequestURL(dbname, suffix, domain string) string {
	return strings.TrimSuffix(dbname, suffix) + "." + domain
}

// checkText enforces a VARCHAR column's length. MediaWiki makes the
// tables binary (VARCHAR becomes VARBINARY), so the limit counts bytes of
// UTF-8, not characters: 100 Hebrew letters are 200 bytes.
func checkText(field, value string, limit int, required bool) error {
	if required && strings.TrimSpace(value) == "" {
		return invalidRequest("%s is empty", field)
	}
	if !utf8.ValidString(value) {
		return invalidRequest("%s is not valid UTF-8", field)
	}
	if n := len(value); n > limit {
		return invalidRequest("%s is %d bytes long in UTF-8 (%d characters), at most %d bytes", field, n, utf8.RuneCountInString(value), limit)
	}
	return nil
}

func (r Request) check() error {
	if err := CheckDBName(r.DBName); err != nil {
		return invalidRequest("%v", err)
	}
	if err := checkDetails(r.Sitename, r.Language, r.Category, r.Comment); err != nil {
		return err
	}
	if err := checkText("url", r.URL, 96, false); err != nil {
		return err
	}
	if strings.Contains(r.URL, "/") {
		return invalidRequest("url %q must be a host name (<subdomain>.<domain>, no scheme or path), as CreateWiki writes cw_url", r.URL)
	}
	if r.UserID <= 0 {
		return invalidRequest("the requester's user id must be positive, got %d", r.UserID)
	}
	if r.Visibility < 0 || r.Visibility > 255 {
		return invalidRequest("visibility %d is out of 0..255", r.Visibility)
	}
	return nil
}

func checkDetails(sitename, language, category, comment string) error {
	if err := checkText("sitename", sitename, 128, true); err != nil {
		return err
	}
	if err := checkText("language", language, 12, true); err != nil {
		return err
	}
	if err := checkText("category", category, 64, false); err != nil {
		return err
	}
	return checkBlob("comment", comment)
}

// checkBlob enforces a TEXT or BLOB column's length (65535 bytes).
func checkBlob(field, value string) error {
	if !utf8.ValidString(value) {
		return invalidRequest("%s is not valid UTF-8", field)
	}
	if len(value) > 65535 {
		return invalidRequest("%s is %d bytes long, at most 65535", field, len(value))
	}
	return nil
}

// CreateRequest files a wiki request: status inreview, timestamp now, as
// CreateWiki's form files one (cw_extra empty: WikiFlow's forms have no
// extra fields). With a Key, filing the same request again returns the
// existing id: the key is claimed in wf_request_keys in the same
// transaction as the row, so a crash leaves either both or neither, and a
// concurrent filing with the same key waits and then answers the same id.
func (c *Central) CreateRequest(ctx context.Context, r Request) (int64, error) {
	if err := r.check(); err != nil {
		return 0, err
	}
	if r.Key != "" {
		if err := checkText("key", r.Key, 1024, true); err != nil {
			return 0, err
		}
	}
	now := Timestamp(time.Now())
	var id int64
	err := inTx(ctx, c.Requests(), func(tx *sql.Tx) error {
		key := ""
		if r.Key != "" {
			key = keyName("file", r.DBName, r.Key)
			fresh, got, _, err := claimKey(ctx, tx, key, 0, now)
			if err != nil || !fresh {
				id = got
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO cw_requests
			(cw_comment, cw_dbname, cw_language, cw_private, cw_sitename, cw_status, cw_timestamp,
			 cw_url, cw_user, cw_category, cw_visibility, cw_bio)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Comment, r.DBName, r.Language, r.Private, r.Sitename, RequestInReview, now,
			r.URL, r.UserID, r.Category, r.Visibility, r.Bio)
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil || key == "" {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE wf_request_keys SET key_request = ? WHERE key_name = ?`, id, key)
		return err
	})
	return id, err
}

// GetRequest reads one request.
func (c *Central) GetRequest(ctx context.Context, id int64) (Request, error) {
	r := Request{ID: id}
	err := c.Requests().QueryRowContext(ctx, `SELECT COALESCE(cw_comment, ''), COALESCE(cw_dbname, ''), cw_language,
		cw_private, cw_sitename, COALESCE(cw_status, ''), cw_timestamp, cw_url, cw_user, cw_category,
		cw_visibility, cw_locked, cw_bio
		FROM cw_requests WHERE cw_id = ?`, id).Scan(&r.Comment, &r.DBName, &r.Language, &r.Private, &r.Sitename,
		&r.Status, &r.Timestamp, &r.URL, &r.UserID, &r.Category, &r.Visibility, &r.Locked, &r.Bio)
	if errors.Is(err, sql.ErrNoRows) {
		return Request{}, fmt.Errorf("request %d: %w", id, ErrRequestNotFound)
	}
	return r, err
}

// lockRequest locks the request's row for the rest of the transaction, so
// that check-then-insert steps on its comments and history do not race.
func lockRequest(ctx context.Context, tx *sql.Tx, id int64) (status string, err error) {
	err = tx.QueryRowContext(ctx, `SELECT COALESCE(cw_status, '') FROM cw_requests WHERE cw_id = ? FOR UPDATE`, id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("request %d: %w", id, ErrRequestNotFound)
	}
	return status, err
}

// SetRequestStatus sets the request's status to one of RequestStatuses;
// any other is refused (ErrInvalidRequest). Setting the status it has
// changes nothing.
func (c *Central) SetRequestStatus(ctx context.Context, id int64, status string) error {
	_, err := c.SetRequestStatusIf(ctx, id, status, "")
	return err
}

// ErrStatusChanged means the request's status is not the one the caller
// expected: another writer (CreateWiki's own review form) changed it.
var ErrStatusChanged = errors.New("the request's status was changed by someone else")

// SetRequestStatusIf sets the status only while it is still expect (any
// status when expect is empty), in one locked read-modify-write, and
// returns the status found. A status already equal to the new one is no
// change (a retry of an earlier write). Otherwise a status other than
// expect is left alone and the answer wraps ErrStatusChanged.
func (c *Central) SetRequestStatusIf(ctx context.Context, id int64, status, expect string) (string, error) {
	if !ValidRequestStatus(status) {
		return "", invalidRequest("unknown request status %q (want one of %s)", status, strings.Join(RequestStatuses, ", "))
	}
	var found string
	err := inTx(ctx, c.Requests(), func(tx *sql.Tx) error {
		old, err := lockRequest(ctx, tx, id)
		found = old
		if err != nil || old == status {
			return err
		}
		if expect != "" && old != expect {
			return fmt.Errorf("request %d is %s, not %s: %w", id, old, expect, ErrStatusChanged)
		}
		_, err = tx.ExecContext(ctx, `UPDATE cw_requests SET cw_status = ? WHERE cw_id = ?`, status, id)
		return err
	})
	return found, err
}

// UpdateRequestDetails changes what the requester may edit: sitename,
// language, privacy, category and their reason (cw_comment).
func (c *Central) UpdateRequestDetails(ctx context.Context, id int64, sitename, language string, private bool, category, comment string) error {
	if err := checkDetails(sitename, language, category, comment); err != nil {
		return err
	}
	return inTx(ctx, c.Requests(), func(tx *sql.Tx) error {
		if _, err := lockRequest(ctx, tx, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE cw_requests SET cw_sitename = ?, cw_language = ?, cw_private = ?,
			cw_category = ?, cw_comment = ? WHERE cw_id = ?`, sitename, language, private, category, comment, id)
		return err
	})
}

// CommentWrite is one comment to add to a request (cw_comments).
type CommentWrite struct {
	Request int64
	Comment string
	UserID  int // cw_comment_user: the author's user id on the farm
	// At is when the comment was made; it is stored at the first second
	// from At that no other comment of the request has.
	At time.Time
	// Key makes the write idempotent: a second write with the same key adds
	// nothing and answers the first one's timestamp.
	Key string
	// Follows marks a comment that carries out the decisions made until At
	// (the farm's status change after the decisive vote). A comment made no
	// later than At but written after it (the two run concurrently) is put
	// before it: it takes its second and the following comment moves to the
	// next free one.
	Follows bool
}

// WriteRequestComment adds a comment and answers its cw_comment_timestamp.
// An empty comment is refused: CreateWiki never stores one.
func (c *Central) WriteRequestComment(ctx context.Context, w CommentWrite) (string, error) {
	if strings.TrimSpace(w.Comment) == "" {
		return "", invalidRequest("empty comment")
	}
	if err := checkBlob("comment", w.Comment); err != nil {
		return "", err
	}
	if w.UserID <= 0 {
		return "", invalidRequest("a comment needs the user id of its author, got %d", w.UserID)
	}
	if w.At.IsZero() {
		return "", invalidRequest("a comment needs its time")
	}
	if w.Key == "" {
		return "", invalidRequest("a comment needs a key (its retry must not add it twice)")
	}
	var ts string
	err := inTx(ctx, c.Requests(), func(tx *sql.Tx) error {
		var err error
		ts, err = addComment(ctx, tx, w)
		return err
	})
	return ts, err
}

// addComment writes w inside tx, once per key.
func addComment(ctx context.Context, tx *sql.Tx, w CommentWrite) (string, error) {
	if _, err := lockRequest(ctx, tx, w.Request); err != nil {
		return "", err
	}
	key := keyName("comment", w.Request, w.Key)
	var earlier string
	err := tx.QueryRowContext(ctx, `SELECT key_timestamp FROM wf_request_keys WHERE key_name = ?`, key).Scan(&earlier)
	if err == nil {
		return earlier, nil // written by an earlier attempt
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	ts, err := nextFreeSecond(ctx, tx, "cw_comments", "cw_comment_timestamp", w.Request, w.At)
	if err != nil {
		return "", err
	}
	if !w.Follows {
		// A following comment written earlier for a time no earlier than
		// this one's, but shown before it: this comment takes its second,
		// it moves to the free one (WikiFlow's own row, written moments ago).
		var name, theirs string
		err := tx.QueryRowContext(ctx, `SELECT key_name, key_timestamp FROM wf_request_keys
			WHERE key_request = ? AND key_follows = 1 AND key_at >= ? AND key_timestamp >= ? AND key_timestamp < ?
			ORDER BY key_timestamp LIMIT 1`, w.Request, Timestamp(w.At), Timestamp(w.At), ts).Scan(&name, &theirs)
		switch {
		case err == nil:
			if _, err := tx.ExecContext(ctx, `UPDATE cw_comments SET cw_comment_timestamp = ?
				WHERE cw_id = ? AND cw_comment_timestamp = ? LIMIT 1`, ts, w.Request, theirs); err != nil {
				return "", err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE wf_request_keys SET key_timestamp = ? WHERE key_name = ?`, ts, name); err != nil {
				return "", err
			}
			ts = theirs
		case !errors.Is(err, sql.ErrNoRows):
			return "", err
		}
	}
	fresh, _, earlier, err := claimKey(ctx, tx, key, w.Request, ts)
	if err != nil || !fresh {
		return earlier, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE wf_request_keys SET key_at = ?, key_follows = ? WHERE key_name = ?`,
		Timestamp(w.At), w.Follows, key); err != nil {
		return "", err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO cw_comments (cw_id, cw_comment, cw_comment_timestamp, cw_comment_user)
		VALUES (?, ?, ?, ?)`, w.Request, w.Comment, ts, w.UserID)
	return ts, err
}

// AddRequestComment adds a comment by a user (their user id) made at a
// time, in the first second from then that the request's other comments
// leave free. The same comment by the same user at the same time is added
// only once, so a retried step adds one row.
func (c *Central) AddRequestComment(ctx context.Context, id int64, comment string, userID int, at time.Time) error {
	_, err := c.WriteRequestComment(ctx, CommentWrite{Request: id, Comment: comment, UserID: userID, At: at,
		Key: keyName("direct", userID, at.UTC().UnixNano(), comment)})
	return err
}

// historyEntry is one cw_history row to write inside a transaction.
type historyEntry struct {
	action  string
	actorID int64
	details string
	at      time.Time
	key     string
}

func checkHistory(action string, actorID int64, details string, at time.Time) error {
	if !slices.Contains(HistoryActions, action) {
		return invalidRequest("cw_history holds only CreateWiki's actions (%s), not %q", strings.Join(HistoryActions, ", "), action)
	}
	if err := checkBlob("details", details); err != nil {
		return err
	}
	if actorID <= 0 || actorID > 1<<31-1 {
		return invalidRequest("a history entry needs the actor id of who acted, got %d", actorID)
	}
	if at.IsZero() {
		return invalidRequest("a history entry needs its time")
	}
	return nil
}

func addHistory(ctx context.Context, tx *sql.Tx, id int64, h historyEntry) error {
	ts, err := nextFreeSecond(ctx, tx, "cw_history", "cw_history_timestamp", id, h.at)
	if err != nil {
		return err
	}
	fresh, _, _, err := claimKey(ctx, tx, keyName("history", id, h.key), id, ts)
	if err != nil || !fresh {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO cw_history (cw_id, cw_history_action, cw_history_actor,
		cw_history_details, cw_history_timestamp) VALUES (?, ?, ?, ?, ?)`, id, h.action, h.actorID, h.details, ts)
	return err
}

// AddRequestHistory records an edit of the request (cw_history): one of
// HistoryActions, by whom (cw_history_actor is an actor id of the shared
// actor table, as in CreateWiki; see Clusters.ActorID), details (see
// ChangeMessage), when (the first second from then the request's other
// entries leave free). The same entry at the same time is recorded once.
func (c *Central) AddRequestHistory(ctx context.Context, id int64, action string, actorID int64, details string, at time.Time) error {
	if err := checkHistory(action, actorID, details, at); err != nil {
		return err
	}
	return inTx(ctx, c.Requests(), func(tx *sql.Tx) error {
		if _, err := lockRequest(ctx, tx, id); err != nil {
			return err
		}
		return addHistory(ctx, tx, id, historyEntry{action: action, actorID: actorID, details: details, at: at,
			key: fmt.Sprint(action, "\x00", actorID, "\x00", at.UTC().UnixNano(), "\x00", details)})
	})
}

// RequestEdit is what a requester may change of their request; empty
// strings and a nil Private keep the value.
type RequestEdit struct {
	Sitename, Language, Category string
	// Reason replaces cw_comment, the requester's reason.
	Reason  string
	Private *bool
}

// EditResult says what EditRequest did.
type EditResult struct {
	// Changes are the fields changed, in CreateWiki's order; none when the
	// request already had every value (a retry of an earlier edit).
	Changes []Change
	// Action is the history action written: reopened when the request was
	// declined, on hold or waiting for details (the edit puts it back in
	// review), else edited.
	Action string
	// Status is the request's status when it was edited.
	Status string
}

// EditRequest applies a requester's edit as CreateWiki's edit form does,
// in one transaction: the changed columns, the requester's comment
// UpdatedComment, and a cw_history entry (Action, the requester's actor,
// ChangeMessage). An edit that changes nothing writes nothing, so running
// it again is harmless; an approved request is not edited (CreateWiki
// refuses that too).
func (c *Central) EditRequest(ctx context.Context, id int64, e RequestEdit, actorID int64, at time.Time) (EditResult, error) {
	var out EditResult
	err := inTx(ctx, c.Requests(), func(tx *sql.Tx) error {
		var r Request
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(cw_comment, ''), cw_language, cw_private, cw_sitename,
			COALESCE(cw_status, ''), cw_user, cw_category FROM cw_requests WHERE cw_id = ? FOR UPDATE`, id).Scan(
			&r.Comment, &r.Language, &r.Private, &r.Sitename, &r.Status, &r.UserID, &r.Category)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("request %d: %w", id, ErrRequestNotFound)
		}
		if err != nil {
			return err
		}
		out.Status = r.Status
		set := func(field string, dst *string, v string) {
			if v != "" && v != *dst {
				out.Changes = append(out.Changes, Change{Field: field, Old: *dst, New: v})
				*dst = v
			}
		}
		set("sitename", &r.Sitename, e.Sitename)
		set("language", &r.Language, e.Language)
		set("category", &r.Category, e.Category)
		if e.Private != nil && *e.Private != r.Private {
			out.Changes = append(out.Changes, Change{Field: "private", Old: fmt.Sprint(r.Private), New: fmt.Sprint(*e.Private)})
			r.Private = *e.Private
		}
		set("reason", &r.Comment, e.Reason)
		if len(out.Changes) == 0 {
			return nil
		}
		if r.Status == RequestApproved {
			return invalidRequest("request %d is approved: it can no longer be edited", id)
		}
		if err := checkDetails(r.Sitename, r.Language, r.Category, r.Comment); err != nil {
			return err
		}
		out.Action = HistoryEdited
		switch r.Status {
		case RequestDeclined, RequestOnHold, RequestMoreDetails:
			out.Action = HistoryReopened
		}
		details := ChangeMessage(out.Changes)
		if err := checkHistory(out.Action, actorID, details, at); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cw_requests SET cw_sitename = ?, cw_language = ?, cw_private = ?,
			cw_category = ?, cw_comment = ? WHERE cw_id = ?`, r.Sitename, r.Language, r.Private, r.Category, r.Comment, id); err != nil {
			return err
		}
		key := fmt.Sprint(at.UTC().UnixNano(), "\x00", details)
		if _, err := addComment(ctx, tx, CommentWrite{Request: id, Comment: UpdatedComment, UserID: r.UserID, At: at, Key: "edit\x00" + key}); err != nil {
			return err
		}
		return addHistory(ctx, tx, id, historyEntry{action: out.Action, actorID: actorID, details: details, at: at, key: key})
	})
	if err != nil {
		return EditResult{}, err
	}
	return out, nil
}

// RequestComment is a row of cw_comments.
type RequestComment struct {
	Comment   string
	UserID    int
	Timestamp string
}

// RequestComments lists a request's comments, oldest first.
func (c *Central) RequestComments(ctx context.Context, id int64) ([]RequestComment, error) {
	return queryAll(ctx, c.Requests(), func(rows *sql.Rows) (rc RequestComment, err error) {
		err = rows.Scan(&rc.Comment, &rc.UserID, &rc.Timestamp)
		return rc, err
	}, `SELECT cw_comment, cw_comment_user, cw_comment_timestamp
		FROM cw_comments WHERE cw_id = ? ORDER BY cw_comment_timestamp`, id)
}

// RequestHistoryEntry is a row of cw_history.
type RequestHistoryEntry struct {
	ID        int64
	Action    string
	ActorID   int64
	Details   string
	Timestamp string
}

// RequestHistory lists a request's history, oldest first.
func (c *Central) RequestHistory(ctx context.Context, id int64) ([]RequestHistoryEntry, error) {
	return queryAll(ctx, c.Requests(), func(rows *sql.Rows) (h RequestHistoryEntry, err error) {
		err = rows.Scan(&h.ID, &h.Action, &h.ActorID, &h.Details, &h.Timestamp)
		return h, err
	}, `SELECT cw_history_id, cw_history_action, cw_history_actor,
		cw_history_details, cw_history_timestamp FROM cw_history WHERE cw_id = ? ORDER BY cw_history_timestamp, cw_history_id`, id)
}

// RequestsFiledFor counts the requests filed for a database name and tells
// whether any of them is for a private wiki.
func (c *Central) RequestsFiledFor(ctx context.Context, dbname string) (filed int, anyPrivate bool, err error) {
	err = c.Requests().QueryRowContext(ctx,
		`SELECT COUNT(*), COALESCE(MAX(cw_private), 0) > 0 FROM cw_requests WHERE cw_dbname = ?`, dbname).Scan(&filed, &anyPrivate)
	return filed, anyPrivate, err
}

// ActorID returns the actor id of a user id in the farm's shared actor
// table (MediaWiki's $wgSharedDB, the central wiki's database), which lives
// on a wiki cluster. ok is false when the user has no actor row.
func (c *Clusters) ActorID(ctx context.Context, cluster, sharedDB string, userID int) (id int64, ok bool, err error) {
	quoted, err := QuoteDB(sharedDB)
	if err != nil {
		return 0, false, err
	}
	server, err := c.Server(cluster)
	if err != nil {
		return 0, false, err
	}
	err = server.QueryRowContext(ctx, `SELECT actor_id FROM `+quoted+`.actor WHERE actor_user = ?`, userID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}
