package activities

import (
	"os"
	"path/filepath"
	"regexp"
)

var languageEntry = regexp.MustCompile(`(?m)^\s*'([a-z0-9-]+)'\s*=>`)

// KnownLanguages reads the language codes MediaWiki itself ships.
func (f *Farm) KnownLanguages() (map[string]bool, error) {
	f.languagesOnce.Do(func() {
		path := filepath.Join(f.Paths.InstallPath, "includes", "languages", "data", "Names.php")
		b, err := os.ReadFile(path)
		if err != nil {
			f.languagesErr = Permanent(ErrMisconfigured, "cannot read MediaWiki's language list (mediawiki.install_path): %v", err)
			return
		}
		f.languages = map[string]bool{}
		for _, m := range languageEntry.FindAllStringSubmatch(string(b), -1) {
			f.languages[m[1]] = true
		}
	})
	return f.languages, f.languagesErr
}
