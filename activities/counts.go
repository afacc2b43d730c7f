package activities

import (
	"fmt"
	"sort"
)

func SameCounts(a, b map[string]int64) bool { return CountsDiff(a, b) == "" }

// countsDiff describes the first difference between recorded and restored
// counts, in table order; "" when they are the same.
func CountsDiff(want, got map[string]int64) string {
	tables := map[string]bool{}
	for t := range want {
		tables[t] = true
	}
	for t := range got {
		tables[t] = true
	}
	names := make([]string, 0, len(tables))
	for t := range tables {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		w, inWant := want[t]
		g, inGot := got[t]
		switch {
		case !inGot:
			return fmt.Sprintf("table %s is missing", t)
		case !inWant:
			return fmt.Sprintf("table %s was not in the database", t)
		case w != g:
			return fmt.Sprintf("table %s has %d rows, not %d", t, g, w)
		}
	}
	return ""
}

func TotalRows(counts map[string]int64) int64 {
	var n int64
	for _, c := range counts {
		n += c
	}
	return n
}
