package requestwiki

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
)

// logRequestFiled: farmer/requestwiki by the requester, with CreateWiki's
// parameters (and the database name).
func (f *Activities) logRequestFiled(ctx context.Context, in FileRequestInput, id int64, requester string) error {
	base := in.Key
	if base == "" {
		base = activities.RunKey(ctx, fmt.Sprintf("request-wiki:%s/%d", in.DB, id))
	}
	private := 0
	if in.Private {
		private = 1
	}
	return f.WriteLog(ctx, activities.LogEntry{
		Wiki: f.CentralHint(in.Central, ""), Central: true, Type: activities.LogFarmer, Action: "requestwiki", Performer: requester,
		Target: activities.ProcessPage(activities.ProcessID(ctx, "request-wiki:"+in.DB)), Comment: in.Reason,
		Params: map[string]any{"4::sitename": in.Sitename, "5::language": in.Language, "6::private": private,
			"7::id": fmt.Sprintf("#%d", id), "8::wiki": in.DB},
		Key: base + "/requestwiki",
	})
}

// requestLogAction is the farmer action of an update of a request, "" for
// one that is not logged. People's decisions are logged, each under its
// decider (with a quorum of two, two requestapprove entries); the farm's own
// approved and declined that follow them are not, because they add nothing
// the decisions did not say. An abandonment is the farm's (a withdrawal
// ended the review, or the details never came), so it is logged as well as
// the requester's withdrawal. A creation's outcome is logged only when the
// wiki did not come to exist (RegisterWiki logs the creation).
func requestLogAction(in UpdateRequestInput) string {
	switch in.Status {
	case farmdb.RequestOnHold:
		return "requestonhold"
	case farmdb.RequestMoreDetails:
		return "requestmoredetails"
	case farmdb.RequestInReview:
		return "requestreopen" // only the requester's edit puts a request back in review
	case farmdb.RequestAbandoned:
		return "requestabandon"
	case "":
		switch process.Decision(in.Action) {
		case process.DecisionApprove:
			return "requestapprove"
		case process.DecisionDecline:
			return "requestdecline"
		case process.DecisionCancel:
			return "requestwithdraw"
		case "create-wiki":
			return "create-failure"
		}
	}
	return ""
}

// logRequestUpdate logs an update of request in.ID (of the wiki db) that
// UpdateRequest has written, under the account it recorded (res.User).
func (f *Activities) logRequestUpdate(ctx context.Context, in UpdateRequestInput, db string, res UpdateRequestResult) error {
	action := requestLogAction(in)
	if action == "" || res.Changed {
		return nil
	}
	if action == "create-failure" {
		if w, err := f.Central.Wiki(ctx, db); err == nil && !w.Deleted {
			return nil // created: RegisterWiki logged farmer/createwiki
		} else if err != nil && !errors.Is(err, farmdb.ErrWikiNotFound) {
			return err
		}
	}
	comment := in.Comment
	if in.Status == "" {
		// A decision's comment is recorded as "approve: <what they said>".
		comment = strings.TrimSpace(strings.TrimPrefix(comment, in.Action+":"))
	}
	at := in.At
	if in.User == "" && in.Status != "" {
		// The farm's status change follows a person's decision made at the same workflow
		// instant (a withdrawal, then the abandonment), and the two entries are written at
		// once: a second later in the log, as in cw_comments, the cause reads before the effect.
		at = at.Add(time.Second)
	}
	id := activities.ProcessID(ctx, "request-wiki:"+db)
	return f.WriteLog(ctx, activities.LogEntry{
		Wiki: f.CentralHint(in.Central, ""), Central: true, Type: activities.LogFarmer, Action: action, Performer: res.User,
		Target: activities.ProcessPage(id), Comment: comment,
		Params: map[string]any{"4::id": fmt.Sprintf("#%d", in.ID), "5::wiki": db},
		Key:    fmt.Sprintf("%s/%d/%s/%s", id, in.ID, action, in.At.UTC().Format(time.RFC3339Nano)),
		Time:   at,
	})
}
