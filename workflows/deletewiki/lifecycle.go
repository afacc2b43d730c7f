package deletewiki

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/mediawiki"
	"github.com/wikiflow/wikiflow/process"
)

// CloseWiki closes the wiki with the reason in Args["reason"]: the farm keeps
// serving it read-only. The first closing time is kept on a rerun. It then
// checks over the wiki's API that the wiki really is read-only (a wiki that
// is already marked deleted is not served at all, which is fine too).
func (f *Activities) CloseWiki(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db, err := activities.WikiDB(in)
	if err != nil {
		return process.StepResult{}, err
	}
	reason := strings.TrimSpace(in.Args["reason"])
	if err := f.CloseServed(ctx, db, reason); err != nil {
		return process.StepResult{}, err
	}
	summary := fmt.Sprintf("closed %s (read-only)", db)
	if reason != "" {
		summary += ": " + reason
	}
	if err := f.logDeletion(ctx, in, activities.LogManageWiki, "closed"); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: summary}, nil
}

// MarkWikiDeleted marks the wiki deleted in cw_wikis (the first time is
// kept on a rerun) and checks that the farm no longer serves it. Its data
// stays until the grace period ends; ReopenWiki undoes this.
func (f *Activities) MarkWikiDeleted(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db, err := activities.WikiDB(in)
	if err != nil {
		return process.StepResult{}, err
	}
	if err := f.Central.MarkDeleted(ctx, db, time.Now()); err != nil {
		return process.StepResult{}, activities.CentralErr(db, err)
	}
	if err := f.RefreshWikiLists(ctx, db); err != nil {
		return process.StepResult{}, err
	}
	if _, err := f.API.SiteInfo(ctx, db); err == nil {
		return process.StepResult{}, fmt.Errorf("%s is marked deleted in cw_wikis but the farm still serves it", db)
	} else if !errors.Is(err, mediawiki.ErrUnknownWiki) {
		return process.StepResult{}, err
	}
	if err := f.logDeletion(ctx, in, activities.LogManageWiki, "delete"); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: fmt.Sprintf("marked %s deleted: the farm no longer serves it", db)}, nil
}

// ReopenWiki is the undelete: it reverses CloseWiki and MarkWikiDeleted
// (no closing or deletion time or reason left) and checks over the API
// that the wiki answers again and accepts edits.
func (f *Activities) ReopenWiki(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db, err := activities.WikiDB(in)
	if err != nil {
		return process.StepResult{}, err
	}
	if err := f.ReopenServed(ctx, db); err != nil {
		return process.StepResult{}, err
	}
	if err := f.logDeletion(ctx, in, activities.LogManageWiki, "undelete"); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: fmt.Sprintf("reopened %s: served and writable again", db)}, nil
}

// logDeletion logs a deletion step on the central wiki (ManageWiki logs
// deletion and undeletion there, from its central form): performer the
// requester, comment the reason they gave. Undelete names who undeleted
// when the step's Args do (undeleted_by, undelete_comment), else the farm.
func (f *Activities) logDeletion(ctx context.Context, in process.StepInput, typ, action string) error {
	central := f.CentralHint(in.Params[activities.ParamCentralWiki], "")
	e := activities.LogEntry{
		Wiki: activities.OrDefault(central, in.Wiki.DB), Central: true, Type: typ, Action: action, Performer: in.Requester,
		Target: activities.ProcessPage(in.ProcessID), Comment: in.Args["reason"],
		Params: map[string]any{"4::wiki": in.Wiki.DB}, Key: activities.StepKey(ctx, in, typ+"/"+action),
	}
	switch action {
	case "closed":
		e.Params["5::reason"] = in.Args["reason"]
	case "undelete":
		e.Performer, e.Comment = in.Args["undeleted_by"], in.Args["undelete_comment"]
		if e.Performer == "" {
			e.Performer = activities.SystemUser
			if central != "" {
				if _, name, err := f.SystemUserID(ctx, central); err == nil {
					e.Performer = name
				}
			}
		}
	}
	return f.WriteLog(ctx, e)
}
