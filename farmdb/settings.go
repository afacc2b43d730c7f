package farmdb

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"
)

// ManageWiki keeps a wiki's settings in mw_settings.s_settings as one JSON
// object (variable name -> value); the farm's LocalSettings.php reads it on
// every request. These functions change one key and keep every other one.

// ReadSettings returns the wiki's settings object, key by key (compact
// JSON values). A wiki without a row, or with a NULL s_settings, has none:
// the map is empty, not nil.
func (c *Central) ReadSettings(ctx context.Context, db string) (map[string]json.RawMessage, error) {
	var raw sql.NullString
	err := c.DB.QueryRowContext(ctx, `SELECT s_settings FROM mw_settings WHERE s_dbname = ?`, db).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return map[string]json.RawMessage{}, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeSettings(db, raw)
}

// ApplySetting sets one key of the wiki's settings object to value (JSON
// text, stored compact) in a transaction that locks the row (SELECT ... FOR
// UPDATE), so concurrent changes of other keys are never lost. A wiki
// without a row gets one with `{}` settings and `[]` extensions first.
// old is the previous value (compact JSON) and existed whether the key was
// set; applying the same value again writes nothing and returns it as old.
//
// It does not check the value against the settings registry, nor that the
// wiki is registered: callers do (settings.Registry.Check, Central.Wiki).
func (c *Central) ApplySetting(ctx context.Context, db, name string, value json.RawMessage) (old json.RawMessage, existed bool, err error) {
	if name == "" {
		return nil, false, errors.New("ApplySetting: empty setting name")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, value); err != nil {
		return nil, false, fmt.Errorf("ApplySetting %s: the value is not valid JSON: %v", name, err)
	}
	value = compact.Bytes()
	// Make sure the row exists before locking it: an INSERT inside the
	// locking transaction would race another one's gap lock (deadlock).
	if _, err := c.DB.ExecContext(ctx,
		`INSERT IGNORE INTO mw_settings (s_dbname, s_settings, s_extensions) VALUES (?, '{}', '[]')`, db); err != nil {
		return nil, false, err
	}
	for attempt := 1; ; attempt++ {
		old, existed, err = c.applySettingOnce(ctx, db, name, value)
		var me *mysql.MySQLError
		// 1213 deadlock, 1205 lock wait timeout: the transaction was rolled back, run it again.
		if err != nil && attempt < 3 && errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205) {
			continue
		}
		return old, existed, err
	}
}

func (c *Central) applySettingOnce(ctx context.Context, db, name string, value json.RawMessage) (old json.RawMessage, existed bool, err error) {
	err = inTx(ctx, c.DB, func(tx *sql.Tx) error {
		var raw sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT s_settings FROM mw_settings WHERE s_dbname = ? FOR UPDATE`, db).Scan(&raw)
		if err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("mw_settings has no row for %s after creating it", db)
			}
			return err
		}
		settings, err := decodeSettings(db, raw)
		if err != nil {
			return err
		}
		old, existed = settings[name]
		if existed && bytes.Equal(old, value) {
			return nil
		}
		settings[name] = value
		encoded, err := encodeSettings(settings)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE mw_settings SET s_settings = ? WHERE s_dbname = ?`, string(encoded), db)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return old, existed, nil
}

// decodeSettings reads s_settings; anything but a JSON object (or NULL) is
// an error, so a damaged row is reported instead of being overwritten.
func decodeSettings(db string, raw sql.NullString) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	if !raw.Valid || raw.String == "" {
		return out, nil
	}
	text := bytes.TrimSpace([]byte(raw.String))
	// ManageWiki stores json_encode($settings): PHP writes an empty array
	// as [], so that is an empty set of settings, not a damaged row.
	if len(text) > 0 && text[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(text, &list); err == nil && len(list) == 0 {
			return out, nil
		}
	}
	if len(text) == 0 || text[0] != '{' {
		return nil, fmt.Errorf("mw_settings.s_settings of %s is not a JSON object", db)
	}
	if err := json.Unmarshal(text, &out); err != nil {
		return nil, fmt.Errorf("mw_settings.s_settings of %s is not a JSON object: %v", db, err)
	}
	for k, v := range out {
		var b bytes.Buffer
		if err := json.Compact(&b, v); err != nil {
			return nil, err
		}
		out[k] = b.Bytes()
	}
	return out, nil
}

// encodeSettings writes the object compact, keys sorted, without HTML
// escaping (PHP's json_decode reads either form the same).
func encodeSettings(settings map[string]json.RawMessage) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(settings); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
