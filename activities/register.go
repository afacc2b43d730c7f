package activities

// Names of the shared activities that process definitions name as data (a
// method registers under its own name); a test checks each one exists.
const (
	NameSourceSQLFile        = "SourceSQLFile"
	NameRunMaintenanceScript = "RunMaintenanceScript"
	NameCheckRights          = "CheckRights"
)

// Register puts the activities every process shares on a worker, each
// under its method name. Farm's other exported methods are helpers for the
// processes' own activities and are never registered.
func Register(r Registry, f *Farm) {
	for _, fn := range []any{
		f.CheckRights, f.LookupWiki, f.ReadSiteInfo, f.OwnWiki, f.ReleaseWiki,
		f.SourceSQLFile, f.RunMaintenanceScript,
	} {
		r.RegisterActivity(fn)
	}
}

// Registry is where activities are registered: a worker, or a test's
// activity environment.
type Registry interface{ RegisterActivity(a any) }
