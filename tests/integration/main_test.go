//go:build integration

// Package integration tests WikiFlow against the real stack started by
// `make test`: a Temporal dev server, MariaDB and the MediaWiki farm served
// by PHP. Nothing here is mocked. `make test` runs them on a farm instance
// of their own (state folder .stack-test, ports of its own: the Makefile's
// TEST_* variables), beside the one `make run` uses, and gives them its
// settings through `farm/bin/stack env`: every address, port and state file
// comes from the configuration or from the stack's variables. Each run also
// uses its own task queue.
package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/service"
)

var (
	deps     *service.Deps
	cli      *client.Client
	repoRoot string
	mailbox  *smtpSink
	webhook  *webhookSink
)

func TestMain(m *testing.M) {
	os.Exit(setup(m))
}

func setup(m *testing.M) int {
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	// The defaults are relative to the repository root, as for `make run`.
	if err := os.Chdir(repoRoot); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg, err := config.Load(config.Options{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "integration tests need the local stack (make test starts it): %v\n", err)
		return 1
	}
	cfg.Temporal.TaskQueue = "wikiflow-test-" + randomHex(4)
	// Notifications go to real SMTP and HTTP endpoints run by the tests.
	if mailbox, err = startSMTPSink(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	webhook = startWebhookSink()
	defer webhook.srv.Close()
	cfg.Notify.SMTP.Address = mailbox.Addr()
	cfg.Notify.WebhookURL = webhook.srv.URL + "/hooks/staff-token"
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	deps, err = service.Open(ctx, cfg, logger)
	if err != nil {
		fmt.Fprintf(os.Stderr, "integration tests need the local stack (make test starts it): %v\n", err)
		return 1
	}
	defer deps.Close()
	for _, c := range deps.Ready(ctx) {
		if !c.OK {
			fmt.Fprintf(os.Stderr, "stack not ready: %s: %s\n", c.Name, c.Error)
			return 1
		}
	}
	w, err := deps.NewWorker(ctx, cfg.Temporal.TaskQueue)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := w.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer w.Stop()
	cli = &client.Client{Temporal: deps.Temporal, Config: cfg}
	// The wikis' hook endpoint, on its usual address, feeding this run's worker.
	_, stopHook, err := serveHook(cfg.Hook.Address)
	if err != nil {
		fmt.Fprintf(os.Stderr, "hook endpoint on %s: %v (another test run, or a worker of the stack this run points at,"+
			" holds it; `make test` runs on its own instance, whose settings `farm/bin/stack env` prints)\n", cfg.Hook.Address, err)
		return 1
	}
	defer stopHook()
	return m.Run()
}

// serveHook serves the hook endpoint, feeding this run's worker, on addr
// (port 0: a free one); it returns the address and a stop.
func serveHook(addr string) (string, func(), error) {
	h, err := deps.HookHandler(cli)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }() // returns http.ErrServerClosed once the returned stop closes it
	return ln.Addr().String(), func() { srv.Close() }, nil
}

// hookServer serves the hook endpoint, feeding this run's worker, on a
// free port until the test ends, and returns its address.
func hookServer(t testing.TB) string {
	t.Helper()
	addr, stop, err := serveHook("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return addr
}

// centralExec runs a statement on the central database, failing the test
// if it fails.
func centralExec(t *testing.T, ctx context.Context, query string, args ...any) {
	t.Helper()
	if _, err := deps.Central.DB.ExecContext(ctx, query, args...); err != nil {
		t.Fatal(err)
	}
}

// createDatabase creates the empty database name on the cluster c1 and
// returns what drops it again.
func createDatabase(t *testing.T, ctx context.Context, name string) (drop func()) {
	t.Helper()
	server, _ := deps.Clusters.Server("c1")
	if _, err := server.ExecContext(ctx, "CREATE DATABASE `"+name+"`"); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := server.ExecContext(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Logf("dropping %s: %v", name, err)
		}
	}
}

// wikiURL is a wiki's base URL on the farm (mediawiki.url_pattern), the
// port included: http://<db>.localhost:<port>.
func wikiURL(db string) string {
	return strings.ReplaceAll(deps.Config.MediaWiki.URLPattern, "{wiki}", db)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func testContext(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
