//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/changesetting"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
)

// The farm's extension (farm/extensions/WikiFlow) as people use it: real
// HTTP to MediaWiki, logged in with a session cookie, forms posted with the
// edit token the page carries, Special:Processes talking to the hook
// endpoint TestMain serves.

// farmAddr is where the stack's PHP server listens.
func farmAddr() string { return deps.Config.MediaWiki.DialAddress }

// visitor is one person's browser on one wiki: its own cookies, every
// connection dialled to the PHP server whatever the wiki's host name.
type visitor struct {
	t    *testing.T
	base string // http://<db>.localhost:<port>
	http *http.Client
}

func newVisitor(t *testing.T, addr, db string) *visitor {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	jar, _ := cookiejar.New(nil)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &visitor{t: t, base: "http://" + db + ".localhost:" + port, http: &http.Client{Jar: jar, Transport: tr, Timeout: 90 * time.Second}}
}

// login signs in through the Action API; the session cookie then works for index.php.
func (v *visitor) login(user, password string) *visitor {
	v.t.Helper()
	var tokens struct {
		Query struct {
			Tokens struct {
				LoginToken string `json:"logintoken"`
			} `json:"tokens"`
		} `json:"query"`
	}
	v.apiJSON(url.Values{"action": {"query"}, "meta": {"tokens"}, "type": {"login"}}, &tokens)
	var answer struct {
		Login struct {
			Result string `json:"result"`
			Reason string `json:"reason"`
		} `json:"login"`
	}
	v.apiJSON(url.Values{"action": {"login"}, "lgname": {user}, "lgpassword": {password}, "lgtoken": {tokens.Query.Tokens.LoginToken}}, &answer)
	if answer.Login.Result != "Success" {
		v.t.Fatalf("login of %s on %s: %s %s", user, v.base, answer.Login.Result, answer.Login.Reason)
	}
	return v
}

// csrfToken is the edit token of the visitor's session, from the Action API.
func (v *visitor) csrfToken() string {
	v.t.Helper()
	var tokens struct {
		Query struct {
			Tokens struct {
				CSRF string `json:"csrftoken"`
			} `json:"tokens"`
		} `json:"query"`
	}
	v.apiJSON(url.Values{"action": {"query"}, "meta": {"tokens"}}, &tokens)
	return tokens.Query.Tokens.CSRF
}

func (v *visitor) apiJSON(params url.Values, out any) {
	v.t.Helper()
	params.Set("format", "json")
	code, body := v.do(http.MethodPost, "/api.php", params)
	if code != http.StatusOK || json.Unmarshal([]byte(body), out) != nil {
		v.t.Fatalf("api.php %s: HTTP %d %.300s", params.Get("action"), code, body)
	}
}

// page opens a page of index.php; post sends a form to it and follows the
// redirect a successful POST answers with, as a browser does.
func (v *visitor) page(title string) (int, string) {
	return v.do(http.MethodGet, "/index.php?title="+url.QueryEscape(title), nil)
}

func (v *visitor) post(title string, form url.Values) (int, string) {
	return v.do(http.MethodPost, "/index.php?title="+url.QueryEscape(title), form)
}

func (v *visitor) do(method, path string, form url.Values) (int, string) {
	v.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, v.base+path, body)
	if err != nil {
		v.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := v.http.Do(req)
	if err != nil {
		v.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// withPassword gives a farm account (made by newUser or bureaucrat) a known password.
func withPassword(t *testing.T, user string) string {
	t.Helper()
	pw := "pw-" + randomHex(12)
	if _, err := deps.Scripts.Run(testContext(t, time.Minute), "metawiki", "changePassword", "--user="+user, "--password="+pw); err != nil {
		t.Fatal(err)
	}
	return pw
}

var (
	reForm     = regexp.MustCompile(`(?s)<form\b.*?</form>`)
	reControl  = regexp.MustCompile(`(?s)<input\b[^>]*>|<select\b.*?</select>|<textarea\b[^>]*>.*?</textarea>|<button\b[^>]*>`)
	reAttr     = regexp.MustCompile(`([a-zA-Z-]+)=(?:'([^']*)'|"([^"]*)")`)
	reOption   = regexp.MustCompile(`<option\b[^>]*>`)
	reTextarea = regexp.MustCompile(`(?s)<textarea\b[^>]*>(.*?)</textarea>`)
	reErrorBox = regexp.MustCompile(`(?s)<div class="mw-message-box-error[^"]*">(.*?)</div>`)
)

func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range reAttr.FindAllStringSubmatch(tag, -1) {
		m[a[1]] = html.UnescapeString(a[2] + a[3])
	}
	return m
}

// formFields finds the form with this wpFormIdentifier and returns what a
// browser would send from it unchanged (hidden fields and the edit token
// included), and the values of its buttons named wfaction. ok is false
// when the page has no such form.
func formFields(page, identifier string) (fields url.Values, actions []string, ok bool) {
	for _, form := range reForm.FindAllString(page, -1) {
		fields = url.Values{}
		actions = nil
		for _, c := range reControl.FindAllString(form, -1) {
			a := attrs(c[:strings.Index(c, ">")+1])
			name := a["name"]
			switch {
			case name == "":
			case strings.HasPrefix(c, "<button"):
				if name == "wfaction" {
					actions = append(actions, a["value"])
				}
			case strings.HasPrefix(c, "<select"):
				options := reOption.FindAllString(c, -1)
				for i, o := range options {
					oa := attrs(o)
					if _, sel := oa["selected"]; sel || (i == 0 && !strings.Contains(c, "selected")) {
						fields.Add(name, oa["value"])
					}
				}
			case strings.HasPrefix(c, "<textarea"):
				fields.Add(name, html.UnescapeString(reTextarea.FindStringSubmatch(c)[1]))
			case a["type"] == "checkbox" || a["type"] == "radio":
				if _, checked := a["checked"]; checked {
					fields.Add(name, a["value"])
				}
			case a["type"] != "submit":
				fields.Add(name, a["value"])
			}
		}
		if fields.Get("wpFormIdentifier") == identifier {
			return fields, actions, true
		}
	}
	return nil, nil, false
}

// errorBoxes are the texts of the page's error boxes.
func errorBoxes(page string) []string {
	var out []string
	for _, m := range reErrorBox.FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(m[1], "")))
	}
	return out
}

// recorded waits until the process recorded user's decision (or action)
// and returns whether it was accepted: the page sends it and shows the
// record when it comes within a few seconds, else says it is not decided yet.
func recorded(t *testing.T, id, user, action string) (accepted bool, reason string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		st, err := cli.Status(testContext(t, time.Minute), id)
		if err != nil {
			continue
		}
		for _, a := range st.Approvals {
			if a.User == user && string(a.Decision) == action {
				return a.Accepted, a.Reason
			}
		}
		for _, a := range st.Actions {
			if a.User == user && a.Action == action {
				return a.Accepted, a.Reason
			}
		}
	}
	t.Fatalf("%s never recorded %s's %s", id, user, action)
	return false, ""
}

// wantSent checks the page answering an action: sent, and accepted or not yet decided.
func wantSent(t *testing.T, code int, page, label string) {
	t.Helper()
	if code != http.StatusOK || !strings.Contains(page, "&quot;"+label+"&quot; was sent") && !strings.Contains(page, `"`+label+`" was sent`) {
		t.Fatalf("after %s: HTTP %d, errors %q", label, code, errorBoxes(page))
	}
	if strings.Contains(page, "refused it") {
		t.Fatalf("%s was refused: %q", label, errorBoxes(page))
	}
}

func wantErrorBox(t *testing.T, page, saying string) {
	t.Helper()
	for _, e := range errorBoxes(page) {
		if strings.Contains(e, saying) {
			return
		}
	}
	t.Fatalf("want an error box saying %q, got %q", saying, errorBoxes(page))
}

// A bureaucrat starts a deletion from Special:Processes, a second one
// approves it there, the requester withdraws it there; a plain user is
// offered nothing, and posts without the edit token change nothing.
func TestHookPageDeletionThroughTheWiki(t *testing.T) {
	db, _ := liveWiki(t, "page")
	b1, b2 := bureaucrat(t, db), bureaucrat(t, db)
	plain := newUser(t, "Plain")
	requester := newVisitor(t, farmAddr(), db).login(b1, withPassword(t, b1))
	id := deletewiki.DeleteWikiID(db)

	code, list := requester.page("Special:Processes")
	form, _, ok := formFields(list, "wikiflow-delete")
	if code != http.StatusOK || !ok || form.Get("wpEditToken") == "" {
		t.Fatalf("a bureaucrat's Special:Processes: HTTP %d, deletion form %v, errors %q", code, ok, errorBoxes(list))
	}
	if !strings.Contains(list, "create-wiki:"+db) {
		t.Fatal("the list does not show the wiki's creation")
	}

	t.Run("a POST without the right edit token changes nothing", func(t *testing.T) {
		for _, token := range []string{"", "0123456789abcdef+\\"} {
			bad := url.Values{}
			for k, v := range form {
				bad[k] = v
			}
			bad.Set("wpreason", "no token")
			if token == "" {
				bad.Del("wpEditToken")
			} else {
				bad.Set("wpEditToken", token)
			}
			code, page := requester.post("Special:Processes", bad)
			if code != http.StatusOK {
				t.Fatalf("HTTP %d", code)
			}
			wantErrorBox(t, page, "session token was missing or wrong")
		}
		if _, err := cli.Status(testContext(t, time.Minute), id); !errors.Is(err, client.ErrNoProcess) {
			t.Fatalf("a process exists after POSTs without a valid token: %v", err)
		}
	})

	// Started through the form: the page redirects to the new process.
	form.Set("wpreason", "merged into another wiki")
	code, page := requester.post("Special:Processes", form)
	if code != http.StatusOK || !strings.Contains(page, "Started") || !strings.Contains(page, "wikiflow-state-waiting-approval") {
		t.Fatalf("after starting the deletion: HTTP %d, errors %q", code, errorBoxes(page))
	}
	st := waitFor(t, cli, id, time.Minute, process.StateWaitingApproval)
	if st.Requester != b1 || st.Result["reason"] != "merged into another wiki" || st.Result["quorum"] != "2" {
		t.Fatalf("the deletion started from the page: requester %q, result %v", st.Requester, st.Result)
	}

	t.Run("a plain user is offered nothing", func(t *testing.T) {
		v := newVisitor(t, farmAddr(), db).login(plain, withPassword(t, plain))
		code, page := v.page("Special:Processes/" + id)
		if _, actions, _ := formFields(page, "wikiflow-action:"+id); code != http.StatusOK || len(actions) > 0 {
			t.Fatalf("a plain user's view of the deletion: HTTP %d, buttons %v", code, actions)
		}
		if !strings.Contains(page, "wikiflow-state-waiting-approval") {
			t.Fatal("a plain user does not see the process's state")
		}
		_, page = v.page("Special:Processes")
		for _, f := range []string{"wikiflow-delete", "wikiflow-settings"} {
			if _, _, ok := formFields(page, f); ok {
				t.Fatalf("a plain user is offered the form %s", f)
			}
		}
	})

	t.Run("the requester may withdraw but not approve", func(t *testing.T) {
		_, page := requester.page("Special:Processes/" + id)
		_, actions, _ := formFields(page, "wikiflow-action:"+id)
		if strings.Join(actions, ",") != "cancel" {
			t.Fatalf("the requester's buttons: %v", actions)
		}
	})

	// The second bureaucrat approves through the page.
	approver := newVisitor(t, farmAddr(), db).login(b2, withPassword(t, b2))
	_, page = approver.page("Special:Processes/" + id)
	fields, actions, ok := formFields(page, "wikiflow-action:"+id)
	if !ok || strings.Join(actions, ",") != "approve,decline" {
		t.Fatalf("a bureaucrat's buttons on the deletion: %v (form %v)", actions, ok)
	}
	fields.Set("wpcomment", "agreed <b>by me</b>")
	fields.Set("wfaction", string(process.DecisionApprove))
	code, page = approver.post("Special:Processes/"+id, fields)
	wantSent(t, code, page, "Approve")
	if accepted, why := recorded(t, id, b2, string(process.DecisionApprove)); !accepted {
		t.Fatalf("the process refused the approval: %s", why)
	}
	st, _ = cli.Status(testContext(t, time.Minute), id)
	if a := lastApproval(st); a.User != b2 || a.Comment != "agreed <b>by me</b>" || st.State != process.StateWaitingApproval {
		t.Fatalf("after one approval of two: %s, %+v", st.State, a)
	}
	_, page = approver.page("Special:Processes/" + id)
	if !strings.Contains(page, "agreed &lt;b>by me&lt;/b>") && !strings.Contains(page, "agreed &lt;b&gt;by me&lt;/b&gt;") {
		t.Fatal("the comment is not shown escaped in the status")
	}
	if _, actions, _ := formFields(page, "wikiflow-action:"+id); strings.Join(actions, ",") != "decline" {
		t.Fatalf("after approving, the approver should only be offered decline, got %v", actions)
	}

	// The requester withdraws it: the wiki stays.
	_, page = requester.page("Special:Processes/" + id)
	fields, _, _ = formFields(page, "wikiflow-action:"+id)
	fields.Set("wfaction", string(process.DecisionCancel))
	code, page = requester.post("Special:Processes/"+id, fields)
	wantSent(t, code, page, "Cancel the request")
	waitFor(t, cli, id, time.Minute, process.StateCancelled)
	if w, _ := deps.Central.Wiki(testContext(t, time.Minute), db); w.Closed || w.Deleted {
		t.Fatalf("a withdrawn deletion closed the wiki: %+v", w)
	}
}

// A setting changed through the form is applied by its process.
func TestHookPageSettingChange(t *testing.T) {
	db, owner := liveWiki(t, "pageset")
	v := newVisitor(t, farmAddr(), db).login(owner, withPassword(t, owner))
	_, page := v.page("Special:Processes")
	fields, _, ok := formFields(page, "wikiflow-settings")
	if !ok {
		t.Fatalf("the wiki's first bureaucrat has no setting form (errors %q)", errorBoxes(page))
	}
	if !strings.Contains(page, "(restricted: needs a steward)") {
		t.Fatal("restricted settings are not marked")
	}
	// Flip one checkbox, as a person would.
	want := "true"
	if fields.Has("wpsetting-wgInterwikiMagic") {
		fields.Del("wpsetting-wgInterwikiMagic")
		want = "false"
	} else {
		fields.Set("wpsetting-wgInterwikiMagic", "1")
	}
	fields.Set("wpreason", "from the page")
	code, page := v.post("Special:Processes", fields)
	id := changesetting.ChangeSettingID(db, "wgInterwikiMagic")
	if code != http.StatusOK || !strings.Contains(page, id) {
		t.Fatalf("after the setting form: HTTP %d, errors %q", code, errorBoxes(page))
	}
	waitFor(t, cli, id, time.Minute, process.StateCompleted)
	values, err := deps.Central.ReadSettings(testContext(t, time.Minute), db)
	if err != nil || string(values["wgInterwikiMagic"]) != want {
		t.Fatalf("s_settings after the change: %s %v", values, err)
	}
	// Only the changed setting started a process.
	if _, err := cli.Status(testContext(t, time.Minute), changesetting.ChangeSettingID(db, "wgDefaultSkin")); !errors.Is(err, client.ErrNoProcess) {
		t.Fatalf("an unchanged setting started a process: %v", err)
	}
}

// On the central wiki a user files a wiki request through the form; a wiki
// creator is offered the review buttons in the list and puts it on hold;
// the requester is offered only the withdrawal.
func TestHookPageWikiRequestOnTheCentralWiki(t *testing.T) {
	asker := newUser(t, "Asker")
	creator := newUser(t, "Creator", "wikicreator")
	db := uniqueDB("pagereq")
	id := requestwiki.RequestWikiID(db)
	requester := newVisitor(t, farmAddr(), "metawiki").login(asker, withPassword(t, asker))
	_, page := requester.page("Special:Processes")
	fields, _, ok := formFields(page, "wikiflow-request")
	if !ok {
		t.Fatalf("a logged-in user on the central wiki has no request form (errors %q)", errorBoxes(page))
	}
	fields.Set("wpdbname", db)
	fields.Set("wpsitename", "Requested From The Page")
	fields.Set("wpreason", "a wiki about testing the page")
	code, page := requester.post("Special:Processes", fields)
	if code != http.StatusOK || !strings.Contains(page, "wikiflow-state-waiting-approval") {
		t.Fatalf("after the request form: HTTP %d, errors %q", code, errorBoxes(page))
	}
	st := waitFor(t, cli, id, time.Minute, process.StateWaitingApproval)
	if st.Requester != asker {
		t.Fatalf("requester %q", st.Requester)
	}
	if _, actions, _ := formFields(page, "wikiflow-action:"+id); strings.Join(actions, ",") != "cancel" {
		t.Fatalf("the requester's buttons: %v", actions)
	}

	reviewer := newVisitor(t, farmAddr(), "metawiki").login(creator, withPassword(t, creator))
	_, list := reviewer.page("Special:Processes")
	fields, actions, ok := formFields(list, "wikiflow-action:"+id)
	if !ok || strings.Join(actions, ",") != "approve,decline,hold,more-details" {
		t.Fatalf("a wiki creator's review buttons in the list: %v", actions)
	}
	fields.Set("wfaction", requestwiki.ReviewHold)
	fields.Set("wpcomment", "waiting for the category")
	code, page = reviewer.post("Special:Processes", fields)
	wantSent(t, code, page, "Put on hold")
	if accepted, why := recorded(t, id, creator, requestwiki.ReviewHold); !accepted {
		t.Fatalf("the process refused the hold: %s", why)
	}
	if r, _ := deps.Central.GetRequest(testContext(t, time.Minute), requestID(t, st)); r.Status != "onhold" {
		t.Fatalf("cw_requests after the hold: %q", r.Status)
	}

	_, page = requester.page("Special:Processes/" + id)
	fields, _, _ = formFields(page, "wikiflow-action:"+id)
	fields.Set("wfaction", string(process.DecisionCancel))
	requester.post("Special:Processes/"+id, fields)
	waitFor(t, cli, id, time.Minute, process.StateCancelled)
}

// startFarmPHP runs a second PHP server for the farm whose wikis call the
// hook endpoint at hookURL (with secret, when given): what a wiki shows
// when WikiFlow does not answer or does not accept it.
func startFarmPHP(t *testing.T, hookURL, secret string) string {
	t.Helper()
	addr := freeAddress(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("php", "-S", addr, "-t", deps.Config.MediaWiki.InstallPath)
	cmd.Env = append(os.Environ(), "MW_CONFIG_FILE="+filepath.Join(repoRoot, "farm/mediawiki/LocalSettings.php"),
		"WIKIFLOW_STATE_DIR="+stateDir(), "WIKIFLOW_MW_PORT="+port, "WIKIFLOW_HOOK_URL="+hookURL, "WIKIFLOW_HOOK_SECRET="+secret)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("php -S %s did not start", addr)
		}
	}
}

// With the endpoint down, or refusing the wiki's signature, the page says so
// and offers no form; a POST sent anyway starts nothing.
func TestHookPageSaysWhenTheEndpointFails(t *testing.T) {
	db, owner := liveWiki(t, "pagedown")
	password := withPassword(t, owner)
	id := deletewiki.DeleteWikiID(db)
	for _, tc := range []struct{ name, hookURL, secret, saying string }{
		{"unreachable", "http://" + freeAddress(t), "", "cannot be reached"},
		{"wrong secret", "http://" + deps.Config.Hook.Address, "not-the-farm-secret-" + randomHex(8), "did not accept this wiki's signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVisitor(t, startFarmPHP(t, tc.hookURL, tc.secret), db).login(owner, password)
			for _, title := range []string{"Special:Processes", "Special:Processes/" + id} {
				code, page := v.page(title)
				if code != http.StatusOK {
					t.Fatalf("%s: HTTP %d", title, code)
				}
				wantErrorBox(t, page, tc.saying)
				if strings.Contains(page, "wpEditToken") || strings.Contains(page, "wfaction") {
					t.Fatalf("%s offers a form while the endpoint fails", title)
				}
			}
			// A deletion form posted anyway, with a valid token: an error, no process.
			_, page := v.post("Special:Processes", url.Values{"wpFormIdentifier": {"wikiflow-delete"},
				"wpEditToken": {v.csrfToken()}, "wpreason": {"should not start"}})
			wantErrorBox(t, page, tc.saying)
			if _, err := cli.Status(testContext(t, time.Minute), id); !errors.Is(err, client.ErrNoProcess) {
				t.Fatalf("a deletion started while the endpoint failed: %v", err)
			}
		})
	}
}

// The approval that completes a deletion closes the wiki, which answers 410
// from then on: the approver's page still shows the outcome and points to
// the central wiki, where the approver undeletes it.
func TestHookPageApprovalThatClosesTheWiki(t *testing.T) {
	db, owner := liveWiki(t, "pageclose")
	crat := bureaucrat(t, db) // the requester; the owner is the only other approver
	id := deletewiki.DeleteWikiID(db)
	requester := newVisitor(t, farmAddr(), db).login(crat, withPassword(t, crat))
	_, page := requester.page("Special:Processes")
	fields, _, _ := formFields(page, "wikiflow-delete")
	fields.Set("wpreason", "closing test")
	requester.post("Special:Processes", fields)
	if st := waitFor(t, cli, id, time.Minute, process.StateWaitingApproval); st.Result["quorum"] != "1" {
		t.Fatalf("quorum %q", st.Result["quorum"])
	}

	ownerPassword := withPassword(t, owner)
	approver := newVisitor(t, farmAddr(), db).login(owner, ownerPassword)
	_, page = approver.page("Special:Processes/" + id)
	fields, _, _ = formFields(page, "wikiflow-action:"+id)
	fields.Set("wfaction", string(process.DecisionApprove))
	code, page := approver.post("Special:Processes/"+id, fields)
	if code != http.StatusOK || !strings.Contains(page, "the process accepted it") || !strings.Contains(page, "is now closed") ||
		!strings.Contains(page, "//metawiki.localhost:") {
		t.Fatalf("the closing approval's answer: HTTP %d, errors %q", code, errorBoxes(page))
	}
	waitFor(t, cli, id, time.Minute, process.StateGracePeriod)
	if code, _ := approver.page("Special:Processes"); code != http.StatusGone {
		t.Fatalf("the closed wiki answers HTTP %d", code)
	}

	central := newVisitor(t, farmAddr(), "metawiki").login(owner, ownerPassword)
	_, page = central.page("Special:Processes/" + id)
	fields, actions, _ := formFields(page, "wikiflow-action:"+id)
	if strings.Join(actions, ",") != "undelete" {
		t.Fatalf("the approver's buttons on the central wiki during the grace period: %v", actions)
	}
	fields.Set("wfaction", process.SignalUndelete)
	code, page = central.post("Special:Processes/"+id, fields)
	wantSent(t, code, page, "Undelete")
	waitFor(t, cli, id, time.Minute, process.StateCancelled)
	if code, _ := approver.page("Special:Processes"); code != http.StatusOK {
		t.Fatalf("the undeleted wiki answers HTTP %d", code)
	}
}
