package mediawiki

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/wikiflow/wikiflow/failure"
	"github.com/wikiflow/wikiflow/failure/failuretest"
)

// The network below the HTTP client (refused, reset, timed out) is
// failure.Network's, tested there; these are MediaWiki's own answers.
func TestClassify(t *testing.T) {
	failuretest.Check(t, Classify, []failuretest.Case{
		{"idle connection closed, in net/http's words only", errors.New(`Get "http://x/api.php": http: server closed idle connection`), failure.Transient},
		{"HTTP 500", &HTTPError{Status: 500}, failure.Transient},
		{"HTTP 503 (the farm's database is down)", fmt.Errorf("x: %w", &HTTPError{Status: 503}), failure.Transient},
		{"HTTP 408", &HTTPError{Status: 408}, failure.Transient},
		{"HTTP 425", &HTTPError{Status: 425}, failure.Transient},
		{"HTTP 429", &HTTPError{Status: 429}, failure.Transient},
		{"HTTP 403", &HTTPError{Status: 403}, failure.Permanent},
		{"HTTP 400", &HTTPError{Status: 400}, failure.Permanent},
		{"HTTP 302, not an answer at all", &HTTPError{Status: 302}, failure.Unknown},
		{"unknown wiki: the caller decides", fmt.Errorf("x: %w (HTTP 404)", ErrUnknownWiki), failure.Unknown},
		{"maxlag", &APIError{Code: "maxlag"}, failure.Transient},
		{"read-only during a failover", &APIError{Code: "readonly"}, failure.Transient},
		{"database error inside MediaWiki", &APIError{Code: "internal_api_error_DBConnectionError"}, failure.Transient},
		{"bug inside MediaWiki", &APIError{Code: "internal_api_error_TypeError"}, failure.Unknown},
		{"permission denied", &APIError{Code: "permissiondenied"}, failure.Permanent},
		{"bad value", &APIError{Code: "badvalue"}, failure.Permanent},
		{"private wiki refuses the reader", &APIError{Code: "readapidenied"}, failure.Permanent},
		{"a log entry refused by the WikiFlow module", &APIError{Code: "wikiflow-refused"}, failure.Permanent},
		{"a log entry's key held by another write", &APIError{Code: "wikiflow-locked"}, failure.Transient},
		{"a log entry not yet published", &APIError{Code: "wikiflow-unpublished"}, failure.Transient},
		{"wrong bot password", &LoginError{Result: "Failed", Reason: "Incorrect username or password entered."}, failure.Permanent},
		{"login throttled", &LoginError{Result: "Failed", Reason: "Too many recent login attempts."}, failure.Transient},
		{"script: database down", &ScriptError{ExitCode: 1, Output: "Wikimedia\\Rdbms\\DBConnectionError: Cannot access the database: Connection refused"}, failure.Transient},
		{"script: server gone away", &ScriptError{ExitCode: 255, Output: "MySQL server has gone away"}, failure.Transient},
		{"script: killed", &ScriptError{ExitCode: -1}, failure.Transient},
		{"script: other failure", &ScriptError{ExitCode: 1, Output: "Unknown option --frobnicate"}, failure.Unknown},
		{"something else", errors.New("the wiki answered nonsense"), failure.Unknown},
		{"nil", nil, failure.Unknown},
	})
}

// A real refused connection, as the client reports it, is transient.
func TestClassifyRealRefusedConnection(t *testing.T) {
	c := NewClient("http://{wiki}.localhost", failuretest.ClosedAddr(t))
	_, err := c.SiteInfo(context.Background(), "testwiki")
	if err == nil {
		t.Fatal("want an error from a closed port")
	}
	if got := Classify(err); got != failure.Transient {
		t.Fatalf("%v is %s, want transient", err, got)
	}
}
