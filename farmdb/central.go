// Package farmdb reads and writes the central farm database: CreateWiki's
// and ManageWiki's tables, in their own column names, so CreateWiki's and
// ManageWiki's pages keep showing the truth.
package farmdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	_ "github.com/go-sql-driver/mysql" // the MariaDB driver
)

// ErrWikiNotFound means cw_wikis has no row for the database name.
var ErrWikiNotFound = errors.New("wiki is not registered in cw_wikis")

// Open opens a pool for a DSN that already carries its password.
func Open(dsn string) (*sql.DB, error) {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(4)
	db.SetConnMaxLifetime(5 * time.Minute)
	return db, nil
}

// Central is the central database: the farm's global database (DB:
// cw_wikis and ManageWiki's mw_* tables, CreateWiki's virtual domains
// virtual-createwiki and virtual-managewiki) and the central wiki's own
// database (RequestsDB: cw_requests, cw_comments, cw_history, CreateWiki's
// virtual-createwiki-central).
type Central struct {
	DB *sql.DB
	// RequestsDB holds CreateWiki's request tables; nil means DB (a farm
	// whose request tables live in its global database).
	RequestsDB *sql.DB
}

// Requests is the handle of the database holding CreateWiki's request tables.
func (c *Central) Requests() *sql.DB {
	if c.RequestsDB != nil {
		return c.RequestsDB
	}
	return c.DB
}

// Wiki is a row of cw_wikis.
type Wiki struct {
	DBName       string `json:"dbname"`
	Sitename     string `json:"sitename"`
	Language     string `json:"language"`
	Private      bool   `json:"private"`
	Closed       bool   `json:"closed"`
	ClosedReason string `json:"closed_reason,omitempty"`
	Deleted      bool   `json:"deleted"`
	Creation     string `json:"creation"`
	Category     string `json:"category"`
	Cluster      string `json:"cluster"`
	DeletedAt    string `json:"deleted_timestamp,omitempty"`
	ClosedAt     string `json:"closed_timestamp,omitempty"`
}

const wikiColumns = `wiki_dbname, wiki_sitename, wiki_language, wiki_private, wiki_closed,
	COALESCE(wiki_closed_reason, ''), COALESCE(wiki_closed_timestamp, ''), wiki_deleted,
	COALESCE(wiki_deleted_timestamp, ''), COALESCE(wiki_creation, ''), COALESCE(wiki_category, ''),
	COALESCE(wiki_dbcluster, '')`

func scanWiki(row interface{ Scan(...any) error }) (Wiki, error) {
	var w Wiki
	err := row.Scan(&w.DBName, &w.Sitename, &w.Language, &w.Private, &w.Closed, &w.ClosedReason,
		&w.ClosedAt, &w.Deleted, &w.DeletedAt, &w.Creation, &w.Category, &w.Cluster)
	return w, err
}

// Wiki reads one wiki's registration.
func (c *Central) Wiki(ctx context.Context, dbname string) (Wiki, error) {
	row := c.DB.QueryRowContext(ctx, `SELECT `+wikiColumns+` FROM cw_wikis WHERE wiki_dbname = ?`, dbname)
	w, err := scanWiki(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Wiki{}, fmt.Errorf("%s: %w", dbname, ErrWikiNotFound)
	}
	return w, err
}

// Timestamp formats t the way MediaWiki stores timestamps (BINARY(14), UTC).
func Timestamp(t time.Time) string { return t.UTC().Format("20060102150405") }

// LeastUsedCluster picks the cluster with the fewest registered wikis, as
// CreateWiki does; ties go to the first name.
func (c *Central) LeastUsedCluster(ctx context.Context, names []string) (string, error) {
	best, bestN := "", -1
	for _, name := range names {
		var n int
		if err := c.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM cw_wikis WHERE wiki_dbcluster = ?`, name).Scan(&n); err != nil {
			return "", err
		}
		if bestN < 0 || n < bestN {
			best, bestN = name, n
		}
	}
	if best == "" {
		return "", errors.New("no database cluster configured")
	}
	return best, nil
}
