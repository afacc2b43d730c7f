package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/events"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/stream"
)

// DefaultEventsWindow is how far back `events` without --follow, --since
// or --last-event-id reads: the last day's events.
const DefaultEventsWindow = 24 * time.Hour

// eventsCommand reads the farm's event stream from a worker's endpoint
// (hook.address), signed with the hook secret when this configuration has
// it, so that operators see the private wikis' events too; without the
// secret it shows the public wikis' events and says so on stderr.
//
// Without --follow it prints the events stored until it connected (from
// --since, --last-event-id, or the last 24 hours) and exits. With --follow
// it prints the events from there (default: from now on) as they come,
// until interrupted. A dropped connection is resumed after the last event
// printed (Last-Event-ID), so no event is printed twice or missed. With
// --json each event is its JSON on one line (JSON Lines); an error ends
// the output with the usual error document.
func (a *app) eventsCommand() *cobra.Command {
	var since, wiki string
	var lastID int64
	var follow bool
	cmd := &cobra.Command{
		Use:   "events [--follow] [--since TIME] [--last-event-id N] [--wiki DB]",
		Short: "Print the farm's process events (" + events.StreamProcessChange + "), or follow them live",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start, err := eventsStart(cmd.Flags().Changed("since"), since, cmd.Flags().Changed("last-event-id"), lastID, follow, time.Now())
			if err != nil {
				return err
			}
			if wiki != "" {
				if err := checkWikiName(wiki); err != nil {
					return invalid(err)
				}
			}
			cfg, err := config.Load(config.Options{File: a.configFile, Flags: cmd.Flags()})
			if err != nil {
				return err
			}
			base, err := streamBase(cfg.Hook.Address)
			if err != nil {
				return err
			}
			c := &stream.Client{BaseURL: base, Stream: events.StreamProcessChange, Wiki: wiki}
			if secret, err := cfg.HookSecret(); err == nil {
				c.Secret = secret
			} else {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: no hook secret (%v): showing public wikis' events only\n", err)
			}
			if !follow {
				c.MaxRetries = 5
			}
			c.OnReconnect = func(err error, last int64) {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: %v; reconnecting after event %d\n", err, last)
			}
			err = c.Read(cmd.Context(), start, !follow, func(m stream.Message) error {
				if a.json {
					_, err := fmt.Fprintf(a.out, "%s\n", m.Data)
					return err
				}
				_, err := fmt.Fprintln(a.out, EventLine(m.Data))
				return err
			})
			if errors.Is(err, cmd.Context().Err()) && follow {
				return nil // interrupted: the end of following
			}
			var se *stream.StatusError
			if errors.As(err, &se) && se.Code == 400 {
				return invalid(err)
			}
			if err != nil {
				return failed(err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&follow, "follow", false, "keep printing events as they happen, until interrupted")
	cmd.Flags().StringVar(&since, "since", "", "start at this time: RFC 3339 (2026-12-05T10:00:00Z) or Unix milliseconds (default without --follow: 24 hours ago; with --follow: now)")
	cmd.Flags().Int64Var(&lastID, "last-event-id", 0, "start after this event number (the id of the last event seen)")
	cmd.Flags().StringVar(&wiki, "wiki", "", "only this wiki's events")
	return cmd
}

// eventsStart decides where a read starts from the flags.
func eventsStart(hasSince bool, since string, hasLastID bool, lastID int64, follow bool, now time.Time) (stream.Start, error) {
	switch {
	case hasSince && hasLastID:
		return stream.Start{}, usage("give --since or --last-event-id, not both")
	case hasLastID && lastID < 0:
		return stream.Start{}, invalid(fmt.Errorf("--last-event-id %d: an event number is 0 or more", lastID))
	case hasLastID:
		return stream.Start{LastID: lastID, HasLastID: true}, nil
	case hasSince:
		t, err := stream.ParseSince(since)
		if err != nil {
			return stream.Start{}, invalid(fmt.Errorf("--since: %w", err))
		}
		return stream.Start{Since: t}, nil
	case follow:
		return stream.Start{}, nil
	}
	return stream.Start{Since: now.Add(-DefaultEventsWindow)}, nil
}

// streamBase is the endpoint's URL from hook.address, a listening address:
// an unspecified host (":8092", "0.0.0.0:8092") is this machine.
func streamBase(addr string) (string, error) {
	if addr == "" {
		return "", &config.Error{Key: "hook.address", Msg: "empty: the worker serves no endpoint, so there is no event stream to read"}
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", &config.Error{Key: "hook.address", Msg: fmt.Sprintf("not host:port: %v", err)}
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

func checkWikiName(db string) error {
	if farmdb.CheckDBName(db) != nil {
		return fmt.Errorf("--wiki %q is not a wiki database name (lowercase letters, digits and underscores, starting with a letter)", db)
	}
	return nil
}

// EventLine is an event as one line of text: when it happened, the
// process, the wiki and what changed, e.g.
//
//	2026-12-05T10:00:01.123Z  create-wiki:foowiki  foowiki  step schema running→succeeded (attempt 1)
//
// Data that is not an event of the stream is printed as it came.
func EventLine(data []byte) string {
	var ev events.ProcessChange
	if err := json.Unmarshal(data, &ev); err != nil || ev.ChangeKind == "" {
		return strings.TrimSpace(string(data))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s  %s  ", ev.DT, ev.Process.ID, ev.Wiki.DB)
	switch {
	case ev.ChangeKind == events.KindStep && ev.Step != nil:
		fmt.Fprintf(&b, "step %s %s→%s (attempt %d)", ev.Step.Name, ev.Step.PriorState, ev.Step.State, ev.Step.Attempt)
		if ev.Step.Undone {
			b.WriteString(" undone")
		}
	case ev.ChangeKind == events.KindState:
		b.WriteString("state ")
		if ev.PriorState != nil {
			b.WriteString(ev.PriorState.State + "→")
		}
		b.WriteString(ev.Process.State)
		if ev.PriorState == nil {
			fmt.Fprintf(&b, " (%s started)", ev.Process.Kind)
		}
	case ev.ChangeKind == events.KindDecision && ev.Decision != nil:
		fmt.Fprintf(&b, "decision %s %s", ev.Decision.Decision, accepted(ev.Decision.Accepted))
		if ev.Decision.Override {
			b.WriteString(" (override)")
		}
	case ev.ChangeKind == events.KindAction && ev.Action != nil:
		fmt.Fprintf(&b, "action %s", ev.Action.Name)
		if ev.Action.Step != "" {
			b.WriteString(" on " + ev.Action.Step)
		}
		b.WriteString(" " + accepted(ev.Action.Accepted))
	default:
		b.WriteString(ev.ChangeKind)
	}
	if ev.Performer != nil {
		b.WriteString(" by " + ev.Performer.UserText)
	}
	if ev.Reason != "" {
		fmt.Fprintf(&b, ": %q", ev.Reason)
	}
	if ev.Error != "" {
		b.WriteString(" error: " + oneLine(ev.Error))
	}
	if ev.Wiki.IsPrivate {
		b.WriteString("  [private wiki]")
	}
	return b.String()
}

func accepted(ok bool) string {
	if ok {
		return "accepted"
	}
	return "refused"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
