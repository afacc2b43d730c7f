package activities

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/go-sql-driver/mysql"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/mediawiki"
	"github.com/wikiflow/wikiflow/notify"
	"github.com/wikiflow/wikiflow/process"
)

func TestClassify(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cases := []struct {
		name      string
		err       error
		wantType  string
		retryable bool
	}{
		{"database refused the connection", fmt.Errorf("cw_wikis: %w", refused), ErrTypeTransient, true},
		{"database deadlock", &mysql.MySQLError{Number: 1213}, ErrTypeTransient, true},
		{"database read-only in a failover", &mysql.MySQLError{Number: 1290}, ErrTypeTransient, true},
		{"database gone away", mysql.ErrInvalidConn, ErrTypeTransient, true},
		{"MediaWiki 503", &mediawiki.HTTPError{Status: 503}, ErrTypeTransient, true},
		{"maintenance script with the database down", &mediawiki.ScriptError{ExitCode: 1, Output: "Cannot access the database"}, ErrTypeTransient, true},
		{"missing table", &mysql.MySQLError{Number: 1146, Message: "Table 'x.y' doesn't exist"}, ErrTypeRefused, false},
		{"MediaWiki 403", &mediawiki.HTTPError{Status: 403}, ErrTypeRefused, false},
		{"API refusal", &mediawiki.APIError{Code: "permissiondenied"}, ErrTypeRefused, false},
		{"the farm's data says no", fmt.Errorf("x: %w", farmdb.ErrClaimedByOther), ErrTypeRefused, false},
		{"a bad email address", fmt.Errorf("%w %q", notify.ErrBadAddress, "x"), ErrTypeInvalidInput, false},
		{"unrecognised", errors.New("something odd"), ErrTypeUnexpected, true},
		{"unknown wiki, wrapped by an activity that retries it", fmt.Errorf("reopened: %w", mediawiki.ErrUnknownWiki), ErrTypeUnexpected, true},
	}
	for _, c := range cases {
		got := Classify(c.err)
		var app *temporal.ApplicationError
		if !errors.As(got, &app) {
			t.Errorf("%s: %v is not an ApplicationError", c.name, got)
			continue
		}
		if app.Type() != c.wantType || app.NonRetryable() == c.retryable {
			t.Errorf("%s: type %s, retryable %v; want %s, %v", c.name, app.Type(), !app.NonRetryable(), c.wantType, c.retryable)
		}
		if app.Message() != c.err.Error() {
			t.Errorf("%s: message %q, want the error's own %q", c.name, app.Message(), c.err.Error())
		}
	}
}

// What an activity decided itself is kept, also when wrapped.
func TestClassifyKeepsTheActivitysDecision(t *testing.T) {
	own := Permanent(ErrTypeWikiExists, "the wiki x already exists")
	if got := Classify(own); got != own {
		t.Fatalf("an ApplicationError of the activity was replaced: %v", got)
	}
	var app *temporal.ApplicationError
	got := Classify(fmt.Errorf("step: %w", own))
	if !errors.As(got, &app) || app.Type() != ErrTypeWikiExists || !app.NonRetryable() {
		t.Fatalf("a wrapped decision was lost: %v", got)
	}
	if Classify(nil) != nil {
		t.Fatal("nil is not a failure")
	}
}

// The interceptor classifies failures and stamps attempts: a transient
// failure is retried and the result says which attempt produced it; a
// Permanent one is not retried and its details say which attempt failed.
func TestInterceptorStampsAttempts(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: WorkerInterceptors()})
	calls := 0
	flaky := func(ctx context.Context, in process.StepInput) (process.StepResult, error) {
		calls++
		return process.StepResult{Summary: "ok"}, nil
	}
	env.RegisterActivity(flaky)
	v, err := env.ExecuteActivity(flaky, process.StepInput{})
	if err != nil {
		t.Fatal(err)
	}
	var res process.StepResult
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	if res.Attempt != 1 || res.Summary != "ok" {
		t.Fatalf("result %+v: want attempt 1 stamped", res)
	}

	refusing := func(ctx context.Context, in process.StepInput) (process.StepResult, error) {
		return process.StepResult{}, &mediawiki.APIError{Code: "permissiondenied", Info: "no"}
	}
	env.RegisterActivity(refusing)
	_, err = env.ExecuteActivity(refusing, process.StepInput{})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !app.NonRetryable() || app.Type() != ErrTypeRefused {
		t.Fatalf("want a Permanent Refused error, got %v", err)
	}
	var d process.AttemptDetails
	if err := app.Details(&d); err != nil || d.Attempt != 1 {
		t.Fatalf("attempt details %+v (%v): want attempt 1", d, err)
	}
}

func TestStampAttemptLeavesDetailsAlone(t *testing.T) {
	withDetails := temporal.NewApplicationError("x", "Mine", "detail")
	if StampAttempt(withDetails, 3) != withDetails {
		t.Fatal("an error with details of its own was rewritten")
	}
	plain := temporal.NewNonRetryableApplicationError("x", "Mine", nil)
	var app *temporal.ApplicationError
	if !errors.As(StampAttempt(plain, 3), &app) || !app.NonRetryable() || app.Type() != "Mine" || app.Message() != "x" {
		t.Fatalf("stamping changed the error: %v", app)
	}
	var d process.AttemptDetails
	if app.Details(&d) != nil || d.Attempt != 3 {
		t.Fatalf("attempt not stamped: %+v", d)
	}
}
