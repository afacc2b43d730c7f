package farmdb

import (
	"context"
	"database/sql"
)

// ListedWiki is a wiki as CreateWiki's cached lists carry it.
type ListedWiki struct {
	DBName   string
	Sitename string
	Cluster  string
	URL      sql.NullString
	Deleted  bool
}

// ListedWikis reads every registered wiki for CreateWiki's cached lists.
func (c *Central) ListedWikis(ctx context.Context) ([]ListedWiki, error) {
	return queryAll(ctx, c.DB, func(rows *sql.Rows) (w ListedWiki, err error) {
		err = rows.Scan(&w.DBName, &w.Sitename, &w.Cluster, &w.URL, &w.Deleted)
		return w, err
	}, `SELECT wiki_dbname, wiki_sitename, COALESCE(wiki_dbcluster, ''), wiki_url, wiki_deleted FROM cw_wikis ORDER BY wiki_dbname`)
}
