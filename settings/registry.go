// Package settings reads the farm's settings registry, the one list of
// settings ManageWiki may change, shared by the worker and the farm's PHP
// (farm/mediawiki/LocalSettings.php reads the same farm/settings.json).
//
// A value the registry accepts here is a value the PHP side applies: the
// rules mirror WikiFlowFarm::valid() (strings at most 1024 bytes and within
// allowed, JSON booleans, JSON integers within min and max, lists of strings
// within allowed, the format of a string or of each list item), and Check
// never accepts a value the PHP side would ignore.
//
// # What a value becomes on the wiki
//
// Every entry declares its "output", what MediaWiki does with the value:
//
//	config  only changes behaviour; the value itself is never printed
//	text    printed, escaped by MediaWiki (or only as a number or a name
//	        MediaWiki chose from its own list)
//	html    printed as raw HTML (wgRightsText without wgRightsUrl, Skin::getCopyright)
//	url     rendered by the skin as a link target or a source (href, src)
//	css     loaded as a style sheet
//	js      loaded as a script
//
// A wiki's bureaucrat changes ordinary settings alone, so a setting whose
// value reaches the page as markup must not be ordinary unless a format
// keeps markup out: html output needs "format": "plain-text", url output
// needs "format": "url", and css and js output always need "restricted":
// true (no validation makes arbitrary style or script safe). Parse refuses
// a registry that breaks this rule, so an unsafe entry can never load.
//
// # Formats
//
//	plain-text  text without markup: no "<" or ">" (HTML), no character
//	            references (&lt; &#60;), no "[", "]", "{", "}" (wikitext links
//	            and templates: wgRightsText is also a wikitext parameter of the
//	            edit page's copyright warning), no control characters, line or
//	            paragraph separators or direction controls. The farm's
//	            LocalSettings.php also HTML-escapes such a value wherever
//	            MediaWiki prints it raw.
//	url         empty (none), or an absolute http:// or https:// URL: a host
//	            name or a bracketed IPv6 address, an optional port, then a path,
//	            query and fragment of RFC 3986 characters (anything else
//	            percent-encoded); no user name or password, no spaces or
//	            control characters, no protocol-relative //host.
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
	"unicode"
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

// Outputs a setting may declare: what its value becomes on the wiki (see
// the package documentation).
const (
	OutputConfig = "config"
	OutputText   = "text"
	OutputHTML   = "html"
	OutputURL    = "url"
	OutputCSS    = "css"
	OutputJS     = "js"
)

// Formats a string setting (or each item of a list setting) may declare.
const (
	FormatPlainText = "plain-text"
	FormatURL       = "url"
)

var outputs = []string{OutputConfig, OutputText, OutputHTML, OutputURL, OutputCSS, OutputJS}

// safeFormat is, for an output that carries markup, the format that makes
// an ordinary (non-restricted) setting of it safe; "" means only
// restriction does.
var safeFormat = map[string]string{
	OutputHTML: FormatPlainText,
	OutputURL:  FormatURL,
	OutputCSS:  "",
	OutputJS:   "",
}

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
	Default json.RawMessage `json:"default,omitempty"`
	// Output is what the value becomes on the wiki: OutputConfig,
	// OutputText, OutputHTML, OutputURL, OutputCSS or OutputJS.
	Output string `json:"output"`
	// Format, when not empty, is FormatPlainText or FormatURL: a string
	// value (or every list item) must have it.
	Format      string `json:"format,omitempty"`
	Restricted  bool   `json:"restricted"`
	Description string `json:"description,omitempty"`
}

// Protection says why this setting's value cannot inject markup, or
// returns an error when nothing does: its output is never markup (config,
// text), its format keeps markup out, or only a steward may change it.
func (s Setting) Protection() (string, error) {
	want, markup := safeFormat[s.Output]
	switch {
	case s.Output == OutputConfig || s.Output == OutputText:
		return "output " + s.Output + " carries no markup", nil
	case !markup:
		return "", fmt.Errorf("unknown output %q (want one of %s)", s.Output, strings.Join(outputs, ", "))
	case s.Restricted:
		return "restricted: only a steward may approve a change", nil
	case want != "" && s.Format == want:
		return fmt.Sprintf("format %s keeps markup out of %s output", want, s.Output), nil
	case want != "":
		return "", fmt.Errorf(`output %q reaches the page as markup: an ordinary setting of it needs "format": %q, or else "restricted": true`, s.Output, want)
	}
	return "", fmt.Errorf(`output %q reaches the page as markup that no format makes safe: it needs "restricted": true`, s.Output)
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
	ProblemMarkup     Problem = "markup"          // text of a plain-text setting that carries markup
	ProblemURL        Problem = "bad-url"         // text of a url setting that is not an allowed URL
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
// an unknown field, a duplicate name, an unknown type, output or format,
// min > max, bounds, allowed values or a format on a type that has none, a
// default that is not a valid value, an ordinary setting whose output is
// markup without the format that keeps markup out) is refused as a whole,
// naming the file and the entry.
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
	Output      *string         `json:"output"`
	Format      *string         `json:"format"`
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
	if raw.Output == nil {
		return s, fmt.Errorf(`"output" is missing (what the value becomes on the wiki: one of %s)`, strings.Join(outputs, ", "))
	}
	s.Output = *raw.Output
	if !slices.Contains(outputs, s.Output) {
		return s, fmt.Errorf("unknown output %q (want one of %s)", s.Output, strings.Join(outputs, ", "))
	}
	if raw.Format != nil {
		s.Format = *raw.Format
		if s.Format != FormatPlainText && s.Format != FormatURL {
			return s, fmt.Errorf("unknown format %q (want %s or %s)", s.Format, FormatPlainText, FormatURL)
		}
		if s.Type != TypeString && s.Type != TypeList {
			return s, fmt.Errorf(`"format" is only for string and list settings, not %s`, s.Type)
		}
	}
	if _, err := s.Protection(); err != nil {
		return s, err
	}
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
		if err := s.checkFormat(str, ""); err != nil {
			return nil, err
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
			if err := s.checkFormat(str, fmt.Sprintf(": item %d", i)); err != nil {
				return nil, err
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

// The formats' rules, written as the same regular expressions the farm's
// PHP uses (WikiFlowFarm::valid): RE2 and PCRE read these identically, so
// Go and PHP accept exactly the same values. The step-by-step checks in
// checkPlainText and checkURL only explain a refusal.
const (
	// PlainTextForbidden matches a character a plain-text value may not
	// contain: control characters (C0, DEL, C1), invisible direction marks,
	// line and paragraph separators, embeddings, overrides and isolates, the
	// byte order mark, HTML's < and >, wikitext's [ ] { }.
	PlainTextForbidden = `[\x{00}-\x{1F}\x{7F}-\x{9F}\x{200E}\x{200F}\x{2028}-\x{202E}\x{2066}-\x{2069}\x{FEFF}<>\[\]{}]`
	// PlainTextCharRef matches an HTML character reference (&lt; &#60;
	// &#x3c;): a browser would show another character than the one stored.
	PlainTextCharRef = `&(?:#|[A-Za-z][A-Za-z0-9]*;)`
	// AllowedURL matches a whole allowed URL (the empty value is allowed
	// separately).
	AllowedURL = `^[Hh][Tt][Tt][Pp][Ss]?://` +
		`(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])` +
		`(?::[0-9]{1,5})?` +
		`(?:/(?:` + urlChar + `|/)*)?` +
		`(?:\?(?:` + urlChar + `|[/?])*)?` +
		`(?:#(?:` + urlChar + `|[/?])*)?$`
	// urlChar is RFC 3986's pchar: unreserved, sub-delims, ":", "@" and
	// percent-encodings.
	urlChar = `[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2}`
)

var (
	plainTextForbidden = regexp.MustCompile(PlainTextForbidden)
	plainTextCharRef   = regexp.MustCompile(PlainTextCharRef)
	allowedURL         = regexp.MustCompile(AllowedURL)
	urlScheme          = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*):`)
	urlHostPort        = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$`)
	urlRestChar        = regexp.MustCompile(`^(?:[A-Za-z0-9._~!$&'()*+,;=:@/?#-]|%[0-9A-Fa-f]{2})`)
)

// checkFormat checks a string value (where names a list item, else "")
// against the setting's format.
func (s Setting) checkFormat(v, where string) error {
	switch s.Format {
	case FormatPlainText:
		return checkPlainText(s.Name, s.Name+where, v)
	case FormatURL:
		return checkURL(s.Name, s.Name+where, v)
	}
	return nil
}

// checkPlainText refuses markup; label names the setting (and item) in
// the message.
func checkPlainText(name, label, v string) error {
	refuse := func(format string, args ...any) error {
		return invalid(name, ProblemMarkup, "%s must be plain text: "+format, append([]any{label}, args...)...)
	}
	if strings.ContainsAny(v, "<>") {
		return refuse(`"<" and ">" are not allowed (HTML markup); got %q`, clip(v))
	}
	if loc := plainTextCharRef.FindStringIndex(v); loc != nil {
		return refuse(`character references such as "&lt;" are not allowed (write the character itself); got %q`, clip(v))
	}
	if strings.ContainsAny(v, "[]{}") {
		return refuse(`"[", "]", "{" and "}" are not allowed (wikitext links and templates); got %q`, clip(v))
	}
	if loc := plainTextForbidden.FindStringIndex(v); loc != nil {
		r, _ := utf8.DecodeRuneInString(v[loc[0]:])
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return refuse("control characters are not allowed (U+%04X at byte %d)", r, loc[0])
		}
		return refuse("invisible line separators and direction controls are not allowed (U+%04X at byte %d)", r, loc[0])
	}
	return nil
}

// checkURL refuses anything but an empty value or an http(s) URL; label
// names the setting (and item) in the message.
func checkURL(name, label, v string) error {
	refuse := func(format string, args ...any) error {
		return invalid(name, ProblemURL, "%s "+format, append([]any{label}, args...)...)
	}
	if v == "" {
		return nil // no URL
	}
	// Browsers drop or fold whitespace and control characters inside a
	// URL, so " javascript:" and "java\nscript:" would run: refuse them
	// before looking at the scheme.
	for i, r := range v {
		if r <= 0x20 || (r >= 0x7f && r <= 0x9f) || unicode.IsSpace(r) {
			return refuse("must be a URL without spaces or control characters (U+%04X at byte %d)", r, i)
		}
		if r > 0x7e {
			return refuse("must be an ASCII URL: percent-encode other characters (U+%04X at byte %d)", r, i)
		}
	}
	if strings.HasPrefix(v, "//") {
		return refuse("must be an absolute http:// or https:// URL, not a protocol-relative one; got %q", clip(v))
	}
	m := urlScheme.FindStringSubmatch(v)
	if m == nil {
		return refuse("must be an absolute http:// or https:// URL; got %q", clip(v))
	}
	if scheme := strings.ToLower(m[1]); scheme != "http" && scheme != "https" {
		return refuse("may only be an http:// or https:// URL: the scheme %q is not allowed", clip(scheme))
	}
	rest, ok := strings.CutPrefix(v[len(m[0]):], "//")
	if !ok {
		return refuse("must be an absolute http:// or https:// URL (with // after the scheme); got %q", clip(v))
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	switch {
	case authority == "":
		return refuse("must name a host after %s//; got %q", m[0], clip(v))
	case strings.Contains(authority, "@"):
		return refuse("must not carry a user name or password (@ before the host); got %q", clip(v))
	case !urlHostPort.MatchString(authority):
		return refuse("has no valid host name (letters, digits, dots and hyphens, or a bracketed IPv6 address, then an optional :port): %q", clip(authority))
	}
	for i := 0; i < len(tail); {
		n := len(urlRestChar.FindString(tail[i:]))
		if n == 0 {
			if tail[i] == '%' {
				return refuse(`has a "%%" that does not start a percent-encoding such as %%20`)
			}
			return refuse("contains %q, which a URL may not contain unencoded (percent-encode it)", tail[i:i+1])
		}
		i += n
	}
	if !allowedURL.MatchString(v) {
		// A "#" or "?" in the wrong part, e.g. a second "#".
		return refuse("is not a well-formed http:// or https:// URL; got %q", clip(v))
	}
	return nil
}
