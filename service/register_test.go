package service

import (
	"reflect"
	"runtime"
	"strings"
	"testing"

	"go.temporal.io/sdk/activity"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/workflows/changesetting"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/extension"
	"github.com/wikiflow/wikiflow/workflows/inactivity"
	"github.com/wikiflow/wikiflow/workflows/renamewiki"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
	"github.com/wikiflow/wikiflow/workflows/restorewiki"
)

// names records what is registered, under the name the SDK gives a method
// value (its method name).
type names map[string]int

func (n names) RegisterActivity(a any) {
	full := runtime.FuncForPC(reflect.ValueOf(a).Pointer()).Name()
	n[strings.TrimSuffix(full[strings.LastIndex(full, ".")+1:], "-fm")]++
}

func (n names) RegisterActivityWithOptions(_ any, o activity.RegisterOptions) { n[o.Name]++ }

// Registered lists every activity the worker registers, each once.
func registered(t *testing.T) names {
	t.Helper()
	n := names{}
	RegisterActivities(n, &activities.Farm{})
	for name, count := range n {
		if count != 1 {
			t.Errorf("%s is registered %d times", name, count)
		}
	}
	return n
}

// Every activity method a process declares is registered (a process's
// Activities embed the Farm, so its own methods are the ones the Farm does
// not have), and nothing else is: the Farm's helpers never are.
func TestEveryProcessActivityIsRegistered(t *testing.T) {
	got := registered(t)
	farm := reflect.TypeOf(&activities.Farm{})
	want := map[string]bool{}
	for _, shared := range []string{"CheckRights", "LookupWiki", "ReadSiteInfo", "OwnWiki", "ReleaseWiki", "SourceSQLFile", "RunMaintenanceScript", "NotifyBureaucrats", "StoreEvents"} {
		want[shared] = true
	}
	for _, a := range []any{&createwiki.Activities{}, &deletewiki.Activities{}, &changesetting.Activities{},
		&requestwiki.Activities{}, &restorewiki.Activities{}, &inactivity.Activities{}, &extension.Activities{}, &renamewiki.Activities{}} {
		typ := reflect.TypeOf(a)
		for i := range typ.NumMethod() {
			if m := typ.Method(i); !hasMethod(farm, m.Name) {
				want[m.Name] = true
			}
		}
	}
	for name := range want {
		if got[name] == 0 {
			t.Errorf("%s is an activity but is not registered", name)
		}
	}
	for name := range got {
		if !want[name] {
			t.Errorf("%s is registered but is neither shared nor a process's own activity", name)
		}
	}
}

func hasMethod(typ reflect.Type, name string) bool {
	_, ok := typ.MethodByName(name)
	return ok
}
