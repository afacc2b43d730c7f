package activities

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/wikiflow/wikiflow/process"
)

// WikiRules are CreateWiki's rules for a new wiki's name and metadata.
type WikiRules struct {
	// Suffix every database name must end with (CreateWiki's $wgCreateWikiDatabaseSuffix).
	Suffix string
}

var (
	dbChars      = regexp.MustCompile(`^[a-z0-9]+$`)
	languageCode = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{1,8})*$`)
)

// MaxDBNameLength keeps names within MariaDB's 64-character identifier limit.
const MaxDBNameLength = 64

// Check returns every problem of a new wiki's request, in one error: the
// database name (lowercase letters and digits ending with the suffix, like
// CreateWiki), the language code's shape, the sitename and the requester's
// name. Whether the language is one MediaWiki knows is checked by the
// ValidateWiki activity, which can read MediaWiki's list.
func (r WikiRules) Check(w process.WikiSpec, requester string) error {
	var problems []string
	switch {
	case w.DB == "":
		problems = append(problems, "the database name is empty")
	case len(w.DB) > MaxDBNameLength:
		problems = append(problems, fmt.Sprintf("the database name is %d characters long; at most %d", len(w.DB), MaxDBNameLength))
	case !dbChars.MatchString(w.DB):
		problems = append(problems, fmt.Sprintf("the database name %q may hold only lowercase letters and digits", w.DB))
	case r.Suffix != "" && (!strings.HasSuffix(w.DB, r.Suffix) || w.DB == r.Suffix):
		problems = append(problems, fmt.Sprintf("the database name %q must end with %q", w.DB, r.Suffix))
	case w.DB[0] >= '0' && w.DB[0] <= '9':
		problems = append(problems, fmt.Sprintf("the database name %q must start with a letter", w.DB))
	}
	if !languageCode.MatchString(w.Language) {
		problems = append(problems, fmt.Sprintf("%q is not a language code", w.Language))
	}
	if s := strings.TrimSpace(w.Sitename); s == "" || utf8.RuneCountInString(s) > 128 {
		problems = append(problems, "the sitename must have 1 to 128 characters")
	}
	// Which spellings name an account is MediaWiki's to say (the workflow
	// asks it); here only what would make that question ambiguous: nothing,
	// or the API's list separators.
	if strings.TrimSpace(requester) == "" || strings.ContainsAny(requester, "|\x1f") || len(requester) > 255 {
		problems = append(problems, fmt.Sprintf("%q is not a valid user name", requester))
	}
	if len(w.Category) > 64 {
		problems = append(problems, "the category has more than 64 characters")
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid wiki request: %s", strings.Join(problems, "; "))
	}
	return nil
}
