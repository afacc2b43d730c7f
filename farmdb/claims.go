package farmdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// WikiFlow's own table in the central database. A claim records which
// process created a wiki database, so a retry can tell "created by an
// earlier attempt of this process" from "exists and is not ours", and an
// abort drops only what its own process created.
const claimsSchema = `CREATE TABLE IF NOT EXISTS wf_database_claims (
  claim_dbname VARCHAR(64) NOT NULL PRIMARY KEY,
  claim_process VARCHAR(255) NOT NULL,
  claim_cluster VARCHAR(5) NOT NULL,
  claim_timestamp BINARY(14) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=binary`

// EnsureOwnTables creates WikiFlow's own tables if they are missing; it never
// touches CreateWiki's or ManageWiki's tables.
func (c *Central) EnsureOwnTables(ctx context.Context) error {
	for _, schema := range []string{claimsSchema, ownersSchema, hookRequestsSchema} {
		if _, err := c.DB.ExecContext(ctx, schema); err != nil {
			return err
		}
	}
	return c.ensureRequestKeys(ctx)
}

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

// LeastUsedCluster picks the cluster with the fewest registered wikis, as
// CreateWiki does; ties go to the first name.
func (c *Central) LeastUsedCluster(ctx context.Context, names []string) (string, error) {
	best, bestN := "", -1
	for _, name := range names {
		var n int
		if err := c.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM cw_wikis WHERE wiki_dbcluster = ?`, name).Scan(&n); err != nil {
			return "", err
		}
		if bestN < 0 || n < bestN {
			best, bestN = name, n
		}
	}
	if best == "" {
		return "", errors.New("no database cluster configured")
	}
	return best, nil
}
