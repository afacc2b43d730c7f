package workflows_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/changesetting"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/restorewiki"
)

// Definitions are data and name their activities by string; every name in
// every definition the code builds must be a method the worker registers
// (the SDK registers *activities.Farm's methods under their own names).
func TestEveryDefinitionNamesRegisteredActivities(t *testing.T) {
	farm := reflect.TypeOf(&activities.Farm{})
	defs := map[string]process.Definition{
		createwiki.KindCreateWiki: createwiki.CreateWikiDefinition(createwiki.CreateWikiOptions{AttentionWindow: time.Hour, CentralWiki: "metawiki"}),
		deletewiki.KindDeleteWiki: deletewiki.DeleteWikiDefinition(deletewiki.DeleteWikiOptions{
			CentralWiki: "metawiki", GracePeriod: time.Hour, AttentionWindow: time.Hour, LocalApprovers: 2}),
		changesetting.KindChangeSetting: changesetting.ChangeSettingDefinition(changesetting.ChangeSettingOptions{CentralWiki: "metawiki", AttentionWindow: time.Hour}),
		restorewiki.KindRestoreWiki:     restorewiki.RestoreWikiDefinition(restorewiki.RestoreWikiOptions{CentralWiki: "metawiki", AttentionWindow: time.Hour}),
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
			if _, ok := farm.MethodByName(name); !ok {
				t.Errorf("%s names the activity %q, which *activities.Farm does not have", kind, name)
			}
		}
	}
	for _, name := range activities.StepActivities {
		if _, ok := farm.MethodByName(name); !ok {
			t.Errorf("the step activity %q a farm may configure is not a method of *activities.Farm", name)
		}
	}
}
