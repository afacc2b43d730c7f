package mediawiki

import (
	"errors"
	"net/http"
	"strings"

	"github.com/wikiflow/wikiflow/failure"
)

// Transient and Permanent are the shared kinds under this package's name,
// for callers that compare Classify's answer with mediawiki.Transient.
const (
	Transient = failure.Transient
	Permanent = failure.Permanent
)

// transientAPICodes are API errors that go away by themselves: lag and rate
// limits, a wiki read-only while its database fails over, a session the
// wiki lost (the next attempt logs in again), and the WikiFlow module's
// log entry that another write of its key holds (wikiflow-locked) or that
// was written but not yet published to recent changes (wikiflow-unpublished:
// the next write of the key publishes it).
var transientAPICodes = map[string]bool{
	"maxlag":               true,
	"ratelimited":          true,
	"readonly":             true,
	"badtoken":             true,
	"assertuserfailed":     true,
	"assertbotfailed":      true,
	"wikiflow-locked":      true,
	"wikiflow-unpublished": true,
}

// httpWords are net/http's phrases for a broken connection, for the
// failures it reports only in text.
var httpWords = []string{"server closed idle connection", "unexpected EOF"}

// Classify is the one place that decides whether a failure of the Action
// API or of a maintenance script is worth retrying. It looks through
// wrapping (errors.As), so callers may add context with %w.
//
// Transient: the farm is restarting, overloaded or unreachable; the same
// call will work once it is back. Permanent: MediaWiki answered and refused
// (a 4xx that asking again will not change, an API error that is a refusal,
// a login it will not take), so a person must look at it.
//
// ErrUnknownWiki (404, 410) is Unknown on purpose: whether a wiki the farm
// does not serve will be served (one being registered or reopened) is the
// calling activity's to say, and activities that know turn it into a
// permanent error themselves.
func Classify(err error) failure.Failure {
	if err == nil {
		return failure.Unknown
	}
	var he *HTTPError
	var ae *APIError
	var le *LoginError
	var se *ScriptError
	switch {
	case errors.Is(err, ErrUnknownWiki):
		return failure.Unknown
	case errors.As(err, &he):
		return classifyStatus(he.Status)
	case errors.As(err, &ae):
		return classifyAPICode(ae.Code)
	case errors.As(err, &le):
		return classifyLogin(le)
	case errors.As(err, &se):
		return classifyScript(se)
	case failure.Network(err, httpWords...):
		return failure.Transient
	}
	return failure.Unknown
}

// classifyStatus: a 5xx is the farm failing, which heals; a 4xx is
// MediaWiki refusing the request as it stands, except the three that say
// "later" (timed out, too early, too many requests).
func classifyStatus(status int) failure.Failure {
	switch {
	case status >= 500:
		return failure.Transient
	case status == http.StatusRequestTimeout, status == http.StatusTooEarly, status == http.StatusTooManyRequests:
		return failure.Transient
	case status >= 400:
		return failure.Permanent
	}
	return failure.Unknown
}

func classifyAPICode(code string) failure.Failure {
	switch {
	case transientAPICodes[code]:
		return failure.Transient
	// MediaWiki reports its database failing (connection, query timeout,
	// read-only replica, lost transaction) as internal_api_error_DB*.
	case strings.HasPrefix(code, "internal_api_error_DB"):
		return failure.Transient
	// Other exceptions inside MediaWiki: a bug or a broken extension,
	// neither a refusal nor sure to heal.
	case strings.HasPrefix(code, "internal_api_error_"):
		return failure.Unknown
	}
	// Any other code is the API refusing the request as it stands
	// (permissiondenied, badvalue, invalidtitle, readapidenied, ...).
	return failure.Permanent
}

func classifyLogin(le *LoginError) failure.Failure {
	reason := strings.ToLower(le.Reason)
	switch {
	case le.Result == "Throttled" || strings.Contains(reason, "too many") || strings.Contains(reason, "throttl"):
		return failure.Transient
	case le.Result == "WrongToken" || le.Result == "NeedToken" || strings.Contains(reason, "session"):
		return failure.Transient
	}
	// A wrong bot password, an account that does not exist: configuration.
	return failure.Permanent
}

// scriptTransientMarkers are what a maintenance script prints when the farm
// behind it is restarting: MediaWiki's database errors and the client
// library's, in MariaDB's and MySQL's words.
var scriptTransientMarkers = []string{
	"Cannot access the database",
	"DBConnectionError",
	"DBQueryTimeoutError",
	"DBReadOnlyError",
	"Connection refused",
	"Connection reset",
	"server has gone away",
	"Lost connection to",
	"Too many connections",
	"Deadlock found",
	"Lock wait timeout exceeded",
	"--read-only option",
	"read-only mode",
	"Server shutdown in progress",
	"Can't connect to",
}

func classifyScript(se *ScriptError) failure.Failure {
	if se.ExitCode < 0 {
		// Killed (the activity's deadline or the worker stopping), not failed.
		return failure.Transient
	}
	for _, m := range scriptTransientMarkers {
		if strings.Contains(se.Output, m) {
			return failure.Transient
		}
	}
	// A script that exits non-zero for another reason may be a bug or bad
	// input: retried within the budget, then a person looks.
	return failure.Unknown
}
