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
		return &UsageError{Msg: fmt.Sprintf("invalid wiki database name %q: lowercase letters, digits and underscores, starting with a letter, at most 64", db)}
	}
	return nil
}

// UsageError is a request that is wrong on its face; nothing was started.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }
