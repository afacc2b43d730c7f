package workflowtest

import (
	"time"

	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/changesetting"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
)

// The times of the processes the tests start (an hour to retry a failed
// step everywhere).
const (
	DeleteGrace    = 7 * 24 * time.Hour  // a deleted wiki's grace period
	DeleteExpiry   = 14 * 24 * time.Hour // how long a deletion waits for approval
	SettingExpiry  = 3 * 24 * time.Hour  // how long a setting change waits for approval
	RequestDetails = 7 * 24 * time.Hour  // how long a request waits for more details
)

// NewWiki is the wiki a request asks for.
const NewWiki = "newwiki"

// stepActivities are the step-like activities (StepInput -> StepResult) of
// every workflow under test.
var stepActivities = []string{
	deletewiki.NameCloseWiki, deletewiki.NameMarkWikiDeleted, deletewiki.NameReopenWiki, deletewiki.NameNotifyBureaucrats,
	deletewiki.NameBackupDatabase, deletewiki.NameArchiveUploads, deletewiki.NameExportWikiRows,
	deletewiki.NameVerifyBackup, deletewiki.NameDropWikiDatabase,
	deletewiki.NameRemoveWikiRows, createwiki.NameRemoveStorage,
	changesetting.NameValidateSettingChange, changesetting.NameApplySetting,
	createwiki.NameValidateWiki, createwiki.NameCreateDatabase, createwiki.NameDropDatabase, createwiki.NameCreateSchema,
	createwiki.NameRegisterWiki, createwiki.NameUnregisterWiki, createwiki.NameGrantRequesterRights,
	createwiki.NameCreateMainPage, createwiki.NameCreateStorage, createwiki.NameNotifyCreated,
}

// RequestWorkflows are a wiki request and the creation it starts.
var RequestWorkflows = []any{requestwiki.RequestWiki, createwiki.CreateWiki}

// DeleteOptions: two local approvers, the grace period and expiry above.
func DeleteOptions() deletewiki.DeleteWikiOptions {
	return deletewiki.DeleteWikiOptions{
		CentralWiki: Central, GracePeriod: DeleteGrace, AttentionWindow: time.Hour,
		LocalApprovers: 2, Expiry: DeleteExpiry,
	}
}

// DeleteInput asks for the deletion of wiki, with o.
func DeleteInput(wiki, requester, reason string, o deletewiki.DeleteWikiOptions) deletewiki.DeleteWikiInput {
	return deletewiki.DeleteWikiInput{Wiki: wiki, Requester: requester, Reason: reason, Options: o, Definition: deletewiki.DeleteWikiDefinition(o)}
}

// SettingInput asks to set wgMaxArticleSize to 4096 on Wiki.
func SettingInput(requester, reason string) changesetting.ChangeSettingInput {
	o := changesetting.ChangeSettingOptions{CentralWiki: Central, AttentionWindow: time.Hour, Expiry: SettingExpiry}
	return changesetting.ChangeSettingInput{
		Wiki: Wiki, Setting: "wgMaxArticleSize", Value: "4096", Requester: requester, Reason: reason,
		Options: o, Definition: changesetting.ChangeSettingDefinition(o),
	}
}

// RequestInput is req's request for NewWiki, reviewed by two on the
// central wiki.
func RequestInput() requestwiki.RequestWikiInput {
	return requestwiki.RequestWikiInput{
		Wiki:      process.WikiSpec{DB: NewWiki, Sitename: "New Wiki", Language: "en", Category: "uncategorised"},
		Requester: "req", Email: "req@example.org", Reason: "a wiki about newts",
		Options: requestwiki.RequestWikiOptions{CentralWiki: Central, MoreDetailsTimeout: RequestDetails, Reviewers: 2},
		Create:  createwiki.CreateWikiDefinition(createwiki.CreateWikiOptions{AttentionWindow: time.Hour, CentralWiki: Central}),
	}
}
