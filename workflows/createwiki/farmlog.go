package createwiki

import (
	"context"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
)

// logCreated: farmer/createwiki on the central wiki. The performer is the
// wiki creator whose approval completed the wiki's request (the farmer log
// of request-wiki:<db> says who), as CreateWiki logs the creator who
// approved; a creation an operator started has no one else named in it, so
// its performer is the requester, for whom the wiki was made and who
// becomes its bureaucrat.
func (f *Activities) logCreated(ctx context.Context, in process.StepInput) error {
	request := "request-wiki:" + in.Wiki.DB
	approverOf := activities.ProcessPage(request)
	if f.Processes != nil {
		// Approvals count only while the review waits for this creation.
		if open, err := f.Processes.Open(ctx, request, ""); err == nil && !open {
			approverOf = ""
		}
	}
	return f.WriteLog(ctx, activities.LogEntry{
		Wiki: f.CentralHint(in.Params[activities.ParamCentralWiki], in.Wiki.DB), Central: true, Type: activities.LogFarmer, Action: "createwiki",
		Performer: in.Requester, ApproverOf: approverOf, Target: activities.ProcessPage(in.ProcessID),
		Params: map[string]any{"4::wiki": in.Wiki.DB, "5::requester": in.Requester},
		Key:    activities.StepKey(ctx, in, activities.LogFarmer+"/createwiki"),
	})
}
