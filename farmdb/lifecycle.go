package farmdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// A wiki's life after creation, in CreateWiki's own columns of cw_wikis: a
// closed wiki is read-only, a deleted one is no longer served. Every change
// is a bound statement in a transaction that first locks the row, so a
// missing wiki is told apart from a change that changes nothing.

// CloseWiki makes the wiki read-only: wiki_closed = 1 with the reason. The
// timestamp of the first closing is kept when the wiki is already closed, so
// closing twice leaves the same row.
func (c *Central) CloseWiki(ctx context.Context, dbname, reason string, at time.Time) error {
	return c.changeWiki(ctx, dbname,
		// MariaDB assigns left to right: the timestamp is decided before wiki_closed changes.
		`UPDATE cw_wikis SET
			wiki_closed_timestamp = IF(wiki_closed = 1 AND wiki_closed_timestamp IS NOT NULL, wiki_closed_timestamp, ?),
			wiki_closed = 1,
			wiki_closed_reason = ?
		WHERE wiki_dbname = ?`,
		Timestamp(at), reason, dbname)
}

// MarkDeleted marks the wiki deleted (the farm stops serving it); the
// timestamp of the first marking is kept.
func (c *Central) MarkDeleted(ctx context.Context, dbname string, at time.Time) error {
	return c.changeWiki(ctx, dbname,
		`UPDATE cw_wikis SET
			wiki_deleted_timestamp = IF(wiki_deleted = 1 AND wiki_deleted_timestamp IS NOT NULL, wiki_deleted_timestamp, ?),
			wiki_deleted = 1
		WHERE wiki_dbname = ?`,
		Timestamp(at), dbname)
}

// Reopen undoes CloseWiki and MarkDeleted: the wiki is open and served
// again, with no closing or deletion timestamp or reason left.
func (c *Central) Reopen(ctx context.Context, dbname string) error {
	return c.changeWiki(ctx, dbname,
		`UPDATE cw_wikis SET
			wiki_closed = 0, wiki_closed_timestamp = NULL, wiki_closed_reason = NULL,
			wiki_deleted = 0, wiki_deleted_timestamp = NULL
		WHERE wiki_dbname = ?`,
		dbname)
}

// changeWiki runs one UPDATE of the wiki's cw_wikis row after locking it,
// failing with ErrWikiNotFound when there is no row.
func (c *Central) changeWiki(ctx context.Context, dbname, update string, args ...any) error {
	return inTx(ctx, c.DB, func(tx *sql.Tx) error {
		var found string
		err := tx.QueryRowContext(ctx, `SELECT wiki_dbname FROM cw_wikis WHERE wiki_dbname = ? FOR UPDATE`, dbname).Scan(&found)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", dbname, ErrWikiNotFound)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, update, args...)
		return err
	})
}
