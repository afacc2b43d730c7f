package settings

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// Coerce reads a value as ManageWiki may have stored it: its form submits
// every field as text, so an integer arrives as "1500" and a checkbox as
// "1" or "0" (or 1 and 0). A value of the setting's type comes back as
// that type (1500, true); anything else is returned unchanged, for Check
// to judge. The farm's LocalSettings.php applies the same rules
// (WikiFlowFarm::coerce).
func (r *Registry) Coerce(name string, value json.RawMessage) json.RawMessage {
	s, ok := r.Get(name)
	if !ok {
		return value
	}
	return s.Coerce(value)
}

// Coerce is Registry.Coerce for this setting.
func (s Setting) Coerce(value json.RawMessage) json.RawMessage {
	value = bytes.TrimSpace(value)
	var text string
	isString := json.Unmarshal(value, &text) == nil && len(value) > 0 && value[0] == '"'
	switch s.Type {
	case TypeInt:
		if isString {
			if n, err := strconv.ParseInt(text, 10, 64); err == nil && strconv.FormatInt(n, 10) == text {
				return json.RawMessage(strconv.FormatInt(n, 10))
			}
		}
	case TypeBool:
		switch {
		case isString && (text == "1" || text == "true"), string(value) == "1":
			return json.RawMessage("true")
		case isString && (text == "0" || text == "false" || text == ""), string(value) == "0":
			return json.RawMessage("false")
		}
	}
	return value
}
