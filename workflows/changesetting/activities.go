package changesetting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/settings"
)

// The steps of a setting change. Both take process.StepInput with the wiki
// in Wiki.DB and Args:
//
//	setting  the variable name, as the registry lists it (wgMaxArticleSize)
//	value    the new value as JSON text (1234, true, "vector", ["png","gif"])
const (
	NameValidateSettingChange = "ValidateSettingChange"
	NameApplySetting          = "ApplySetting"
)

// Keys of the Args and Outputs of the setting steps.
const (
	SettingArgName       = "setting"
	SettingArgValue      = "value"
	SettingOutName       = "setting"    // the setting's name
	SettingOutRestricted = "restricted" // "true" or "false": changing it needs managewiki-restricted
	SettingOutValue      = "value"      // ValidateSettingChange: the normalized value
	SettingOutOld        = "old"        // ApplySetting: the previous value (JSON), "" when unset
	SettingOutOldSet     = "old_set"    // ApplySetting: "true" when the key was set before
	SettingOutNew        = "new"        // ApplySetting: the value now stored (JSON)
)

// ValidateSettingChange refuses, before anything changes, a change that can
// never be applied: a wiki that is not registered, closed or deleted, a
// setting the registry does not list, a value that does not fit it. Outputs
// restricted (whether changing it needs managewiki-restricted) and value
// (normalized JSON).
func (f *Activities) ValidateSettingChange(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	s, value, err := f.checkSettingChange(ctx, in)
	if err != nil {
		return process.StepResult{}, err
	}
	summary := fmt.Sprintf("%s = %s may be set on %s", s.Name, value, in.Wiki.DB)
	if s.Restricted {
		summary += " (restricted setting)"
	}
	return process.StepResult{
		Summary: summary,
		Outputs: map[string]string{
			SettingOutName:       s.Name,
			SettingOutRestricted: strconv.FormatBool(s.Restricted),
			SettingOutValue:      string(value),
		},
	}, nil
}

// ApplySetting writes the value into the wiki's mw_settings row, keeping
// every other key; the wiki uses it from its next request. It checks the
// wiki and the value again (the registry may have changed since the
// validation). Outputs old (the previous value, "" when unset) and new.
// Running it again with the same value changes nothing; it then reports the
// value as old.
func (f *Activities) ApplySetting(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	s, value, err := f.checkSettingChange(ctx, in)
	if err != nil {
		return process.StepResult{}, err
	}
	old, existed, err := f.Central.ApplySetting(ctx, in.Wiki.DB, s.Name, value)
	if err != nil {
		return process.StepResult{}, err
	}
	if existed {
		old = s.Coerce(old) // as ManageWiki's form stored it ("1500"), read as its type
	}
	before := "(unset)"
	if existed {
		before = string(old)
	}
	if err := f.logSetting(ctx, in, s.Name, before, string(value)); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{
		Summary: fmt.Sprintf("%s on %s: %s -> %s", s.Name, in.Wiki.DB, before, value),
		Outputs: map[string]string{
			SettingOutName:       s.Name,
			SettingOutRestricted: strconv.FormatBool(s.Restricted),
			SettingOutOld:        string(old),
			SettingOutOldSet:     strconv.FormatBool(existed),
			SettingOutNew:        string(value),
		},
	}, nil
}

// checkSettingChange checks the wiki's registration and the value; every
// refusal is permanent.
func (f *Activities) checkSettingChange(ctx context.Context, in process.StepInput) (settings.Setting, json.RawMessage, error) {
	if f.Settings == nil {
		return settings.Setting{}, nil, activities.Permanent(activities.ErrTypeMisconfigured, "no settings registry is loaded (mediawiki.settings_registry)")
	}
	db, err := activities.WikiDB(in)
	if err != nil {
		return settings.Setting{}, nil, err
	}
	name, rawValue := in.Args[SettingArgName], in.Args[SettingArgValue]
	if name == "" {
		return settings.Setting{}, nil, activities.Permanent(activities.ErrTypeInvalidInput, "invalid setting change: the argument %q is missing", SettingArgName)
	}
	w, err := f.Central.Wiki(ctx, db)
	if errors.Is(err, farmdb.ErrWikiNotFound) {
		return settings.Setting{}, nil, activities.Permanent(activities.ErrTypeWikiNotFound, "%s is not registered in cw_wikis", db)
	}
	if err != nil {
		return settings.Setting{}, nil, err
	}
	if w.Deleted {
		return settings.Setting{}, nil, activities.Permanent(activities.ErrTypeWikiNotFound, "%s is deleted: its settings cannot change", db)
	}
	if w.Closed {
		return settings.Setting{}, nil, activities.Permanent(activities.ErrTypeInvalidInput, "%s is closed: its settings cannot change", db)
	}
	if why, err := f.UnderDeletion(ctx, db); err != nil || why != "" {
		if err != nil {
			return settings.Setting{}, nil, err
		}
		return settings.Setting{}, nil, activities.Permanent(activities.ErrTypeInvalidInput, "%s: its settings cannot change while it is deleted or restored", why)
	}
	value, err := f.Settings.Check(name, json.RawMessage(rawValue))
	if err != nil {
		if settings.IsInvalid(err) {
			return settings.Setting{}, nil, activities.Permanent(activities.ErrTypeInvalidInput, "invalid setting change: %v", err)
		}
		return settings.Setting{}, nil, activities.Permanent(activities.ErrTypeMisconfigured, "%v", err)
	}
	s, _ := f.Settings.Get(name)
	return s, value, nil
}

// Activities are the changesetting process's own activities, on the farm's shared
// dependencies. Their methods are registered one by one (see Register), so
// the helpers of the embedded Farm are never registered a second time.
type Activities struct{ *activities.Farm }

// logSetting: managewiki/settings on the wiki itself, as ManageWiki's own
// settings form logs, with the old and the new value.
func (f *Activities) logSetting(ctx context.Context, in process.StepInput, name, old, value string) error {
	return f.WriteLog(ctx, activities.LogEntry{
		Wiki: in.Wiki.DB, Type: activities.LogManageWiki, Action: "settings", Performer: in.Requester,
		Target: activities.ProcessPage(in.ProcessID), Comment: in.Args["reason"],
		Params: map[string]any{"4::wiki": in.Wiki.DB, "5::changes": name, "6::old": old, "7::new": value},
		Key:    activities.StepKey(ctx, in, "managewiki/settings"),
	})
}
