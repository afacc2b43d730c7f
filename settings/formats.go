package settings

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

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
