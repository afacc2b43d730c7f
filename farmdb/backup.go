package farmdb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
)

// TableRowCounts counts the rows of every base table of a database exactly
// (COUNT(*), not information_schema's estimate), all in one read-only
// transaction so that the counts belong to one moment. A database that does
// not exist has no tables: the map is empty.
func TableRowCounts(ctx context.Context, server *sql.DB, dbname string) (map[string]int64, error) {
	quoted, err := QuoteDB(dbname)
	if err != nil {
		return nil, err
	}
	var counts map[string]int64
	err = inSnapshot(ctx, server, func(tx *sql.Tx) error {
		tables, err := queryAll(ctx, tx, scanValue[string],
			`SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME`,
			dbname)
		if err != nil {
			return err
		}
		counts = make(map[string]int64, len(tables))
		for _, t := range tables {
			qt, err := quoteTable(t)
			if err != nil {
				return err
			}
			var n int64
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoted+"."+qt).Scan(&n); err != nil {
				return fmt.Errorf("counting %s.%s: %w", dbname, t, err)
			}
			counts[t] = n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}

// quoteTable quotes a table name read from information_schema (never one
// from a request). Backticks are doubled as MariaDB wants; a name that could
// still surprise (NUL, newline) is refused.
func quoteTable(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, "\x00\n\r") || len(name) > 64 {
		return "", fmt.Errorf("unsafe table name %q", name)
	}
	return "`" + strings.ReplaceAll(name, "`", "``") + "`", nil
}

// ScratchDBName is the name of the throw-away database a backup of dbname
// is restored into to verify it: wfverify_<db>, shortened with a hash of the
// name when that would pass MariaDB's 64 characters.
func ScratchDBName(dbname string) (string, error) {
	if err := CheckDBName(dbname); err != nil {
		return "", err
	}
	name := "wfverify_" + dbname
	if len(name) > 64 {
		sum := sha256.Sum256([]byte(dbname))
		name = "wfverify_" + dbname[:46] + "_" + hex.EncodeToString(sum[:4])
	}
	return name, CheckDBName(name)
}

// ToolConnection is how MariaDB's command-line tools (mariadb-dump, mariadb)
// reach a cluster: arguments that name the server and user, and the password
// to give them through the MYSQL_PWD environment variable, never in argv.
type ToolConnection struct {
	Args     []string
	Password string
}

// Env returns the environment entry carrying the password.
func (t ToolConnection) Env() string { return "MYSQL_PWD=" + t.Password }

// ToolConnection derives the command-line connection of a cluster from its
// DSN: host and port for tcp, the socket for unix, TLS when the DSN asks for it.
func (c *Clusters) ToolConnection(cluster string) (ToolConnection, error) {
	cfg, ok := c.dsns[cluster]
	if !ok {
		return ToolConnection{}, fmt.Errorf("unknown database cluster %q", cluster)
	}
	var args []string
	switch cfg.Net {
	case "unix":
		args = append(args, "--protocol=SOCKET", "--socket="+cfg.Addr)
	case "tcp", "tcp6", "":
		host, port := cfg.Addr, "3306"
		if i := strings.LastIndex(cfg.Addr, ":"); i >= 0 {
			host, port = cfg.Addr[:i], cfg.Addr[i+1:]
		}
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		if host == "" {
			host = "127.0.0.1"
		}
		args = append(args, "--protocol=TCP", "--host="+host, "--port="+port)
	default:
		return ToolConnection{}, fmt.Errorf("cluster %s: the MariaDB tools cannot use the network %q of its DSN", cluster, cfg.Net)
	}
	if cfg.User != "" {
		args = append(args, "--user="+cfg.User)
	}
	switch cfg.TLSConfig {
	case "", "false":
	case "true":
		args = append(args, "--ssl", "--ssl-verify-server-cert")
	case "skip-verify", "preferred":
		args = append(args, "--ssl")
	default:
		return ToolConnection{}, fmt.Errorf("cluster %s: the MariaDB tools cannot use the custom TLS configuration %q of its DSN", cluster, cfg.TLSConfig)
	}
	return ToolConnection{Args: args, Password: cfg.Passwd}, nil
}
