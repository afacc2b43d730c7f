//go:build integration

package integration

import (
	"testing"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/service"
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
