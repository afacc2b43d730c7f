package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const testRegistry = `{
  "comment": "top-level keys other than settings are ignored",
  "settings": [
    {"name": "wgSkin", "type": "string", "allowed": ["vector", "monobook", "a<b"], "default": "vector", "output": "config", "restricted": false, "description": "skin"},
    {"name": "wgText", "type": "string", "default": "", "output": "config", "restricted": false},
    {"name": "wgFlag", "type": "bool", "default": false, "output": "config", "restricted": true},
    {"name": "wgSize", "type": "int", "min": 1, "max": 4096, "default": 2048, "output": "config", "restricted": true},
    {"name": "wgAtLeast", "type": "int", "min": -5, "output": "config", "restricted": false},
    {"name": "wgAtMost", "type": "int", "max": 10, "output": "config", "restricted": false},
    {"name": "wgAny", "type": "int", "output": "config", "restricted": false},
    {"name": "wgExts", "type": "list", "allowed": ["png", "gif", "jpg"], "default": ["png"], "output": "config", "restricted": false},
    {"name": "wgFree", "type": "list", "output": "config", "restricted": false}
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

// mustLoad loads the registry file at path, failing the test if it cannot.
func mustLoad(t *testing.T, path string) *Registry {
	t.Helper()
	r, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// parseRefuses runs each case as a subtest: Parse refuses its text with an
// error that contains want.
func parseRefuses(t *testing.T, cases []struct{ name, text, want string }) {
	t.Helper()
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

// checkRefuses asserts that r refuses value for the setting name with an
// *InvalidError (also when wrapped) of that problem about that setting, and
// returns the refusal.
func checkRefuses(t *testing.T, r *Registry, name, value string, problem Problem) error {
	t.Helper()
	got, err := r.Check(name, json.RawMessage(value))
	if err == nil {
		t.Fatalf("accepted as %s", got)
	}
	var ie *InvalidError
	if !errors.As(err, &ie) || !IsInvalid(fmt.Errorf("wrapped: %w", err)) {
		t.Fatalf("error %T is not an *InvalidError: %v", err, err)
	}
	if ie.Problem != problem || ie.Setting != name {
		t.Errorf("problem %s for %q, want %s for %q", ie.Problem, ie.Setting, problem, name)
	}
	return err
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
		{"unknown field, named", entry(`{"name": "wgA", "type": "int", "maks": 3, "output": "config", "restricted": false}`), `entry 0 (wgA): not a valid entry: unknown field "maks"`},
		{"unknown field, unnamed", entry(`{"type": "int", "maks": 3}`), `entry 0: not a valid entry: unknown field "maks"`},
		{"field of the wrong type", entry(`{"name": "wgA", "type": 3, "output": "config", "restricted": false}`), `entry 0 (wgA): not a valid entry`},
		{"entry not an object", entry(`"wgA"`), `entry 0: not a valid entry`},
		{"no name", entry(`{"type": "int", "output": "config", "restricted": false}`), `"name" is missing`},
		{"bad name", entry(`{"name": "wg A", "type": "int", "output": "config", "restricted": false}`), `not a PHP variable name`},
		{"no type", entry(`{"name": "wgA", "output": "config", "restricted": false}`), `entry 0 (wgA): "type" is missing`},
		{"unknown type", entry(`{"name": "wgA", "type": "float", "output": "config", "restricted": false}`), `unknown type "float"`},
		{"no restricted", entry(`{"name": "wgA", "type": "int"}`), `"restricted" is missing`},
		{"allowed on bool", entry(`{"name": "wgA", "type": "bool", "allowed": [true], "output": "config", "restricted": false}`), `"allowed" is only for string and list settings, not bool`},
		{"allowed on int", entry(`{"name": "wgA", "type": "int", "allowed": ["1"], "output": "config", "restricted": false}`), `not int`},
		{"allowed not strings", entry(`{"name": "wgA", "type": "string", "allowed": ["a", 1], "output": "config", "restricted": false}`), `"allowed" must be a list of strings`},
		{"allowed not a list", entry(`{"name": "wgA", "type": "string", "allowed": "a", "output": "config", "restricted": false}`), `"allowed" must be a list of strings`},
		{"allowed empty", entry(`{"name": "wgA", "type": "list", "allowed": [], "output": "config", "restricted": false}`), `"allowed" is empty`},
		{"min on string", entry(`{"name": "wgA", "type": "string", "min": 1, "output": "config", "restricted": false}`), `"min" is only for int settings, not string`},
		{"max on list", entry(`{"name": "wgA", "type": "list", "max": 1, "output": "config", "restricted": false}`), `"max" is only for int settings, not list`},
		{"min not integer", entry(`{"name": "wgA", "type": "int", "min": 1.5, "output": "config", "restricted": false}`), `"min" must be a JSON integer, got 1.5`},
		{"max a string", entry(`{"name": "wgA", "type": "int", "max": "10", "output": "config", "restricted": false}`), `"max" must be a JSON integer`},
		{"min > max", entry(`{"name": "wgA", "type": "int", "min": 10, "max": 1, "output": "config", "restricted": false}`), `min 10 is greater than max 1`},
		{"default out of range", entry(`{"name": "wgA", "type": "int", "min": 1, "max": 10, "default": 11, "output": "config", "restricted": false}`), `invalid default: wgA must be between 1 and 10, got 11`},
		{"default wrong type", entry(`{"name": "wgA", "type": "bool", "default": "false", "output": "config", "restricted": false}`), `invalid default: wgA must be a JSON boolean`},
		{"default null", entry(`{"name": "wgA", "type": "string", "default": null, "output": "config", "restricted": false}`), `invalid default`},
		{"default not allowed", entry(`{"name": "wgA", "type": "string", "allowed": ["x"], "default": "y", "output": "config", "restricted": false}`), `invalid default: wgA must be one of "x"`},
		{"default list item", entry(`{"name": "wgA", "type": "list", "allowed": ["x"], "default": ["x", "y"], "output": "config", "restricted": false}`), `invalid default: wgA: item 1`},
		{"duplicate", entry(`{"name": "wgA", "type": "int", "output": "config", "restricted": false}, {"name": "wgB", "type": "int", "output": "config", "restricted": false}, {"name": "wgA", "type": "bool", "output": "config", "restricted": true}`), `entry 2: duplicate name wgA (also entry 0)`},
	}
	parseRefuses(t, cases)
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
	if err := os.WriteFile(bad, []byte(`{"settings": [{"name": "wgA", "type": "int", "min": 2, "max": 1, "output": "config", "restricted": false}]}`), 0o644); err != nil {
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
	r := mustLoad(t, farmRegistryPath)
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
			err := checkRefuses(t, r, c.name, c.value, c.problem)
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

// farmRegistryPath is the registry the farm's PHP and the worker read.
var farmRegistryPath = filepath.Join("..", "farm", "settings.json")

// Every entry of the farm's registry, read as written (not through Parse,
// so that this test judges the file on its own), declares what its value
// becomes on the wiki, and one whose value reaches the page as markup is
// restricted or has the format that keeps markup out. Load agrees and
// keeps every entry.
func TestEveryFarmSettingIsSafe(t *testing.T) {
	b, err := os.ReadFile(farmRegistryPath)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Settings []map[string]json.RawMessage `json:"settings"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Settings) == 0 {
		t.Fatal("the farm registry lists no settings")
	}
	str := func(e map[string]json.RawMessage, key string) (string, bool) {
		var s string
		raw, ok := e[key]
		return s, ok && json.Unmarshal(raw, &s) == nil
	}
	needs := map[string]string{"html": "plain-text", "url": "url", "css": "", "js": ""}
	var names []string
	for i, e := range file.Settings {
		name, _ := str(e, "name")
		names = append(names, name)
		output, ok := str(e, "output")
		if !ok {
			t.Errorf("entry %d (%s): no \"output\" string: what does its value become on the wiki?", i, name)
			continue
		}
		restricted := string(e["restricted"]) == "true"
		format, hasFormat := str(e, "format")
		switch want, markup := needs[output]; {
		case output == "config" || output == "text":
		case !markup:
			t.Errorf("entry %d (%s): unknown output %q", i, name, output)
		case restricted:
		case want == "":
			t.Errorf("entry %d (%s): output %q can only be a restricted setting", i, name, output)
		case !hasFormat || format != want:
			t.Errorf("entry %d (%s): ordinary setting with output %q has format %q, needs %q", i, name, output, format, want)
		}
	}
	r := mustLoad(t, farmRegistryPath)
	var loaded []string
	for _, s := range r.All() {
		loaded = append(loaded, s.Name)
		if why, err := s.Protection(); err != nil || why == "" {
			t.Errorf("%s: %q, %v", s.Name, why, err)
		}
	}
	if strings.Join(loaded, " ") != strings.Join(names, " ") {
		t.Fatalf("Load kept %v of %v", loaded, names)
	}

	// What the farm relies on: the license text stays an ordinary setting,
	// safe through its format, and so does its link.
	for name, want := range map[string][2]string{"wgRightsText": {OutputHTML, FormatPlainText}, "wgRightsUrl": {OutputURL, FormatURL}} {
		s, ok := r.Get(name)
		if !ok || s.Restricted || s.Output != want[0] || s.Format != want[1] || s.Type != TypeString {
			t.Errorf("%s: %+v, want an ordinary string setting with output %s and format %s", name, s, want[0], want[1])
		}
	}
	if s, _ := r.Get("wgRawHtml"); !s.Restricted || s.Output != OutputHTML {
		t.Errorf("wgRawHtml: %+v", s)
	}
}

func TestParseRefusesUnsafeOrUndeclaredOutput(t *testing.T) {
	entry := func(fields string) string { return `{"settings": [{"name": "wgA", ` + fields + `}]}` }
	cases := []struct{ name, text, want string }{
		{"no output", entry(`"type": "string", "restricted": false`),
			`entry 0 (wgA): "output" is missing (what the value becomes on the wiki: one of config, text, html, url, css, js)`},
		{"unknown output", entry(`"type": "string", "output": "markup", "restricted": false`),
			`entry 0 (wgA): unknown output "markup" (want one of config, text, html, url, css, js)`},
		{"misspelt format", entry(`"type": "string", "output": "html", "fromat": "plain-text", "restricted": false`),
			`entry 0 (wgA): not a valid entry: unknown field "fromat"`},
		{"misspelt output", entry(`"type": "string", "outptu": "text", "restricted": false`),
			`entry 0 (wgA): not a valid entry: unknown field "outptu"`},
		{"output not a string", entry(`"type": "string", "output": true, "restricted": false`), `entry 0 (wgA): not a valid entry`},
		{"unknown format", entry(`"type": "string", "output": "html", "format": "safe", "restricted": false`),
			`entry 0 (wgA): unknown format "safe" (want plain-text or url)`},
		{"format on bool", entry(`"type": "bool", "output": "config", "format": "url", "restricted": false`),
			`entry 0 (wgA): "format" is only for string and list settings, not bool`},
		{"ordinary html", entry(`"type": "string", "output": "html", "restricted": false`),
			`entry 0 (wgA): output "html" reaches the page as markup: an ordinary setting of it needs "format": "plain-text", or else "restricted": true`},
		{"html with the url format", entry(`"type": "string", "output": "html", "format": "url", "restricted": false`),
			`needs "format": "plain-text"`},
		{"ordinary url", entry(`"type": "string", "output": "url", "restricted": false`),
			`entry 0 (wgA): output "url" reaches the page as markup: an ordinary setting of it needs "format": "url", or else "restricted": true`},
		{"url with the plain-text format", entry(`"type": "string", "output": "url", "format": "plain-text", "restricted": false`),
			`needs "format": "url"`},
		{"ordinary css", entry(`"type": "string", "output": "css", "format": "plain-text", "restricted": false`),
			`entry 0 (wgA): output "css" reaches the page as markup that no format makes safe: it needs "restricted": true`},
		{"ordinary js", entry(`"type": "string", "output": "js", "restricted": false`),
			`output "js" reaches the page as markup that no format makes safe`},
		{"ordinary html bool", entry(`"type": "bool", "output": "html", "restricted": false`), `needs "format": "plain-text"`},
		{"default with markup", entry(`"type": "string", "output": "html", "format": "plain-text", "default": "<b>x</b>", "restricted": false`),
			`invalid default: wgA must be plain text`},
		{"default bad url", entry(`"type": "string", "output": "url", "format": "url", "default": "javascript:x", "restricted": false`),
			`invalid default: wgA may only be an http:// or https:// URL`},
	}
	parseRefuses(t, cases)
	// Restricted markup of any kind loads: a steward approves each change.
	for _, out := range []string{OutputHTML, OutputURL, OutputCSS, OutputJS} {
		r, err := Parse([]byte(entry(`"type": "string", "output": "` + out + `", "restricted": true`)))
		if err != nil {
			t.Fatalf("restricted %s: %v", out, err)
		}
		if s, _ := r.Get("wgA"); s.Output != out || s.Format != "" {
			t.Fatalf("restricted %s: %+v", out, s)
		}
	}
}

// hostileCases are values a bureaucrat might send, each with the exact
// refusal; the farm's registry is what they are checked against.
var hostileCases = []struct {
	name, value string
	problem     Problem
	want        string
}{
	{"wgRightsText", `"<script>alert(1)</script>"`, ProblemMarkup,
		`wgRightsText must be plain text: "<" and ">" are not allowed (HTML markup); got "<script>alert(1)</script>"`},
	{"wgRightsText", `"<b>"`, ProblemMarkup, `wgRightsText must be plain text: "<" and ">" are not allowed (HTML markup); got "<b>"`},
	{"wgRightsText", `"\u003cb\u003e"`, ProblemMarkup, `wgRightsText must be plain text: "<" and ">" are not allowed (HTML markup); got "<b>"`},
	{"wgRightsText", `"CC > all"`, ProblemMarkup, `wgRightsText must be plain text: "<" and ">" are not allowed (HTML markup); got "CC > all"`},
	{"wgRightsText", `"&lt;script&gt;"`, ProblemMarkup,
		`wgRightsText must be plain text: character references such as "&lt;" are not allowed (write the character itself); got "&lt;script&gt;"`},
	{"wgRightsText", `"&#60;script"`, ProblemMarkup,
		`wgRightsText must be plain text: character references such as "&lt;" are not allowed (write the character itself); got "&#60;script"`},
	{"wgRightsText", `"&#x3C;"`, ProblemMarkup,
		`wgRightsText must be plain text: character references such as "&lt;" are not allowed (write the character itself); got "&#x3C;"`},
	{"wgRightsText", `"[[Special:UserLogout|license]]"`, ProblemMarkup,
		`wgRightsText must be plain text: "[", "]", "{" and "}" are not allowed (wikitext links and templates); got "[[Special:UserLogout|license]]"`},
	{"wgRightsText", `"{{License}}"`, ProblemMarkup,
		`wgRightsText must be plain text: "[", "]", "{" and "}" are not allowed (wikitext links and templates); got "{{License}}"`},
	{"wgRightsText", `"CC BY\n<hr>"`, ProblemMarkup, `wgRightsText must be plain text: "<" and ">" are not allowed (HTML markup); got "CC BY\n<hr>"`},
	{"wgRightsText", `"CC BY\nSA"`, ProblemMarkup, `wgRightsText must be plain text: control characters are not allowed (U+000A at byte 5)`},
	{"wgRightsText", `"CC\u0000BY"`, ProblemMarkup, `wgRightsText must be plain text: control characters are not allowed (U+0000 at byte 2)`},
	{"wgRightsText", `"CC\u0085BY"`, ProblemMarkup, `wgRightsText must be plain text: control characters are not allowed (U+0085 at byte 2)`},
	{"wgRightsText", `"CC \u202eYB"`, ProblemMarkup,
		`wgRightsText must be plain text: invisible line separators and direction controls are not allowed (U+202E at byte 3)`},
	{"wgRightsText", `"CC\u2028BY"`, ProblemMarkup,
		`wgRightsText must be plain text: invisible line separators and direction controls are not allowed (U+2028 at byte 2)`},
	{"wgRightsText", `"` + strings.Repeat("a", MaxStringBytes+1) + `"`, ProblemTooLong, `wgRightsText must be at most 1024 bytes, got 1025`},
	{"wgRightsText", `123`, ProblemType, `wgRightsText must be a JSON string, got a number`},
	{"wgRightsText", `["CC BY"]`, ProblemType, `wgRightsText must be a JSON string, got a list`},
	{"wgRightsText", `null`, ProblemType, `wgRightsText must be a JSON string, got null`},
	{"wgRightsText", `<b>`, ProblemSyntax, `wgRightsText: the value is not one valid JSON value (want a JSON string, e.g. "text")`},

	{"wgRightsUrl", `"javascript:alert(1)"`, ProblemURL, `wgRightsUrl may only be an http:// or https:// URL: the scheme "javascript" is not allowed`},
	{"wgRightsUrl", `" JaVaScRiPt:alert(1)"`, ProblemURL, `wgRightsUrl must be a URL without spaces or control characters (U+0020 at byte 0)`},
	{"wgRightsUrl", `"JaVaScRiPt:alert(1)"`, ProblemURL, `wgRightsUrl may only be an http:// or https:// URL: the scheme "javascript" is not allowed`},
	{"wgRightsUrl", `"java\tscript:alert(1)"`, ProblemURL, `wgRightsUrl must be a URL without spaces or control characters (U+0009 at byte 4)`},
	{"wgRightsUrl", `"data:text/html,<script>alert(1)</script>"`, ProblemURL, `wgRightsUrl may only be an http:// or https:// URL: the scheme "data" is not allowed`},
	{"wgRightsUrl", `"vbscript:x"`, ProblemURL, `wgRightsUrl may only be an http:// or https:// URL: the scheme "vbscript" is not allowed`},
	{"wgRightsUrl", `"//evil.example"`, ProblemURL, `wgRightsUrl must be an absolute http:// or https:// URL, not a protocol-relative one; got "//evil.example"`},
	{"wgRightsUrl", `"/\\evil.example"`, ProblemURL, `wgRightsUrl must be an absolute http:// or https:// URL; got "/\\evil.example"`},
	{"wgRightsUrl", `"evil.example"`, ProblemURL, `wgRightsUrl must be an absolute http:// or https:// URL; got "evil.example"`},
	{"wgRightsUrl", `"https:evil.example"`, ProblemURL, `wgRightsUrl must be an absolute http:// or https:// URL (with // after the scheme); got "https:evil.example"`},
	{"wgRightsUrl", `"https:///evil.example"`, ProblemURL, `wgRightsUrl must name a host after https://; got "https:///evil.example"`},
	{"wgRightsUrl", `"https://good.example@evil.example/"`, ProblemURL,
		`wgRightsUrl must not carry a user name or password (@ before the host); got "https://good.example@evil.example/"`},
	{"wgRightsUrl", `"https://evil.example\\.good.example/"`, ProblemURL,
		`wgRightsUrl has no valid host name (letters, digits, dots and hyphens, or a bracketed IPv6 address, then an optional :port): "evil.example\\.good.example"`},
	{"wgRightsUrl", `"https://example.org/\nx"`, ProblemURL, `wgRightsUrl must be a URL without spaces or control characters (U+000A at byte 20)`},
	{"wgRightsUrl", `"https://example.org/\r\n"`, ProblemURL, `wgRightsUrl must be a URL without spaces or control characters (U+000D at byte 20)`},
	{"wgRightsUrl", `"https://example.org/\u0000"`, ProblemURL, `wgRightsUrl must be a URL without spaces or control characters (U+0000 at byte 20)`},
	{"wgRightsUrl", `"https://example.org/\u00a0"`, ProblemURL, `wgRightsUrl must be a URL without spaces or control characters (U+00A0 at byte 20)`},
	{"wgRightsUrl", `"https://example.org/\u2028"`, ProblemURL, `wgRightsUrl must be a URL without spaces or control characters (U+2028 at byte 20)`},
	{"wgRightsUrl", `"https://example.org/\u202e"`, ProblemURL, `wgRightsUrl must be an ASCII URL: percent-encode other characters (U+202E at byte 20)`},
	{"wgRightsUrl", `"https://exämple.org/"`, ProblemURL, `wgRightsUrl must be an ASCII URL: percent-encode other characters (U+00E4 at byte 10)`},
	{"wgRightsUrl", `"https://example.org/\"onmouseover=alert(1)"`, ProblemURL, `wgRightsUrl contains "\"", which a URL may not contain unencoded (percent-encode it)`},
	{"wgRightsUrl", `"https://example.org/<script>"`, ProblemURL, `wgRightsUrl contains "<", which a URL may not contain unencoded (percent-encode it)`},
	{"wgRightsUrl", `"https://example.org/%zz"`, ProblemURL, `wgRightsUrl has a "%" that does not start a percent-encoding such as %20`},
	{"wgRightsUrl", `"https://example.org/#a#b"`, ProblemURL, `wgRightsUrl is not a well-formed http:// or https:// URL; got "https://example.org/#a#b"`},
	{"wgRightsUrl", `"https://example.org:123456/"`, ProblemURL,
		`wgRightsUrl has no valid host name (letters, digits, dots and hyphens, or a bracketed IPv6 address, then an optional :port): "example.org:123456"`},
	{"wgRightsUrl", `"https://example.org/` + strings.Repeat("a", MaxStringBytes) + `"`, ProblemTooLong, `wgRightsUrl must be at most 1024 bytes, got 1044`},
	{"wgRightsUrl", `true`, ProblemType, `wgRightsUrl must be a JSON string, got a boolean`},

	{"wgInterwikiMagic", `"true"`, ProblemType, `wgInterwikiMagic must be a JSON boolean (bool), got a string`},
	{"wgMaxArticleSize", `"123"`, ProblemType, `wgMaxArticleSize must be a JSON integer (int), got a string`},
	{"wgDefaultSkin", `"<script>"`, ProblemNotAllowed, `wgDefaultSkin must be one of "vector", "vector-2022", "monobook", "timeless", "minerva"; got "<script>"`},
	{"wgFileExtensions", `["png", "<svg onload=alert(1)>"]`, ProblemNotAllowed,
		`wgFileExtensions: item 1 ("<svg onload=alert(1)>") is not allowed; allowed items: "png", "gif", "jpg", "jpeg", "webp", "svg", "pdf", "ogg", "mp3"`},
}

// benignCases are accepted as they are: each value normalizes to itself.
var benignCases = []struct {
	name   string
	values []string
}{
	{"wgRightsText", []string{`""`, `"CC BY-SA 4.0"`, `"Tom & Jerry's \"license\" (AT&T), 50% off; a=b"`, `"Ünïcode — ©"`, `"a & b; c &"`}},
	{"wgRightsUrl", []string{`""`, `"https://creativecommons.org/licenses/by-sa/4.0/"`, `"http://example.org"`,
		`"HTTPS://[2001:db8::1]:8443/a/b?c=d&e=%20#top"`, `"https://example.org/wiki/Licence_(text)?x='y'"`}},
}

func TestHostileValuesAreRefused(t *testing.T) {
	r := mustLoad(t, farmRegistryPath)
	for _, c := range hostileCases {
		t.Run(fmt.Sprintf("%s=%.40s", c.name, c.value), func(t *testing.T) {
			err := checkRefuses(t, r, c.name, c.value, c.problem)
			if err.Error() != c.want {
				t.Errorf("refusal\n got %s\nwant %s", err, c.want)
			}
		})
	}
	for _, c := range benignCases {
		for _, v := range c.values {
			got, err := r.Check(c.name, json.RawMessage(v))
			if err != nil || string(got) != v {
				t.Errorf("%s = %s: %s, %v; want %s", c.name, v, got, err, v)
			}
		}
	}
}

// A list setting with a format checks every item and names it.
func TestFormatOfListItems(t *testing.T) {
	r := mustParse(t, `{"settings": [
		{"name": "wgLinks", "type": "list", "output": "url", "format": "url", "restricted": false},
		{"name": "wgLines", "type": "list", "output": "html", "format": "plain-text", "restricted": false}]}`)
	if _, err := r.Check("wgLinks", json.RawMessage(`["https://a.example", "javascript:x"]`)); err == nil ||
		err.Error() != `wgLinks: item 1 may only be an http:// or https:// URL: the scheme "javascript" is not allowed` {
		t.Fatalf("wgLinks: %v", err)
	}
	var ie *InvalidError
	_, err := r.Check("wgLines", json.RawMessage(`["fine", "<i>"]`))
	if !errors.As(err, &ie) || ie.Setting != "wgLines" || ie.Problem != ProblemMarkup ||
		err.Error() != `wgLines: item 1 must be plain text: "<" and ">" are not allowed (HTML markup); got "<i>"` {
		t.Fatalf("wgLines: %v", err)
	}
	if got, err := r.Check("wgLines", json.RawMessage(`["a & b", ""]`)); err != nil || string(got) != `["a & b",""]` {
		t.Fatalf("wgLines: %s %v", got, err)
	}
}

// phpValid asks the farm's PHP (WikiFlowFarm::valid, taken from
// farm/mediawiki/LocalSettings.php) about each value (JSON text) for the
// named entry of the registry file; it skips the test when no php is
// installed.
func phpValid(t *testing.T, registry string, cases [][2]string) []bool {
	t.Helper()
	php, err := exec.LookPath("php")
	if err != nil {
		t.Skip("php is not installed")
	}
	const script = `
define( 'MEDIAWIKI', true );
$src = file_get_contents( $argv[1] );
$start = strpos( $src, 'final class WikiFlowFarm' );
$end = strpos( $src, "\n}\n", $start );
if ( $start === false || $end === false ) { fwrite( STDERR, "no class WikiFlowFarm\n" ); exit( 2 ); }
eval( substr( $src, $start, $end + 2 - $start ) );
$defs = [];
foreach ( json_decode( file_get_contents( $argv[2] ), true )['settings'] as $def ) { $defs[$def['name']] = $def; }
$out = [];
foreach ( json_decode( stream_get_contents( STDIN ), true ) as [ $name, $value ] ) {
	$out[] = WikiFlowFarm::valid( $defs[$name], json_decode( $value, true, 512, JSON_THROW_ON_ERROR ) );
}
echo json_encode( $out );
`
	in, _ := json.Marshal(cases)
	cmd := exec.Command(php, "-r", script, filepath.Join("..", "farm", "mediawiki", "LocalSettings.php"), registry)
	cmd.Stdin = strings.NewReader(string(in))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("php: %v: %s", err, stderr.String())
	}
	var got []bool
	if err := json.Unmarshal(out, &got); err != nil || len(got) != len(cases) {
		t.Fatalf("php answered %s (%v)", out, err)
	}
	return got
}

// The farm's PHP applies exactly the values Check accepts: hostile values
// written into mw_settings by another tool are not applied either.
func TestPHPAgreesWithCheck(t *testing.T) {
	r := mustLoad(t, farmRegistryPath)
	var cases [][2]string
	for _, c := range hostileCases {
		if json.Valid([]byte(c.value)) {
			cases = append(cases, [2]string{c.name, c.value})
		}
	}
	for _, c := range benignCases {
		for _, v := range c.values {
			cases = append(cases, [2]string{c.name, v})
		}
	}
	// Edges of the expressions both sides share.
	for _, v := range []string{
		`"a\u00a0b"`, `"a\u200db"`, `"a\u200eb"`, `"a\ufeffb"`, `"a\u2066b"`, `"a\u2069b"`, `"a\u2065b"`, `"a\u009fb"`, `"a\u00a0b"`, `"\u007f"`,
		`"&"`, `"&;"`, `"&a"`, `"&a;"`, `"& a;"`, `"&#"`, `"&1;"`, `"}"`, `"|"`, `"'"`, `"\\"`,
	} {
		cases = append(cases, [2]string{"wgRightsText", v})
	}
	for _, v := range []string{
		`"https://a"`, `"https://a."`, `"https://a..b"`, `"https://a-b.c"`, `"https://` + strings.Repeat("a", 63) + `.x"`, `"https://` + strings.Repeat("a", 64) + `.x"`,
		`"https://a:"`, `"https://a:1"`, `"https://[::1]"`, `"https://[::1"`, `"https://a/b\n"`, `"https://a/\n"`, `"https://a\n"`, `"https://a?b#c"`, `"https://a#c?d"`,
		`"https://a/%2"`, `"https://a/%2g"`, `"https://a/%20"`, `"https://a/[x]"`, `"https://a/|"`, `"https://a/^"`, "\"https://a/`\"", `"https://a/{x}"`, `"https://a\\b"`,
		`"http://a/\u00e9"`, `"hTtPs://a"`, `"https//a"`, `"https:/a"`, `"feed:https://a"`, `"https://a/javascript:alert(1)"`,
	} {
		cases = append(cases, [2]string{"wgRightsUrl", v})
	}
	for _, s := range r.All() {
		for _, v := range []string{`"x"`, `true`, `1`, `["png"]`, string(s.Default)} {
			if v != "" {
				cases = append(cases, [2]string{s.Name, v})
			}
		}
	}
	got := phpValid(t, farmRegistryPath, cases)
	for i, c := range cases {
		_, err := r.Check(c[0], json.RawMessage(c[1]))
		if (err == nil) != got[i] {
			t.Errorf("%s = %s: Go accepts %v (%v), PHP accepts %v", c[0], c[1], err == nil, err, got[i])
		}
	}
}

// An entry that Parse refuses as unsafe is one the farm's PHP never
// applies, whatever the value.
func TestPHPRefusesUnsafeEntries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "unsafe.json")
	entries := []string{
		`{"name": "wgNoOutput", "type": "string", "restricted": false}`,
		`{"name": "wgOddOutput", "type": "string", "output": "markup", "restricted": false}`,
		`{"name": "wgTrueOutput", "type": "string", "output": true, "restricted": false}`,
		`{"name": "wgHTML", "type": "string", "output": "html", "restricted": false}`,
		`{"name": "wgHTMLURL", "type": "string", "output": "html", "format": "url", "restricted": false}`,
		`{"name": "wgURL", "type": "string", "output": "url", "restricted": false}`,
		`{"name": "wgCSS", "type": "string", "output": "css", "format": "plain-text", "restricted": false}`,
		`{"name": "wgJS", "type": "string", "output": "js", "restricted": "true"}`,
		`{"name": "wgOddFormat", "type": "string", "output": "text", "format": "safe", "restricted": false}`,
	}
	if err := os.WriteFile(path, []byte(`{"settings": [`+strings.Join(entries, ",")+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var cases [][2]string
	for _, e := range entries {
		var named struct{ Name string }
		_ = json.Unmarshal([]byte(e), &named)
		if _, err := Parse([]byte(`{"settings": [` + e + `]}`)); err == nil {
			t.Fatalf("Parse accepted %s", e)
		}
		cases = append(cases, [2]string{named.Name, `"x"`}, [2]string{named.Name, `""`})
	}
	for i, ok := range phpValid(t, path, cases) {
		if ok {
			t.Errorf("PHP applies %s = %s from an unsafe entry", cases[i][0], cases[i][1])
		}
	}
}
