package farmdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Claim is one row of wf_database_claims.
type Claim struct {
	DBName  string
	Process string
	Cluster string
}

// GetClaim reads the claim on dbname; ok is false when there is none.
func (c *Central) GetClaim(ctx context.Context, dbname string) (Claim, bool, error) {
	cl := Claim{DBName: dbname}
	err := c.DB.QueryRowContext(ctx,
		`SELECT claim_process, claim_cluster FROM wf_database_claims WHERE claim_dbname = ?`, dbname,
	).Scan(&cl.Process, &cl.Cluster)
	if errors.Is(err, sql.ErrNoRows) {
		return Claim{}, false, nil
	}
	return cl, err == nil, err
}

// PutClaim records that process owns dbname on cluster. It fails with
// ErrClaimedByOther when someone else's claim is there.
func (c *Central) PutClaim(ctx context.Context, cl Claim) error {
	_, err := c.DB.ExecContext(ctx,
		`INSERT IGNORE INTO wf_database_claims (claim_dbname, claim_process, claim_cluster, claim_timestamp) VALUES (?, ?, ?, ?)`,
		cl.DBName, cl.Process, cl.Cluster, Timestamp(time.Now()))
	if err != nil {
		return err
	}
	got, ok, err := c.GetClaim(ctx, cl.DBName)
	if err != nil {
		return err
	}
	if !ok || got.Process != cl.Process {
		return fmt.Errorf("%s: %w (%s)", cl.DBName, ErrClaimedByOther, got.Process)
	}
	return nil
}

// DeleteClaim removes process's claim on dbname (and nobody else's).
func (c *Central) DeleteClaim(ctx context.Context, dbname, process string) error {
	_, err := c.DB.ExecContext(ctx, `DELETE FROM wf_database_claims WHERE claim_dbname = ? AND claim_process = ?`, dbname, process)
	return err
}

// ReleaseClaims deletes every claim on dbname, whichever process made it:
// once the wiki's database is dropped, no process owns the name any more.
func (c *Central) ReleaseClaims(ctx context.Context, dbname string) (bool, error) {
	res, err := c.DB.ExecContext(ctx, `DELETE FROM wf_database_claims WHERE claim_dbname = ?`, dbname)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
