package extensions

import (
	"strings"
	"testing"
)

const sample = `{"extensions": {
	"Base": {"description": "b"},
	"Needs": {"description": "n", "requires": ["Base"]},
	"Left": {"description": "l", "conflicts": ["Right"]},
	"Right": {"description": "r"}
}}`

func TestTheFarmRegistryLoads(t *testing.T) {
	r, err := Load("../farm/extensions.json")
	if err != nil {
		t.Fatal(err)
	}
	af, ok := r.Get("AbuseFilter")
	if !ok || len(af.SQL) != 1 || len(af.Tables) != 4 || len(af.Permissions["sysop"]) == 0 {
		t.Errorf("AbuseFilter: %+v", af)
	}
}

func TestRegistryRefusesWhatItCannotInstall(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field":          `{"extensions": {"A": {"description": "a", "namespace": []}}}`,
		"unknown requirement":    `{"extensions": {"A": {"requires": ["Nope"]}}}`,
		"path out of the tree":   `{"extensions": {"A": {"sql": ["../../etc/x.sql"], "tables": ["x"]}}}`,
		"sql without its tables": `{"extensions": {"A": {"sql": ["extensions/A/a.sql"]}}}`,
		"bad right":              `{"extensions": {"A": {"permissions": {"sysop": ["Edit everything"]}}}}`,
		"bad name":               `{"extensions": {"a;b": {}}}`,
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRequiresAndConflicts(t *testing.T) {
	r, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	get := func(n string) Extension { e, _ := r.Get(n); return e }
	for _, tc := range []struct {
		ext     string
		enable  bool
		enabled []string
		refused string
	}{
		{"Needs", true, nil, "requires Base"},
		{"Needs", true, []string{"Base"}, ""},
		{"Base", true, []string{"Base"}, "already enabled"},
		{"Right", true, []string{"Left"}, "conflicts with Left"},
		{"Left", true, []string{"Right"}, "conflicts with Right"},
		{"Base", false, []string{"Base", "Needs"}, "Needs requires Base"},
		{"Base", false, nil, "not enabled"},
		{"Needs", false, []string{"Base", "Needs"}, ""},
	} {
		check := r.CheckDisable
		if tc.enable {
			check = r.CheckEnable
		}
		err := check(get(tc.ext), tc.enabled)
		if (tc.refused == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.refused)) {
			t.Errorf("%s (enable %v) with %v: %v, want %q", tc.ext, tc.enable, tc.enabled, err, tc.refused)
		}
	}
}
