package mediawiki

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
)

func TestClassify(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cases := []struct {
		name string
		err  error
		want Failure
	}{
		{"connection refused", &url.Error{Op: "Get", URL: "http://x/api.php", Err: refused}, Transient},
		{"connection reset, wrapped", fmt.Errorf("calling x: %w", syscall.ECONNRESET), Transient},
		{"timeout", context.DeadlineExceeded, Transient},
		{"reset in words only", errors.New("read tcp 127.0.0.1:1->127.0.0.1:8080: read: connection reset by peer"), Transient},
		{"HTTP 500", &HTTPError{Status: 500}, Transient},
		{"HTTP 503 (the farm's database is down)", fmt.Errorf("x: %w", &HTTPError{Status: 503}), Transient},
		{"HTTP 429", &HTTPError{Status: 429}, Transient},
		{"HTTP 403", &HTTPError{Status: 403}, Permanent},
		{"HTTP 400", &HTTPError{Status: 400}, Permanent},
		{"unknown wiki: the caller decides", fmt.Errorf("x: %w (HTTP 404)", ErrUnknownWiki), Unknown},
		{"maxlag", &APIError{Code: "maxlag"}, Transient},
		{"read-only during a failover", &APIError{Code: "readonly"}, Transient},
		{"database error inside MediaWiki", &APIError{Code: "internal_api_error_DBConnectionError"}, Transient},
		{"bug inside MediaWiki", &APIError{Code: "internal_api_error_TypeError"}, Unknown},
		{"permission denied", &APIError{Code: "permissiondenied"}, Permanent},
		{"bad value", &APIError{Code: "badvalue"}, Permanent},
		{"private wiki refuses the reader", &APIError{Code: "readapidenied"}, Permanent},
		{"wrong bot password", &LoginError{Result: "Failed", Reason: "Incorrect username or password entered."}, Permanent},
		{"login throttled", &LoginError{Result: "Failed", Reason: "Too many recent login attempts."}, Transient},
		{"script: database down", &ScriptError{ExitCode: 1, Output: "Wikimedia\\Rdbms\\DBConnectionError: Cannot access the database: Connection refused"}, Transient},
		{"script: server gone away", &ScriptError{ExitCode: 255, Output: "MySQL server has gone away"}, Transient},
		{"script: killed", &ScriptError{ExitCode: -1}, Transient},
		{"script: other failure", &ScriptError{ExitCode: 1, Output: "Unknown option --frobnicate"}, Unknown},
		{"something else", errors.New("the wiki answered nonsense"), Unknown},
		{"nil", nil, Unknown},
	}
	for _, c := range cases {
		if got := Classify(c.err); got != c.want {
			t.Errorf("%s: %v is %s, want %s", c.name, c.err, got, c.want)
		}
	}
}

// A real refused connection, as the client reports it, is transient.
func TestClassifyRealRefusedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := NewClient("http://{wiki}.localhost", addr)
	_, err = c.SiteInfo(context.Background(), "testwiki")
	if err == nil {
		t.Fatal("want an error from a closed port")
	}
	if got := Classify(err); got != Transient {
		t.Fatalf("%v is %s, want transient", err, got)
	}
}
