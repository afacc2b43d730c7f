package activities

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/wikiflow/wikiflow/process"
)

// WikiRules are CreateWiki's rules for a new wiki's name and metadata, and
// the settings of CreateWiki's that say how its request rows are written.
type WikiRules struct {
	// Suffix every database name must end with (CreateWiki's $wgCreateWikiDatabaseSuffix).
	Suffix string
	// Subdomain is the farm's domain below which every wiki has its
	// subdomain ($wgCreateWikiSubdomain): a request's cw_url is
	// <database name without Suffix>.<Subdomain>.
	Subdomain string
	// CentralWiki is the wiki whose database holds the requests and the
	// shared actor table ($wgCreateWikiGlobalWiki), for activities whose
	// input does not name it.
	CentralWiki string
}

// MaxSitenameBytes is cw_wikis.wiki_sitename's and cw_requests.cw_sitename's
// VARCHAR(128): MediaWiki makes them binary, so it counts bytes of UTF-8.
const MaxSitenameBytes = 128

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
	if p := r.DBNameProblem(w.DB); p != "" {
		problems = append(problems, p)
	}
	if !languageCode.MatchString(w.Language) || len(w.Language) > 12 {
		problems = append(problems, fmt.Sprintf("%q is not a language code", w.Language))
	}
	switch s := strings.TrimSpace(w.Sitename); {
	case s == "":
		problems = append(problems, "the sitename is empty")
	case !utf8.ValidString(w.Sitename):
		problems = append(problems, "the sitename is not valid UTF-8")
	case len(w.Sitename) > MaxSitenameBytes:
		problems = append(problems, fmt.Sprintf("the sitename is %d bytes long in UTF-8 (%d characters); at most %d bytes (CreateWiki's VARCHAR(128) of a binary table counts bytes)",
			len(w.Sitename), utf8.RuneCountInString(w.Sitename), MaxSitenameBytes))
	}
	// Which spellings name an account is MediaWiki's to say (the workflow
	// asks it); here only what would make that question ambiguous: nothing,
	// or the API's list separators.
	if strings.TrimSpace(requester) == "" || strings.ContainsAny(requester, "|\x1f") || len(requester) > 255 {
		problems = append(problems, fmt.Sprintf("%q is not a valid user name", requester))
	}
	if len(w.Category) > 64 {
		problems = append(problems, fmt.Sprintf("the category is %d bytes long in UTF-8; at most 64 bytes", len(w.Category)))
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid wiki request: %s", strings.Join(problems, "; "))
	}
	return nil
}

// DBNameProblem says what is wrong with a database name a new wiki (or a
// renamed one) would get, "" when nothing is.
func (r WikiRules) DBNameProblem(db string) string {
	switch {
	case db == "":
		return "the database name is empty"
	case len(db) > MaxDBNameLength:
		return fmt.Sprintf("the database name is %d characters long; at most %d", len(db), MaxDBNameLength)
	case !dbChars.MatchString(db):
		return fmt.Sprintf("the database name %q may hold only lowercase letters and digits", db)
	case r.Suffix != "" && (!strings.HasSuffix(db, r.Suffix) || db == r.Suffix):
		return fmt.Sprintf("the database name %q must end with %q", db, r.Suffix)
	case db[0] >= '0' && db[0] <= '9':
		return fmt.Sprintf("the database name %q must start with a letter", db)
	}
	return ""
}

var languageEntry = regexp.MustCompile(`(?m)^\s*'([a-z0-9-]+)'\s*=>`)

// KnownLanguages reads the language codes MediaWiki itself ships.
func (f *Farm) KnownLanguages() (map[string]bool, error) {
	f.languagesOnce.Do(func() {
		path := filepath.Join(f.Paths.InstallPath, "includes", "languages", "data", "Names.php")
		b, err := os.ReadFile(path)
		if err != nil {
			f.languagesErr = Permanent(ErrTypeMisconfigured, "cannot read MediaWiki's language list (mediawiki.install_path): %v", err)
			return
		}
		f.languages = map[string]bool{}
		for _, m := range languageEntry.FindAllStringSubmatch(string(b), -1) {
			f.languages[m[1]] = true
		}
	})
	return f.languages, f.languagesErr
}
