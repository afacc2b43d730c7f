package farmdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// A wiki's rename, as the farm's databases see it: its tables move from
// one database to another on the same server, and every central row that
// names it is made to name the new database.

// MoveTable moves one table of the database from into the database to on
// the same server. RENAME TABLE moves it whole or not at all, so a rename
// that stops between two tables leaves each table in one of the two.
func MoveTable(ctx context.Context, server *sql.DB, from, to, table string) error {
	quotedTo, err := QuoteDB(to)
	if err != nil {
		return err
	}
	return moveTables(ctx, server, from, quotedTo, []string{table})
}

// PurgeWikiCache deletes, from the object cache table of the database db
// (MediaWiki's CACHE_DB: sessions and parsed pages), the entries keyed by
// the wiki ID wikiID: a wiki's cache keys start with its ID, so after a
// rename these can never be read again.
func PurgeWikiCache(ctx context.Context, server *sql.DB, db, wikiID string) (int64, error) {
	quoted, err := QuoteDB(db)
	if err != nil {
		return 0, err
	}
	prefix := wikiID + ":"
	res, err := server.ExecContext(ctx, "DELETE FROM "+quoted+".`objectcache` WHERE LEFT(keyname, ?) = ?", len(prefix), prefix)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ErrRenameTargetRegistered means the new name is registered beside the old one.
var ErrRenameTargetRegistered = errors.New("the new name is registered in cw_wikis beside the old one")

// RenameWikiRows makes every central row of the wiki from (WikiTables)
// name the wiki to, in one transaction. Rows already renamed (to is
// registered, from is not) are left as they are; neither registered is
// ErrWikiNotFound, both is ErrRenameTargetRegistered.
func (c *Central) RenameWikiRows(ctx context.Context, from, to string) (renamed bool, err error) {
	err = inTx(ctx, c.DB, func(tx *sql.Tx) error {
		names, err := queryAll(ctx, tx, scanValue[string],
			`SELECT wiki_dbname FROM cw_wikis WHERE wiki_dbname IN (?, ?) FOR UPDATE`, from, to)
		if err != nil {
			return err
		}
		hasFrom, hasTo := false, false
		for _, n := range names {
			hasFrom = hasFrom || n == from
			hasTo = hasTo || n == to
		}
		switch {
		case hasFrom && hasTo:
			return fmt.Errorf("%s and %s: %w", from, to, ErrRenameTargetRegistered)
		case hasTo:
			return nil
		case !hasFrom:
			return fmt.Errorf("%s: %w", from, ErrWikiNotFound)
		}
		for _, t := range WikiTables {
			if _, err := tx.ExecContext(ctx, "UPDATE `"+t.Name+"` SET `"+t.DBColumn+"` = ? WHERE `"+t.DBColumn+"` = ?", to, from); err != nil {
				return fmt.Errorf("renaming the rows of %s: %w", t.Name, err)
			}
		}
		renamed = true
		return nil
	})
	return renamed, err
}
