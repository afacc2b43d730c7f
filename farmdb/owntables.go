package farmdb

import "context"

// WikiFlow's own tables, kept beside CreateWiki's and ManageWiki's so that
// those stay exactly as the extensions write them. Each is a set of keys
// where the first writer wins (INSERT IGNORE on the primary key): workers
// racing on one wiki, one request or one signed call agree on who won.

// wf_database_claims, in the central database: a claim records which
// process created a wiki database, so a retry can tell "created by an
// earlier attempt of this process" from "exists and is not ours", and an
// abort drops only what its own process created.
const claimsSchema = `CREATE TABLE IF NOT EXISTS wf_database_claims (
  claim_dbname VARCHAR(64) NOT NULL PRIMARY KEY,
  claim_process VARCHAR(255) NOT NULL,
  claim_cluster VARCHAR(5) NOT NULL,
  claim_timestamp BINARY(14) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=binary`

// One owner per wiki: at most one process that changes a wiki's existence
// or registration (creation, deletion, restore) holds a wiki at a time. The
// row is the lock; its process releases it when it ends. A row whose
// process has ended without releasing it (terminated by an operator) may be
// taken over: the caller says whether the holder is still open.
const ownersSchema = `CREATE TABLE IF NOT EXISTS wf_wiki_owners (
  owner_dbname VARCHAR(64) NOT NULL PRIMARY KEY,
  owner_process VARCHAR(255) NOT NULL,
  owner_run VARCHAR(64) NOT NULL,
  owner_kind VARCHAR(32) NOT NULL,
  owner_timestamp BINARY(14) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=binary`

// The signed hook's replay protection, shared by every worker: a request's
// signature is accepted once. The key is the signature's SHA-256 (fixed
// size, and a stored row reveals nothing that could be sent again).
const hookRequestsSchema = `CREATE TABLE IF NOT EXISTS wf_hook_requests (
  hr_signature BINARY(32) NOT NULL PRIMARY KEY,
  hr_expires BINARY(14) NOT NULL,
  KEY hr_expires (hr_expires)
) ENGINE=InnoDB DEFAULT CHARSET=binary`

// WikiFlow's own table beside CreateWiki's request tables, in the same
// database (Central.Requests) so that a request row, a comment or a history
// row and the key that makes its write idempotent commit in one
// transaction. CreateWiki's own columns carry nothing of WikiFlow's: it
// hands cw_extra to its creation hooks as the request's data, and
// cw_comments has no column a retry could be recognised by.
//
// For a comment the row also keeps when its action happened (key_at) and
// whether it carries out the decisions made until then (key_follows: the
// farm's own status change after the decisive vote), so that a decision
// written after it, made no later, is put before it.
const requestKeysSchema = `CREATE TABLE IF NOT EXISTS wf_request_keys (
  key_name VARBINARY(80) NOT NULL PRIMARY KEY,
  key_request INT NOT NULL,
  key_timestamp BINARY(14) NOT NULL,
  key_at BINARY(14) NULL,
  key_follows TINYINT NOT NULL DEFAULT 0,
  KEY key_request (key_request)
) ENGINE=InnoDB, DEFAULT CHARSET=binary`

// requestKeysUpgrades bring a table made by an earlier version up to the
// schema above; each may run again.
var requestKeysUpgrades = []string{
	`ALTER TABLE wf_request_keys ADD COLUMN IF NOT EXISTS key_at BINARY(14) NULL`,
	`ALTER TABLE wf_request_keys ADD COLUMN IF NOT EXISTS key_follows TINYINT NOT NULL DEFAULT 0`,
	`ALTER TABLE wf_request_keys ADD KEY IF NOT EXISTS key_request (key_request)`,
}

// EnsureOwnTables creates WikiFlow's own tables if they are missing and
// brings wf_request_keys up to date; it never touches CreateWiki's or
// ManageWiki's tables.
func (c *Central) EnsureOwnTables(ctx context.Context) error {
	for _, schema := range []string{claimsSchema, ownersSchema, hookRequestsSchema, eventsSchema, eventSequenceSchema, eventCursorsSchema} {
		if _, err := c.DB.ExecContext(ctx, schema); err != nil {
			return err
		}
	}
	// wf_request_keys is in the request tables' database, so that a key
	// commits with the row it makes idempotent.
	for _, q := range append([]string{requestKeysSchema}, requestKeysUpgrades...) {
		if _, err := c.Requests().ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}
