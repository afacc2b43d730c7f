package requestwiki

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
)

// EditRequestInput is the requester's edit of their request; empty fields
// stay as they are.
type EditRequestInput struct {
	ID       int64  `json:"id"`
	Sitename string `json:"sitename,omitempty"`
	Language string `json:"language,omitempty"`
	Category string `json:"category,omitempty"`
	// Comment, when not empty, replaces the request's reason (cw_comment).
	Comment string `json:"comment,omitempty"`
	// Private, when not nil, changes the wiki's privacy.
	Private *bool `json:"private,omitempty"`
	// Central is the central wiki (its database holds the shared actor
	// table); empty uses the farm's (WikiRules.CentralWiki).
	Central string `json:"central,omitempty"`
}

// EditWikiRequest changes what the requester may edit in cw_requests
// (sitename, language, category, privacy, reason) as CreateWiki's edit form
// does, in one transaction: the columns, the requester's comment "Updated
// request." and a cw_history entry (edited, or reopened when the request
// was declined, on hold or waiting for details) with CreateWiki's change
// message. Only the requester edits a request (the workflow checks it), so
// the comment and the entry are theirs (cw_user). Idempotent: an edit that
// changes nothing writes nothing.
func (f *Activities) EditWikiRequest(ctx context.Context, in EditRequestInput) (process.StepResult, error) {
	req, err := f.Central.GetRequest(ctx, in.ID)
	if err != nil {
		return process.StepResult{}, classifyRequestErr(err)
	}
	var changed []string
	set := func(field string, dst *string, v string) {
		if v != "" && v != *dst {
			*dst = v
			changed = append(changed, field)
		}
	}
	set("sitename", &req.Sitename, in.Sitename)
	set("language", &req.Language, in.Language)
	set("category", &req.Category, in.Category)
	set("reason", &req.Comment, in.Comment)
	if in.Private != nil && *in.Private != req.Private {
		req.Private = *in.Private
		changed = append(changed, "privacy")
	}
	if in.Language != "" {
		known, err := f.KnownLanguages()
		if err != nil {
			return process.StepResult{}, err
		}
		if !known[in.Language] {
			return process.StepResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "invalid request edit: MediaWiki does not know the language %q", in.Language)
		}
	}
	if len(changed) == 0 {
		return process.StepResult{Summary: fmt.Sprintf("request %d: nothing to change", in.ID)}, nil
	}
	central := in.Central
	if central == "" {
		central = f.Rules.CentralWiki
	}
	if central == "" {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeMisconfigured, "editing a request needs the central wiki (its actor table)")
	}
	actorID, err := f.FarmActorID(ctx, central, fmt.Sprint("user ", req.UserID), req.UserID)
	if err != nil {
		return process.StepResult{}, err
	}
	edit, err := f.Central.EditRequest(ctx, in.ID, farmdb.RequestEdit{
		Sitename: in.Sitename, Language: in.Language, Category: in.Category, Reason: in.Comment, Private: in.Private,
	}, actorID, time.Now())
	if err != nil {
		return process.StepResult{}, classifyRequestErr(err)
	}
	if len(edit.Changes) == 0 { // a retry found its own earlier edit
		return process.StepResult{Summary: fmt.Sprintf("request %d: nothing to change", in.ID)}, nil
	}
	return process.StepResult{
		Summary: fmt.Sprintf("request %d: changed %s", in.ID, strings.Join(changed, ", ")),
		Outputs: map[string]string{"changed": strings.Join(changed, ","), "history": edit.Action},
	}, nil
}
