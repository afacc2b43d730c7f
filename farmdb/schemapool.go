package farmdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
)

// A new wiki's schema is some sixty CREATE TABLEs, most of a creation's
// time, and MariaDB runs them about as fast one at a time as side by side.
// Moving tables that already exist into another database is one atomic
// RENAME TABLE, about a third of that. So each cluster keeps a few
// databases that hold a finished schema, built in the background, and a
// creation moves one's tables into its wiki's database; with none ready it
// builds the schema as before.
//
// The databases are named for what they hold:
//   - wfpoolbuild_<id>: being built; only the filler that holds the
//     cluster's lock builds, so any other one is a crash's leftover;
//   - wfpool_<version>_<id>: ready, every table of the schema whose
//     statements hash to version (SchemaVersion). A build becomes ready by
//     one RENAME TABLE of all its tables, so a ready database is never
//     partial; one of another version (MediaWiki upgraded) is never taken
//     and is dropped by the next fill.
//
// Two creations racing for one ready database cannot both get it: the
// rename is atomic, the loser finds the tables gone and tries the next.
// Wiki names have no underscore (CreateWiki's rule), so none of these names
// can be a wiki's; and the pool acts only on names of exactly this shape.

const (
	poolPrefix  = "wfpool_"
	buildPrefix = "wfpoolbuild_"
)

var poolName = regexp.MustCompile(`^(wfpoolbuild_[0-9a-f]{12}|wfpool_[0-9a-f]{12}_[0-9a-f]{12})$`)

// IsSchemaPoolDatabase tells the pool's databases from every other.
func IsSchemaPoolDatabase(name string) bool { return poolName.MatchString(name) }

// SchemaVersion identifies a schema by its statements.
func SchemaVersion(stmts []Statement) string {
	h := sha256.New()
	for _, st := range stmts {
		h.Write([]byte(st.SQL))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// SchemaPools keeps Size ready schemas on every cluster.
type SchemaPools struct {
	Clusters *Clusters
	// Size is how many ready schemas each cluster keeps; zero turns the
	// pool off. SetSize changes it while the pools run.
	Size int
	// Statements are the schema's statements, read when a fill starts.
	Statements func() ([]Statement, error)
	Logger     *slog.Logger

	mu      sync.Mutex
	filling map[string]bool
	later   map[string]*time.Timer
}

// RefillAfter is how long a cluster goes without a take before its pool is
// refilled: building a schema costs the database what a creation's schema
// costs, so a burst of creations is not slowed by the builds of their
// replacements; they come once the burst is over.
const RefillAfter = 5 * time.Second

// SetSize changes how many ready schemas each cluster keeps.
func (p *SchemaPools) SetSize(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Size = n
}

func (p *SchemaPools) size() int {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.Size
}

// Ready counts cluster's ready schemas of stmts.
func (p *SchemaPools) Ready(ctx context.Context, cluster string, stmts []Statement) (int, error) {
	server, err := p.Clusters.Server(cluster)
	if err != nil {
		return 0, err
	}
	names, err := poolDatabases(ctx, server)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		if !strings.HasPrefix(name, poolPrefix+SchemaVersion(stmts)+"_") {
			continue
		}
		have, err := Tables(ctx, server, name)
		if err != nil {
			return 0, err
		}
		if len(have) == len(TableNames(stmts)) {
			n++
		}
	}
	return n, nil
}

// Take moves the tables of a ready schema of stmts on cluster into dbname,
// which must have no table yet, and names the ready database it took them
// from. Without a ready schema (or a pool) it does nothing and answers "":
// the caller builds the schema. Either way the pool is refilled once the
// cluster has had no take for RefillAfter.
func (p *SchemaPools) Take(ctx context.Context, cluster, dbname string, stmts []Statement) (from string, err error) {
	if p.size() <= 0 {
		return "", nil
	}
	defer p.fillLater(cluster)
	server, err := p.Clusters.Server(cluster)
	if err != nil {
		return "", err
	}
	into, err := QuoteDB(dbname)
	if err != nil {
		return "", err
	}
	have, err := Tables(ctx, server, dbname)
	if err != nil || len(have) > 0 {
		return "", err
	}
	// A ready database being built or already taken lacks tables: the
	// rename fails without moving any, and the next one is tried.
	names, err := poolDatabases(ctx, server)
	if err != nil {
		return "", err
	}
	for _, pool := range names {
		if !strings.HasPrefix(pool, poolPrefix+SchemaVersion(stmts)+"_") {
			continue
		}
		err := moveTables(ctx, server, pool, into, TableNames(stmts))
		if isMissingTable(err) {
			continue // another creation took it first
		}
		if err != nil {
			return "", err
		}
		// Empty now: dropped after the creation's step, or by the next fill.
		go func() { _, _ = server.ExecContext(context.Background(), "DROP DATABASE IF EXISTS `"+pool+"`") }()
		return pool, nil
	}
	return "", nil
}

// fillLater fills cluster's pool once RefillAfter has passed without
// another call.
func (p *SchemaPools) fillLater(cluster string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.later == nil {
		p.later = map[string]*time.Timer{}
	}
	if t := p.later[cluster]; t != nil {
		t.Reset(RefillAfter)
		return
	}
	p.later[cluster] = time.AfterFunc(RefillAfter, func() { p.Fill(cluster) })
}

// Fill starts, unless one runs already in this process, a background fill
// of cluster's pool up to Size ready schemas.
func (p *SchemaPools) Fill(cluster string) {
	if p.size() <= 0 {
		return
	}
	p.mu.Lock()
	if p.filling == nil {
		p.filling = map[string]bool{}
	}
	if p.filling[cluster] {
		p.mu.Unlock()
		return
	}
	p.filling[cluster] = true
	p.mu.Unlock()
	go func() {
		defer func() {
			p.mu.Lock()
			p.filling[cluster] = false
			p.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if err := p.FillNow(ctx, cluster); err != nil && p.Logger != nil {
			p.Logger.Warn("schema pool: fill failed; creations build their schema meanwhile", "cluster", cluster, "error", err)
		}
	}()
}

// FillNow builds ready schemas on cluster until there are Size, after
// dropping what no creation can use (leftover builds, other versions, taken
// ones). One filler per cluster runs at a time, whichever worker it is in:
// the others wait for it, then find the pool full.
func (p *SchemaPools) FillNow(ctx context.Context, cluster string) error {
	stmts, err := p.Statements()
	if err != nil {
		return err
	}
	server, err := p.Clusters.Server(cluster)
	if err != nil {
		return err
	}
	conn, err := server.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var locked sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK('wikiflow_schema_pool', 60)").Scan(&locked); err != nil {
		return err
	}
	if locked.Int64 != 1 {
		return errors.New("another worker has been filling the schema pool for a minute")
	}
	defer func() { _, _ = conn.ExecContext(context.Background(), "DO RELEASE_LOCK('wikiflow_schema_pool')") }()

	version, tables := SchemaVersion(stmts), TableNames(stmts)
	names, err := poolDatabases(ctx, server)
	if err != nil {
		return err
	}
	ready := 0
	for _, name := range names {
		if strings.HasPrefix(name, poolPrefix+version+"_") {
			have, err := Tables(ctx, server, name)
			if err != nil {
				return err
			}
			if len(have) == len(tables) {
				ready++
				continue
			}
		}
		if _, err := server.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			return err
		}
	}
	for ; ready < p.size(); ready++ {
		if err := p.build(ctx, cluster, server, version, stmts, tables); err != nil {
			return err
		}
	}
	return nil
}

// build makes one ready schema: the statements in a build database, then
// all its tables renamed at once into a ready one.
func (p *SchemaPools) build(ctx context.Context, cluster string, server *sql.DB, version string, stmts []Statement, tables []string) error {
	id := make([]byte, 6)
	if _, err := rand.Read(id); err != nil {
		return err
	}
	build, ready := buildPrefix+hex.EncodeToString(id), poolPrefix+version+"_"+hex.EncodeToString(id)
	if _, err := server.ExecContext(ctx, "CREATE DATABASE `"+build+"`"); err != nil {
		return err
	}
	db, err := p.Clusters.OpenWiki(cluster, build)
	if err != nil {
		return err
	}
	err = ApplySchema(ctx, db, stmts, 0, WikiConnections, nil)
	db.Close()
	if err == nil {
		_, err = server.ExecContext(ctx, "CREATE DATABASE `"+ready+"`")
	}
	if err == nil {
		err = moveTables(ctx, server, build, "`"+ready+"`", tables)
	}
	if _, derr := server.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+build+"`"); err == nil {
		err = derr
	}
	return err
}

// TableNames are the tables stmts create, in order.
func TableNames(stmts []Statement) []string {
	var names []string
	for _, st := range stmts {
		if st.CreatesTable {
			names = append(names, strings.TrimPrefix(st.Object, "table "))
		}
	}
	return names
}

// moveTables renames every table of from into the quoted database into, in
// one statement: all move or none does.
func moveTables(ctx context.Context, server *sql.DB, from, into string, tables []string) error {
	if err := CheckDBName(from); err != nil {
		return err
	}
	pairs := make([]string, len(tables))
	for i, t := range tables {
		if err := CheckDBName(t); err != nil {
			return fmt.Errorf("table name: %w", err)
		}
		pairs[i] = fmt.Sprintf("`%s`.`%s` TO %s.`%s`", from, t, into, t)
	}
	_, err := server.ExecContext(ctx, "RENAME TABLE "+strings.Join(pairs, ", "))
	return err
}

// poolDatabases lists the pool's databases (ready ones and builds) on a
// server, by name alone: counting their tables through information_schema
// costs more than a take saves.
func poolDatabases(ctx context.Context, server *sql.DB) ([]string, error) {
	rows, err := server.QueryContext(ctx, `SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'wfpool%'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		if IsSchemaPoolDatabase(name) {
			names = append(names, name)
		}
	}
	return names, rows.Err()
}

// isMissingTable: MariaDB's "table doesn't exist" (1146).
func isMissingTable(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1146
}
