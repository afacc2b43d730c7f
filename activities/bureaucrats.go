package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/mediawiki"
	"github.com/wikiflow/wikiflow/process"
)

// NameNotifyBureaucrats is the registered name of NotifyBureaucrats, a
// step of deletions and of the inactivity policy.
const NameNotifyBureaucrats = "NotifyBureaucrats"

// Phases of NotifyBureaucrats (params: phase): a deletion's, then the
// inactivity policy's.
const (
	PhaseScheduled = "scheduled"
	PhaseDeleted   = "deleted"
	PhaseInactive  = "inactive" // warned: closed at Args["next"] unless someone edits
	PhaseClosed    = "closed"   // closed for inactivity: deleted after Args["next"] unless reopened
)

// phaseTime is the argument holding the time a phase's notice names.
var phaseTime = map[string]string{PhaseScheduled: "delete_after", PhaseDeleted: "", PhaseInactive: "next", PhaseClosed: "next"}

// NotifyBureaucrats tells the wiki's bureaucrats, by email to those with a
// confirmed address in the farm's shared user table, and farm staff, by one
// webhook message, that the wiki is scheduled for deletion or was deleted,
// or that it was found inactive or closed for inactivity.
//
// Params: phase (the Phase constants), central_wiki (whose database holds
// the shared user table). Args: reason; delete_after (RFC 3339, for
// "scheduled"); next (RFC 3339, for "inactive" and "closed"); bureaucrats (optional JSON list, see below). The
// bureaucrats come from the wiki's API; when the farm no longer serves the
// wiki (marked deleted), from its database; when that is gone too (the
// "deleted" phase), from Args["bureaucrats"] or else the "bureaucrats"
// output of an earlier step: this activity records the list it found, so the
// process passes the "scheduled" run's output on. Outputs: bureaucrats and
// emailed (JSON lists).
func (f *Farm) NotifyBureaucrats(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db, err := WikiDB(in)
	if err != nil {
		return process.StepResult{}, err
	}
	phase := in.Params["phase"]
	timeArg, known := phaseTime[phase]
	if !known {
		return process.StepResult{}, Permanent(ErrTypeMisconfigured, "step %s: the param phase must be one of %q, %q, %q, %q, not %q",
			in.Step, PhaseScheduled, PhaseDeleted, PhaseInactive, PhaseClosed, phase)
	}
	central := in.Params["central_wiki"]
	if err := farmdb.CheckDBName(central); err != nil {
		return process.StepResult{}, Permanent(ErrTypeMisconfigured, "step %s: the param central_wiki: %v", in.Step, err)
	}
	reason := strings.TrimSpace(in.Args["reason"])
	var deleteAfter time.Time
	if timeArg != "" {
		t, err := time.Parse(time.RFC3339, in.Args[timeArg])
		if err != nil {
			return process.StepResult{}, Permanent(ErrTypeInvalidInput, "the argument %s must be an RFC 3339 time: %v", timeArg, err)
		}
		deleteAfter = t.UTC()
	}
	bureaucrats, source, err := f.bureaucrats(ctx, in, central)
	if err != nil {
		return process.StepResult{}, err
	}
	emails, err := f.confirmedEmails(ctx, central, bureaucrats)
	if err != nil {
		return process.StepResult{}, err
	}

	var emailed []string
	if f.Notifier.SMTPAddress != "" {
		for _, name := range bureaucrats {
			addr, ok := emails[name]
			if !ok {
				continue
			}
			subject, body := bureaucratEmail(phase, db, name, reason, deleteAfter)
			if err := f.Notifier.Email(ctx, addr, subject, body); err != nil {
				return process.StepResult{}, err
			}
			emailed = append(emailed, name)
		}
	}
	staff := false
	if f.Notifier.WebhookURL != "" {
		if err := f.Notifier.Webhook(ctx, staffMessage(phase, db, reason, deleteAfter, bureaucrats, emailed)); err != nil {
			return process.StepResult{}, err
		}
		staff = true
	}

	var told []string
	if len(emailed) > 0 {
		told = append(told, "emailed "+strings.Join(emailed, ", "))
	}
	if n := len(bureaucrats) - len(emailed); n > 0 {
		told = append(told, fmt.Sprintf("%d bureaucrat(s) without a confirmed address (or no mail server) not emailed", n))
	}
	if len(bureaucrats) == 0 {
		told = append(told, "no bureaucrats found ("+source+")")
	}
	if staff {
		told = append(told, "staff webhook sent")
	} else {
		told = append(told, "no staff webhook configured")
	}
	return process.StepResult{
		Summary: fmt.Sprintf("%s of %s: %s", phase, db, strings.Join(told, "; ")),
		Outputs: map[string]string{"bureaucrats": jsonList(bureaucrats), "emailed": jsonList(emailed)},
	}, nil
}

// bureaucrats lists the wiki's bureaucrats from the best source still there.
func (f *Farm) bureaucrats(ctx context.Context, in process.StepInput, central string) ([]string, string, error) {
	db := in.Wiki.DB
	names, err := f.API.GroupMembers(ctx, db, "bureaucrat")
	if err == nil {
		sort.Strings(names)
		return names, "the wiki's API", nil
	}
	if !errors.Is(err, mediawiki.ErrUnknownWiki) {
		return nil, "", err
	}
	// Not served (marked deleted): its database still knows.
	cluster, err := f.WikiCluster(ctx, db)
	if err != nil {
		return nil, "", err
	}
	if cluster != "" {
		names, err := f.groupMembersFromDB(ctx, cluster, db, central, "bureaucrat")
		if err != nil {
			return nil, "", err
		}
		return names, "the wiki's database", nil
	}
	// Dropped: the process passed them on, or an earlier step recorded them.
	if v := in.Args["bureaucrats"]; v != "" {
		var names []string
		if err := json.Unmarshal([]byte(v), &names); err != nil {
			return nil, "", Permanent(ErrTypeInvalidInput, "the argument bureaucrats must be a JSON list of user names: %v", err)
		}
		return names, "the process's arguments", nil
	}
	steps := make([]string, 0, len(in.Outputs))
	for s := range in.Outputs {
		steps = append(steps, s)
	}
	sort.Strings(steps)
	for _, s := range steps {
		if v, ok := in.Outputs[s]["bureaucrats"]; ok {
			var names []string
			if err := json.Unmarshal([]byte(v), &names); err == nil {
				return names, "recorded by step " + s, nil
			}
		}
	}
	return nil, "the wiki is gone and no earlier step recorded its bureaucrats", nil
}

// groupMembersFromDB reads a group's current members from the wiki's own
// user_groups, and their names from the farm's shared user table. The
// caller has checked both database names.
func (f *Farm) groupMembersFromDB(ctx context.Context, cluster, db, central, group string) ([]string, error) {
	server, err := f.Clusters.Server(cluster)
	if err != nil {
		return nil, Permanent(ErrTypeMisconfigured, "%v", err)
	}
	ids, err := farmdb.GroupMemberIDs(ctx, server, db, group)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	users, err := f.sharedUsers(ctx, central)
	if err != nil {
		return nil, err
	}
	return users.Names(ctx, ids)
}

// confirmedEmails maps the users who have a confirmed email address in the
// farm's shared user table to it.
func (f *Farm) confirmedEmails(ctx context.Context, central string, names []string) (map[string]string, error) {
	if len(names) == 0 {
		return map[string]string{}, nil
	}
	users, err := f.sharedUsers(ctx, central)
	if err != nil {
		return nil, err
	}
	return users.ConfirmedEmails(ctx, names)
}

// sharedUsers is the farm's shared user table, in the central wiki's
// database, on the cluster that holds that database.
func (f *Farm) sharedUsers(ctx context.Context, central string) (farmdb.SharedUsers, error) {
	cluster, err := f.WikiCluster(ctx, central)
	if err != nil {
		return farmdb.SharedUsers{}, err
	}
	if cluster == "" {
		return farmdb.SharedUsers{}, Permanent(ErrTypeMisconfigured, "the central wiki's database %s is on no cluster", central)
	}
	server, err := f.Clusters.Server(cluster)
	if err != nil {
		return farmdb.SharedUsers{}, Permanent(ErrTypeMisconfigured, "%v", err)
	}
	return farmdb.SharedUsers{Server: server, DB: central}, nil
}

func bureaucratEmail(phase, db, name, reason string, deleteAfter time.Time) (string, string) {
	why := ""
	if reason != "" {
		why = "\nReason: " + reason + "\n"
	}
	when := deleteAfter.Format("2006-01-02 15:04 MST")
	switch phase {
	case PhaseInactive:
		return fmt.Sprintf("Your wiki %s is inactive and will be closed", db),
			fmt.Sprintf("Hello %s,\n\nthe wiki %s, where you are a bureaucrat, has had no edits or log entries for a long time and is now marked inactive.\n\n"+
				"It will be closed (made read-only) after %s unless someone edits it before then. Any edit keeps it open.\n", name, db, when)
	case PhaseClosed:
		return fmt.Sprintf("Your wiki %s has been closed for inactivity", db),
			fmt.Sprintf("Hello %s,\n\nthe wiki %s, where you are a bureaucrat, has been closed for inactivity: it is read-only.\n\n"+
				"It will be deleted after %s. To keep it, reopen it before then from Special:Processes on the farm's central wiki (log in there: a closed wiki takes no logins).\n", name, db, when)
	}
	if phase == PhaseScheduled {
		return fmt.Sprintf("Your wiki %s is scheduled for deletion", db),
			fmt.Sprintf("Hello %s,\n\nthe wiki %s, where you are a bureaucrat, has been closed and is scheduled for deletion.\n%s\n"+
				"It will be deleted after %s. Until then farm staff can still restore it; reply to this message or contact them if this is a mistake.\n",
				name, db, why, deleteAfter.Format("2006-01-02 15:04 MST"))
	}
	return fmt.Sprintf("Your wiki %s has been deleted", db),
		fmt.Sprintf("Hello %s,\n\nthe wiki %s, where you were a bureaucrat, has been deleted.\n%s\nFarm staff keep a backup of its database.\n",
			name, db, why)
}

func staffMessage(phase, db, reason string, deleteAfter time.Time, bureaucrats, emailed []string) string {
	var b strings.Builder
	switch phase {
	case PhaseScheduled:
		fmt.Fprintf(&b, "Wiki **%s** is closed and scheduled for deletion after %s.", db, deleteAfter.Format(time.RFC3339))
	case PhaseInactive:
		fmt.Fprintf(&b, "Wiki **%s** is marked inactive; it is closed after %s unless someone edits it.", db, deleteAfter.Format(time.RFC3339))
	case PhaseClosed:
		fmt.Fprintf(&b, "Wiki **%s** is closed for inactivity; it goes to deletion after %s unless reopened.", db, deleteAfter.Format(time.RFC3339))
	default:
		fmt.Fprintf(&b, "Wiki **%s** has been deleted (database backed up, verified and dropped).", db)
	}
	if reason != "" {
		fmt.Fprintf(&b, " Reason: %s.", reason)
	}
	if len(bureaucrats) == 0 {
		b.WriteString(" Bureaucrats: none.")
	} else {
		fmt.Fprintf(&b, " Bureaucrats: %s", strings.Join(bureaucrats, ", "))
		if len(emailed) > 0 {
			fmt.Fprintf(&b, " (emailed: %s)", strings.Join(emailed, ", "))
		} else {
			b.WriteString(" (none emailed)")
		}
		b.WriteString(".")
	}
	return b.String()
}

// jsonList is a list as one step output: a JSON array, never null.
func jsonList(s []string) string {
	if s == nil {
		s = []string{}
	}
	b, _ := json.Marshal(s)
	return string(b)
}
