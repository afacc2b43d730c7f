package activities

import "encoding/json"

// JSONList is a list as ManageWiki stores lists in its rows: a JSON array,
// never null.
func JSONList(s []string) string {
	if s == nil {
		s = []string{}
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// OrDefault is s, or def when s is empty (an optional param).
func OrDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
