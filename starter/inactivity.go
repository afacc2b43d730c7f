package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/process"
)

// inactivityCommand groups the inactivity policy's commands.
func (a *app) inactivityCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "inactivity", Short: "The inactivity policy: sweep, check one wiki, exempt, reopen"}
	cmd.AddCommand(a.sweepCommand(), a.checkInactivityCommand(), a.exemptCommand(),
		a.messageCommand(client.ActionReopen, "reopen ID --user USER [--comment C]",
			"Reopen a wiki closed for inactivity (a bureaucrat of the wiki, or a steward); ID is inactivity:<db>", nil,
			func(ctx context.Context, id, user, comment string) (process.Status, error) {
				return a.client.Reopen(ctx, id, user, comment)
			}))
	return cmd
}

func (a *app) sweepCommand() *cobra.Command {
	var dryRun bool
	var wikis []string
	cmd := a.connectedCommand("sweep [--dry-run] [--db DB]...",
		"Sweep now: start the process of every wiki whose state must change (--dry-run: only list them)",
		func() error {
			for _, db := range wikis {
				if err := client.ValidateDBName(db); err != nil {
					return invalid(err)
				}
			}
			return nil
		},
		func(ctx context.Context) error {
			report, err := a.client.Sweep(ctx, dryRun, wikis)
			if err != nil {
				return err
			}
			a.print(report, func(w io.Writer) {
				what := "started"
				if report.DryRun {
					what = "would start (dry run: nothing changed)"
				}
				fmt.Fprintf(w, "%d wiki(s) read, %d whose state changes now; processes %s:\n", report.Read, report.DueN, what)
				tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
				fmt.Fprintln(tw, "WIKI\tACTION\tWHY\tPROCESS")
				for _, d := range report.Due {
					proc := d.Process
					if d.Running {
						proc += " (already running)"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Wiki, d.Verdict.Action, d.Verdict.Why, proc)
				}
				tw.Flush()
			})
			return nil
		})
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list what would happen and change nothing")
	cmd.Flags().StringArrayVar(&wikis, "db", nil, "only this wiki (repeatable)")
	return cmd
}

func (a *app) checkInactivityCommand() *cobra.Command {
	var db string
	return a.startCommand("check --db DB", "Start one wiki's inactivity process now: it does what the policy asks (often nothing)",
		map[string]*string{"db": &db}, nil,
		func(ctx context.Context) (process.Status, error) { return a.client.CheckInactivity(ctx, db) })
}

func (a *app) exemptCommand() *cobra.Command {
	var db, user, reason, until string
	var revoke bool
	cmd := a.connectedCommand("exempt --db DB --user STEWARD --reason R [--until TIME] [--revoke]",
		"Exempt a wiki from the inactivity policy, or end its exemption (a steward)",
		func() error {
			flags := map[string]string{"db": db, "user": user}
			if !revoke {
				flags["reason"] = reason
			}
			if err := required(flags); err != nil {
				return err
			}
			if until != "" {
				if _, err := time.Parse(time.RFC3339, until); err != nil {
					return usage("--until must be an RFC 3339 time (2027-01-31T00:00:00Z): %v", err)
				}
			}
			return nil
		},
		func(ctx context.Context) error {
			var expiry time.Time
			if until != "" {
				expiry, _ = time.Parse(time.RFC3339, until)
			}
			res, err := a.client.Exempt(ctx, db, user, reason, expiry, revoke)
			if err != nil {
				return err
			}
			a.print(res, func(w io.Writer) { fmt.Fprintf(w, "%s (by %s)\n", res.Summary, res.User) })
			return nil
		})
	cmd.Flags().StringVar(&db, "db", "", "the wiki")
	cmd.Flags().StringVar(&user, "user", "", "the steward (managewiki-restricted on the central wiki)")
	cmd.Flags().StringVar(&reason, "reason", "", "why the wiki is exempt")
	cmd.Flags().StringVar(&until, "until", "", "when the exemption ends (RFC 3339); none: it does not")
	cmd.Flags().BoolVar(&revoke, "revoke", false, "end the wiki's exemption")
	return cmd
}
