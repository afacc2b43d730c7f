package restorewiki

import "github.com/wikiflow/wikiflow/activities"

// Names of the restore's activities.
const (
	NameCheckRestore    = "CheckRestore" // CheckRestoreInput -> CheckRestoreResult, not a step
	NameRestoreDatabase = "RestoreDatabase"
	NameRestoreUploads  = "RestoreUploads"
	NameRestoreWikiRows = "RestoreWikiRows"
)

// RestoreStepActivities lists the restore's step activities (StepInput ->
// StepResult); it also runs ReopenWiki, and DropDatabase, RemoveStorage and
// UnregisterWiki as undo.
var RestoreStepActivities = []string{NameRestoreDatabase, NameRestoreUploads, NameRestoreWikiRows}

// CheckRestoreInput names the wiki to restore.
type CheckRestoreInput struct {
	DB string `json:"db"`
}

// CheckRestoreResult describes the backup a restore would use.
type CheckRestoreResult struct {
	Manifest       string `json:"manifest"` // path of its backup.json
	ManifestSHA256 string `json:"manifest_sha256"`
	Process        string `json:"process"` // the deletion that made it
	VerifiedAt     string `json:"verified_at"`
	Tables         int    `json:"tables"`
	Files          int    `json:"files"`
	FileBytes      int64  `json:"file_bytes"`
	Rows           int    `json:"rows"` // in the central tables
}

// Activities are the restorewiki process's own activities, on the farm's shared
// dependencies. Their methods are registered one by one (see Register), so
// the helpers of the embedded Farm are never registered a second time.
type Activities struct{ *activities.Farm }
