package activities

import (
	"reflect"
	"testing"
)

// Every name a definition may use must be a method of Farm, so a renamed
// method cannot leave definitions pointing at nothing.
func TestStepActivityNamesAreFarmMethods(t *testing.T) {
	typ := reflect.TypeOf(&Farm{})
	for _, name := range append(StepActivities, NameCheckRights) {
		if _, ok := typ.MethodByName(name); !ok {
			t.Errorf("%s is not a method of *Farm", name)
		}
	}
}
