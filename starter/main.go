// Command starter is WikiFlow's command line: it starts farm processes,
// sends decisions to them and shows their state. Exit codes: 0 success,
// 1 the operation failed or was refused, 2 usage or configuration error.
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
	"syscall"

	"github.com/spf13/cobra"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/config"
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

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	a := &app{out: stdout}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if a.client != nil {
		a.client.Temporal.Close()
	}
	if err == nil {
		return exitOK
	}
	code := exitFailed
	var ce *codeError
	var ue *client.UsageError
	var cfgErr *config.Error
	switch {
	case !a.running:
		code = exitUsage // cobra's own errors: unknown command, flag or argument
	case errors.As(err, &cfgErr), errors.As(err, &ue):
		code = exitUsage
	case errors.As(err, &ce):
		code = ce.code
	}
	if a.json {
		_ = json.NewEncoder(stdout).Encode(map[string]any{"error": err.Error(), "exit_code": code})
	} else {
		fmt.Fprintln(stderr, "error:", err)
	}
	return code
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
		a.deleteWikiCommand(), a.changeSettingCommand(), a.requestWikiCommand())
	root.AddCommand(a.decisionCommands()...)
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

// print writes v as JSON with --json, or text otherwise.
func (a *app) print(v any, text func(w io.Writer)) {
	if a.json {
		enc := json.NewEncoder(a.out)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
		return
	}
	text(a.out)
}
