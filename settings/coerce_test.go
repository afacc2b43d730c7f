package settings

import (
	"encoding/json"
	"testing"
)

func TestCoerceReadsManageWikisFormValues(t *testing.T) {
	reg, err := Load("../farm/settings.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"wgMaxArticleSize", `"1500"`, `1500`},
		{"wgMaxArticleSize", `1500`, `1500`},
		{"wgMaxArticleSize", `"01500"`, `"01500"`}, // not the text of an integer: left to Check
		{"wgMaxArticleSize", `"1.5"`, `"1.5"`},
		{"wgMaxArticleSize", `"big"`, `"big"`},
		{"wgEnableUploads", `"1"`, `true`},
		{"wgEnableUploads", `"0"`, `false`},
		{"wgEnableUploads", `1`, `true`},
		{"wgEnableUploads", `0`, `false`},
		{"wgEnableUploads", `true`, `true`},
		{"wgEnableUploads", `"yes"`, `"yes"`},
		{"wgDefaultSkin", `"1"`, `"1"`}, // strings stay strings
		{"wgNoSuchSetting", `"1"`, `"1"`},
	} {
		got := string(reg.Coerce(tc.name, json.RawMessage(tc.in)))
		if got != tc.want {
			t.Errorf("Coerce(%s, %s) = %s, want %s", tc.name, tc.in, got, tc.want)
		}
	}
}
