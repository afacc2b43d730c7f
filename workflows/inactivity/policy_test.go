package inactivity

import (
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/farmdb"
)

func TestDecide(t *testing.T) {
	const day = 24 * time.Hour
	p := Policy{Inactive: 45 * day, Close: 15 * day, Remove: 120 * day}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ago := func(d int) time.Time { return now.Add(-time.Duration(d) * day) }
	old := farmdb.InactivityRow{DB: "w", Created: ago(400)}
	with := func(edit func(*farmdb.InactivityRow)) farmdb.InactivityRow { r := old; edit(&r); return r }
	for _, tc := range []struct {
		name string
		f    Facts
		want Action
		next time.Time
	}{
		{"edited yesterday", Facts{Row: old, LastActivity: ago(1)}, ActionNone, time.Time{}},
		{"new wiki without edits", Facts{Row: with(func(r *farmdb.InactivityRow) { r.Created = ago(10) })}, ActionNone, time.Time{}},
		{"quiet 50 days", Facts{Row: old, LastActivity: ago(50)}, ActionWarn, time.Time{}},
		// Past both periods but never warned: warned first, not closed at once.
		{"quiet a year, never warned", Facts{Row: old, LastActivity: ago(365)}, ActionWarn, time.Time{}},
		{"warned 5 days ago", Facts{Row: with(func(r *farmdb.InactivityRow) { r.Inactive, r.InactiveAt = true, ago(5) }), LastActivity: ago(60)}, ActionWait, ago(5).Add(15 * day)},
		{"warned 15 days ago", Facts{Row: with(func(r *farmdb.InactivityRow) { r.Inactive, r.InactiveAt = true, ago(15) }), LastActivity: ago(60)}, ActionClose, time.Time{}},
		{"warned, then edited", Facts{Row: with(func(r *farmdb.InactivityRow) { r.Inactive, r.InactiveAt = true, ago(15) }), LastActivity: ago(2)}, ActionActive, time.Time{}},
		{"closed 10 days ago", Facts{Row: with(func(r *farmdb.InactivityRow) {
			r.Inactive, r.Closed, r.ClosedReason, r.ClosedAt = true, true, ClosedReason, ago(10)
		}), LastActivity: ago(100)}, ActionWait, ago(10).Add(120 * day)},
		{"closed 120 days ago", Facts{Row: with(func(r *farmdb.InactivityRow) {
			r.Inactive, r.Closed, r.ClosedReason, r.ClosedAt = true, true, ClosedReason, ago(120)
		}), LastActivity: ago(300)}, ActionDelete, time.Time{}},
		{"closed by a steward for spam", Facts{Row: with(func(r *farmdb.InactivityRow) {
			r.Closed, r.ClosedReason, r.ClosedAt = true, "spam", ago(300)
		}), LastActivity: ago(400)}, ActionNone, time.Time{}},
		{"exempt for good", Facts{Row: with(func(r *farmdb.InactivityRow) { r.Exempt, r.ExemptReason = true, "archive" }), LastActivity: ago(300)}, ActionNone, time.Time{}},
		{"exempt, warned before the exemption", Facts{Row: with(func(r *farmdb.InactivityRow) {
			r.Exempt, r.ExemptReason, r.Inactive, r.InactiveAt = true, "archive", true, ago(3)
		}), LastActivity: ago(300)}, ActionReleased, time.Time{}},
		{"exemption expired", Facts{Row: with(func(r *farmdb.InactivityRow) {
			r.Exempt, r.ExemptReason, r.ExemptUntil = true, "event", ago(1)
		}), LastActivity: ago(300)}, ActionWarn, time.Time{}},
		{"owned by a deletion", Facts{Row: old, LastActivity: ago(300), Owner: "delete-wiki:w"}, ActionNone, time.Time{}},
		{"marked deleted", Facts{Row: with(func(r *farmdb.InactivityRow) { r.Deleted = true }), LastActivity: ago(300)}, ActionNone, time.Time{}},
	} {
		v := Decide(p, tc.f, now)
		if v.Action != tc.want || !v.Next.Equal(tc.next) || v.Why == "" {
			t.Errorf("%s: %+v, want %s (next %v) with a reason", tc.name, v, tc.want, tc.next)
		}
	}
}
