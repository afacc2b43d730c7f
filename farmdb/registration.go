package farmdb

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Registration is what a new wiki's cw_wikis row holds.
type Registration struct {
	DBName   string
	Sitename string
	Language string
	Private  bool
	Category string
	Cluster  string
}

// RegisterWiki inserts the cw_wikis row and copies ManageWiki's `default`
// rows (settings, permissions, namespaces) for the wiki, in one transaction.
// Running it again changes nothing; a row that exists with other content is
// an error, never overwritten.
func (c *Central) RegisterWiki(ctx context.Context, r Registration) error {
	return inTx(ctx, c.DB, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT IGNORE INTO cw_wikis
			(wiki_dbname, wiki_sitename, wiki_language, wiki_private, wiki_creation, wiki_dbcluster, wiki_category)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.DBName, r.Sitename, r.Language, r.Private, Timestamp(time.Now()), r.Cluster, r.Category)
		if err != nil {
			return err
		}
		var sitename, language string
		err = tx.QueryRowContext(ctx, `SELECT wiki_sitename, wiki_language FROM cw_wikis WHERE wiki_dbname = ?`, r.DBName).
			Scan(&sitename, &language)
		if err != nil {
			return err
		}
		if sitename != r.Sitename || language != r.Language {
			return fmt.Errorf("%s is already registered as %q (%s)", r.DBName, sitename, language)
		}
		copies := []string{
			`INSERT IGNORE INTO mw_settings (s_dbname, s_settings, s_extensions)
			 SELECT ?, s_settings, s_extensions FROM mw_settings WHERE s_dbname = 'default'`,
			`INSERT IGNORE INTO mw_permissions (perm_dbname, perm_group, perm_permissions, perm_addgroups,
			   perm_removegroups, perm_addgroupstoself, perm_removegroupsfromself, perm_autopromote)
			 SELECT ?, perm_group, perm_permissions, perm_addgroups, perm_removegroups,
			   perm_addgroupstoself, perm_removegroupsfromself, perm_autopromote
			 FROM mw_permissions WHERE perm_dbname = 'default'`,
			`INSERT IGNORE INTO mw_namespaces (ns_dbname, ns_namespace_id, ns_namespace_name, ns_searchable,
			   ns_subpages, ns_content, ns_content_model, ns_protection, ns_aliases, ns_core, ns_additional)
			 SELECT ?, ns_namespace_id, ns_namespace_name, ns_searchable, ns_subpages, ns_content,
			   ns_content_model, ns_protection, ns_aliases, ns_core, ns_additional
			 FROM mw_namespaces WHERE ns_dbname = 'default'`,
		}
		for _, q := range copies {
			if _, err := tx.ExecContext(ctx, q, r.DBName); err != nil {
				return err
			}
		}
		return nil
	})
}

// UnregisterWiki deletes the wiki's rows from cw_wikis and ManageWiki's
// tables, in one transaction. Deleting what is already gone is no error.
func (c *Central) UnregisterWiki(ctx context.Context, dbname string) error {
	return inTx(ctx, c.DB, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM mw_settings WHERE s_dbname = ?`,
			`DELETE FROM mw_permissions WHERE perm_dbname = ?`,
			`DELETE FROM mw_namespaces WHERE ns_dbname = ?`,
			`DELETE FROM cw_wikis WHERE wiki_dbname = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, dbname); err != nil {
				return err
			}
		}
		return nil
	})
}

// RowCounts counts the wiki's rows in each central table, to check a
// registration or a removal.
func (c *Central) RowCounts(ctx context.Context, dbname string) (map[string]int, error) {
	out := map[string]int{}
	for table, q := range map[string]string{
		"cw_wikis":       `SELECT COUNT(*) FROM cw_wikis WHERE wiki_dbname = ?`,
		"mw_settings":    `SELECT COUNT(*) FROM mw_settings WHERE s_dbname = ?`,
		"mw_permissions": `SELECT COUNT(*) FROM mw_permissions WHERE perm_dbname = ?`,
		"mw_namespaces":  `SELECT COUNT(*) FROM mw_namespaces WHERE ns_dbname = ?`,
	} {
		var n int
		if err := c.DB.QueryRowContext(ctx, q, dbname).Scan(&n); err != nil {
			return nil, err
		}
		out[table] = n
	}
	return out, nil
}
