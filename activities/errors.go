// Package activities holds every piece of I/O the workflows need: the
// central database, wiki databases, MediaWiki's API and maintenance scripts,
// notifications. Each activity is idempotent: running it twice leaves the
// same state as running it once.
package activities

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/wikiflow/wikiflow/mediawiki"
)

// Error types of permanent failures; a retry policy never retries them and
// callers can match them by name.
const (
	ErrInvalidInput  = "InvalidInput"
	ErrWikiExists    = "WikiExists"
	ErrWikiNotFound  = "WikiNotFound"
	ErrNotOurs       = "NotOurs"
	ErrUnknownWiki   = "UnknownWiki"
	ErrScriptFailed  = "ScriptFailed"
	ErrMisconfigured = "Misconfigured"
)

// permanent marks a failure that no retry can fix.
func permanent(errType string, format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), errType, nil)
}

// classifyAPI turns MediaWiki client errors into retryable or permanent ones:
// an unknown wiki will not appear by retrying; a down server may come back.
func classifyAPI(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, mediawiki.ErrUnknownWiki) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrUnknownWiki, err)
	}
	return err
}
