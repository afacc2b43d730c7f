package service

import (
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/extensions"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
	"github.com/wikiflow/wikiflow/workflows/changesetting"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/extension"
	"github.com/wikiflow/wikiflow/workflows/renamewiki"
	"github.com/wikiflow/wikiflow/workflows/restorewiki"
)

// Definitions are data and name their activities by string; every name in
// every definition the code builds, and every other name a process or a
// farm's configuration may use, must be an activity the worker registers.
func TestEveryDefinitionNamesRegisteredActivities(t *testing.T) {
	got := registered(t)
	defs := map[string]process.Definition{
		createwiki.KindCreateWiki: createwiki.CreateWikiDefinition(createwiki.CreateWikiOptions{AttentionWindow: time.Hour, CentralWiki: "metawiki"}),
		deletewiki.KindDeleteWiki: deletewiki.DeleteWikiDefinition(deletewiki.DeleteWikiOptions{
			CentralWiki: "metawiki", GracePeriod: time.Hour, AttentionWindow: time.Hour, LocalApprovers: 2}),
		changesetting.KindChangeSetting: changesetting.ChangeSettingDefinition(changesetting.ChangeSettingOptions{CentralWiki: "metawiki", AttentionWindow: time.Hour}),
		restorewiki.KindRestoreWiki:     restorewiki.RestoreWikiDefinition(restorewiki.RestoreWikiOptions{CentralWiki: "metawiki", AttentionWindow: time.Hour}),
		renamewiki.KindRenameWiki: renamewiki.RenameWikiDefinition(renamewiki.RenameWikiOptions{
			StewardOptions: workflows.StewardOptions{CentralWiki: "metawiki", AttentionWindow: time.Hour}}),
	}
	reg, err := extensions.Load("../farm/extensions.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range reg.Names() {
		e, _ := reg.Get(name)
		for _, enable := range []bool{true, false} {
			def := extension.Definition(e, enable, extension.Options{CentralWiki: "metawiki", AttentionWindow: time.Hour})
			defs[def.Kind+" "+name] = def
		}
	}
	for kind, def := range defs {
		if err := def.Validate(); err != nil {
			t.Errorf("%s: %v", kind, err)
		}
		names := []string{def.Authorize.Activity}
		for _, s := range def.Steps {
			names = append(names, s.Activity)
			if s.Undo != "" {
				names = append(names, s.Undo)
			}
		}
		for _, name := range names {
			if got[name] == 0 {
				t.Errorf("%s names the activity %q, which the worker does not register", kind, name)
			}
		}
	}
	others := append(append(append([]string{}, createwiki.StepActivities...), deletewiki.DeletionStepActivities...), restorewiki.RestoreStepActivities...)
	others = append(others, extension.StepActivities...)
	others = append(others, renamewiki.RenameStepActivities...)
	// The checks workflows.RunCheck runs as local activities, by name.
	checks := []string{activities.NameCheckRights, activities.NameOwnWiki, createwiki.NameValidateWiki}
	for _, name := range append(append(others, checks...), deletewiki.NameCountRightHolders, restorewiki.NameCheckRestore, renamewiki.NameCheckRename) {
		if got[name] == 0 {
			t.Errorf("the activity %q is named in the code but the worker does not register it", name)
		}
	}
}
