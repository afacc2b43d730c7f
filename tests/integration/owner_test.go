//go:build integration

package integration

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
)

// One owner per wiki, as it broke from outside: a deletion accepted while
// the wiki's creation waited for a person, approved by a steward, and the
// creation's abort during the grace period then dropped the wiki with no
// backup. Now the deletion is refused at once, naming the creation, and
// the abort undoes only what the creation itself did.
func TestOneOwnerPerWiki(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	f := startFailingCreation(t, "owned", "Owned")
	requester, creator, db, createID := f.requester, f.creator, f.db, f.id
	st := waitFor(t, cli, createID, 2*time.Minute, process.StateNeedsAttention)
	// The requester becomes the new wiki's bureaucrat in the optional rights
	// step, which may still be running when the critical step fails.
	for deadline := time.Now().Add(time.Minute); stepState(st, createwiki.StepRights) != process.StepSucceeded; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the rights step never succeeded: %+v", st.Steps)
		}
		st, _ = cli.Status(ctx, createID)
	}

	// The requester is the new wiki's bureaucrat: the deletion would be theirs to ask.
	_, err := cli.DeleteWiki(ctx, db, requester, "changed my mind")
	var refusedErr *client.RefusedError
	if !errors.As(err, &refusedErr) || !strings.Contains(err.Error(), createID) {
		t.Fatalf("a deletion while the creation is open: %v; want a refusal naming %s", err, createID)
	}
	if st, _ := cli.Status(ctx, deletewiki.DeleteWikiID(db)); st.State != process.StateRefused {
		t.Fatalf("the deletion's state %q, want refused", st.State)
	}
	if w, err := deps.Central.Wiki(ctx, db); err != nil || w.Closed || w.Deleted {
		t.Fatalf("the refused deletion touched the wiki: %+v %v", w, err)
	}
	if owner, ok, _ := deps.Central.GetOwner(ctx, db); !ok || owner.Process != createID {
		t.Fatalf("owner %+v, want the creation", owner)
	}

	// A setting change is not an owner: it goes on beside the creation.
	// The abort undoes the creation and gives the wiki back.
	if _, err := cli.Abort(ctx, createID, creator, "wrong name"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, createID, time.Minute, process.StateAborted)
	if registered, err := wikiRegistered(ctx, db); registered {
		t.Fatalf("after the abort the wiki is still registered: %v", err)
	}
	waitOwnerGone(t, db)
}

// A deletion owns the wiki while it waits: a second one is refused, a
// setting change too; a deletion whose process was terminated by an
// operator (it never gave the wiki back) does not block the next one.
func TestDeletionOwnsTheWiki(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	db, owner := liveWiki(t, "delowned")
	first := waitingDeletion(t, ctx, cli, db, owner, "first").ID

	if _, err := cli.ChangeSetting(ctx, db, "wgDefaultSkin", `"monobook"`, owner, "while deleted"); err == nil ||
		!strings.Contains(err.Error(), first) {
		t.Fatalf("a setting change during a deletion: %v; want a refusal naming %s", err, first)
	}

	if err := deps.Temporal.TerminateWorkflow(ctx, first, "", "an operator stopped it"); err != nil {
		t.Fatal(err)
	}
	if o, ok, _ := deps.Central.GetOwner(ctx, db); !ok || o.Process != first {
		t.Fatalf("owner %+v: the terminated deletion never gave the wiki back", o)
	}
	again, err := cli.DeleteWiki(ctx, db, owner, "second")
	if err != nil {
		t.Fatalf("a deletion after the first was terminated: %v", err)
	}
	waitFor(t, cli, again.ID, time.Minute, process.StateWaitingApproval)
	if _, err := cli.Decide(ctx, again.ID, process.DecisionCancel, owner, "done"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, again.ID, time.Minute, process.StateCancelled)
	waitOwnerGone(t, db)
}

func waitOwnerGone(t *testing.T, db string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if _, ok, err := deps.Central.GetOwner(testContext(t, 10*time.Second), db); err == nil && !ok {
			return
		}
	}
	t.Fatalf("%s is still owned after its process ended", db)
}
