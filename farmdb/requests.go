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
// and history (cw_history), in the extension's own columns.

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
	// Key, when set, makes CreateRequest idempotent: it is kept in cw_extra
	// ({"wikiflow_key": ...}) and a second CreateRequest with the same key
	// and database name returns the first one's id.
	Key string
}

// checkText enforces a column's length in characters (utf8mb4 VARCHAR).
func checkText(field, value string, max int, required bool) error {
	if required && strings.TrimSpace(value) == "" {
		return invalidRequest("%s is empty", field)
	}
	if !utf8.ValidString(value) {
		return invalidRequest("%s is not valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(value); n > max {
		return invalidRequest("%s is %d characters long, at most %d", field, n, max)
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

// CreateRequest files a wiki request: status inreview, timestamp now. With
// a Key, filing the same request again returns the existing id.
func (c *Central) CreateRequest(ctx context.Context, r Request) (int64, error) {
	if err := r.check(); err != nil {
		return 0, err
	}
	if r.Key == "" {
		res, err := c.DB.ExecContext(ctx, `INSERT INTO cw_requests
			(cw_comment, cw_dbname, cw_language, cw_private, cw_sitename, cw_status, cw_timestamp,
			 cw_url, cw_user, cw_category, cw_visibility, cw_bio)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Comment, r.DBName, r.Language, r.Private, r.Sitename, RequestInReview, Timestamp(time.Now()),
			r.URL, r.UserID, r.Category, r.Visibility, r.Bio)
		if err != nil {
			return 0, err
		}
		return res.LastInsertId()
	}
	if err := checkText("key", r.Key, 255, true); err != nil {
		return 0, err
	}
	// One statement inserts only when no row has the key; then the row
	// with the key is the answer, whoever inserted it.
	_, err := c.DB.ExecContext(ctx, `INSERT INTO cw_requests
		(cw_comment, cw_dbname, cw_language, cw_private, cw_sitename, cw_status, cw_timestamp,
		 cw_url, cw_user, cw_category, cw_visibility, cw_bio, cw_extra)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, JSON_OBJECT('wikiflow_key', ?) FROM DUAL
		WHERE NOT EXISTS (SELECT 1 FROM cw_requests WHERE cw_dbname = ? AND JSON_VALUE(cw_extra, '$.wikiflow_key') = ?)`,
		r.Comment, r.DBName, r.Language, r.Private, r.Sitename, RequestInReview, Timestamp(time.Now()),
		r.URL, r.UserID, r.Category, r.Visibility, r.Bio, r.Key, r.DBName, r.Key)
	if err != nil {
		return 0, err
	}
	var id int64
	err = c.DB.QueryRowContext(ctx, `SELECT MIN(cw_id) FROM cw_requests
		WHERE cw_dbname = ? AND JSON_VALUE(cw_extra, '$.wikiflow_key') = ?`, r.DBName, r.Key).Scan(&id)
	return id, err
}

// GetRequest reads one request.
func (c *Central) GetRequest(ctx context.Context, id int64) (Request, error) {
	r := Request{ID: id}
	err := c.DB.QueryRowContext(ctx, `SELECT COALESCE(cw_comment, ''), COALESCE(cw_dbname, ''), cw_language,
		cw_private, cw_sitename, COALESCE(cw_status, ''), cw_timestamp, cw_url, cw_user, cw_category,
		cw_visibility, cw_locked, cw_bio, COALESCE(JSON_VALUE(cw_extra, '$.wikiflow_key'), '')
		FROM cw_requests WHERE cw_id = ?`, id).Scan(&r.Comment, &r.DBName, &r.Language, &r.Private, &r.Sitename,
		&r.Status, &r.Timestamp, &r.URL, &r.UserID, &r.Category, &r.Visibility, &r.Locked, &r.Bio, &r.Key)
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
	if !ValidRequestStatus(status) {
		return invalidRequest("unknown request status %q (want one of %s)", status, strings.Join(RequestStatuses, ", "))
	}
	return c.inTx(ctx, func(tx *sql.Tx) error {
		old, err := lockRequest(ctx, tx, id)
		if err != nil || old == status {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE cw_requests SET cw_status = ? WHERE cw_id = ?`, status, id)
		return err
	})
}

// UpdateRequestDetails changes what the requester may edit: sitename,
// language, privacy, category and their reason (cw_comment).
func (c *Central) UpdateRequestDetails(ctx context.Context, id int64, sitename, language string, private bool, category, comment string) error {
	if err := checkDetails(sitename, language, category, comment); err != nil {
		return err
	}
	return c.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := lockRequest(ctx, tx, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE cw_requests SET cw_sitename = ?, cw_language = ?, cw_private = ?,
			cw_category = ?, cw_comment = ? WHERE cw_id = ?`, sitename, language, private, category, comment, id)
		return err
	})
}

// AddRequestComment adds a comment by a user (their user id) at a time. The
// same comment by the same user at the same second is added only once, so a
// retried step adds one row (cw_comments has no key to rely on).
func (c *Central) AddRequestComment(ctx context.Context, id int64, comment string, userID int, at time.Time) error {
	if strings.TrimSpace(comment) == "" {
		return invalidRequest("empty comment")
	}
	if err := checkBlob("comment", comment); err != nil {
		return err
	}
	if userID <= 0 {
		return invalidRequest("a comment needs the user id of its author, got %d", userID)
	}
	if at.IsZero() {
		return invalidRequest("a comment needs its time")
	}
	ts := Timestamp(at)
	return c.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := lockRequest(ctx, tx, id); err != nil {
			return err
		}
		var n int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM cw_comments WHERE cw_id = ? AND cw_comment_user = ?
			AND cw_comment_timestamp = ? AND cw_comment = ?`, id, userID, ts, comment).Scan(&n)
		if err != nil || n > 0 {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO cw_comments (cw_id, cw_comment, cw_comment_timestamp, cw_comment_user)
			VALUES (?, ?, ?, ?)`, id, comment, ts, userID)
		return err
	})
}

// AddRequestHistory records an action on the request (cw_history): what
// was done, by whom (cw_history_actor is an actor id of the shared actor
// table, as in CreateWiki; see Clusters.ActorID), details, when. The same
// entry at the same second is recorded only once.
func (c *Central) AddRequestHistory(ctx context.Context, id int64, action string, actorID int64, details string, at time.Time) error {
	if err := checkText("action", action, 50, true); err != nil {
		return err
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
	ts := Timestamp(at)
	return c.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := lockRequest(ctx, tx, id); err != nil {
			return err
		}
		var n int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM cw_history WHERE cw_id = ? AND cw_history_action = ?
			AND cw_history_actor = ? AND cw_history_timestamp = ? AND cw_history_details = ?`,
			id, action, actorID, ts, details).Scan(&n)
		if err != nil || n > 0 {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO cw_history (cw_id, cw_history_action, cw_history_actor,
			cw_history_details, cw_history_timestamp) VALUES (?, ?, ?, ?, ?)`, id, action, actorID, details, ts)
		return err
	})
}

// RequestComment is a row of cw_comments.
type RequestComment struct {
	Comment   string
	UserID    int
	Timestamp string
}

// RequestComments lists a request's comments, oldest first.
func (c *Central) RequestComments(ctx context.Context, id int64) ([]RequestComment, error) {
	rows, err := c.DB.QueryContext(ctx, `SELECT cw_comment, cw_comment_user, cw_comment_timestamp
		FROM cw_comments WHERE cw_id = ? ORDER BY cw_comment_timestamp`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RequestComment
	for rows.Next() {
		var rc RequestComment
		if err := rows.Scan(&rc.Comment, &rc.UserID, &rc.Timestamp); err != nil {
			return nil, err
		}
		out = append(out, rc)
	}
	return out, rows.Err()
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
	rows, err := c.DB.QueryContext(ctx, `SELECT cw_history_id, cw_history_action, cw_history_actor,
		cw_history_details, cw_history_timestamp FROM cw_history WHERE cw_id = ? ORDER BY cw_history_id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RequestHistoryEntry
	for rows.Next() {
		var h RequestHistoryEntry
		if err := rows.Scan(&h.ID, &h.Action, &h.ActorID, &h.Details, &h.Timestamp); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
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
