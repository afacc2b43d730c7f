//go:build integration

package integration

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
)

// Special:Log tells the story: a request, two approvals, the creation, a
// setting change, a deletion undeleted and a deletion carried out, each
// logged once, in order, under the person who acted with what they said,
// read back over the wikis' own API (list=logevents), in recent changes and
// on Special:Log/farmer.

type logEvent struct {
	LogID     int64          `json:"logid"`
	Title     string         `json:"title"`
	Type      string         `json:"type"`
	Action    string         `json:"action"`
	User      string         `json:"user"`
	Comment   string         `json:"comment"`
	Timestamp string         `json:"timestamp"`
	Params    map[string]any `json:"params"`
}

// logEvents are the entries on page title in wiki's log, oldest first.
func logEvents(t *testing.T, wiki, title string) []logEvent {
	t.Helper()
	var out struct {
		Query struct {
			LogEvents []logEvent `json:"logevents"`
		} `json:"query"`
	}
	err := deps.API.Get(testContext(t, time.Minute), wiki, url.Values{
		"action": {"query"}, "list": {"logevents"}, "letitle": {title}, "ledir": {"newer"}, "lelimit": {"500"},
		"leprop": {"ids|title|type|user|timestamp|comment|details"},
	}, &out)
	if err != nil {
		t.Fatalf("list=logevents on %s for %s: %v", wiki, title, err)
	}
	return out.Query.LogEvents
}

// inRecentChanges counts the recent-changes rows of each log id on page title.
func inRecentChanges(t *testing.T, wiki, title string) map[int64]int {
	t.Helper()
	var out struct {
		Query struct {
			RecentChanges []struct {
				LogID int64 `json:"logid"`
			} `json:"recentchanges"`
		} `json:"query"`
	}
	err := deps.API.Get(testContext(t, time.Minute), wiki, url.Values{
		"action": {"query"}, "list": {"recentchanges"}, "rctype": {"log"}, "rctitle": {title},
		"rcprop": {"loginfo"}, "rclimit": {"500"},
	}, &out)
	if err != nil {
		t.Fatalf("list=recentchanges on %s: %v", wiki, err)
	}
	n := map[int64]int{}
	for _, rc := range out.Query.RecentChanges {
		n[rc.LogID]++
	}
	return n
}

type wantEntry struct {
	typ, action, user, comment string
	params                     map[string]string
}

// wantLog checks the entries on page title, in order, and that each was
// published to recent changes once.
func wantLog(t *testing.T, wiki, title string, want ...wantEntry) []logEvent {
	t.Helper()
	got := logEvents(t, wiki, title)
	var lines []string
	for _, e := range got {
		lines = append(lines, fmt.Sprintf("%s/%s by %s (%q) %v", e.Type, e.Action, e.User, e.Comment, e.Params))
	}
	if len(got) != len(want) {
		t.Fatalf("%s on %s: %d entries, want %d:\n%s", title, wiki, len(got), len(want), strings.Join(lines, "\n"))
	}
	rc := inRecentChanges(t, wiki, title)
	for i, w := range want {
		e := got[i]
		if e.Type != w.typ || e.Action != w.action || e.User != w.user || e.Comment != w.comment {
			t.Errorf("%s on %s, entry %d: got %s, want %s/%s by %s (%q)", title, wiki, i, lines[i], w.typ, w.action, w.user, w.comment)
		}
		for k, v := range w.params {
			if fmt.Sprint(e.Params[k]) != v {
				t.Errorf("%s on %s, entry %d: param %s = %v, want %q", title, wiki, i, k, e.Params[k], v)
			}
		}
		if rc[e.LogID] != 1 {
			t.Errorf("%s on %s: log entry %d is %d times in recent changes, want once", title, wiki, e.LogID, rc[e.LogID])
		}
	}
	return got
}

func TestFarmLogTellsTheStory(t *testing.T) {
	ctx := testContext(t, 5*time.Minute)
	requester := newUser(t, "Teller")
	c1, c2 := newUser(t, "Creator", "wikicreator"), newUser(t, "Creator", "wikicreator")
	db := uniqueDB("log")
	// People are named by any spelling MediaWiki takes; the log records the canonical name.
	lower := func(name string) string { return strings.ToLower(name[:1]) + name[1:] }

	// Request, two approvals, creation.
	st := waitingRequest(t, ctx, process.WikiSpec{DB: db, Sitename: "Logged Wiki", Language: "en"}, lower(requester), "a wiki about logs")
	reqProcess := st.ID
	num := fmt.Sprintf("#%d", requestID(t, st))
	if _, err := cli.Decide(ctx, reqProcess, process.DecisionApprove, lower(c1), "looks good"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Decide(ctx, reqProcess, process.DecisionApprove, c2, "fine by me"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, reqProcess, 2*time.Minute, process.StateCompleted)

	reqPage := "Special:Processes/" + reqProcess
	reqLog := wantLog(t, "metawiki", reqPage,
		wantEntry{"farmer", "requestwiki", requester, "a wiki about logs",
			map[string]string{"sitename": "Logged Wiki", "language": "en", "id": num, "wiki": db}},
		wantEntry{"farmer", "requestapprove", c1, "looks good", map[string]string{"id": num, "wiki": db}},
		wantEntry{"farmer", "requestapprove", c2, "fine by me", map[string]string{"id": num, "wiki": db}},
	)
	// The approval that completed the request is the creation's performer.
	createLog := wantLog(t, "metawiki", "Special:Processes/"+createwiki.CreateWikiID(db),
		wantEntry{"farmer", "createwiki", c2, "", map[string]string{"wiki": db, "requester": requester}})
	if last := reqLog[len(reqLog)-1]; createLog[0].Timestamp < last.Timestamp || createLog[0].LogID < last.LogID {
		t.Errorf("the creation (%s, %d) is logged before the approval that led to it (%s, %d)",
			createLog[0].Timestamp, createLog[0].LogID, last.Timestamp, last.LogID)
	}

	// A setting change, on the wiki's own log.
	st, err := cli.ChangeSetting(ctx, db, "wgInterwikiMagic", "false", requester, "no magic links")
	if err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, cli, st.ID, time.Minute, process.StateCompleted)
	old := st.Result["old"]
	if old == "" {
		old = "(unset)"
	}
	wantLog(t, db, "Special:Processes/"+st.ID, wantEntry{"managewiki", "settings", requester, "no magic links",
		map[string]string{"wiki": db, "changes": "wgInterwikiMagic", "old": old, "new": "false"}})
	if n := len(logEvents(t, "metawiki", "Special:Processes/"+st.ID)); n != 0 {
		t.Errorf("the setting change is also in the central wiki's log (%d entries)", n)
	}

	// A deletion undeleted in its grace period, then one carried out.
	crat := bureaucrat(t, db)
	delProcess := deletewiki.DeleteWikiID(db)
	long := shortGrace(time.Minute)
	if _, err := long.DeleteWiki(ctx, db, lower(requester), "closing shop"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, long, delProcess, time.Minute, process.StateWaitingApproval)
	if _, err := long.Decide(ctx, delProcess, process.DecisionApprove, crat, "agreed"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, long, delProcess, time.Minute, process.StateGracePeriod)
	if _, err := long.Undelete(ctx, delProcess, requester); err != nil {
		t.Fatal(err)
	}
	waitFor(t, long, delProcess, time.Minute, process.StateCancelled)
	// The status says cancelled a moment before the run closes and frees the ID.
	if err := deps.Temporal.GetWorkflow(ctx, delProcess, "").Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	short := shortGrace(3 * time.Second)
	if _, err := short.DeleteWiki(ctx, db, requester, "closing shop for good"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, short, delProcess, time.Minute, process.StateWaitingApproval)
	if _, err := short.Decide(ctx, delProcess, process.DecisionApprove, crat, ""); err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, short, delProcess, 3*time.Minute, process.StateCompleted)
	assertDeleted(t, db, st)
	wiki := map[string]string{"wiki": db}
	wantLog(t, "metawiki", "Special:Processes/"+delProcess,
		wantEntry{"managewiki", "closed", requester, "closing shop", map[string]string{"wiki": db, "reason": "closing shop"}},
		wantEntry{"managewiki", "delete", requester, "closing shop", wiki},
		// The undelete's step is not told who undeleted: the farm performs it.
		wantEntry{"managewiki", "undelete", activities.SystemUser, "", wiki},
		wantEntry{"managewiki", "closed", requester, "closing shop for good", map[string]string{"wiki": db, "reason": "closing shop for good"}},
		wantEntry{"managewiki", "delete", requester, "closing shop for good", wiki},
		wantEntry{"farmer", "dropwiki", requester, "closing shop for good", wiki},
	)

	// Special:Log/farmer over HTTP shows the story to readers.
	v := newVisitor(t, farmAddr(), "metawiki")
	for page, texts := range map[string][]string{
		reqPage: {requester + "</bdi>", "requested the wiki", "Logged Wiki", c1 + "</bdi>",
			"approved wiki request " + num + " (" + db + ")", "looks good", c2 + "</bdi>", "fine by me"},
		"Special:Processes/" + createwiki.CreateWikiID(db): {c2 + "</bdi>", "created the wiki", db, "for " + requester},
	} {
		code, body := v.do(http.MethodGet, "/index.php?title=Special:Log/farmer&uselang=en&page="+url.QueryEscape(page), nil)
		if code != http.StatusOK {
			t.Fatalf("Special:Log/farmer for %s: HTTP %d", page, code)
		}
		for _, text := range texts {
			if !strings.Contains(body, text) {
				t.Errorf("Special:Log/farmer for %s does not show %q", page, text)
			}
		}
	}
}

// A request put on hold and withdrawn: the withdrawal, then the farm's
// abandonment it caused, in that order, each under who did it.
func TestFarmLogWithdrawnRequest(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	requester, creator := newUser(t, "Teller"), newUser(t, "Creator", "wikicreator")
	st := waitingRequest(t, ctx, process.WikiSpec{DB: uniqueDB("logw"), Sitename: "Withdrawn", Language: "en"}, requester, "maybe")
	id := st.ID
	num := fmt.Sprintf("#%d", requestID(t, st))
	if _, err := cli.Review(ctx, id, requestwiki.ReviewRequest{Action: requestwiki.ReviewHold, User: creator, Comment: "wait"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Decide(ctx, id, process.DecisionCancel, requester, "changed my mind"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, id, time.Minute, process.StateCancelled)
	n := map[string]string{"id": num}
	wantLog(t, "metawiki", "Special:Processes/"+id,
		wantEntry{"farmer", "requestwiki", requester, "maybe", n},
		wantEntry{"farmer", "requestonhold", creator, "wait", n},
		wantEntry{"farmer", "requestwithdraw", requester, "changed my mind", n},
		wantEntry{"farmer", "requestabandon", activities.SystemUser, "Abandoned (cancelled)", n},
	)
}

// The same entry written twice (a step retried after its first attempt
// logged) is in the log, and in recent changes, once.
func TestFarmLogWriteIsIdempotent(t *testing.T) {
	ctx := testContext(t, time.Minute)
	f, err := deps.Activities()
	if err != nil {
		t.Fatal(err)
	}
	user := newUser(t, "Logger")
	page := "Special:Processes/request-wiki:" + uniqueDB("idem")
	e := activities.LogEntry{
		Wiki: "testwiki", Central: true, Type: activities.LogFarmer, Action: "requestonhold",
		Performer: strings.ToLower(user[:1]) + user[1:], Target: page, Comment: "wait a moment",
		Params: map[string]any{"4::id": "#0", "5::wiki": "idemwiki"},
		Key:    page + "/requestonhold/" + time.Now().UTC().Format(time.RFC3339Nano),
		Time:   time.Now().Add(-time.Minute),
	}
	for i := 0; i < 2; i++ {
		if err := f.WriteLog(ctx, e); err != nil {
			t.Fatalf("write %d: %v", i+1, err)
		}
	}
	// Started for another wiki, --central put it on the central one.
	got := wantLog(t, "metawiki", page, wantEntry{"farmer", "requestonhold", user, "wait a moment", map[string]string{"id": "#0"}})
	if want := e.Time.UTC().Format(time.RFC3339); got[0].Timestamp != want {
		t.Errorf("logged at %s, want the time it happened, %s", got[0].Timestamp, want)
	}
	// A new key is a new entry.
	e.Key += "/again"
	if err := f.WriteLog(ctx, e); err != nil {
		t.Fatal(err)
	}
	if n := len(logEvents(t, "metawiki", page)); n != 2 {
		t.Fatalf("a second key: %d entries, want 2", n)
	}
	// Input MediaWiki refuses is skipped, not retried: the step goes on.
	e.Performer, e.Key = "Nobody"+randomHex(6), e.Key+"/nobody"
	if err := f.WriteLog(ctx, e); err != nil {
		t.Fatalf("a performer without an account: %v", err)
	}
	if n := len(logEvents(t, "metawiki", page)); n != 2 {
		t.Fatalf("a performer without an account was logged: %d entries", n)
	}
}
