// Command starter is WikiFlow's command line: it starts farm processes,
// sends decisions to them and shows their state. Exit codes: 0 success,
// 1 the operation failed or was refused (invalid input included), 2 usage
// or configuration error. With --json stdout holds exactly one JSON
// document, errors included.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/service"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// app carries what every command needs.
type app struct {
	configFile string
	json       bool
	// running is set once cobra has parsed the command line and a command runs.
	running bool
	out     io.Writer
	cfg     *config.Config
	client  *client.Client
	// result is what a command printed with --json: it is written once, at
	// the end, so that a command that prints and then fails still gives one
	// document (the error, carrying it).
	result    any
	hasResult bool
}

// codeError carries an exit code through cobra.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

func usage(format string, args ...any) error {
	return &codeError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func failed(err error) error { return &codeError{code: exitFailed, err: err} }

// invalid marks input that is wrong on its face (exit 1, like any other
// refusal), whatever type the check that found it returns.
func invalid(err error) error {
	if err == nil {
		return nil
	}
	return &codeError{code: exitFailed, err: err}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	a := &app{out: stdout}
	root := a.rootCommand()
	// Known before cobra parses: a usage error found before --json is
	// reached (an unknown flag first) is still answered in JSON.
	a.json = wantsJSON(args)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if a.client != nil {
		a.client.Temporal.Close()
	}
	code := exitCode(a, err)
	switch {
	case a.json && err == nil:
		if a.hasResult {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(a.result)
		}
	case a.json:
		doc := map[string]any{"error": err.Error(), "exit_code": code}
		if a.hasResult {
			key := "result"
			if _, ok := a.result.(process.Status); ok {
				key = "status"
			}
			doc[key] = a.result
		}
		_ = json.NewEncoder(stdout).Encode(doc)
	case err != nil:
		fmt.Fprintln(stderr, "error:", err)
	}
	return code
}

// exitCode: 2 for usage (cobra's own errors, missing flags) and
// configuration errors, 1 for everything that was refused or failed,
// invalid input included.
func exitCode(a *app, err error) int {
	var ce *codeError
	var ue *client.UsageError
	var cfgErr *config.Error
	switch {
	case err == nil:
		return exitOK
	case !a.running:
		return exitUsage // cobra's own errors: unknown command, flag or argument
	case errors.As(err, &ce):
		return ce.code
	case errors.As(err, &cfgErr), errors.As(err, &ue):
		return exitUsage
	}
	return exitFailed
}

// wantsJSON tells whether the command line asks for --json, before the
// flags are parsed.
func wantsJSON(args []string) bool {
	want := false
	for _, arg := range args {
		if arg == "--" {
			break
		}
		if arg == "--json" {
			want = true
		} else if v, ok := strings.CutPrefix(arg, "--json="); ok {
			want, _ = strconv.ParseBool(v)
		}
	}
	return want
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "starter",
		Short:         "Run and watch the wiki farm's processes",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(*cobra.Command, []string) {
			a.running = true
		},
	}
	root.PersistentFlags().StringVar(&a.configFile, "config", "", "YAML config file (default: ./"+config.DefaultFile+" if present)")
	root.PersistentFlags().BoolVar(&a.json, "json", false, "machine-readable output")
	config.AddFlags(root.PersistentFlags())
	root.AddCommand(a.wikiInfoCommand(), a.createWikiCommand(), a.statusCommand(), a.listCommand(),
		a.retryCommand(), a.abortCommand(), a.watchCommand(),
		a.deleteWikiCommand(), a.changeSettingCommand(), a.requestWikiCommand(), a.restoreWikiCommand(), a.inactivityCommand(),
		a.renameWikiCommand(), a.eventsCommand())
	root.AddCommand(a.decisionCommands()...)
	root.AddCommand(a.extensionCommands()...)
	return root
}

// connect loads the configuration and dials Temporal, once per command.
func (a *app) connect(cmd *cobra.Command) error {
	cfg, err := config.Load(config.Options{File: a.configFile, Flags: cmd.Flags()})
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	tc, err := service.DialTemporal(cmd.Context(), cfg, logger)
	if err != nil {
		return failed(err)
	}
	a.cfg = cfg
	a.client = &client.Client{Temporal: tc, Config: cfg}
	return nil
}

// print writes v as text, or keeps it for the one JSON document run writes.
func (a *app) print(v any, text func(w io.Writer)) {
	if a.json {
		a.result, a.hasResult = v, true
		return
	}
	text(a.out)
}
