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
	rows, err := c.DB.QueryContext(ctx,
		`SELECT wiki_dbname, wiki_sitename, COALESCE(wiki_dbcluster, ''), wiki_url, wiki_deleted FROM cw_wikis ORDER BY wiki_dbname`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ListedWiki
	for rows.Next() {
		var w ListedWiki
		if err := rows.Scan(&w.DBName, &w.Sitename, &w.Cluster, &w.URL, &w.Deleted); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}
