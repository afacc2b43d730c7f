package activities

import (
	"encoding/json"
	"strings"
)

func Placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func JSONList(s []string) string {
	if s == nil {
		s = []string{}
	}
	b, _ := json.Marshal(s)
	return string(b)
}

func OrDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
