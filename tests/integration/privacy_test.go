//go:build integration

package integration

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/hook"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
)

// read is a signed GET of the hook endpoint at base (the shared one when
// empty) for viewer.
func read(t *testing.T, base, path, viewer string) (int, map[string]any) {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	path += sep + "viewer=" + url.QueryEscape(viewer) + "&nonce=" + randomHex(8)
	call := signedCall("GET", path, nil)
	call.base = base
	return call.do(t)
}

// listed tells whether the hook's list for viewer holds id.
func listed(t *testing.T, base, query, viewer, id string) bool {
	t.Helper()
	code, out := read(t, base, "/v1/processes?"+query, viewer)
	if code != 200 {
		t.Fatalf("list %s for %q: %d %v", query, viewer, code, out)
	}
	items, _ := out["processes"].([]any)
	for _, it := range items {
		if m, _ := it.(map[string]any); m["id"] == id {
			return true
		}
	}
	return false
}

// shown tells whether the hook's status of id answers viewer; a hidden
// process answers exactly as one that does not exist.
func shown(t *testing.T, base, id, viewer string) bool {
	t.Helper()
	code, out := read(t, base, "/v1/processes/"+id, viewer)
	switch {
	case code == 200 && out["id"] == id:
		return true
	case code == 404 && errorCode(out) == "unknown_process":
		want := fmt.Sprintf("%v: %s", client.ErrNoProcess, id)
		if msg, _ := out["error"].(map[string]any)["message"].(string); msg != want {
			t.Fatalf("a hidden process's 404 says %q, a missing one's says %q", msg, want)
		}
		return false
	}
	t.Fatalf("status of %s for %q: %d %v", id, viewer, code, out)
	return false
}

// A private wiki's processes, and a request for a private wiki, are hidden
// from logged-out readers and from users who may not read the wiki, in the
// hook's list and status and on the central wiki's Special:Processes; they
// are shown to the requester, to the wiki's members and (requests) to wiki
// creators. A public one stays visible to everyone.
func TestPrivacyHidesPrivateWikisProcesses(t *testing.T) {
	ctx := testContext(t, 5*time.Minute)
	owner, member, plain := newUser(t, "Owner"), newUser(t, "Member"), newUser(t, "Plain")
	creator, asker := newUser(t, "Creator", "wikicreator"), newUser(t, "Asker")

	// A private wiki. Until the worker reads private wikis with its own
	// account, the steps that check the new wiki over its API may fail and
	// leave the creation waiting for attention: it exists all the same.
	db := uniqueDB("secret")
	createID, err := cli.CreateWiki(ctx, client.CreateWikiRequest{
		Wiki: process.WikiSpec{DB: db, Sitename: "Secret " + db, Language: "en", Private: true}, Requester: owner,
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, createID, 3*time.Minute, process.StateCompleted, process.StateNeedsAttention)
	if w, err := deps.Central.Wiki(ctx, db); err != nil || !w.Private {
		t.Fatalf("%s is not registered private: %+v %v", db, w, err)
	}
	if _, err := deps.Scripts.Run(ctx, db, "createAndPromote", "--force", "--custom-groups=member", member); err != nil {
		t.Fatal(err)
	}
	// A process with a reason on it. Its requester check may wait on the
	// private wiki's API; only the process and its reason matter here.
	reason := "secret reason " + randomHex(6)
	deleteID := deletewiki.DeleteWikiID(db)
	startCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, _ = cli.DeleteWiki(startCtx, db, owner, reason)
	cancel()
	t.Cleanup(func() { _ = deps.Temporal.TerminateWorkflow(testContext(t, time.Minute), deleteID, "", "test over") })
	if st, err := cli.Status(ctx, deleteID); err != nil && st.ID == "" || st.Result["reason"] != reason {
		t.Fatalf("the deletion with a reason: %+v %v", st, err)
	}

	// A request for a private wiki, and a public one beside it.
	secretReq, publicReq := uniqueDB("secretreq"), uniqueDB("publicreq")
	var requestIDs []string
	for _, w := range []process.WikiSpec{
		{DB: secretReq, Sitename: "Hidden Sitename " + secretReq, Language: "en", Category: "uncategorised", Private: true},
		{DB: publicReq, Sitename: "Open " + publicReq, Language: "en", Category: "uncategorised"},
	} {
		st, err := cli.RequestWiki(ctx, client.CreateWikiRequest{Wiki: w, Requester: asker}, "requested: "+w.Sitename)
		if err != nil {
			t.Fatal(err)
		}
		id := st.ID
		requestIDs = append(requestIDs, id)
		t.Cleanup(func() { _, _ = cli.Decide(testContext(t, time.Minute), id, process.DecisionCancel, asker, "") })
		waitFor(t, cli, id, time.Minute, process.StateWaitingApproval)
	}
	secretReqID, publicReqID := requestIDs[0], requestIDs[1]

	// Whether the worker's own account can ask the private wiki about its
	// members; when it cannot, members are refused too (fail closed).
	_, askErr := deps.API.User(ctx, db, member)
	workerReads := askErr == nil
	if !workerReads {
		t.Logf("the worker cannot read %s (%v): its members are not shown its processes either", db, askErr)
	}

	byViewer := []struct {
		who     string
		viewer  string
		private bool // sees the private wiki's processes
		request bool // sees the private request
	}{
		{"a logged-out reader", "", false, false},
		{"a user without read", plain, false, false},
		{"a user who does not exist", "Nobody" + randomHex(4), false, false},
		{"the requester", owner, true, false},
		{"a member", member, workerReads, false},
		{"a wiki creator", creator, false, true},
		{"the request's requester", asker, false, true},
	}
	for _, v := range byViewer {
		for _, id := range []string{createID, deleteID} {
			if got := listed(t, "", "wiki="+db, v.viewer, id); got != v.private {
				t.Errorf("%s: %s in the list: %v, want %v", v.who, id, got, v.private)
			}
			if got := shown(t, "", id, v.viewer); got != v.private {
				t.Errorf("%s: status of %s: %v, want %v", v.who, id, got, v.private)
			}
		}
		if got := listed(t, "", "kind=request-wiki", v.viewer, secretReqID); got != v.request {
			t.Errorf("%s: the private request in the list: %v, want %v", v.who, got, v.request)
		}
		if got := shown(t, "", secretReqID, v.viewer); got != v.request {
			t.Errorf("%s: status of the private request: %v, want %v", v.who, got, v.request)
		}
		if !listed(t, "", "kind=request-wiki", v.viewer, publicReqID) || !shown(t, "", publicReqID, v.viewer) {
			t.Errorf("%s: the public request is hidden", v.who)
		}
	}

	// The same rule with an account that may read the wiki (the member's
	// own session stands for the worker's service account): its members see
	// it, others still do not.
	pw := withPassword(t, member)
	session := deps.API.Session()
	if err := session.Login(ctx, db, member, pw); err != nil {
		t.Fatalf("login of %s on %s: %v", member, db, err)
	}
	reg, err := cli.Settings()
	if err != nil {
		t.Fatal(err)
	}
	readers := deps.Readers()
	readers.API = session
	srv := httptest.NewServer((&hook.Server{Client: cli, Secret: hookSecret(), Settings: reg, Readers: readers}).Handler())
	defer srv.Close()
	for _, v := range []struct {
		viewer string
		want   bool
	}{{member, true}, {owner, true}, {plain, false}, {"", false}} {
		if got := shown(t, srv.URL, deleteID, v.viewer); got != v.want {
			t.Errorf("with a reading account, %q sees %s: %v, want %v", v.viewer, deleteID, got, v.want)
		}
		if got := listed(t, srv.URL, "wiki="+db, v.viewer, createID); got != v.want {
			t.Errorf("with a reading account, %q has %s listed: %v, want %v", v.viewer, createID, got, v.want)
		}
	}

	// Special:Processes on the central wiki, logged out: no trace of the
	// private request, the private wiki's processes or the reason.
	anon := newVisitor(t, farmAddr(), "metawiki")
	code, page := anon.page("Special:Processes")
	if code != http.StatusOK || !strings.Contains(page, publicReqID) {
		t.Fatalf("the central list: HTTP %d, errors %q", code, errorBoxes(page))
	}
	for _, secret := range []string{secretReq, "Hidden Sitename", db, reason} {
		if strings.Contains(page, secret) {
			t.Errorf("the central list shows %q to a logged-out reader", secret)
		}
	}
	code, page = anon.do(http.MethodGet, "/index.php?title=Special:Processes&wiki="+db, nil)
	if code != http.StatusOK || strings.Contains(page, createID) || strings.Contains(page, deleteID) || strings.Contains(page, reason) {
		t.Errorf("the private wiki's list on the central wiki, logged out: HTTP %d, shows its processes: %v", code,
			strings.Contains(page, deleteID))
	}
	for _, id := range []string{deleteID, secretReqID} {
		_, page = anon.page("Special:Processes/" + id)
		wantErrorBox(t, page, "no such open process")
		if strings.Contains(page, reason) || strings.Contains(page, "Hidden Sitename") || strings.Contains(page, "wikiflow-steps") {
			t.Errorf("Special:Processes/%s shows the process to a logged-out reader", id)
		}
	}
	// Logged in: the requester sees the reason; a plain user does not; a
	// member does when the worker can ask the wiki.
	for _, v := range []struct {
		user string
		want bool
	}{{owner, true}, {plain, false}, {member, workerReads}} {
		visitor := newVisitor(t, farmAddr(), "metawiki").login(v.user, withPassword(t, v.user))
		_, page := visitor.page("Special:Processes/" + deleteID)
		if got := strings.Contains(page, reason); got != v.want {
			t.Errorf("%s sees the reason on the central wiki: %v, want %v (errors %q)", v.user, got, v.want, errorBoxes(page))
		}
	}
}
