//go:build integration

package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/process"
)

// jsonDocuments decodes every JSON value in out; anything that is not JSON
// fails the test.
func jsonDocuments(t *testing.T, out string) []map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	var docs []map[string]any
	for {
		var v map[string]any
		err := dec.Decode(&v)
		if err == io.EOF {
			return docs
		}
		if err != nil {
			t.Fatalf("stdout is not JSON documents: %v\n%s", err, out)
		}
		docs = append(docs, v)
	}
}

// Bad input on every command of the built CLI: invalid input exits 1,
// usage errors 2; with --json stdout is exactly one JSON document carrying
// the error and the exit code; nothing is started and nothing reaches the
// open process the refused actions name.
func TestStarterRefusesBadInputOnEveryCommand(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	bin := buildBinary(t, "starter")
	env := []string{"WIKIFLOW_TEMPORAL_TASK_QUEUE=" + cli.Config.Temporal.TaskQueue}
	requester := "Refuser" + randomHex(4) // named by every start below; never starts anything
	db := uniqueDB("cliref")              // a valid name nothing exists for
	asker := newUser(t, "Asker")
	st, err := cli.RequestWiki(ctx, client.CreateWikiRequest{
		Wiki: process.WikiSpec{DB: uniqueDB("clireq"), Sitename: "CLI Refusals", Language: "en", Category: "uncategorised"}, Requester: asker,
	}, "a request the CLI sends wrong actions to")
	if err != nil {
		t.Fatal(err)
	}
	open := st.ID
	t.Cleanup(func() { _, _ = cli.Decide(testContext(t, time.Minute), open, process.DecisionCancel, asker, "") })
	waitFor(t, cli, open, time.Minute, process.StateWaitingApproval)
	before, messages := fingerprint(t, open), messageCount(t, open)

	start := func(cmd string, flags ...string) []string { return append([]string{cmd}, flags...) }
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"create-wiki: invalid name", start("create-wiki", "--db", "Bad;Name", "--sitename", "S", "--language", "en", "--requester", requester), 1, "may hold only lowercase letters"},
		{"create-wiki: no suffix", start("create-wiki", "--db", "demo", "--sitename", "S", "--language", "en", "--requester", requester), 1, `must end with "wiki"`},
		{"create-wiki: invalid language", start("create-wiki", "--db", db, "--sitename", "S", "--language", "not a language", "--requester", requester), 1, "not a language code"},
		{"create-wiki: invalid requester", start("create-wiki", "--db", db, "--sitename", "S", "--language", "en", "--requester", "A|B"), 1, "not a valid user name"},
		{"create-wiki: missing flag", start("create-wiki", "--db", db, "--language", "en", "--requester", requester), 2, "missing --sitename"},
		{"delete-wiki: invalid name", start("delete-wiki", "--db", "x;drop", "--requester", requester, "--reason", "r"), 1, "invalid wiki database name"},
		{"delete-wiki: capitals", start("delete-wiki", "--db", "Demowiki", "--requester", requester, "--reason", "r"), 1, "invalid wiki database name"},
		{"delete-wiki: missing flag", start("delete-wiki", "--db", db, "--requester", requester), 2, "missing --reason"},
		{"change-setting: invalid name", start("change-setting", "--db", "x y", "--setting", "wgMaxArticleSize", "--value", "1024", "--requester", requester, "--reason", "r"), 1, "invalid wiki database name"},
		{"change-setting: unknown setting", start("change-setting", "--db", db, "--setting", "wgNoSuchSetting", "--value", "1", "--requester", requester, "--reason", "r"), 1, "wgNoSuchSetting"},
		{"change-setting: wrong type", start("change-setting", "--db", db, "--setting", "wgMaxArticleSize", "--value", `"long"`, "--requester", requester, "--reason", "r"), 1, "wgMaxArticleSize"},
		{"change-setting: not JSON", start("change-setting", "--db", db, "--setting", "wgMaxArticleSize", "--value", "{oops", "--requester", requester, "--reason", "r"), 1, "wgMaxArticleSize"},
		{"change-setting: out of range", start("change-setting", "--db", db, "--setting", "wgMaxArticleSize", "--value", "999999999", "--requester", requester, "--reason", "r"), 1, "wgMaxArticleSize"},
		{"change-setting: unknown flag", start("change-setting", "--db", db, "--setting", "wgMaxArticleSize", "--valeu", "1"), 2, "unknown flag"},
		{"request-wiki: invalid name", start("request-wiki", "--db", "Nope", "--sitename", "S", "--language", "en", "--requester", requester, "--reason", "r"), 1, "may hold only lowercase letters"},
		{"request-wiki: invalid language", start("request-wiki", "--db", db, "--sitename", "S", "--language", "??", "--requester", requester, "--reason", "r"), 1, "not a language code"},
		{"status: invalid ID", start("status", "no-colon"), 1, "invalid process ID"},
		{"status: capitals", start("status", "create-wiki:Demo"), 1, "invalid process ID"},
		{"status: no such process", start("status", "create-wiki:"+db), 1, "no such open process"},
		{"status: missing argument", start("status"), 2, "accepts 1 arg"},
		{"watch: invalid ID", start("watch", "create-wiki:x/../y"), 1, "invalid process ID"},
		{"list: invalid wiki", start("list", "--db", "x' OR 1=1"), 1, "invalid wiki database name"},
		{"list: unknown kind", start("list", "--kind", "merge-wikis"), 1, "unknown kind"},
		{"list: unknown state", start("list", "--state", "asleep"), 1, "unknown state"},
		{"wiki-info: invalid name", start("wiki-info", "--db", "x;drop"), 1, "invalid wiki database name"},
		{"wiki-info: missing flag", start("wiki-info"), 2, "--db is required"},
		{"retry: a request", start("retry", open, "--step", "schema", "--user", asker), 1, `do not take "retry"`},
		{"retry: invalid ID", start("retry", "bad", "--step", "schema", "--user", asker), 1, "invalid process ID"},
		{"abort: a request", start("abort", open, "--user", asker), 1, `do not take "abort"`},
		{"undelete: a request", start("undelete", open, "--user", asker), 1, `do not take "undelete"`},
		{"approve: a creation", start("approve", "create-wiki:"+db, "--user", asker), 1, `create-wiki processes do not take "approve"`},
		{"decline: invalid ID", start("decline", "x", "--user", asker), 1, "invalid process ID"},
		{"cancel: a kind that does not exist", start("cancel", "merge-wikis:"+db, "--user", asker), 1, "no such open process"},
		{"hold: a deletion", start("hold", "delete-wiki:"+db, "--user", asker), 1, `delete-wiki processes do not take "hold"`},
		{"more-details: a setting change", start("more-details", "change-setting:"+db+":wgMaxArticleSize", "--user", asker, "--comment", "c"), 1, `do not take "more-details"`},
		{"edit-request: a creation", start("edit-request", "create-wiki:"+db, "--user", asker, "--sitename", "S"), 1, `do not take "edit-request"`},
		{"approve: missing user", start("approve", open), 2, "missing --user"},
		{"unknown command", start("merge-wikis", "--db", db), 2, "unknown command"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runStarter(t, bin, env, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) || strings.TrimSpace(stdout) != "" {
				t.Fatalf("want exit %d saying %q, got %d\nstdout: %s\nstderr: %s", tc.code, tc.want, code, stdout, stderr)
			}
			// --json first and last: also an error cobra finds before it
			// reaches the flag is one document.
			for _, args := range [][]string{append([]string{"--json"}, tc.args...), append(tc.args[:len(tc.args):len(tc.args)], "--json")} {
				stdout, stderr, code := runStarter(t, bin, env, args...)
				docs := jsonDocuments(t, stdout)
				if len(docs) != 1 {
					t.Fatalf("%v: want exactly one JSON document, got %d:\n%s", args, len(docs), stdout)
				}
				doc := docs[0]
				if code != tc.code || doc["exit_code"] != float64(tc.code) || !strings.Contains(fmt.Sprint(doc["error"]), tc.want) {
					t.Fatalf("%v: want exit %d saying %q, got %d: %s", args, tc.code, tc.want, code, stdout)
				}
				if strings.TrimSpace(stderr) != "" {
					t.Fatalf("%v: --json also wrote to stderr: %s", args, stderr)
				}
			}
		})
	}

	// Nothing was started: no process for the valid name, none by the
	// requester every start named, and the open request untouched.
	for _, id := range []string{"create-wiki:" + db, "delete-wiki:" + db, "request-wiki:" + db,
		"change-setting:" + db + ":wgMaxArticleSize", "change-setting:" + db + ":wgNoSuchSetting"} {
		_, err := deps.Temporal.DescribeWorkflowExecution(ctx, id, "")
		var notFound *serviceerror.NotFound
		if !errors.As(err, &notFound) {
			t.Errorf("%s exists after refused commands: %v", id, err)
		}
	}
	resp, err := deps.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: deps.Config.Temporal.Namespace, Query: fmt.Sprintf("%s = '%s'", process.AttrRequester, requester),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Executions) != 0 {
		t.Errorf("refused commands started %d processes for %s", len(resp.Executions), requester)
	}
	if n := messageCount(t, open); n != messages {
		t.Errorf("refused actions reached %s: %d messages", open, n-messages)
	}
	if after := fingerprint(t, open); after != before {
		t.Errorf("%s changed:\nbefore %s\nafter  %s", open, before, after)
	}
}
