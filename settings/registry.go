// Package settings reads the farm's settings registry, the one list of
// settings ManageWiki may change, shared by the worker and the farm's PHP
// (farm/mediawiki/LocalSettings.php reads the same farm/settings.json).
//
// A value the registry accepts here is a value the PHP side applies: the
// rules mirror WikiFlowFarm::valid() (strings at most 1024 bytes and within
// allowed, JSON booleans, JSON integers within min and max, lists of strings
// within allowed), and Check never accepts a value the PHP side would ignore.
package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Types a setting may have.
const (
	TypeString = "string"
	TypeBool   = "bool"
	TypeInt    = "int"
	TypeList   = "list"
)

// MaxStringBytes is the longest string value the farm's PHP accepts.
const MaxStringBytes = 1024

// Setting is one entry of the registry.
type Setting struct {
	Name string `json:"name"`
	// Type is one of TypeString, TypeBool, TypeInt, TypeList.
	Type string `json:"type"`
	// Allowed, when not nil, lists the only values a string (or the only
	// items a list) may take. Only string and list settings have it.
	Allowed []string `json:"allowed,omitempty"`
	// Min and Max bound an int setting; nil means unbounded.
	Min *int64 `json:"min,omitempty"`
	Max *int64 `json:"max,omitempty"`
	// Default is the value a wiki has when mw_settings does not set it
	// (normalized JSON); nil when the registry gives none.
	Default     json.RawMessage `json:"default,omitempty"`
	Restricted  bool            `json:"restricted"`
	Description string          `json:"description,omitempty"`
}

// Registry is the farm's settings registry, in the file's order.
type Registry struct {
	settings []Setting
	byName   map[string]int
}

// Problem says what is wrong with a value, for callers that classify errors.
type Problem string

const (
	ProblemUnknown    Problem = "unknown-setting" // the registry does not list the name
	ProblemSyntax     Problem = "not-json"        // the value is not one JSON value (or not UTF-8)
	ProblemType       Problem = "wrong-type"      // a JSON value of another type than the setting's
	ProblemRange      Problem = "out-of-range"    // an int outside min..max
	ProblemNotAllowed Problem = "not-allowed"     // a string or list item outside allowed
	ProblemTooLong    Problem = "too-long"        // a string longer than MaxStringBytes
)

// InvalidError is the error of a refused setting or value: the request is
// wrong and no retry can fix it.
type InvalidError struct {
	Setting string  // the name asked for
	Problem Problem // what is wrong
	msg     string
}

func (e *InvalidError) Error() string { return e.msg }

func invalid(name string, p Problem, format string, args ...any) *InvalidError {
	return &InvalidError{Setting: name, Problem: p, msg: fmt.Sprintf(format, args...)}
}

// IsInvalid tells whether err is (or wraps) an *InvalidError.
func IsInvalid(err error) bool {
	var ie *InvalidError
	return errors.As(err, &ie)
}

// Load reads and checks the registry file. A malformed registry (not JSON,
// an unknown field, a duplicate name, an unknown type, min > max, bounds
// or allowed values on a type that has none, a default that is not a
// valid value) is refused as a whole, naming the file and the entry.
func Load(path string) (*Registry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("settings registry: %w", err)
	}
	r, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("settings registry %s: %w", path, err)
	}
	return r, nil
}

// rawSetting is an entry as written, checked field by field in Parse.
type rawSetting struct {
	Name        *string         `json:"name"`
	Type        *string         `json:"type"`
	Allowed     json.RawMessage `json:"allowed"`
	Min         json.RawMessage `json:"min"`
	Max         json.RawMessage `json:"max"`
	Default     json.RawMessage `json:"default"`
	Restricted  *bool           `json:"restricted"`
	Description *string         `json:"description"`
}

// A name becomes a PHP global ($GLOBALS[name]): only identifiers.
var settingName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// Parse checks a registry given as JSON ({"settings": [...]}). Keys other
// than "settings" at the top level are ignored; inside an entry every field
// must be a known one, so a misspelt "max" cannot silently drop a bound.
func Parse(data []byte) (*Registry, error) {
	if !json.Valid(data) {
		return nil, errors.New("not valid JSON")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, errors.New(`want a JSON object {"settings": [...]}`)
	}
	list, ok := top["settings"]
	if !ok || jsonKind(list) != "a list" {
		return nil, errors.New(`want a JSON object {"settings": [...]}: "settings" is missing or not a list`)
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(list, &entries); err != nil {
		return nil, err
	}
	r := &Registry{byName: map[string]int{}}
	for i, entry := range entries {
		s, err := parseEntry(entry)
		if err != nil {
			where := fmt.Sprintf("entry %d", i)
			if s.Name != "" {
				where += " (" + s.Name + ")"
			}
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if j, dup := r.byName[s.Name]; dup {
			return nil, fmt.Errorf("entry %d: duplicate name %s (also entry %d)", i, s.Name, j)
		}
		r.byName[s.Name] = len(r.settings)
		r.settings = append(r.settings, s)
	}
	return r, nil
}

func parseEntry(entry json.RawMessage) (Setting, error) {
	var raw rawSetting
	dec := json.NewDecoder(bytes.NewReader(entry))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		var s Setting
		// Name the entry when at least its name can be read.
		var named struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(entry, &named) == nil && settingName.MatchString(named.Name) {
			s.Name = named.Name
		}
		return s, fmt.Errorf("not a valid entry: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	var s Setting
	if raw.Name == nil || !settingName.MatchString(*raw.Name) {
		return s, errors.New(`"name" is missing or not a PHP variable name`)
	}
	s.Name = *raw.Name
	if raw.Type == nil {
		return s, errors.New(`"type" is missing`)
	}
	s.Type = *raw.Type
	switch s.Type {
	case TypeString, TypeBool, TypeInt, TypeList:
	default:
		return s, fmt.Errorf("unknown type %q (want string, bool, int or list)", s.Type)
	}
	if raw.Restricted == nil {
		return s, errors.New(`"restricted" is missing (true or false)`)
	}
	s.Restricted = *raw.Restricted
	if raw.Description != nil {
		s.Description = *raw.Description
	}
	if raw.Allowed != nil {
		if s.Type != TypeString && s.Type != TypeList {
			return s, fmt.Errorf(`"allowed" is only for string and list settings, not %s`, s.Type)
		}
		if jsonKind(raw.Allowed) != "a list" || json.Unmarshal(raw.Allowed, &s.Allowed) != nil {
			return s, errors.New(`"allowed" must be a list of strings`)
		}
		if len(s.Allowed) == 0 {
			return s, errors.New(`"allowed" is empty: no value could ever be set`)
		}
	}
	for _, b := range []struct {
		key string
		raw json.RawMessage
		dst **int64
	}{{"min", raw.Min, &s.Min}, {"max", raw.Max, &s.Max}} {
		if b.raw == nil {
			continue
		}
		if s.Type != TypeInt {
			return s, fmt.Errorf("%q is only for int settings, not %s", b.key, s.Type)
		}
		n, ok := parseInt(b.raw)
		if !ok {
			return s, fmt.Errorf("%q must be a JSON integer, got %s", b.key, bytes.TrimSpace(b.raw))
		}
		*b.dst = &n
	}
	if s.Min != nil && s.Max != nil && *s.Min > *s.Max {
		return s, fmt.Errorf("min %d is greater than max %d", *s.Min, *s.Max)
	}
	if raw.Default != nil {
		norm, err := s.Check(raw.Default)
		if err != nil {
			return s, fmt.Errorf("invalid default: %v", err)
		}
		s.Default = norm
	}
	return s, nil
}

// Get returns the setting of that name.
func (r *Registry) Get(name string) (Setting, bool) {
	if r == nil {
		return Setting{}, false
	}
	i, ok := r.byName[name]
	if !ok {
		return Setting{}, false
	}
	return r.settings[i].clone(), true
}

// All returns every setting, in the registry's order.
func (r *Registry) All() []Setting {
	if r == nil {
		return nil
	}
	out := make([]Setting, len(r.settings))
	for i, s := range r.settings {
		out[i] = s.clone()
	}
	return out
}

func (s Setting) clone() Setting {
	s.Allowed = slices.Clone(s.Allowed)
	s.Default = slices.Clone(s.Default)
	if s.Min != nil {
		v := *s.Min
		s.Min = &v
	}
	if s.Max != nil {
		v := *s.Max
		s.Max = &v
	}
	return s
}

// Check validates a value (JSON text) for the named setting and returns it
// normalized (compact JSON: 1234, true, "vector", ["png","gif"]), as it
// should be stored in mw_settings. Every refusal is an *InvalidError.
func (r *Registry) Check(name string, value json.RawMessage) (json.RawMessage, error) {
	if r == nil {
		return nil, errors.New("no settings registry is loaded")
	}
	s, ok := r.Get(name)
	if !ok {
		return nil, invalid(name, ProblemUnknown, "unknown setting %s", displayName(name))
	}
	return s.Check(value)
}

// Check validates a value (JSON text) for this setting; see Registry.Check.
func (s Setting) Check(value json.RawMessage) (json.RawMessage, error) {
	value = bytes.TrimSpace(value)
	if len(value) == 0 {
		return nil, invalid(s.Name, ProblemSyntax, "%s: the value is empty (want a JSON %s)", s.Name, typeWord(s.Type))
	}
	if !utf8.Valid(value) {
		return nil, invalid(s.Name, ProblemSyntax, "%s: the value is not valid UTF-8", s.Name)
	}
	if !json.Valid(value) {
		return nil, invalid(s.Name, ProblemSyntax, "%s: the value is not one valid JSON value (want a JSON %s, e.g. %s)",
			s.Name, typeWord(s.Type), example(s.Type))
	}
	wrongType := func() error {
		got := jsonKind(value)
		if s.Type == TypeInt && got == "a number" {
			if jsonIntLiteral.Match(value) {
				got = "an integer outside the 64-bit range (" + clip(string(value)) + ")"
			} else {
				got = "a number that is not an integer (" + clip(string(value)) + ")"
			}
		}
		return invalid(s.Name, ProblemType, "%s must be a JSON %s, got %s", s.Name, typeWord(s.Type), got)
	}
	switch s.Type {
	case TypeBool:
		switch string(value) {
		case "true", "false":
			return json.RawMessage(value), nil
		}
		return nil, wrongType()
	case TypeInt:
		n, ok := parseInt(value)
		if !ok {
			return nil, wrongType()
		}
		if (s.Min != nil && n < *s.Min) || (s.Max != nil && n > *s.Max) {
			return nil, invalid(s.Name, ProblemRange, "%s must be %s, got %d", s.Name, s.bounds(), n)
		}
		return json.RawMessage(strconv.FormatInt(n, 10)), nil
	case TypeString:
		var str string
		if jsonKind(value) != "a string" || json.Unmarshal(value, &str) != nil {
			return nil, wrongType()
		}
		if len(str) > MaxStringBytes {
			return nil, invalid(s.Name, ProblemTooLong, "%s must be at most %d bytes, got %d", s.Name, MaxStringBytes, len(str))
		}
		if s.Allowed != nil && !slices.Contains(s.Allowed, str) {
			return nil, invalid(s.Name, ProblemNotAllowed, "%s must be one of %s; got %q", s.Name, s.allowedList(), clip(str))
		}
		return marshal(str), nil
	case TypeList:
		var items []json.RawMessage
		if jsonKind(value) != "a list" || json.Unmarshal(value, &items) != nil {
			return nil, wrongType()
		}
		out := make([]string, 0, len(items))
		for i, item := range items {
			var str string
			if jsonKind(item) != "a string" || json.Unmarshal(item, &str) != nil {
				return nil, invalid(s.Name, ProblemType, "%s: item %d must be a JSON string, got %s", s.Name, i, jsonKind(item))
			}
			if s.Allowed != nil && !slices.Contains(s.Allowed, str) {
				return nil, invalid(s.Name, ProblemNotAllowed, "%s: item %d (%q) is not allowed; allowed items: %s", s.Name, i, clip(str), s.allowedList())
			}
			out = append(out, str)
		}
		return marshal(out), nil
	}
	return nil, fmt.Errorf("%s has the unknown type %q", s.Name, s.Type)
}

func (s Setting) bounds() string {
	switch {
	case s.Min != nil && s.Max != nil:
		return fmt.Sprintf("between %d and %d", *s.Min, *s.Max)
	case s.Min != nil:
		return fmt.Sprintf("at least %d", *s.Min)
	default:
		return fmt.Sprintf("at most %d", *s.Max)
	}
}

func (s Setting) allowedList() string {
	q := make([]string, len(s.Allowed))
	for i, a := range s.Allowed {
		q[i] = strconv.Quote(a)
	}
	return strings.Join(q, ", ")
}

// jsonIntLiteral is what PHP's json_decode turns into an int (within int64).
var jsonIntLiteral = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

func parseInt(raw json.RawMessage) (int64, bool) {
	t := bytes.TrimSpace(raw)
	if !jsonIntLiteral.Match(t) {
		return 0, false
	}
	n, err := strconv.ParseInt(string(t), 10, 64)
	return n, err == nil
}

// jsonKind names the type of a valid JSON value, for messages.
func jsonKind(v json.RawMessage) string {
	t := bytes.TrimSpace(v)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "a list"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func typeWord(typ string) string {
	switch typ {
	case TypeInt:
		return "integer (int)"
	case TypeBool:
		return "boolean (bool)"
	case TypeList:
		return "list of strings (list)"
	}
	return "string"
}

func example(typ string) string {
	switch typ {
	case TypeInt:
		return "1234"
	case TypeBool:
		return "true"
	case TypeList:
		return `["a","b"]`
	}
	return `"text"`
}

// marshal encodes without HTML escaping (PHP reads both the same; this
// keeps stored text readable).
func marshal(v any) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // strings and lists of strings always encode
	return json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n"))
}

// displayName shows a requested name safely: as is when it looks like a
// setting name, else quoted and clipped.
func displayName(name string) string {
	if settingName.MatchString(name) {
		return name
	}
	return strconv.Quote(clip(name))
}

func clip(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
