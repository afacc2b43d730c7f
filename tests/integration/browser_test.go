//go:build integration

package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wikiflow/wikiflow/process"
)

// artifactDir is where tests leave files for people to look at
// (WIKIFLOW_ARTIFACTS, default artifacts/ in the stack's state folder:
// .stack-test/artifacts under `make test`).
func artifactDir(t *testing.T) string {
	dir := os.Getenv("WIKIFLOW_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(stateDir(), "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// userWithPassword creates a farm account whose password the test knows.
func userWithPassword(t *testing.T, prefix string) (string, string) {
	t.Helper()
	name, password := prefix+randomHex(4), "Pw-"+randomHex(12)
	if _, err := deps.Scripts.Run(testContext(t, time.Minute), "metawiki", "createAndPromote", name, password); err != nil {
		t.Fatal(err)
	}
	return name, password
}

// browser starts Debian's Chromium headless, with the flags that work on a
// machine without outside network.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("Chromium is missing: `make test` installs it (farm/bin/install-browser)")
	}
	// Not t.TempDir: Chromium may still write its profile while it exits.
	profile, err := os.MkdirTemp("", "wikiflow-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath("/usr/bin/chromium"), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc() // waits for the browser process to end
		_ = os.RemoveAll(profile)
	})
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// A bureaucrat logs in, opens Special:Processes for a deletion waiting for
// approval and clicks approve; the process records the approval, the page
// shows it, and a screenshot is kept as a test artifact.
func TestBrowserApproveOnSpecialProcesses(t *testing.T) {
	db, owner := liveWiki(t, "browse")
	crat, password := userWithPassword(t, "Crat")
	if _, err := deps.Scripts.Run(testContext(t, time.Minute), db, "createAndPromote", "--force", "--bureaucrat", crat); err != nil {
		t.Fatal(err)
	}
	bureaucrat(t, db) // a second one: the quorum is two, so one approval keeps it waiting
	st, err := cli.DeleteWiki(testContext(t, time.Minute), db, owner, "browser test")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, st.ID, time.Minute, process.StateWaitingApproval)

	ctx := browser(t)
	base := wikiURL(db) + "/index.php?title="
	page := base + "Special:Processes/" + st.ID
	approve := `button[name="wfaction"][value="approve"]`
	err = chromedp.Run(ctx,
		chromedp.Navigate(base+"Special:UserLogin"),
		chromedp.WaitVisible(`#wpName1`, chromedp.ByQuery),
		chromedp.SendKeys(`#wpName1`, crat, chromedp.ByQuery),
		chromedp.SendKeys(`#wpPassword1`, password, chromedp.ByQuery),
		chromedp.Click(`#wpLoginAttempt`, chromedp.ByQuery),
		chromedp.WaitVisible(`#pt-logout`, chromedp.ByQuery),
		chromedp.Navigate(page),
		chromedp.WaitVisible(approve, chromedp.ByQuery),
		chromedp.Click(approve, chromedp.ByQuery),
		chromedp.WaitReady(`body`, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("in the browser: %v", err)
	}
	// The process decides asynchronously; then the page shows the record.
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, _ = cli.Status(testContext(t, time.Minute), st.ID)
		if a := lastApproval(st); a.User == crat && a.Accepted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the approval clicked in the browser never reached the process: %+v", st.Approvals)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var text string
	var shot []byte
	err = chromedp.Run(ctx,
		chromedp.Navigate(page),
		chromedp.WaitVisible(`#mw-content-text`, chromedp.ByQuery),
		chromedp.Text(`#mw-content-text`, &text, chromedp.ByQuery),
		chromedp.FullScreenshot(&shot, 100), // 100: PNG
	)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(artifactDir(t), "special-processes-approve.png")
	if err := os.WriteFile(file, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", file)
	if !strings.Contains(text, crat) || !strings.Contains(text, "waiting for approval") || !strings.Contains(text, "accepted") {
		t.Fatalf("the page does not show %s's approval on a process waiting for approval:\n%s", crat, text)
	}
}
