package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

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
