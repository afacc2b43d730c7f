package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// countJSON counts the JSON documents in out, failing on anything else.
func countJSON(t *testing.T, out string) (int, map[string]any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	n := 0
	var last map[string]any
	for {
		var v map[string]any
		err := dec.Decode(&v)
		if err == io.EOF {
			return n, last
		}
		if err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		n++
		last = v
	}
}

// Input that is wrong on its face exits 1, usage errors exit 2, and --json
// gives exactly one document whatever happens. None of these cases needs a
// server: they are refused before anything connects.
func TestExitCodesAndOneJSONDocument(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"status of an invalid ID", []string{"status", "not-an-id"}, 1, "invalid process ID"},
		{"watch of an invalid ID", []string{"watch", "create-wiki:Bad"}, 1, "invalid process ID"},
		{"list of an invalid wiki", []string{"list", "--db", "Bad;wiki"}, 1, "invalid wiki database name"},
		{"list of an unknown kind", []string{"list", "--kind", "merge-wikis"}, 1, "unknown kind"},
		{"list of an unknown state", []string{"list", "--state", "sleeping"}, 1, "unknown state"},
		{"wiki-info of an invalid name", []string{"wiki-info", "--db", "x;drop"}, 1, "invalid wiki database name"},
		{"approve a creation", []string{"approve", "create-wiki:demowiki", "--user", "U"}, 1, "create-wiki processes do not take \"approve\""},
		{"hold a deletion", []string{"hold", "delete-wiki:demowiki", "--user", "U"}, 1, "delete-wiki processes do not take \"hold\""},
		{"undelete a setting", []string{"undelete", "change-setting:demowiki:wgMaxArticleSize", "--user", "U"}, 1, "do not take \"undelete\""},
		{"retry a request", []string{"retry", "request-wiki:newwiki", "--step", "x", "--user", "U"}, 1, "do not take \"retry\""},
		{"edit a creation", []string{"edit-request", "create-wiki:demowiki", "--user", "U"}, 1, "do not take \"edit-request\""},
		{"decide an invalid ID", []string{"decline", "delete-wiki:x/../y", "--user", "U"}, 1, "invalid process ID"},
		{"a kind that does not exist", []string{"cancel", "merge-wikis:demowiki", "--user", "U"}, 1, "no such open process"},
		{"missing flag", []string{"approve", "delete-wiki:demowiki"}, 2, "missing --user"},
		{"missing flags of a start", []string{"delete-wiki", "--db", "demowiki"}, 2, "missing --reason, --requester"},
		{"unknown flag", []string{"status", "--colour", "create-wiki:demowiki"}, 2, "unknown flag"},
		{"unknown command", []string{"merge-wikis"}, 2, "unknown command"},
		{"missing argument", []string{"status"}, 2, "accepts 1 arg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.want) || stdout.Len() != 0 {
				t.Fatalf("want exit %d with %q, got %d: stdout %q stderr %q", tc.code, tc.want, code, stdout.String(), stderr.String())
			}
			// --json last: even an error found before cobra reaches it is JSON.
			stdout.Reset()
			stderr.Reset()
			code := run(append(tc.args, "--json"), &stdout, &stderr)
			n, doc := countJSON(t, stdout.String())
			if code != tc.code || n != 1 || doc["exit_code"] != float64(tc.code) || !strings.Contains(doc["error"].(string), tc.want) {
				t.Fatalf("--json: exit %d, %d documents: %s (stderr %q)", code, n, stdout.String(), stderr.String())
			}
			if stderr.Len() != 0 {
				t.Fatalf("--json wrote to stderr: %q", stderr.String())
			}
		})
	}
}

func TestWantsJSON(t *testing.T) {
	for args, want := range map[string]bool{
		"status x --json": true, "--json status x": true, "--json=false status": false, "--json=true list": true,
		"status x": false, "create-wiki -- --json": false,
	} {
		if got := wantsJSON(strings.Fields(args)); got != want {
			t.Errorf("%s: %v", args, got)
		}
	}
}
