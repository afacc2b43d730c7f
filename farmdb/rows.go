package farmdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// A wiki's rows in the central tables, as data: what a deletion's backup
// keeps (so that a wiki can be registered again exactly as it was) and what
// a restore puts back. Every column is kept, whatever the farm's version of
// CreateWiki's and ManageWiki's schema has, so a column added by a later
// version is not lost.

// WikiTable is a central table that holds rows of one wiki.
type WikiTable struct {
	Name     string // table
	DBColumn string // the column naming the wiki
	OrderBy  string // a stable order of one wiki's rows (its unique key)
}

// WikiTables are the central tables a wiki has rows in, cw_wikis first.
var WikiTables = []WikiTable{
	{Name: "cw_wikis", DBColumn: "wiki_dbname", OrderBy: "wiki_dbname"},
	{Name: "mw_settings", DBColumn: "s_dbname", OrderBy: "s_dbname"},
	{Name: "mw_permissions", DBColumn: "perm_dbname", OrderBy: "perm_group"},
	{Name: "mw_namespaces", DBColumn: "ns_dbname", OrderBy: "ns_namespace_id"},
}

// Value is one column's value: NULL, or the bytes MariaDB returned. It is
// JSON null, a string when the bytes are UTF-8, or {"base64": "..."} when
// they are not, so that no byte is lost.
type Value struct {
	Null  bool
	Bytes []byte
}

func (v Value) MarshalJSON() ([]byte, error) {
	switch {
	case v.Null:
		return []byte("null"), nil
	case utf8.Valid(v.Bytes):
		return json.Marshal(string(v.Bytes))
	default:
		return json.Marshal(map[string]string{"base64": base64.StdEncoding.EncodeToString(v.Bytes)})
	}
}

func (v *Value) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*v = Value{Null: true}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*v = Value{Bytes: []byte(s)}
		return nil
	}
	var enc struct {
		Base64 *string `json:"base64"`
	}
	if err := json.Unmarshal(b, &enc); err != nil || enc.Base64 == nil {
		return fmt.Errorf("a column value must be null, a string or {\"base64\": ...}, not %s", b)
	}
	raw, err := base64.StdEncoding.DecodeString(*enc.Base64)
	if err != nil {
		return err
	}
	*v = Value{Bytes: raw}
	return nil
}

// arg is the value as a statement argument.
func (v Value) arg() any {
	if v.Null {
		return nil
	}
	return v.Bytes
}

// TableRows are one table's rows of a wiki, in the table's stable order.
type TableRows struct {
	Columns []string  `json:"columns"`
	Rows    [][]Value `json:"rows"`
}

// WikiRows are a wiki's rows in every central table, by table name.
type WikiRows map[string]TableRows

// Counts is the number of rows per table.
func (w WikiRows) Counts() map[string]int {
	out := map[string]int{}
	for _, t := range WikiTables {
		out[t.Name] = len(w[t.Name].Rows)
	}
	return out
}

// WithValue is a copy of the rows with column col of every row of table
// set to value.
func (w WikiRows) WithValue(table, col, value string) WikiRows {
	out := WikiRows{}
	for name, t := range w {
		c := TableRows{Columns: t.Columns, Rows: make([][]Value, len(t.Rows))}
		for i, r := range t.Rows {
			c.Rows[i] = append([]Value{}, r...)
			for j, name2 := range t.Columns {
				if name == table && name2 == col && j < len(r) {
					c.Rows[i][j] = Value{Bytes: []byte(value)}
				}
			}
		}
		out[name] = c
	}
	return out
}

// Registered tells whether the rows include the wiki's cw_wikis row.
func (w WikiRows) Registered() bool { return len(w["cw_wikis"].Rows) > 0 }

// Diff describes the first difference between two sets of rows, "" when
// they are equal; columns are compared by name.
func (w WikiRows) Diff(other WikiRows) string {
	for _, t := range WikiTables {
		a, b := w[t.Name], other[t.Name]
		if len(a.Rows) != len(b.Rows) {
			return fmt.Sprintf("%s has %d rows, not %d", t.Name, len(b.Rows), len(a.Rows))
		}
		for i := range a.Rows {
			ra, rb := a.byColumn(i), b.byColumn(i)
			for _, col := range unionKeys(ra, rb) {
				va, oka := ra[col]
				vb, okb := rb[col]
				if oka != okb || va.Null != vb.Null || string(va.Bytes) != string(vb.Bytes) {
					return fmt.Sprintf("%s row %d differs in %s", t.Name, i+1, col)
				}
			}
		}
	}
	return ""
}

func (t TableRows) byColumn(i int) map[string]Value {
	m := make(map[string]Value, len(t.Columns))
	for j, c := range t.Columns {
		if j < len(t.Rows[i]) {
			m[c] = t.Rows[i][j]
		}
	}
	return m
}

func unionKeys(a, b map[string]Value) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]Value{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	// Sorted, so that the first difference named is always the same one.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// ReadWikiRows reads every row the wiki has in the central tables, all
// columns, in one read-only transaction so that they belong to one moment.
func (c *Central) ReadWikiRows(ctx context.Context, dbname string) (WikiRows, error) {
	var w WikiRows
	err := inSnapshot(ctx, c.DB, func(tx *sql.Tx) error {
		var err error
		w, err = readRows(ctx, tx, dbname, "")
		return err
	})
	return w, err
}

// readRows reads the wiki's rows from the tables named prefix+table.
func readRows(ctx context.Context, q querier, dbname, prefix string) (WikiRows, error) {
	out := WikiRows{}
	for _, t := range WikiTables {
		rows, err := q.QueryContext(ctx, "SELECT * FROM `"+prefix+t.Name+"` WHERE `"+t.DBColumn+"` = ? ORDER BY `"+t.OrderBy+"`", dbname)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", t.Name, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			rows.Close()
			return nil, err
		}
		tr := TableRows{Columns: cols, Rows: [][]Value{}}
		for rows.Next() {
			raw := make([]sql.RawBytes, len(cols))
			ptrs := make([]any, len(cols))
			for i := range raw {
				ptrs[i] = &raw[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, err
			}
			row := make([]Value, len(cols))
			for i, r := range raw {
				if r == nil {
					row[i] = Value{Null: true}
				} else {
					row[i] = Value{Bytes: append([]byte{}, r...)}
				}
			}
			tr.Rows = append(tr.Rows, row)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		out[t.Name] = tr
	}
	return out, nil
}

// insertRows inserts rows into the tables named prefix+table. A row must
// name the wiki dbname (a backup of one wiki restores only that wiki).
func insertRows(ctx context.Context, q querier, dbname, prefix string, w WikiRows) error {
	for _, t := range WikiTables {
		tr := w[t.Name]
		if len(tr.Rows) == 0 {
			continue
		}
		quoted := make([]string, len(tr.Columns))
		dbcol := -1
		for i, c := range tr.Columns {
			qc, err := quoteTable(c)
			if err != nil {
				return fmt.Errorf("%s: column %w", t.Name, err)
			}
			quoted[i] = qc
			if c == t.DBColumn {
				dbcol = i
			}
		}
		if dbcol < 0 {
			return fmt.Errorf("the rows of %s have no column %s", t.Name, t.DBColumn)
		}
		stmt := "INSERT INTO `" + prefix + t.Name + "` (" + strings.Join(quoted, ", ") + ") VALUES (" + placeholders(len(quoted)) + ")"
		for _, row := range tr.Rows {
			if len(row) != len(tr.Columns) {
				return fmt.Errorf("a row of %s has %d values for %d columns", t.Name, len(row), len(tr.Columns))
			}
			if row[dbcol].Null || string(row[dbcol].Bytes) != dbname {
				return fmt.Errorf("a row of %s belongs to another wiki", t.Name)
			}
			args := make([]any, len(row))
			for i, v := range row {
				args[i] = v.arg()
			}
			if _, err := q.ExecContext(ctx, stmt, args...); err != nil {
				return fmt.Errorf("inserting into %s: %w", t.Name, err)
			}
		}
	}
	return nil
}

// CheckWikiRows proves that rows restore: it inserts them into temporary
// copies of the central tables (CREATE TEMPORARY TABLE ... LIKE, on one
// connection: nobody else sees them and they go with the connection, and
// the farm's tables are not touched) and reads them back. It returns the
// rows as MariaDB gives them back.
func (c *Central) CheckWikiRows(ctx context.Context, dbname string, w WikiRows) (WikiRows, error) {
	conn, err := c.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	// A connection that held temporary tables is not given back to the pool.
	defer func() {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		conn.Close()
	}()
	const prefix = "wfverify_"
	for _, t := range WikiTables {
		if _, err := conn.ExecContext(ctx, "DROP TEMPORARY TABLE IF EXISTS `"+prefix+t.Name+"`"); err != nil {
			return nil, err
		}
		if _, err := conn.ExecContext(ctx, "CREATE TEMPORARY TABLE `"+prefix+t.Name+"` LIKE `"+t.Name+"`"); err != nil {
			return nil, fmt.Errorf("a scratch copy of %s: %w", t.Name, err)
		}
	}
	if err := insertRows(ctx, conn, dbname, prefix, w); err != nil {
		return nil, err
	}
	return readRows(ctx, conn, dbname, prefix)
}

// RestoreWikiRows puts a wiki's rows back, in one transaction: the rows
// the wiki has now are replaced (a restore that died halfway left its own
// rows), then the backup's are inserted and the wiki is placed on cluster
// when one is given. The caller must own the name (its claim).
func (c *Central) RestoreWikiRows(ctx context.Context, dbname, cluster string, w WikiRows) error {
	return inTx(ctx, c.DB, func(tx *sql.Tx) error {
		for i := len(WikiTables) - 1; i >= 0; i-- {
			t := WikiTables[i]
			if _, err := tx.ExecContext(ctx, "DELETE FROM `"+t.Name+"` WHERE `"+t.DBColumn+"` = ?", dbname); err != nil {
				return err
			}
		}
		if err := insertRows(ctx, tx, dbname, "", w); err != nil {
			return err
		}
		if cluster != "" {
			if _, err := tx.ExecContext(ctx, "UPDATE cw_wikis SET wiki_dbcluster = ? WHERE wiki_dbname = ?", cluster, dbname); err != nil {
				return err
			}
		}
		return nil
	})
}
