package client

import (
	"fmt"
	"regexp"
)

var dbName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// ValidateDBName refuses anything that is not a plausible wiki database name
// before it reaches a workflow ID, a query or a Host header.
func ValidateDBName(db string) error {
	if !dbName.MatchString(db) {
		return &InvalidError{Msg: fmt.Sprintf("invalid wiki database name %q: lowercase letters, digits and underscores, starting with a letter, at most 64", db)}
	}
	return nil
}

// UsageError is a request that cannot run as given or as configured (a
// configuration value the client needs is wrong); nothing was started. The
// CLI exits 2 for it; input that is merely wrong is an InvalidError.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// InvalidError is input that is wrong on its face: a malformed wiki name or
// process ID, an unknown filter value or action. Nothing was started or
// sent. The CLI exits 1 for it (a refusal, not a usage error), the hook
// answers 400 invalid_request.
type InvalidError struct{ Msg string }

func (e *InvalidError) Error() string { return e.Msg }
