//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/events"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
	"github.com/wikiflow/wikiflow/workflows/restorewiki"
)

// outboxEvents reads every event of db stored after seq, decoded, each
// checked against its schema.
func outboxEvents(t *testing.T, ctx context.Context, after int64, db string) []events.ProcessChange {
	t.Helper()
	stored, err := farmdb.Outbox{Central: deps.Central}.Read(ctx, after, 10000,
		farmdb.ReadFilter{Stream: events.StreamProcessChange, Wiki: db, IncludePrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]events.ProcessChange, len(stored))
	for i, s := range stored {
		if err := events.Validate(s.Body); err != nil {
			t.Errorf("event %d is not valid against its schema: %v\n%s", s.Seq, err, s.Body)
		}
		if err := json.Unmarshal(s.Body, &out[i]); err != nil {
			t.Fatal(err)
		}
		if out[i].Meta.ID != s.ID || out[i].Wiki.IsPrivate != s.Private {
			t.Errorf("event %d: stored as %s private=%v, says %s private=%v", s.Seq, s.ID, s.Private, out[i].Meta.ID, out[i].Wiki.IsPrivate)
		}
	}
	return out
}

// line is an event as the assertions read it.
func line(ev events.ProcessChange) string {
	switch ev.ChangeKind {
	case events.KindState:
		return "state " + ev.Process.State
	case events.KindStep:
		return fmt.Sprintf("step %s %s", ev.Step.Name, ev.Step.State)
	case events.KindDecision:
		return fmt.Sprintf("decision %s %s accepted=%v", ev.Decision.Decision, ev.Performer.UserText, ev.Decision.Accepted)
	default:
		return fmt.Sprintf("action %s %s accepted=%v", ev.Action.Name, ev.Performer.UserText, ev.Action.Accepted)
	}
}

// A wiki's whole life as events: a request, two approvals, the creation,
// the deletion and the restore produce, in the order they happened, every
// change once, each valid against the schema.
func TestWikiLifecycleEventsInOrderOnce(t *testing.T) {
	ctx := testContext(t, 8*time.Minute)
	box := farmdb.Outbox{Central: deps.Central}
	head, err := box.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	requester := newUser(t, "Asker")
	c1, c2 := newUser(t, "Creator", "wikicreator"), newUser(t, "Creator", "wikicreator")
	plain := newUser(t, "Plain")
	steward := newUser(t, "Steward", "steward")
	db := uniqueDB("evt")

	st := waitingRequest(t, ctx, process.WikiSpec{DB: db, Sitename: "Event Wiki", Language: "en", Category: "test"}, requester, "a wiki to watch")
	reqID := st.ID
	approveByTwo(t, ctx, cli, reqID, twoApprovals{plain: plain, plainLacks: "createwiki", requester: requester,
		first: c1, firstComment: "looks good", second: c2})
	waitFor(t, cli, reqID, 2*time.Minute, process.StateCompleted)
	c := shortGrace(2 * time.Second)
	delID := approvedDeletion(t, c, db, requester, steward)
	waitFor(t, c, delID, 3*time.Minute, process.StateCompleted)
	rst, err := c.RestoreWiki(ctx, db, requester, "deleted by mistake")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, rst.ID, time.Minute, process.StateWaitingApproval)
	if _, err := c.Decide(ctx, rst.ID, process.DecisionApprove, steward, "bring it back"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, rst.ID, 3*time.Minute, process.StateCompleted)
	if si, err := deps.API.SiteInfo(ctx, db); err != nil || si.SiteName != "Event Wiki" {
		t.Fatalf("the restored wiki: %+v %v", si, err)
	}

	evs := outboxEvents(t, ctx, head, db)
	byProcess := map[string][]string{}
	var order []string // processes by their first event
	seen := map[string]bool{}
	for _, ev := range evs {
		if seen[ev.Meta.ID] {
			t.Errorf("event %s stored twice", ev.Meta.ID)
		}
		seen[ev.Meta.ID] = true
		if ev.Wiki.IsPrivate {
			t.Errorf("%s: a public wiki's event is marked private", line(ev))
		}
		p := ev.Process.ID
		if len(byProcess[p]) == 0 {
			order = append(order, p)
		}
		if want := len(byProcess[p]) + 1; ev.Process.Sequence != want {
			t.Errorf("%s: sequence %d, want %d", p, ev.Process.Sequence, want)
		}
		byProcess[p] = append(byProcess[p], line(ev))
	}
	createID := createwiki.CreateWikiID(db)
	wantOrder := []string{reqID, createID, delID, rst.ID}
	if strings.Join(order, " ") != strings.Join(wantOrder, " ") {
		t.Fatalf("processes announced in the order %v, want %v", order, wantOrder)
	}
	for id, lines := range byProcess {
		t.Logf("%s:\n  %s", id, strings.Join(lines, "\n  "))
	}
	// Each process's facts, in the order they happened.
	wantIn(t, reqID, byProcess[reqID], "state running", "state waiting-approval",
		"decision approve "+plain+" accepted=false", "decision approve "+requester+" accepted=false",
		"decision approve "+c1+" accepted=true", "decision approve "+c1+" accepted=false",
		"decision approve "+c2+" accepted=true", "state completed")
	wantIn(t, createID, byProcess[createID], "state running", "step "+createwiki.StepCreateDatabase+" running",
		"step "+createwiki.StepCreateDatabase+" succeeded", "state completed")
	wantIn(t, delID, byProcess[delID], "state running", "state waiting-approval",
		"decision approve "+steward+" accepted=true", "state grace-period",
		"step "+deletewiki.StepDropDatabase+" succeeded", "state completed")
	wantIn(t, rst.ID, byProcess[rst.ID], "state running", "state waiting-approval",
		"decision approve "+steward+" accepted=true", "state completed")
	// The creation ends before the request that waited for it; the deletion
	// starts after both.
	last := map[string]int{}
	first := map[string]int{}
	for i, ev := range evs {
		if _, ok := first[ev.Process.ID]; !ok {
			first[ev.Process.ID] = i
		}
		last[ev.Process.ID] = i
	}
	if last[createID] > last[reqID] || first[delID] < last[reqID] || first[rst.ID] < last[delID] {
		t.Errorf("processes interleave: first %v last %v", first, last)
	}
	for _, kind := range []string{requestwiki.KindRequestWiki, deletewiki.KindDeleteWiki, restorewiki.KindRestoreWiki} {
		if !strings.Contains(strings.Join(order, " "), kind) {
			t.Errorf("no %s process among %v", kind, order)
		}
	}

	// An anonymous reader of the stream gets the same events, byte for byte
	// (the wiki is public).
	got := openStream(t, "http://"+hookServer(t), fmt.Sprintf("?last_event_id=%d&until_head=true&wiki=%s", head, db), nil).all(t)
	want := stored(t, head, db)
	if len(got) != len(want) {
		t.Fatalf("the stream carried %d events, the outbox holds %d", len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i].Seq || string(got[i].Data) != string(want[i].Body) {
			t.Fatalf("stream message %d is %d %s, the outbox holds %d %s", i, got[i].ID, got[i].Data, want[i].Seq, want[i].Body)
		}
	}

	// The processes replay with the announcer (recorded: the histories of
	// the first version that announces).
	for name, id := range map[string]string{"request": reqID, "create": createID, "delete": delID, "restore": rst.ID} {
		t.Run(name, func(t *testing.T) { replayHistory(t, id) })
	}

	// Storing an event again (an activity retried after its commit) stores nothing.
	n, _ := box.Head(ctx)
	res, err := (&activities.Farm{Central: deps.Central, API: deps.API}).StoreEvents(ctx, activities.StoreEventsInput{Events: evs[:3]})
	if after, _ := box.Head(ctx); err != nil || res.Stored != 0 || after != n {
		t.Fatalf("storing 3 stored events again: stored %d, head %d -> %d, %v", res.Stored, n, after, err)
	}
}

// wantIn checks that lines holds want in this order (other lines between).
func wantIn(t *testing.T, id string, lines []string, want ...string) {
	t.Helper()
	i := 0
	for _, l := range lines {
		if i < len(want) && l == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("%s: %q not announced in order; got\n  %s", id, want[i], strings.Join(lines, "\n  "))
	}
	if n := len(lines); n == 0 || lines[n-1] != want[len(want)-1] {
		t.Errorf("%s: the last event is not %q", id, want[len(want)-1])
	}
}

// A private wiki's request announces only private events.
func TestPrivateRequestEventsArePrivate(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	head, _ := farmdb.Outbox{Central: deps.Central}.Head(ctx)
	requester := newUser(t, "Asker")
	db := uniqueDB("evp")
	st := waitingRequest(t, ctx, process.WikiSpec{DB: db, Sitename: "Secret", Language: "en", Category: "test", Private: true}, requester, "private")
	if _, err := cli.Decide(ctx, st.ID, process.DecisionCancel, requester, "changed my mind"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, st.ID, time.Minute, process.StateCancelled)
	evs := outboxEvents(t, ctx, head, db)
	if len(evs) < 3 {
		t.Fatalf("%d events for a filed and withdrawn request", len(evs))
	}
	for _, ev := range evs {
		if !ev.Wiki.IsPrivate {
			t.Errorf("%s of a private wiki's request is public", line(ev))
		}
	}
	if l := line(evs[len(evs)-1]); l != "state cancelled" {
		t.Errorf("last event %q, want the cancellation", l)
	}
}

// wantAnnouncedOnce checks that the outbox holds st's process run as it
// ended: its changes numbered 1..n with no gap and no repeat, from its
// start to its end state, each step last announced in its end state.
func wantAnnouncedOnce(t *testing.T, st process.Status) {
	t.Helper()
	ctx := testContext(t, time.Minute)
	var lines []string
	steps := map[string]string{}
	for _, ev := range outboxEvents(t, ctx, 0, st.Wiki) {
		if ev.Process.ID != st.ID {
			continue
		}
		if want := len(lines) + 1; ev.Process.Sequence != want {
			t.Errorf("%s: change %d announced as %d: lost or repeated", st.ID, want, ev.Process.Sequence)
		}
		if ev.Step != nil {
			steps[ev.Step.Name] = ev.Step.State
		}
		lines = append(lines, line(ev))
	}
	if len(lines) < 2 || lines[0] != "state running" || lines[len(lines)-1] != "state "+string(st.State) {
		t.Errorf("%s: announced %v, want from its start to %s", st.ID, lines, st.State)
	}
	for _, s := range st.Steps {
		if steps[s.Name] != string(s.State) {
			t.Errorf("%s: step %s ended %s, announced %q", st.ID, s.Name, s.State, steps[s.Name])
		}
	}
}
