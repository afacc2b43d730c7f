package stream

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseLastEventID reads a Last-Event-ID: the outbox number (farmdb's
// ev_seq) of the last event a client received, a non-negative integer.
func ParseLastEventID(s string) (int64, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || !isDigits(s) {
		return 0, fmt.Errorf("Last-Event-ID %q is not an event number (a non-negative integer: the id of an event received)", s)
	}
	return n, nil
}

// ParseSince reads a start time: RFC 3339 (2026-12-05T10:00:00Z, with or
// without fractions of a second, any offset) or Unix time in milliseconds
// (1796464800000), as EventStreams takes it.
func ParseSince(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("since is empty: give an RFC 3339 time (2026-12-05T10:00:00Z) or Unix milliseconds")
	}
	if isDigits(s) {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil || ms > maxUnixMilli {
			return time.Time{}, fmt.Errorf("since %q is out of range as Unix milliseconds", s)
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("since %q is neither an RFC 3339 time (2026-12-05T10:00:00Z) nor Unix milliseconds", s)
	}
	return t.UTC(), nil
}

// maxUnixMilli is the year 9999's end, the last time the database stores.
const maxUnixMilli = 253402300799999

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
