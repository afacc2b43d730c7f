// Package activities holds every piece of I/O the workflows need: the
// central database, wiki databases, MediaWiki's API and maintenance scripts,
// notifications. Each activity is idempotent: running it twice leaves the
// same state as running it once.
package activities

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/mediawiki"
	"github.com/wikiflow/wikiflow/notify"
	"github.com/wikiflow/wikiflow/process"
)

// Error types of permanent failures; a retry policy never retries them and
// callers can match them by name.
const (
	ErrTypeInvalidInput  = "InvalidInput"
	ErrTypeWikiExists    = "WikiExists"
	ErrTypeWikiNotFound  = "WikiNotFound"
	ErrTypeNotOurs       = "NotOurs"
	ErrTypeUnknownWiki   = "UnknownWiki"
	ErrTypeScriptFailed  = "ScriptFailed"
	ErrTypeMisconfigured = "Misconfigured"
	// ErrTypeRefused: MediaWiki or the database answered and refused (a 4xx,
	// an API error that is a refusal, a missing table, a denied grant).
	ErrTypeRefused = "Refused"
)

// Error types Classify gives the failures it retries.
const (
	// ErrTypeTransient: the farm is restarting or unreachable (connection
	// refused or reset, timeouts, HTTP 5xx, a database going away, a
	// deadlock, a failover's read-only phase): retried within the budget.
	ErrTypeTransient = "Transient"
	// ErrTypeUnexpected: a failure neither package recognises: retried within
	// the budget too, so it reaches a person once the budget is spent.
	ErrTypeUnexpected = "Unexpected"
)

// Permanent marks a failure that no retry can fix.
func Permanent(errType string, format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), errType, nil)
}

// ClassifyAPI turns MediaWiki client errors into retryable or permanent ones:
// an unknown wiki will not appear by retrying, nor a missing shared secret;
// a down server may come back.
func ClassifyAPI(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, mediawiki.ErrUnknownWiki) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeUnknownWiki, err)
	}
	if errors.Is(err, mediawiki.ErrNoWriteSecret) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeMisconfigured, err)
	}
	return err
}

// Classify is the one place that turns an activity's failure into what the
// retry policy acts on. The worker's interceptor applies it to every
// activity, so an activity returns its errors as they come and says only
// what it knows better (a refusal, a wiki that exists) as an
// ApplicationError of its own, which is kept as it is.
//
//   - permanent (MediaWiki's 4xx and refusals, a login the wiki will not
//     take, the database refusing a statement, the farm's data saying no,
//     a bad email address): a non-retryable ApplicationError of type
//     ErrTypeRefused (ErrTypeInvalidInput for the address), so the step goes to a
//     person at once;
//   - transient (mediawiki.Classify or farmdb.Classify say so): retryable,
//     type ErrTypeTransient;
//   - anything else: retryable, type ErrTypeUnexpected.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	var app *temporal.ApplicationError
	var canceled *temporal.CanceledError
	switch {
	case errors.As(err, &canceled):
		return err
	case errors.As(err, &app):
		if app == err {
			return err
		}
		// Wrapped with context: keep the inner decision, show the whole text.
		return temporal.NewApplicationErrorWithOptions(err.Error(), app.Type(),
			temporal.ApplicationErrorOptions{NonRetryable: app.NonRetryable(), NextRetryDelay: app.NextRetryDelay(), Category: app.Category()})
	case errors.Is(err, notify.ErrBadAddress):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidInput, nil)
	}
	mw, db := mediawiki.Classify(err), farmdb.Classify(err)
	switch {
	case mw == mediawiki.Permanent || db == farmdb.Permanent:
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeRefused, nil)
	case mw == mediawiki.Transient || db == farmdb.Transient:
		return temporal.NewApplicationError(err.Error(), ErrTypeTransient)
	}
	return temporal.NewApplicationError(err.Error(), ErrTypeUnexpected)
}

// Error types of the deletion's permanent failures.
const (
	// ErrTypeNoVerifiedBackup: DropWikiDatabase refuses without a backup that
	// VerifyBackup restored and counted, still on disk with its checksum.
	ErrTypeNoVerifiedBackup = "NoVerifiedBackup"
	// ErrTypeNoDatabase: the wiki has no database to back up and no backup exists.
	ErrTypeNoDatabase = "NoDatabase"
	// ErrTypeBackupMissing: the backup file recorded by the backup step is gone.
	ErrTypeBackupMissing = "BackupMissing"
	// ErrTypeChecksumMismatch: the backup file is not what the backup step wrote.
	ErrTypeChecksumMismatch = "ChecksumMismatch"
	// ErrTypeBackupMismatch: the restored backup does not have the recorded tables and rows.
	ErrTypeBackupMismatch = "BackupMismatch"
)

// ErrTypeOwned is the error type of a wiki another open process owns.
const ErrTypeOwned = "OwnedByOther"

// ErrTypeNotInBackup: a removal found something the verified backup does not hold.
const ErrTypeNotInBackup = "NotInBackup"

// WikiDB is the database name of the wiki a step works on, checked: a name
// that could not be a database is a permanent error, never retried.
func WikiDB(in process.StepInput) (string, error) { return CheckedDB(in.Wiki.DB) }

// CheckedDB checks a wiki's database name like WikiDB.
func CheckedDB(db string) (string, error) {
	if err := farmdb.CheckDBName(db); err != nil {
		return "", Permanent(ErrTypeInvalidInput, "%v", err)
	}
	return db, nil
}

// QuotedWikiDB is WikiDB with the name quoted for SQL, for steps that
// create or drop the database.
func QuotedWikiDB(in process.StepInput) (db, quoted string, err error) {
	quoted, err = farmdb.QuoteDB(in.Wiki.DB)
	if err != nil {
		return "", "", Permanent(ErrTypeInvalidInput, "%v", err)
	}
	return in.Wiki.DB, quoted, nil
}
