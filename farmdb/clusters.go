package farmdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"sort"

	"github.com/go-sql-driver/mysql"
)

// Clusters are the database servers that hold the wikis' own databases,
// by the name cw_wikis.wiki_dbcluster uses.
type Clusters struct {
	dsns map[string]*mysql.Config
	pool map[string]*sql.DB
}

// OpenClusters opens one pool per cluster; dsns carry their password.
func OpenClusters(dsns map[string]string) (*Clusters, error) {
	c := &Clusters{dsns: map[string]*mysql.Config{}, pool: map[string]*sql.DB{}}
	for name, dsn := range dsns {
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", name, err)
		}
		cfg.DBName = ""
		db, err := Open(cfg.FormatDSN())
		if err != nil {
			return nil, err
		}
		c.dsns[name], c.pool[name] = cfg, db
	}
	return c, nil
}

// Names lists the clusters in a stable order.
func (c *Clusters) Names() []string {
	names := make([]string, 0, len(c.pool))
	for n := range c.pool {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Server is the pool of one cluster, connected to no database in particular.
func (c *Clusters) Server(name string) (*sql.DB, error) {
	db, ok := c.pool[name]
	if !ok {
		return nil, fmt.Errorf("unknown database cluster %q", name)
	}
	return db, nil
}

// OpenWiki opens a small pool on one wiki's database, for statements that
// need it as the current database. The caller closes it.
func (c *Clusters) OpenWiki(cluster, dbname string) (*sql.DB, error) {
	if err := CheckDBName(dbname); err != nil {
		return nil, err
	}
	cfg, ok := c.dsns[cluster]
	if !ok {
		return nil, fmt.Errorf("unknown database cluster %q", cluster)
	}
	cfg = cfg.Clone()
	cfg.DBName = dbname
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(WikiConnections)
	return db, nil
}

// WikiConnections bounds the connections to one wiki's database (a schema
// creates its tables over this many at once).
const WikiConnections = 4

// Close closes every pool.
func (c *Clusters) Close() {
	for _, db := range c.pool {
		db.Close()
	}
}

// DatabaseExists tells whether a database exists on a cluster.
func (c *Clusters) DatabaseExists(ctx context.Context, cluster, dbname string) (bool, error) {
	db, err := c.Server(cluster)
	if err != nil {
		return false, err
	}
	var n int
	err = db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?`, dbname).Scan(&n)
	return n > 0, err
}

// FindDatabase returns the cluster holding dbname, or "" when none does.
func (c *Clusters) FindDatabase(ctx context.Context, dbname string) (string, error) {
	for _, name := range c.Names() {
		ok, err := c.DatabaseExists(ctx, name, dbname)
		if err != nil {
			return "", err
		}
		if ok {
			return name, nil
		}
	}
	return "", nil
}

var safeDBName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// CheckDBName is the last guard before a name becomes an identifier in SQL:
// identifiers cannot be bound as parameters, so only names of this strict
// shape are ever quoted into a statement.
func CheckDBName(name string) error {
	if !safeDBName.MatchString(name) {
		return fmt.Errorf("unsafe database name %q", name)
	}
	return nil
}

// QuoteDB returns a checked, backtick-quoted database name.
func QuoteDB(name string) (string, error) {
	if err := CheckDBName(name); err != nil {
		return "", err
	}
	return "`" + name + "`", nil
}

// ErrClaimedByOther means another process owns the database name.
var ErrClaimedByOther = errors.New("database name is claimed by another process")
