package farmdb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// keyName is the stored form of an idempotency key: the kind of write and
// a digest of everything that identifies it (keys may be longer than the
// column, and hold nothing a reader of the table needs).
func keyName(kind string, parts ...any) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%v\x00", len(fmt.Sprint(p)), p)
	}
	return kind + ":" + hex.EncodeToString(h.Sum(nil))
}

// claimKey records key for request id at ts inside tx. It answers false,
// with the request and timestamp the key already names, when an earlier
// write (a retry's first attempt) holds it; a concurrent writer of the
// same key waits here for that one to commit.
func claimKey(ctx context.Context, tx *sql.Tx, key string, id int64, ts string) (bool, int64, string, error) {
	res, err := tx.ExecContext(ctx, `INSERT IGNORE INTO wf_request_keys (key_name, key_request, key_timestamp) VALUES (?, ?, ?)`, key, id, ts)
	if err != nil {
		return false, 0, "", err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return n == 1, id, ts, err
	}
	var got int64
	var gotTS string
	err = tx.QueryRowContext(ctx, `SELECT key_request, key_timestamp FROM wf_request_keys WHERE key_name = ? FOR UPDATE`, key).Scan(&got, &gotTS)
	return false, got, gotTS, err
}

// nextFreeSecond is the first second from at that no row of the request
// has in column of table. CreateWiki's request viewer keys comments and
// history entries by their timestamp, so two rows of one request in the
// same second would show as one. The caller holds the request's row lock,
// which serialises WikiFlow's writers of one request.
func nextFreeSecond(ctx context.Context, tx *sql.Tx, table, column string, id int64, at time.Time) (string, error) {
	from := at.UTC().Truncate(time.Second)
	// table and column are constants of this package, never input.
	used, err := queryAll(ctx, tx, scanValue[string], `SELECT `+column+` FROM `+table+` WHERE cw_id = ? AND `+column+` >= ?`, id, Timestamp(from))
	if err != nil {
		return "", err
	}
	taken := make(map[string]bool, len(used))
	for _, ts := range used {
		taken[ts] = true
	}
	for taken[Timestamp(from)] {
		from = from.Add(time.Second)
	}
	return Timestamp(from), nil
}

// Change is one field of a request an edit changed, named as CreateWiki
// names it in its history (sitename, language, url, category, private,
// bio, reason, ...), with the old and new values as CreateWiki prints them
// (booleans as true/false).
type Change struct {
	Field    string
	Old, New string
}

var newlines = regexp.MustCompile("\n+")

// htmlEscaper escapes as PHP's htmlspecialchars with its default flags
// (ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML401), which CreateWiki applies to
// every value before it goes into a history entry.
var htmlEscaper = strings.NewReplacer("&", "&amp;", `"`, "&quot;", "'", "&#039;", "<", "&lt;", ">", "&gt;")

// ChangeMessage is a history entry's details in CreateWiki's format (its
// WikiRequestManager::getChangeMessage): one "Field ”name” changed:"
// block per field with its old and new value as wikitext list items, each
// block a list item itself when there are several.
func ChangeMessage(changes []Change) string {
	many := len(changes) > 1
	prefix, linePrefix := "", ""
	if many {
		prefix, linePrefix = "* ", "*"
	}
	format := func(v string) string {
		v = strings.TrimRight(htmlEscaper.Replace(v), " \t\n\r\x00\x0B")
		lines := strings.Split(newlines.ReplaceAllString(v, "\n"), "\n")
		for i := 1; i < len(lines); i++ {
			lines[i] = linePrefix + ": " + lines[i]
		}
		return strings.Join(lines, "\n")
	}
	msgs := make([]string, 0, len(changes))
	for _, ch := range changes {
		msgs = append(msgs, fmt.Sprintf("%sField ''%s'' changed:\n*%s'''Old value''': %s\n*%s'''New value''': %s",
			prefix, ch.Field, prefix, format(ch.Old), prefix, format(ch.New)))
	}
	return strings.Join(msgs, "\n")
}
