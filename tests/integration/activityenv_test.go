//go:build integration

package integration

import (
	"errors"
	"strings"
	"testing"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/service"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// activityEnv is a test activity environment that runs the activities of
// farm (the worker's Farm) against the real farm, with no workflow.
func activityEnv(farm *activities.Farm) *testsuite.TestActivityEnvironment {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	service.RegisterActivities(env, farm)
	return env
}

// runActivity runs one activity in env and decodes its result: an error
// of the activity is returned, one decoding its result fails the test.
func runActivity[R any](t *testing.T, env *testsuite.TestActivityEnvironment, activity string, in any) (R, error) {
	t.Helper()
	var res R
	val, err := env.ExecuteActivity(activity, in)
	if err != nil {
		return res, err
	}
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res, nil
}

// wantPermanent checks that err is a non-retryable application error of a type.
func wantPermanent(t *testing.T, err error, errType string, mentions ...string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != errType || !appErr.NonRetryable() {
		t.Fatalf("want a non-retryable %s error, got %v", errType, err)
	}
	for _, m := range mentions {
		if !strings.Contains(err.Error(), m) {
			t.Fatalf("the %s error does not mention %q: %v", errType, m, err)
		}
	}
}
