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
	"strings"
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
