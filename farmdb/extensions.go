package farmdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// A wiki's extensions, as ManageWiki keeps them: the JSON list
// mw_settings.s_extensions, and the rights they add to the wiki's groups in
// mw_permissions.perm_permissions. Every change is a read-modify-write in a
// transaction that locks the row, so two changes never lose each other.

// EnabledExtensions reads the wiki's s_extensions (none without a row).
func (c *Central) EnabledExtensions(ctx context.Context, db string) ([]string, error) {
	var raw sql.NullString
	err := c.DB.QueryRowContext(ctx, `SELECT s_extensions FROM mw_settings WHERE s_dbname = ?`, db).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeList("s_extensions of "+db, raw)
}

// SetExtension adds name to the wiki's s_extensions (on) or removes it; it
// tells whether the list changed. The list stays sorted.
func (c *Central) SetExtension(ctx context.Context, db, name string, on bool) (changed bool, err error) {
	if _, err := c.DB.ExecContext(ctx,
		`INSERT IGNORE INTO mw_settings (s_dbname, s_settings, s_extensions) VALUES (?, '{}', '[]')`, db); err != nil {
		return false, err
	}
	err = inTx(ctx, c.DB, func(tx *sql.Tx) error {
		var raw sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT s_extensions FROM mw_settings WHERE s_dbname = ? FOR UPDATE`, db).Scan(&raw); err != nil {
			return err
		}
		list, err := decodeList("s_extensions of "+db, raw)
		if err != nil {
			return err
		}
		next, ok := toggled(list, name, on)
		if !ok {
			return nil
		}
		changed = true
		encoded, _ := json.Marshal(next)
		_, err = tx.ExecContext(ctx, `UPDATE mw_settings SET s_extensions = ? WHERE s_dbname = ?`, string(encoded), db)
		return err
	})
	return changed, err
}

// ChangeGroupRights adds rights to (on) or removes them from the group's
// row of the wiki in mw_permissions, and returns the rights that changed. A
// group without a row keeps MediaWiki's and the extension's own defaults
// (a row replaces them, see LocalSettings.php), so it is left alone.
func (c *Central) ChangeGroupRights(ctx context.Context, db, group string, rights []string, on bool) (changed []string, err error) {
	err = inTx(ctx, c.DB, func(tx *sql.Tx) error {
		var raw sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT perm_permissions FROM mw_permissions WHERE perm_dbname = ? AND perm_group = ? FOR UPDATE`,
			db, group).Scan(&raw)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		list, err := decodeList(fmt.Sprintf("perm_permissions of %s/%s", db, group), raw)
		if err != nil {
			return err
		}
		for _, r := range rights {
			if next, ok := toggled(list, r, on); ok {
				list, changed = next, append(changed, r)
			}
		}
		if len(changed) == 0 {
			return nil
		}
		encoded, _ := json.Marshal(list)
		_, err = tx.ExecContext(ctx, `UPDATE mw_permissions SET perm_permissions = ? WHERE perm_dbname = ? AND perm_group = ?`,
			string(encoded), db, group)
		return err
	})
	return changed, err
}

// toggled is list with item added (on) or removed, sorted; ok is false
// when that changes nothing.
func toggled(list []string, item string, on bool) (next []string, ok bool) {
	has := slices.Contains(list, item)
	switch {
	case on && !has:
		next = append(slices.Clone(list), item)
	case !on && has:
		next = slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == item })
	default:
		return list, false
	}
	slices.Sort(next)
	return next, true
}

func decodeList(what string, raw sql.NullString) ([]string, error) {
	if !raw.Valid || raw.String == "" {
		return []string{}, nil
	}
	var list []string
	if err := json.Unmarshal([]byte(raw.String), &list); err != nil {
		return nil, fmt.Errorf("%s is not a JSON list of strings: %v", what, err)
	}
	return list, nil
}
