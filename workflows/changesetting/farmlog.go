package changesetting

import (
	"context"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
)

// logSetting: managewiki/settings on the wiki itself, as ManageWiki's own
// settings form logs, with the old and the new value.
func (f *Activities) logSetting(ctx context.Context, in process.StepInput, name, old, value string) error {
	return f.WriteLog(ctx, activities.LogEntry{
		Wiki: in.Wiki.DB, Type: activities.LogManageWiki, Action: "settings", Performer: in.Requester,
		Target: activities.ProcessPage(in.ProcessID), Comment: in.Args["reason"],
		Params: map[string]any{"4::wiki": in.Wiki.DB, "5::changes": name, "6::old": old, "7::new": value},
		Key:    activities.StepKey(ctx, in, "managewiki/settings"),
	})
}
