package mediawiki

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
)

// Failure says what a failure of MediaWiki means for a retry.
type Failure int

const (
	// Unknown: not recognised. Callers retry it within their budget, so an
	// unforeseen failure reaches a person late rather than never.
	Unknown Failure = iota
	// Transient: the farm is restarting, overloaded or unreachable; the
	// same call will work once it is back.
	Transient
	// Permanent: MediaWiki answered and refused (a 4xx, an API error that
	// is a refusal, a login it will not take); the same call gets the same
	// answer, so a person must look at it.
	Permanent
)

func (f Failure) String() string {
	switch f {
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	}
	return "unknown"
}

// transientAPICodes are API errors that go away by themselves: lag and rate
// limits, a wiki read-only while its database fails over, a session the
// wiki lost (the next attempt logs in again).
var transientAPICodes = map[string]bool{
	"maxlag":           true,
	"ratelimited":      true,
	"readonly":         true,
	"badtoken":         true,
	"assertuserfailed": true,
	"assertbotfailed":  true,
}

// Classify is the one place that decides whether a failure of the Action
// API or of a maintenance script is worth retrying. It looks through
// wrapping (errors.As), so callers may add context with %w.
//
// ErrUnknownWiki (404, 410) is Unknown on purpose: whether a wiki the farm
// does not serve will be served (one being registered or reopened) is the
// calling activity's to say, and activities that know turn it into a
// permanent error themselves.
func Classify(err error) Failure {
	if err == nil {
		return Unknown
	}
	var he *HTTPError
	var ae *APIError
	var le *LoginError
	var se *ScriptError
	switch {
	case errors.Is(err, ErrUnknownWiki):
		return Unknown
	case errors.As(err, &he):
		return classifyStatus(he.Status)
	case errors.As(err, &ae):
		return classifyAPICode(ae.Code)
	case errors.As(err, &le):
		return classifyLogin(le)
	case errors.As(err, &se):
		return classifyScript(se)
	case transientNetwork(err):
		return Transient
	}
	return Unknown
}

func classifyStatus(status int) Failure {
	switch {
	case status >= 500:
		return Transient
	case status == http.StatusRequestTimeout, status == http.StatusTooEarly, status == http.StatusTooManyRequests:
		return Transient
	case status >= 400:
		return Permanent
	}
	return Unknown
}

func classifyAPICode(code string) Failure {
	switch {
	case transientAPICodes[code]:
		return Transient
	// MediaWiki reports its database failing (connection, query timeout,
	// read-only replica, lost transaction) as internal_api_error_DB*.
	case strings.HasPrefix(code, "internal_api_error_DB"):
		return Transient
	// Other exceptions inside MediaWiki: a bug or a broken extension,
	// neither a refusal nor sure to heal.
	case strings.HasPrefix(code, "internal_api_error_"):
		return Unknown
	}
	// Any other code is the API refusing the request as it stands
	// (permissiondenied, badvalue, invalidtitle, readapidenied, ...).
	return Permanent
}

func classifyLogin(le *LoginError) Failure {
	reason := strings.ToLower(le.Reason)
	switch {
	case le.Result == "Throttled" || strings.Contains(reason, "too many") || strings.Contains(reason, "throttl"):
		return Transient
	case le.Result == "WrongToken" || le.Result == "NeedToken" || strings.Contains(reason, "session"):
		return Transient
	}
	// A wrong bot password, an account that does not exist: configuration.
	return Permanent
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

func classifyScript(se *ScriptError) Failure {
	if se.ExitCode < 0 {
		// Killed (the activity's deadline or the worker stopping), not failed.
		return Transient
	}
	for _, m := range scriptTransientMarkers {
		if strings.Contains(se.Output, m) {
			return Transient
		}
	}
	// A script that exits non-zero for another reason may be a bug or bad
	// input: retried within the budget, then a person looks.
	return Unknown
}

// transientNetwork: the connection could not be made or broke off, or the
// call ran out of time.
func transientNetwork(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED,
		syscall.EPIPE, syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ENETDOWN} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return true
	}
	// net/http reports some broken connections only in words.
	msg := err.Error()
	for _, m := range []string{"connection refused", "connection reset", "broken pipe", "server closed idle connection", "unexpected EOF"} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}
