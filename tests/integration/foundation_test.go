//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/mediawiki"
)

// The worker reads cw_wikis and calls the wiki's API inside a real workflow.
func TestInspectWikiThroughTheWorker(t *testing.T) {
	ctx := testContext(t, time.Minute)
	info, err := cli.InspectWiki(ctx, "metawiki")
	if err != nil {
		t.Fatal(err)
	}
	if info.Registration.DBName != "metawiki" || info.Registration.Deleted {
		t.Fatalf("registration: %+v", info.Registration)
	}
	if info.LiveError != "" || info.Live.SiteName != info.Registration.Sitename || info.Live.DBName != "metawiki" {
		t.Fatalf("live siteinfo %+v (error %q) does not match registration %+v", info.Live, info.LiveError, info.Registration)
	}
}

// An unregistered wiki fails at once with a typed, non-retryable error.
func TestInspectUnknownWikiFailsPermanently(t *testing.T) {
	ctx := testContext(t, time.Minute)
	_, err := cli.InspectWiki(ctx, "nosuchwiki"+randomHex(3))
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeWikiNotFound {
		t.Fatalf("want a %s application error, got %v", activities.ErrTypeWikiNotFound, err)
	}
}

// The farm serves only registered wikis.
func TestUnregisteredHostGets404(t *testing.T) {
	u, err := url.Parse(wikiURL("nosuchwiki"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+farmAddr()+"/api.php?action=query&meta=siteinfo&format=json", nil)
	req.Host = u.Host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("want 404 for an unregistered wiki, got %d", resp.StatusCode)
	}
	_, err = deps.API.SiteInfo(context.Background(), "nosuchwiki")
	if !errors.Is(err, mediawiki.ErrUnknownWiki) {
		t.Fatalf("client: want ErrUnknownWiki, got %v", err)
	}
}

// One account works on every wiki; groups stay per wiki.
func TestSharedAccountLogsInOnTwoWikis(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	name := "Farmuser" + randomHex(4)
	password := "pw-" + randomHex(12)
	if _, err := deps.Scripts.Run(ctx, "metawiki", "createAndPromote", name, password); err != nil {
		t.Fatal(err)
	}
	if _, err := deps.Scripts.Run(ctx, "testwiki", "createAndPromote", "--force", "--bureaucrat", name); err != nil {
		t.Fatal(err)
	}
	for _, wiki := range []string{"metawiki", "testwiki"} {
		s := deps.API.Session()
		if err := s.Login(ctx, wiki, name, password); err != nil {
			t.Fatalf("login on %s: %v", wiki, err)
		}
		who, err := s.CurrentUser(ctx, wiki)
		if err != nil || who != name {
			t.Fatalf("on %s logged in as %q (%v), want %s", wiki, who, err, name)
		}
	}
	onTest, err := deps.API.User(ctx, "testwiki", name)
	if err != nil {
		t.Fatal(err)
	}
	onMeta, err := deps.API.User(ctx, "metawiki", name)
	if err != nil {
		t.Fatal(err)
	}
	if !onTest.InGroup("bureaucrat") || !onTest.Has("managewiki-core") {
		t.Fatalf("on testwiki want bureaucrat with managewiki-core, got %+v", onTest)
	}
	if onMeta.InGroup("bureaucrat") {
		t.Fatalf("bureaucrat on testwiki leaked to metawiki: %+v", onMeta)
	}
	if err := deps.API.Session().Login(ctx, "testwiki", name, "wrong-"+password); err == nil {
		t.Fatal("a wrong password logged in")
	}
}

// The farm's rights: stewards and wiki creators on the central wiki.
func TestFarmRightsOnTheCentralWiki(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	name := "Steward" + randomHex(4)
	if _, err := deps.Scripts.Run(ctx, "metawiki", "createAndPromote", name, "pw-"+randomHex(12)); err != nil {
		t.Fatal(err)
	}
	if _, err := deps.Scripts.Run(ctx, "metawiki", "createAndPromote", "--force", "--custom-groups=steward,wikicreator", name); err != nil {
		t.Fatal(err)
	}
	u, err := deps.API.User(ctx, "metawiki", name)
	if err != nil {
		t.Fatal(err)
	}
	if !u.Has("managewiki-restricted") || !u.Has("createwiki") {
		t.Fatalf("steward+wikicreator on metawiki should hold managewiki-restricted and createwiki: %+v", u.Rights)
	}
	plain, err := deps.API.User(ctx, "testwiki", name)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Has("managewiki-restricted") {
		t.Fatalf("groups of metawiki leaked to testwiki: %+v", plain)
	}
}

// buildBinary compiles one of the project's commands for a test.
func buildBinary(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, "./"+pkg)
	cmd.Dir = repoRoot
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func freeAddress(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// The worker service reports ready only when its dependencies answer, and
// stops cleanly on SIGTERM.
func TestWorkerServiceHealthAndGracefulStop(t *testing.T) {
	bin := buildBinary(t, "worker")
	addr := freeAddress(t)
	cmd := exec.Command(bin, "--worker.health_address="+addr, "--hook.address="+freeAddress(t), "--temporal.task_queue=wikiflow-health-"+randomHex(3))
	cmd.Dir = repoRoot
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var body struct {
		Status string `json:"status"`
		Checks []struct {
			Name string `json:"name"`
			OK   bool   `json:"ok"`
		} `json:"checks"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&body) // a body that does not decode fails the checks below
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker never became ready: %v %+v\n%s", err, body, stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	names := map[string]bool{}
	for _, c := range body.Checks {
		names[c.Name] = c.OK
	}
	if !names["temporal"] || !names["central-database"] || !names["mediawiki"] {
		t.Fatalf("ready without all checks passing: %+v", body)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("worker did not exit cleanly on SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not stop within 30s of SIGTERM")
	}
	if !strings.Contains(stderr.String(), "worker stopped") {
		t.Fatalf("no clean stop in the log:\n%s", stderr.String())
	}
}

// runStarter runs the CLI from the repository root with extra environment.
func runStarter(t *testing.T, bin string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// Configuration problems are one clear message and exit code 2 (or 1 for a
// server that does not answer), before anything is started.
func TestStarterConfigErrors(t *testing.T) {
	bin := buildBinary(t, "starter")
	queue := "WIKIFLOW_TEMPORAL_TASK_QUEUE=" + cli.Config.Temporal.TaskQueue
	cases := []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"missing DSN", []string{"WIKIFLOW_DATABASE_CENTRAL_DSN="}, []string{"wiki-info", "--db", "metawiki"}, 2, "database.central_dsn: missing value"},
		{"wrong type", nil, []string{"--worker.shutdown_timeout=soon", "wiki-info", "--db", "metawiki"}, 2, "worker.shutdown_timeout: want a duration"},
		{"unknown key", []string{"WIKIFLOW_TEMPORAL_ADRESS=x:1"}, []string{"wiki-info", "--db", "metawiki"}, 2, "WIKIFLOW_TEMPORAL_ADRESS: unknown setting"},
		{"unreachable Temporal", nil, []string{"--temporal.address=127.0.0.1:1", "wiki-info", "--db", "metawiki"}, 1, "cannot reach Temporal at 127.0.0.1:1 (temporal.address)"},
		{"bad name", nil, []string{"wiki-info", "--db", "x;drop"}, 1, "invalid wiki database name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runStarter(t, bin, append(tc.env, queue), tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("want exit %d with %q, got %d: %s", tc.code, tc.want, code, stderr)
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
				t.Fatalf("want one line, got %d:\n%s", n+1, stderr)
			}
		})
	}
	stdout, stderr, code := runStarter(t, bin, []string{queue}, "--json", "wiki-info", "--db", "metawiki")
	var out struct {
		Registration struct{ DBName string }   `json:"registration"`
		Live         struct{ SiteName string } `json:"live"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &out) != nil || out.Registration.DBName != "metawiki" || out.Live.SiteName == "" {
		t.Fatalf("wiki-info --json: exit %d, %s %s", code, stdout, stderr)
	}
}
