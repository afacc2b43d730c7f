package farmdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// A wiki's inactivity, in CreateWiki's own columns of cw_wikis
// (wiki_inactive, wiki_inactive_timestamp, wiki_inactive_exempt and its
// reason and expiry) and by CreateWiki's own measure of activity
// (CheckLastWikiActivity: the newest revision or log entry, log entries of
// the types renameuser and newusers not counting).

// InactivityRow is what the inactivity policy reads of one wiki in cw_wikis.
type InactivityRow struct {
	DB           string    `json:"db"`
	Cluster      string    `json:"cluster"`
	Created      time.Time `json:"created"`
	Inactive     bool      `json:"inactive,omitempty"`
	InactiveAt   time.Time `json:"inactive_at,omitzero"`
	Closed       bool      `json:"closed,omitempty"`
	ClosedReason string    `json:"closed_reason,omitempty"`
	ClosedAt     time.Time `json:"closed_at,omitzero"`
	Deleted      bool      `json:"deleted,omitempty"`
	Exempt       bool      `json:"exempt,omitempty"`
	ExemptReason string    `json:"exempt_reason,omitempty"`
	// ExemptUntil is the exemption's expiry; zero: it does not expire.
	ExemptUntil time.Time `json:"exempt_until,omitzero"`
}

const inactivityColumns = `wiki_dbname, COALESCE(wiki_dbcluster, ''), COALESCE(wiki_creation, ''),
	wiki_inactive, COALESCE(wiki_inactive_timestamp, ''), wiki_closed, COALESCE(wiki_closed_reason, ''),
	COALESCE(wiki_closed_timestamp, ''), wiki_deleted, wiki_inactive_exempt,
	COALESCE(wiki_inactive_exempt_reason, ''), COALESCE(wiki_inactive_exempt_expiry, '')`

func scanInactivity(row interface{ Scan(...any) error }) (InactivityRow, error) {
	var r InactivityRow
	var created, inactiveAt, closedAt, exemptUntil string
	err := row.Scan(&r.DB, &r.Cluster, &created, &r.Inactive, &inactiveAt, &r.Closed, &r.ClosedReason,
		&closedAt, &r.Deleted, &r.Exempt, &r.ExemptReason, &exemptUntil)
	if err != nil {
		return r, err
	}
	r.Created, r.InactiveAt = ParseTimestamp(created), ParseTimestamp(inactiveAt)
	r.ClosedAt, r.ExemptUntil = ParseTimestamp(closedAt), ParseTimestamp(exemptUntil)
	return r, nil
}

// ParseTimestamp reads a MediaWiki timestamp (14 digits, UTC); anything
// else is the zero time.
func ParseTimestamp(s string) time.Time {
	t, err := time.Parse("20060102150405", s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// InactivityRows lists up to limit wikis not marked deleted, in name order,
// after the name after ("" for the first page).
func (c *Central) InactivityRows(ctx context.Context, after string, limit int) ([]InactivityRow, error) {
	return queryAll(ctx, c.DB, func(rows *sql.Rows) (InactivityRow, error) { return scanInactivity(rows) },
		`SELECT `+inactivityColumns+` FROM cw_wikis WHERE wiki_deleted = 0 AND wiki_dbname > ? ORDER BY wiki_dbname LIMIT ?`,
		after, limit)
}

// InactivityRowOf reads one wiki's row.
func (c *Central) InactivityRowOf(ctx context.Context, dbname string) (InactivityRow, error) {
	r, err := scanInactivity(c.DB.QueryRowContext(ctx, `SELECT `+inactivityColumns+` FROM cw_wikis WHERE wiki_dbname = ?`, dbname))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("%s: %w", dbname, ErrWikiNotFound)
	}
	return r, err
}

// MarkInactive sets wiki_inactive with its timestamp; the timestamp of the
// first marking is kept, so marking twice leaves the same row.
func (c *Central) MarkInactive(ctx context.Context, dbname string, at time.Time) error {
	return c.changeWiki(ctx, dbname,
		`UPDATE cw_wikis SET
			wiki_inactive_timestamp = IF(wiki_inactive = 1 AND wiki_inactive_timestamp IS NOT NULL, wiki_inactive_timestamp, ?),
			wiki_inactive = 1
		WHERE wiki_dbname = ?`,
		Timestamp(at), dbname)
}

// MarkActive clears wiki_inactive and its timestamp.
func (c *Central) MarkActive(ctx context.Context, dbname string) error {
	return c.changeWiki(ctx, dbname,
		`UPDATE cw_wikis SET wiki_inactive = 0, wiki_inactive_timestamp = NULL WHERE wiki_dbname = ?`, dbname)
}

// SetInactivityExemption exempts the wiki from the inactivity policy, with
// a reason and an expiry (zero: none).
func (c *Central) SetInactivityExemption(ctx context.Context, dbname, reason string, until time.Time) error {
	var expiry any
	if !until.IsZero() {
		expiry = Timestamp(until)
	}
	return c.changeWiki(ctx, dbname,
		`UPDATE cw_wikis SET wiki_inactive_exempt = 1, wiki_inactive_exempt_reason = ?, wiki_inactive_exempt_expiry = ?
		WHERE wiki_dbname = ?`, reason, expiry, dbname)
}

// ClearInactivityExemption ends the wiki's exemption.
func (c *Central) ClearInactivityExemption(ctx context.Context, dbname string) error {
	return c.changeWiki(ctx, dbname,
		`UPDATE cw_wikis SET wiki_inactive_exempt = 0, wiki_inactive_exempt_reason = NULL, wiki_inactive_exempt_expiry = NULL
		WHERE wiki_dbname = ?`, dbname)
}

// LastActivity is the time of the wiki's newest revision or log entry, by
// CreateWiki's rule (CheckLastWikiActivity): renameuser and newusers log
// entries are not activity. Zero when the wiki has neither.
func LastActivity(ctx context.Context, server *sql.DB, dbname string) (time.Time, error) {
	quoted, err := QuoteDB(dbname)
	if err != nil {
		return time.Time{}, err
	}
	var rev, log string
	err = server.QueryRowContext(ctx, `SELECT
		COALESCE((SELECT MAX(rev_timestamp) FROM `+quoted+`.revision), ''),
		COALESCE((SELECT MAX(log_timestamp) FROM `+quoted+`.logging WHERE log_type NOT IN ('renameuser', 'newusers')), '')`).
		Scan(&rev, &log)
	if err != nil {
		return time.Time{}, err
	}
	return ParseTimestamp(max(rev, log)), nil // 14-digit timestamps compare as strings
}
