package farmdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrOwnedByOther means another open process owns the wiki.
var ErrOwnedByOther = errors.New("the wiki is owned by another open process")

// Owner is one row of wf_wiki_owners.
type Owner struct {
	DBName  string
	Process string // workflow ID
	Run     string // workflow run ID
	Kind    string // process kind
}

// GetOwner reads the wiki's owner; ok is false when nobody owns it.
func (c *Central) GetOwner(ctx context.Context, dbname string) (Owner, bool, error) {
	o := Owner{DBName: dbname}
	err := c.DB.QueryRowContext(ctx,
		`SELECT owner_process, owner_run, owner_kind FROM wf_wiki_owners WHERE owner_dbname = ?`, dbname,
	).Scan(&o.Process, &o.Run, &o.Kind)
	if errors.Is(err, sql.ErrNoRows) {
		return Owner{}, false, nil
	}
	return o, err == nil, err
}

// TakeOwnership makes o the wiki's owner. The same process (and run) again
// is a no-op; another holder is replaced only when stillOpen says it has
// ended, else the answer wraps ErrOwnedByOther and names the holder.
func (c *Central) TakeOwnership(ctx context.Context, o Owner, stillOpen func(Owner) (bool, error)) (Owner, error) {
	for range 3 {
		_, err := c.DB.ExecContext(ctx,
			`INSERT IGNORE INTO wf_wiki_owners (owner_dbname, owner_process, owner_run, owner_kind, owner_timestamp) VALUES (?, ?, ?, ?, ?)`,
			o.DBName, o.Process, o.Run, o.Kind, Timestamp(time.Now()))
		if err != nil {
			return Owner{}, err
		}
		held, ok, err := c.GetOwner(ctx, o.DBName)
		if err != nil {
			return Owner{}, err
		}
		if !ok {
			continue // released between the two statements: try again
		}
		if held.Process == o.Process && held.Run == o.Run {
			return held, nil
		}
		open, err := stillOpen(held)
		if err != nil {
			return held, err
		}
		if open {
			return held, fmt.Errorf("%s: %w (%s)", o.DBName, ErrOwnedByOther, held.Process)
		}
		// The holder has ended: take its place, unless someone else did.
		if _, err := c.DB.ExecContext(ctx,
			`DELETE FROM wf_wiki_owners WHERE owner_dbname = ? AND owner_process = ? AND owner_run = ?`,
			held.DBName, held.Process, held.Run); err != nil {
			return Owner{}, err
		}
	}
	return Owner{}, fmt.Errorf("%s: the ownership kept changing hands", o.DBName)
}

// ReleaseOwnership removes the wiki's row if this process and run hold it.
func (c *Central) ReleaseOwnership(ctx context.Context, dbname, process, run string) error {
	_, err := c.DB.ExecContext(ctx,
		`DELETE FROM wf_wiki_owners WHERE owner_dbname = ? AND owner_process = ? AND owner_run = ?`, dbname, process, run)
	return err
}
