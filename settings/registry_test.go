package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testRegistry = `{
  "comment": "top-level keys other than settings are ignored",
  "settings": [
    {"name": "wgSkin", "type": "string", "allowed": ["vector", "monobook", "a<b"], "default": "vector", "restricted": false, "description": "skin"},
    {"name": "wgText", "type": "string", "default": "", "restricted": false},
    {"name": "wgFlag", "type": "bool", "default": false, "restricted": true},
    {"name": "wgSize", "type": "int", "min": 1, "max": 4096, "default": 2048, "restricted": true},
    {"name": "wgAtLeast", "type": "int", "min": -5, "restricted": false},
    {"name": "wgAtMost", "type": "int", "max": 10, "restricted": false},
    {"name": "wgAny", "type": "int", "restricted": false},
    {"name": "wgExts", "type": "list", "allowed": ["png", "gif", "jpg"], "default": ["png"], "restricted": false},
    {"name": "wgFree", "type": "list", "restricted": false}
  ]
}`

func mustParse(t *testing.T, text string) *Registry {
	t.Helper()
	r, err := Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParseAcceptsAWellFormedRegistry(t *testing.T) {
	r := mustParse(t, testRegistry)
	all := r.All()
	if len(all) != 9 || all[0].Name != "wgSkin" || all[8].Name != "wgFree" {
		t.Fatalf("All() = %+v", all)
	}
	s, ok := r.Get("wgSize")
	if !ok || s.Type != TypeInt || *s.Min != 1 || *s.Max != 4096 || string(s.Default) != "2048" || !s.Restricted {
		t.Fatalf("wgSize = %+v", s)
	}
	sk, _ := r.Get("wgSkin")
	if sk.Description != "skin" || len(sk.Allowed) != 3 || string(sk.Default) != `"vector"` || sk.Restricted {
		t.Fatalf("wgSkin = %+v", sk)
	}
	if at, _ := r.Get("wgAtLeast"); at.Max != nil || *at.Min != -5 || at.Default != nil {
		t.Fatalf("wgAtLeast = %+v", at)
	}
	if _, ok := r.Get("wgNope"); ok {
		t.Fatal("Get of an unknown name answered ok")
	}
}

// What Get and All return are copies: a caller cannot change the registry.
func TestGetAndAllReturnCopies(t *testing.T) {
	r := mustParse(t, testRegistry)
	s, _ := r.Get("wgSize")
	*s.Min = 100
	s.Default[0] = '9'
	all := r.All()
	all[0].Allowed[0] = "evil"
	*all[3].Max = 1
	again, _ := r.Get("wgSize")
	if *again.Min != 1 || *again.Max != 4096 || string(again.Default) != "2048" {
		t.Fatalf("the registry changed through a copy: %+v", again)
	}
	if sk, _ := r.Get("wgSkin"); sk.Allowed[0] != "vector" {
		t.Fatalf("allowed changed through a copy: %v", sk.Allowed)
	}
}

func TestNilRegistry(t *testing.T) {
	var r *Registry
	if _, ok := r.Get("wgSize"); ok {
		t.Fatal("nil registry knows a setting")
	}
	if r.All() != nil {
		t.Fatal("nil registry lists settings")
	}
	_, err := r.Check("wgSize", json.RawMessage("1"))
	if err == nil || IsInvalid(err) {
		t.Fatalf("nil registry: want a plain error (misconfiguration), got %v", err)
	}
}

func TestParseRefusesMalformedRegistries(t *testing.T) {
	entry := func(fields string) string { return `{"settings": [` + fields + `]}` }
	cases := []struct{ name, text, want string }{
		{"not json", `{"settings": [`, "not valid JSON"},
		{"not an object", `[1, 2]`, `want a JSON object`},
		{"no settings", `{"other": []}`, `"settings" is missing`},
		{"settings not a list", `{"settings": {}}`, `"settings" is missing or not a list`},
		{"unknown field, named", entry(`{"name": "wgA", "type": "int", "maks": 3, "restricted": false}`), `entry 0 (wgA): not a valid entry: unknown field "maks"`},
		{"unknown field, unnamed", entry(`{"type": "int", "maks": 3}`), `entry 0: not a valid entry: unknown field "maks"`},
		{"field of the wrong type", entry(`{"name": "wgA", "type": 3, "restricted": false}`), `entry 0 (wgA): not a valid entry`},
		{"entry not an object", entry(`"wgA"`), `entry 0: not a valid entry`},
		{"no name", entry(`{"type": "int", "restricted": false}`), `"name" is missing`},
		{"bad name", entry(`{"name": "wg A", "type": "int", "restricted": false}`), `not a PHP variable name`},
		{"no type", entry(`{"name": "wgA", "restricted": false}`), `entry 0 (wgA): "type" is missing`},
		{"unknown type", entry(`{"name": "wgA", "type": "float", "restricted": false}`), `unknown type "float"`},
		{"no restricted", entry(`{"name": "wgA", "type": "int"}`), `"restricted" is missing`},
		{"allowed on bool", entry(`{"name": "wgA", "type": "bool", "allowed": [true], "restricted": false}`), `"allowed" is only for string and list settings, not bool`},
		{"allowed on int", entry(`{"name": "wgA", "type": "int", "allowed": ["1"], "restricted": false}`), `not int`},
		{"allowed not strings", entry(`{"name": "wgA", "type": "string", "allowed": ["a", 1], "restricted": false}`), `"allowed" must be a list of strings`},
		{"allowed not a list", entry(`{"name": "wgA", "type": "string", "allowed": "a", "restricted": false}`), `"allowed" must be a list of strings`},
		{"allowed empty", entry(`{"name": "wgA", "type": "list", "allowed": [], "restricted": false}`), `"allowed" is empty`},
		{"min on string", entry(`{"name": "wgA", "type": "string", "min": 1, "restricted": false}`), `"min" is only for int settings, not string`},
		{"max on list", entry(`{"name": "wgA", "type": "list", "max": 1, "restricted": false}`), `"max" is only for int settings, not list`},
		{"min not integer", entry(`{"name": "wgA", "type": "int", "min": 1.5, "restricted": false}`), `"min" must be a JSON integer, got 1.5`},
		{"max a string", entry(`{"name": "wgA", "type": "int", "max": "10", "restricted": false}`), `"max" must be a JSON integer`},
		{"min > max", entry(`{"name": "wgA", "type": "int", "min": 10, "max": 1, "restricted": false}`), `min 10 is greater than max 1`},
		{"default out of range", entry(`{"name": "wgA", "type": "int", "min": 1, "max": 10, "default": 11, "restricted": false}`), `invalid default: wgA must be between 1 and 10, got 11`},
		{"default wrong type", entry(`{"name": "wgA", "type": "bool", "default": "false", "restricted": false}`), `invalid default: wgA must be a JSON boolean`},
		{"default null", entry(`{"name": "wgA", "type": "string", "default": null, "restricted": false}`), `invalid default`},
		{"default not allowed", entry(`{"name": "wgA", "type": "string", "allowed": ["x"], "default": "y", "restricted": false}`), `invalid default: wgA must be one of "x"`},
		{"default list item", entry(`{"name": "wgA", "type": "list", "allowed": ["x"], "default": ["x", "y"], "restricted": false}`), `invalid default: wgA: item 1`},
		{"duplicate", entry(`{"name": "wgA", "type": "int", "restricted": false}, {"name": "wgB", "type": "int", "restricted": false}, {"name": "wgA", "type": "bool", "restricted": true}`), `entry 2: duplicate name wgA (also entry 0)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Parse([]byte(c.text))
			if err == nil {
				t.Fatalf("accepted: %+v", r.All())
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

func TestParseAcceptsAnEmptyRegistry(t *testing.T) {
	r := mustParse(t, `{"settings": []}`)
	if len(r.All()) != 0 {
		t.Fatal("settings in an empty registry")
	}
	if _, err := r.Check("wgA", json.RawMessage("1")); err == nil {
		t.Fatal("an empty registry accepted a setting")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(good, []byte(testRegistry), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(`{"settings": [{"name": "wgA", "type": "int", "min": 2, "max": 1, "restricted": false}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if r, err := Load(good); err != nil || len(r.All()) != 9 {
		t.Fatalf("Load(good) = %v, %v", r, err)
	}
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "min 2 is greater than max 1") {
		t.Fatalf("Load(bad): %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load(missing): %v", err)
	}
}

// The registry the farm's PHP reads is one Load accepts, and it describes
// what the rest of the code relies on.
func TestLoadTheFarmRegistry(t *testing.T) {
	r, err := Load(filepath.Join("..", "farm", "settings.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.All()) == 0 {
		t.Fatal("the farm registry lists no settings")
	}
	for _, s := range r.All() {
		if s.Default != nil {
			if norm, err := r.Check(s.Name, s.Default); err != nil || string(norm) != string(s.Default) {
				t.Errorf("%s: default %s does not check as itself: %s, %v", s.Name, s.Default, norm, err)
			}
		}
	}
	m, ok := r.Get("wgMaxArticleSize")
	if !ok || m.Type != TypeInt || !m.Restricted || m.Min == nil || m.Max == nil {
		t.Fatalf("wgMaxArticleSize: %+v", m)
	}
	if norm, err := r.Check("wgMaxArticleSize", json.RawMessage("1234")); err != nil || string(norm) != "1234" {
		t.Fatalf("wgMaxArticleSize=1234: %s, %v", norm, err)
	}
}

func TestCheck(t *testing.T) {
	r := mustParse(t, testRegistry)
	long := strings.Repeat("x", MaxStringBytes)
	ok := []struct{ name, value, want string }{
		{"wgFlag", "true", "true"},
		{"wgFlag", " false\n", "false"},
		{"wgSize", "1234", "1234"},
		{"wgSize", " 1 ", "1"},
		{"wgSize", "4096", "4096"},
		{"wgAtLeast", "-5", "-5"},
		{"wgAtLeast", "9223372036854775807", "9223372036854775807"},
		{"wgAtMost", "-9223372036854775808", "-9223372036854775808"},
		{"wgAny", "-0", "0"},
		{"wgSkin", `"monobook"`, `"monobook"`},
		{"wgSkin", `"\u0076ector"`, `"vector"`},
		{"wgSkin", `"a\u003cb"`, `"a<b"`},
		{"wgText", `""`, `""`},
		{"wgText", `"Ünïcode \"quoted\" </html>"`, `"Ünïcode \"quoted\" </html>"`},
		{"wgText", `"` + long + `"`, `"` + long + `"`},
		{"wgExts", `[ "png", "gif" ]`, `["png","gif"]`},
		{"wgExts", `[]`, `[]`},
		{"wgExts", `["png","png"]`, `["png","png"]`},
		{"wgFree", `["anything", "at all"]`, `["anything","at all"]`},
	}
	for _, c := range ok {
		got, err := r.Check(c.name, json.RawMessage(c.value))
		if err != nil {
			t.Errorf("%s = %s: %v", c.name, c.value, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("%s = %s: normalized %s, want %s", c.name, c.value, got, c.want)
		}
	}

	bad := []struct {
		name, value string
		problem     Problem
		want        string
	}{
		{"wgFoo", "1", ProblemUnknown, "unknown setting wgFoo"},
		{"wg Foo\n$x", "1", ProblemUnknown, `unknown setting "wg Foo\n$x"`},
		{"", "1", ProblemUnknown, `unknown setting ""`},
		{"wgSize", "", ProblemSyntax, "the value is empty (want a JSON integer (int))"},
		{"wgSize", "   ", ProblemSyntax, "the value is empty"},
		{"wgSize", "12 13", ProblemSyntax, "not one valid JSON value (want a JSON integer (int), e.g. 1234)"},
		{"wgSize", "twelve", ProblemSyntax, "not one valid JSON value"},
		{"wgText", "\"\xff\"", ProblemSyntax, "not valid UTF-8"},
		{"wgFlag", "yes", ProblemSyntax, "want a JSON boolean (bool), e.g. true"},
		{"wgExts", "[png]", ProblemSyntax, `want a JSON list of strings (list), e.g. ["a","b"]`},
		{"wgText", "'single'", ProblemSyntax, `want a JSON string, e.g. "text"`},
		{"wgSize", `"12"`, ProblemType, "wgSize must be a JSON integer (int), got a string"},
		{"wgSize", "1.5", ProblemType, "got a number that is not an integer (1.5)"},
		{"wgSize", "1e3", ProblemType, "got a number that is not an integer (1e3)"},
		{"wgSize", "12.0", ProblemType, "not an integer"},
		{"wgSize", `{"a": 1}`, ProblemType, "wgSize must be a JSON integer (int), got an object"},
		{"wgSize", "true", ProblemType, "got a boolean"},
		{"wgSize", "null", ProblemType, "got null"},
		{"wgSize", "[1]", ProblemType, "got a list"},
		{"wgAny", "9223372036854775808", ProblemType, "an integer outside the 64-bit range"},
		{"wgSize", "0", ProblemRange, "wgSize must be between 1 and 4096, got 0"},
		{"wgSize", "5000", ProblemRange, "wgSize must be between 1 and 4096, got 5000"},
		{"wgAtLeast", "-6", ProblemRange, "wgAtLeast must be at least -5, got -6"},
		{"wgAtMost", "11", ProblemRange, "wgAtMost must be at most 10, got 11"},
		{"wgFlag", `"true"`, ProblemType, "wgFlag must be a JSON boolean (bool), got a string"},
		{"wgFlag", "1", ProblemType, "got a number"},
		{"wgSkin", "1", ProblemType, "wgSkin must be a JSON string, got a number"},
		{"wgSkin", `["vector"]`, ProblemType, "got a list"},
		{"wgSkin", `"cologneblue"`, ProblemNotAllowed, `wgSkin must be one of "vector", "monobook", "a<b"; got "cologneblue"`},
		{"wgSkin", `"Vector"`, ProblemNotAllowed, `got "Vector"`},
		{"wgText", `"` + long + `x"`, ProblemTooLong, "wgText must be at most 1024 bytes, got 1025"},
		{"wgExts", `"png"`, ProblemType, "wgExts must be a JSON list of strings (list), got a string"},
		{"wgExts", `{"0": "png"}`, ProblemType, "got an object"},
		{"wgExts", `["png", 1]`, ProblemType, "wgExts: item 1 must be a JSON string, got a number"},
		{"wgExts", `["png", null]`, ProblemType, "item 1 must be a JSON string, got null"},
		{"wgExts", `["png", "exe"]`, ProblemNotAllowed, `wgExts: item 1 ("exe") is not allowed; allowed items: "png", "gif", "jpg"`},
		{"wgFree", `[["nested"]]`, ProblemType, "item 0 must be a JSON string, got a list"},
	}
	for _, c := range bad {
		t.Run(fmt.Sprintf("%s=%s", c.name, c.value), func(t *testing.T) {
			got, err := r.Check(c.name, json.RawMessage(c.value))
			if err == nil {
				t.Fatalf("accepted as %s", got)
			}
			var ie *InvalidError
			if !errors.As(err, &ie) || !IsInvalid(fmt.Errorf("wrapped: %w", err)) {
				t.Fatalf("error %T is not an *InvalidError", err)
			}
			if ie.Problem != c.problem || ie.Setting != c.name {
				t.Errorf("problem %s for %q, want %s for %q", ie.Problem, ie.Setting, c.problem, c.name)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

// A very long value or name is clipped in messages, never echoed whole.
func TestMessagesClipWhatTheyEcho(t *testing.T) {
	r := mustParse(t, testRegistry)
	_, err := r.Check("x"+strings.Repeat("é", 200), json.RawMessage("1"))
	if err == nil || len(err.Error()) > 120 || !strings.Contains(err.Error(), "...") {
		t.Fatalf("unknown long name: %v", err)
	}
	_, err = r.Check("wgSkin", json.RawMessage(`"`+strings.Repeat("y", 500)+`"`))
	if err == nil || strings.Contains(err.Error(), strings.Repeat("y", 65)) {
		t.Fatalf("long value echoed: %v", err)
	}
}

// IsInvalid is false for other errors.
func TestIsInvalid(t *testing.T) {
	if IsInvalid(errors.New("x")) || IsInvalid(nil) {
		t.Fatal("IsInvalid of a plain error")
	}
}

// A Setting built by hand with a type the registry never accepts is refused
// without a panic (Parse never produces one).
func TestCheckOfAnUnknownType(t *testing.T) {
	_, err := Setting{Name: "wgA", Type: "float"}.Check(json.RawMessage("1.5"))
	if err == nil || !strings.Contains(err.Error(), `unknown type "float"`) {
		t.Fatalf("got %v", err)
	}
}
