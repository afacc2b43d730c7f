package createwiki

import (
	"github.com/wikiflow/wikiflow/activities"
)

// Register puts the process's own activities on a worker, each under its
// method name (the name its definition and recorded histories use).
func Register(r activities.Registry, farm *activities.Farm) {
	a := &Activities{farm}
	for _, fn := range []any{
		a.ValidateWiki,
		a.CreateDatabase,
		a.DropDatabase,
		a.CreateSchema,
		a.RegisterWiki,
		a.UnregisterWiki,
		a.GrantRequesterRights,
		a.CreateMainPage,
		a.CreateStorage,
		a.RemoveStorage,
		a.NotifyCreated,
	} {
		r.RegisterActivity(fn)
	}
}
