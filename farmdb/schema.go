package farmdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// MediaWiki's installer sources its SQL files as a whole and decides whether
// to run them by looking for one table; a crash halfway leaves a schema no
// rerun can finish. Here each statement is made idempotent on its own
// (CREATE ... IF NOT EXISTS, INSERT IGNORE) and applied one at a time, so a
// rerun after a crash at any point finishes the job. MariaDB's DDL is atomic
// (10.6+), so a table is either fully created or not at all.

// TableOptions are what MediaWiki's installer uses for MySQL by default
// ($wgDBTableOptions), so tables match an installer-made wiki.
const TableOptions = "ENGINE=InnoDB, DEFAULT CHARSET=binary"

// Statement is one idempotent SQL statement of a schema file.
type Statement struct {
	SQL string
	// Object names what the statement creates or fills, for progress reports.
	Object string
	// CreatesTable marks a CREATE TABLE: those depend on nothing but the
	// database, so consecutive ones may run side by side.
	CreatesTable bool
}

var (
	lineComment = regexp.MustCompile(`(?m)^\s*--.*$`)
	createTable = regexp.MustCompile(`(?is)^CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?([A-Za-z0-9_]+)`)
	createIndex = regexp.MustCompile(`(?is)^CREATE\s+(UNIQUE\s+)?INDEX\s+(IF\s+NOT\s+EXISTS\s+)?([A-Za-z0-9_]+)\s+ON\s+([A-Za-z0-9_]+)`)
	insertInto  = regexp.MustCompile(`(?is)^INSERT\s+(IGNORE\s+)?INTO\s+([A-Za-z0-9_]+)`)
)

// ParseSchema splits a MediaWiki SQL file into idempotent statements,
// replacing the installer's placeholders (/*_*/ table prefix,
// /*$wgDBTableOptions*/). Statements that cannot be made idempotent are
// refused rather than run blindly.
func ParseSchema(text string) ([]Statement, error) {
	text = strings.ReplaceAll(text, "/*_*/", "")
	text = strings.ReplaceAll(text, "/*$wgDBTableOptions*/", TableOptions)
	text = lineComment.ReplaceAllString(text, "")
	var out []Statement
	for _, raw := range strings.Split(text, ";\n") {
		s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(raw), ";"))
		if s == "" {
			continue
		}
		switch {
		case createTable.MatchString(s):
			m := createTable.FindStringSubmatch(s)
			rest := s[len(m[0]):]
			out = append(out, Statement{SQL: "CREATE TABLE IF NOT EXISTS " + m[2] + rest, Object: "table " + m[2], CreatesTable: true})
		case createIndex.MatchString(s):
			m := createIndex.FindStringSubmatch(s)
			rest := s[len(m[0]):]
			out = append(out, Statement{
				SQL:    "CREATE " + m[1] + "INDEX IF NOT EXISTS " + m[3] + " ON " + m[4] + rest,
				Object: "index " + m[3] + " on " + m[4],
			})
		case insertInto.MatchString(s):
			m := insertInto.FindStringSubmatch(s)
			rest := s[len(m[0]):]
			out = append(out, Statement{SQL: "INSERT IGNORE INTO " + m[2] + rest, Object: "rows of " + m[2]})
		default:
			first := strings.Fields(s)
			return nil, fmt.Errorf("cannot make this statement idempotent, refusing to run it: %.60s", strings.Join(first, " "))
		}
	}
	return out, nil
}

// Interwiki parses MediaWiki's maintenance/interwiki.list the way the
// installer does (prefix|url|local|api|wikiid, # comments) into one INSERT
// IGNORE of every row: rows already there are kept, missing ones added.
func Interwiki(list string) []Statement {
	var rows []string
	for _, line := range strings.Split(list, "\n") {
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Split(line+"|||||", "|")
		rows = append(rows, fmt.Sprintf("(%s, %s, %s, %s, %s)",
			sqlString(f[0]), sqlString(f[1]), sqlString(f[2]), sqlString(f[3]), sqlString(f[4])))
	}
	if len(rows) == 0 {
		return nil
	}
	return []Statement{{
		SQL:    "INSERT IGNORE INTO interwiki (iw_prefix, iw_url, iw_local, iw_api, iw_wikiid) VALUES " + strings.Join(rows, ", "),
		Object: fmt.Sprintf("%d rows of interwiki", len(rows)),
	}}
}

// sqlString quotes a value read from MediaWiki's own data files (never from
// a request) as a SQL string literal.
func sqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}

// SiteStatsPlaceholder is the installer's empty site_stats row.
var SiteStatsPlaceholder = Statement{
	SQL: "INSERT IGNORE INTO site_stats (ss_row_id, ss_total_edits, ss_good_articles, ss_total_pages, " +
		"ss_users, ss_active_users, ss_images) VALUES (1, 0, 0, 0, 0, 0, 0)",
	Object: "rows of site_stats",
}

// ApplySchema runs statements in order on db (connected to the wiki's
// database), starting at index from, and calls progress with the number of
// statements done. A run of CREATE TABLE statements goes over up to parallel
// connections at once; everything else runs one at a time, in order.
func ApplySchema(ctx context.Context, db *sql.DB, stmts []Statement, from, parallel int, progress func(done int)) error {
	exec := func(st Statement) error {
		if _, err := db.ExecContext(ctx, st.SQL); err != nil {
			return fmt.Errorf("%s: %w", st.Object, err)
		}
		return nil
	}
	for i := from; i < len(stmts); {
		j := i + 1
		if stmts[i].CreatesTable {
			for j < len(stmts) && stmts[j].CreatesTable {
				j++
			}
		}
		if err := execAll(ctx, stmts[i:j], max(parallel, 1), exec); err != nil {
			return err
		}
		i = j
		if progress != nil {
			progress(i)
		}
	}
	return nil
}

// execAll runs fn on every statement with at most n in flight, and returns
// the first error after all have finished.
func execAll(ctx context.Context, stmts []Statement, n int, fn func(Statement) error) error {
	if len(stmts) == 1 || n == 1 {
		for _, st := range stmts {
			if err := fn(st); err != nil {
				return err
			}
		}
		return nil
	}
	sem := make(chan struct{}, n)
	errs := make([]error, len(stmts))
	var wg sync.WaitGroup
	for k, st := range stmts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if ctx.Err() == nil {
				errs[k] = fn(st)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return ctx.Err()
}

// Tables lists the tables of a database, sorted.
func Tables(ctx context.Context, server *sql.DB, dbname string) ([]string, error) {
	return queryAll(ctx, server, scanValue[string],
		`SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME`, dbname)
}
