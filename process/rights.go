package process

// Rights the processes ask MediaWiki about (CreateWiki's and ManageWiki's
// own right names).
const (
	// RightManageWikiCore: a wiki's bureaucrats; they approve its deletion.
	RightManageWikiCore = "managewiki-core"
	// RightManageWikiRestricted: stewards; one may approve any gate.
	RightManageWikiRestricted = "managewiki-restricted"
	// RightManageWikiSettings: who may change a wiki's settings.
	RightManageWikiSettings = "managewiki-settings"
	// RightCreateWiki: wiki creators; they review wiki requests.
	RightCreateWiki = "createwiki"
)
