package activities

import (
	"reflect"

	"go.temporal.io/sdk/activity"
)

// Names of the shared activities that process definitions name as data (a
// method registers under its own name); a test checks each one exists.
const (
	NameSourceSQLFile        = "SourceSQLFile"
	NameRunMaintenanceScript = "RunMaintenanceScript"
	NameCheckRights          = "CheckRights"
	NameOwnWiki              = "OwnWiki"
)

// Register puts the activities every process shares on a worker, each
// under its method name. Farm's other exported methods are helpers for the
// processes' own activities and are never registered.
func Register(r Registry, f *Farm) {
	for _, fn := range []any{
		f.CheckRights, f.LookupWiki, f.ReadSiteInfo, f.OwnWiki, f.ReleaseWiki,
		f.SourceSQLFile, f.RunMaintenanceScript, f.NotifyBureaucrats, f.StoreEvents,
	} {
		r.RegisterActivity(fn)
	}
}

// RegisterOwn puts a process's own activities on a worker: every method of
// its Activities (a struct embedding *Farm) that Farm itself does not have,
// under its method name, the name definitions and histories use. Farm's
// methods are the shared activities and the processes' helpers; registering
// the struct would register those again.
func RegisterOwn(r Registry, own any) {
	farm := reflect.TypeOf(&Farm{})
	typ, val := reflect.TypeOf(own), reflect.ValueOf(own)
	for i := range typ.NumMethod() {
		name := typ.Method(i).Name
		if _, shared := farm.MethodByName(name); !shared {
			r.RegisterActivityWithOptions(val.Method(i).Interface(), activity.RegisterOptions{Name: name})
		}
	}
}

// Registry is where activities are registered: a worker, or a test's
// activity environment.
type Registry interface {
	RegisterActivity(a any)
	RegisterActivityWithOptions(a any, options activity.RegisterOptions)
}
