package activities

// Names under which the Farm's step activities are registered (a struct's
// methods register under their own names). Process definitions are data, so
// they name activities by these strings; a test checks each one exists.
const (
	NameValidateWiki         = "ValidateWiki"
	NameCreateDatabase       = "CreateDatabase"
	NameDropDatabase         = "DropDatabase"
	NameCreateSchema         = "CreateSchema"
	NameSourceSQLFile        = "SourceSQLFile"
	NameRegisterWiki         = "RegisterWiki"
	NameUnregisterWiki       = "UnregisterWiki"
	NameGrantRequesterRights = "GrantRequesterRights"
	NameCreateMainPage       = "CreateMainPage"
	NameCreateStorage        = "CreateStorage"
	NameRemoveStorage        = "RemoveStorage"
	NameRunMaintenanceScript = "RunMaintenanceScript"
	NameNotifyCreated        = "NotifyCreated"
	NameCheckRights          = "CheckRights"
)

// StepActivities lists every activity a farm may name in a step it adds
// through configuration.
var StepActivities = []string{
	NameValidateWiki, NameCreateDatabase, NameDropDatabase, NameCreateSchema, NameSourceSQLFile,
	NameRegisterWiki, NameUnregisterWiki, NameGrantRequesterRights, NameCreateMainPage,
	NameCreateStorage, NameRemoveStorage, NameRunMaintenanceScript, NameNotifyCreated,
}
