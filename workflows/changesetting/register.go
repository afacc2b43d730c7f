package changesetting

import (
	"github.com/wikiflow/wikiflow/activities"
)

// Register puts the process's own activities on a worker, each under its
// method name (the name its definition and recorded histories use).
func Register(r activities.Registry, farm *activities.Farm) {
	a := &Activities{farm}
	for _, fn := range []any{
		a.ValidateSettingChange,
		a.ApplySetting,
	} {
		r.RegisterActivity(fn)
	}
}
