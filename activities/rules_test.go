package activities

import (
	"strings"
	"testing"

	"github.com/wikiflow/wikiflow/process"
)

func TestWikiRules(t *testing.T) {
	rules := WikiRules{Suffix: "wiki"}
	ok := process.WikiSpec{DB: "demowiki", Sitename: "Demo Wiki", Language: "en"}
	if err := rules.Check(ok, "SomeUser"); err != nil {
		t.Fatalf("valid request refused: %v", err)
	}
	// 64 Hebrew letters are 128 bytes: the most the column holds.
	if err := rules.Check(process.WikiSpec{DB: "demowiki", Sitename: strings.Repeat("א", 64), Language: "he"}, "SomeUser"); err != nil {
		t.Fatalf("a 128-byte sitename refused: %v", err)
	}
	for name, tc := range map[string]struct {
		spec process.WikiSpec
		user string
		want string
	}{
		"dash":        {process.WikiSpec{DB: "Bad-Name", Sitename: "x", Language: "en"}, "U", "lowercase letters and digits"},
		"injection":   {process.WikiSpec{DB: "x;drop", Sitename: "x", Language: "en"}, "U", "lowercase letters and digits"},
		"too long":    {process.WikiSpec{DB: strings.Repeat("a", 66) + "wiki", Sitename: "x", Language: "en"}, "U", "at most 64"},
		"suffix":      {process.WikiSpec{DB: "demo", Sitename: "x", Language: "en"}, "U", `must end with "wiki"`},
		"only suffix": {process.WikiSpec{DB: "wiki", Sitename: "x", Language: "en"}, "U", `must end with "wiki"`},
		"digit first": {process.WikiSpec{DB: "1wiki", Sitename: "x", Language: "en"}, "U", "start with a letter"},
		"language":    {process.WikiSpec{DB: "demowiki", Sitename: "x", Language: "EN;"}, "U", "not a language code"},
		"sitename":    {process.WikiSpec{DB: "demowiki", Sitename: " ", Language: "en"}, "U", "sitename"},
		"requester":   {process.WikiSpec{DB: "demowiki", Sitename: "x", Language: "en"}, "a|b", "not a valid user name"},
		// 100 Hebrew letters are 200 bytes: CreateWiki's binary VARCHAR(128) refuses them.
		"hebrew sitename": {process.WikiSpec{DB: "demowiki", Sitename: strings.Repeat("א", 100), Language: "he"}, "U", "200 bytes long"},
	} {
		err := rules.Check(tc.spec, tc.user)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want error containing %q, got %v", name, tc.want, err)
		}
	}
}
