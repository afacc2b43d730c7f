package deletewiki

import (
	"context"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
)

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
