package deletewiki

import "github.com/wikiflow/wikiflow/activities"

// Names under which the deletion activities are registered.
const (
	NameCloseWiki         = "CloseWiki"
	NameMarkWikiDeleted   = "MarkWikiDeleted"
	NameReopenWiki        = "ReopenWiki"
	NameNotifyBureaucrats = activities.NameNotifyBureaucrats // shared with the inactivity policy
	NameCountRightHolders = "CountRightHolders"              // RightHoldersInput -> RightHoldersResult, not a step
	NameBackupDatabase    = "BackupDatabase"
	NameVerifyBackup      = "VerifyBackup"
	NameDropWikiDatabase  = "DropWikiDatabase"
	NameRemoveWikiRows    = "RemoveWikiRows"
)

// DeletionStepActivities lists the deletion's step activities
// (StepInput -> StepResult); RemoveStorage, shared with creation, is in
// StepActivities.
var DeletionStepActivities = []string{
	NameCloseWiki, NameMarkWikiDeleted, NameReopenWiki, NameNotifyBureaucrats,
	NameBackupDatabase, NameArchiveUploads, NameExportWikiRows, NameVerifyBackup, NameDropWikiDatabase, NameRemoveWikiRows,
}

// Names of the backup's step activities.
const (
	NameArchiveUploads = "ArchiveUploads"
	NameExportWikiRows = "ExportWikiRows"
)

// Activities are the deletewiki process's own activities, on the farm's shared
// dependencies. Their methods are registered one by one (see Register), so
// the helpers of the embedded Farm are never registered a second time.
type Activities struct{ *activities.Farm }
