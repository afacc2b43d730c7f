package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/process"
)

// required refuses empty mandatory flags with a usage error.
func required(flags map[string]string) error {
	var missing []string
	for name, v := range flags {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, "--"+name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return usage("missing %s", strings.Join(missing, ", "))
	}
	return nil
}

func (a *app) createWikiCommand() *cobra.Command {
	var req client.CreateWikiRequest
	var wait bool
	cmd := a.connectedCommand("create-wiki --db DB --sitename S --language L --requester USER",
		"Create a wiki: database, schema, registration, then rights, main page, storage and notification",
		func() error {
			return required(map[string]string{"db": req.Wiki.DB, "sitename": req.Wiki.Sitename, "language": req.Wiki.Language, "requester": req.Requester})
		},
		func(ctx context.Context) error {
			id, err := a.client.CreateWiki(ctx, req)
			if err != nil {
				return err
			}
			if !wait {
				st, err := a.client.Status(ctx, id)
				if err != nil {
					return err
				}
				a.printStatus(st)
				return nil
			}
			return a.follow(ctx, id, false)
		})
	f := cmd.Flags()
	f.StringVar(&req.Wiki.DB, "db", "", "database name of the new wiki (e.g. demowiki)")
	f.StringVar(&req.Wiki.Sitename, "sitename", "", "the wiki's name")
	f.StringVar(&req.Wiki.Language, "language", "", "content language code (e.g. en)")
	f.StringVar(&req.Requester, "requester", "", "farm account that becomes the wiki's bureaucrat")
	f.StringVar(&req.Email, "email", "", "address told when the wiki is ready")
	f.BoolVar(&req.Wiki.Private, "private", false, "only logged-in members may read")
	f.StringVar(&req.Wiki.Category, "category", "uncategorised", "the wiki's category")
	f.BoolVar(&wait, "wait", false, "wait for the process to end; exit 0 only if it completed")
	return cmd
}

// connectedCommand builds a command without arguments: check refuses a bad
// request before anything connects, then it connects and runs run.
func (a *app) connectedCommand(use, short string, check func() error, run func(ctx context.Context) error) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := check(); err != nil {
				return err
			}
			if err := a.connect(cmd); err != nil {
				return err
			}
			return run(cmd.Context())
		},
	}
}

// idCommand builds a command about one process: it checks the ID, connects
// and runs fn.
func (a *app) idCommand(use, short string, fn func(ctx context.Context, id string) error) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := client.CheckID(args[0]); err != nil {
				return invalid(err)
			}
			if err := a.connect(cmd); err != nil {
				return err
			}
			return fn(cmd.Context(), args[0])
		},
	}
}

func (a *app) statusCommand() *cobra.Command {
	return a.idCommand("status ID", "Show a process's state and steps", func(ctx context.Context, id string) error {
		st, err := a.client.Status(ctx, id)
		if st.ID != "" {
			a.printStatus(st)
		}
		return err
	})
}

func (a *app) listCommand() *cobra.Command {
	var f client.ListFilter
	cmd := a.connectedCommand("list [--db DB] [--kind K] [--state S]", "List processes, newest first",
		func() error {
			if _, err := client.ListQuery(f); err != nil {
				return invalid(err)
			}
			return nil
		},
		func(ctx context.Context) error {
			items, err := a.client.List(ctx, f)
			if err != nil {
				return err
			}
			a.print(items, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tKIND\tSTATE\tWIKI\tREQUESTER\tSTARTED")
				for _, it := range items {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", it.ID, it.Kind, it.State, it.Wiki, it.Requester, it.Started.Format(time.RFC3339))
				}
				tw.Flush()
			})
			return nil
		})
	cmd.Flags().StringVar(&f.Wiki, "db", "", "only this wiki")
	cmd.Flags().StringVar(&f.Kind, "kind", "", "only this kind ("+strings.Join(client.Kinds, ", ")+")")
	cmd.Flags().StringVar(&f.State, "state", "", "only this state ("+strings.Join(client.States, ", ")+")")
	return cmd
}

func (a *app) retryCommand() *cobra.Command {
	var step string
	cmd := a.messageCommand(client.ActionRetry, "retry ID --step STEP --user USER", "Run a failed step again (the user's rights are checked on the wiki)",
		map[string]*string{"step": &step},
		func(ctx context.Context, id, user, _ string) (process.Status, error) {
			return a.client.Retry(ctx, id, step, user)
		})
	cmd.Flags().StringVar(&step, "step", "", "the failed step")
	return cmd
}

func (a *app) abortCommand() *cobra.Command {
	return a.messageCommand(client.ActionAbort, "abort ID --user USER [--comment WHY]", "Stop a process and undo what it did", nil,
		func(ctx context.Context, id, user, why string) (process.Status, error) {
			return a.client.Abort(ctx, id, user, why)
		})
}

func (a *app) watchCommand() *cobra.Command {
	return a.idCommand("watch ID", "Follow a process's steps live until it ends", func(ctx context.Context, id string) error {
		return a.follow(ctx, id, true)
	})
}

// follow polls a process until it ends, printing each change of a step
// (live) or only the end state; it fails unless the process completed.
func (a *app) follow(ctx context.Context, id string, live bool) error {
	seen := map[string]string{}
	for {
		st, err := a.client.Status(ctx, id)
		if err != nil {
			if st.ID != "" {
				a.printStatus(st)
			}
			return err
		}
		if live && !a.json {
			for _, s := range st.Steps {
				key := string(s.State) + "|" + s.Error
				if seen[s.Name] != key {
					seen[s.Name] = key
					fmt.Fprintf(a.out, "%s  %-16s %-10s %s\n", time.Now().Format("15:04:05"), s.Name, s.State, s.Error)
				}
			}
			if seen["|state"] != string(st.State) {
				seen["|state"] = string(st.State)
				fmt.Fprintf(a.out, "%s  process is %s\n", time.Now().Format("15:04:05"), st.State)
			}
		}
		if process.Ended(st.State) || (!live && st.State == process.StateNeedsAttention) {
			if !live || a.json {
				a.printStatus(st)
			}
			if st.State != process.StateCompleted {
				return failed(fmt.Errorf("process %s is %s", id, st.State))
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (a *app) printStatus(st process.Status) {
	a.print(st, func(w io.Writer) {
		fmt.Fprintf(w, "%s  %s of %s by %s: %s\n", st.ID, st.Kind, st.Wiki, st.Requester, st.State)
		if st.NoWorker != "" {
			fmt.Fprintln(w, st.NoWorker)
		}
		if !st.AttentionUntil.IsZero() && st.State == process.StateNeedsAttention {
			fmt.Fprintf(w, "open for retry or abort until %s\n", st.AttentionUntil.Format(time.RFC3339))
		}
		tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
		if len(st.Steps) > 0 {
			fmt.Fprintln(tw, "STEP\tSTATE\tATTEMPTS\tNOTE")
		}
		for _, s := range st.Steps {
			note := s.Summary
			if s.Error != "" {
				note = s.Error
			}
			crit := ""
			if s.Critical {
				crit = "*"
			}
			fmt.Fprintf(tw, "%s%s\t%s\t%d\t%s\n", s.Name, crit, s.State, s.Attempts, note)
		}
		tw.Flush()
		for _, ap := range st.Approvals {
			verdict := "accepted"
			if ap.Override {
				verdict = "accepted as override"
			}
			if !ap.Accepted {
				verdict = "refused: " + ap.Reason
			}
			fmt.Fprintf(w, "%s %s %s (%s)\n", ap.Time.Format(time.RFC3339), ap.User, ap.Decision, verdict)
		}
		keys := make([]string, 0, len(st.Result))
		for k := range st.Result {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "%s: %s\n", k, st.Result[k])
		}
		for _, act := range st.Actions {
			verdict := "accepted"
			if !act.Accepted {
				verdict = "refused: " + act.Reason
			}
			fmt.Fprintf(w, "%s %s %s %s (%s)\n", act.Time.Format(time.RFC3339), act.User, act.Action, act.Step, verdict)
		}
	})
}
