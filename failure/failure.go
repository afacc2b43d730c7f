// Package failure holds what a failure means for a retry, shared by the
// clients of the farm's database (farmdb) and of MediaWiki (mediawiki).
// Each of those decides its own server's answers (MariaDB error numbers,
// HTTP statuses, API codes) and leaves the network below it to Network, so
// that both call the same outage by the same name. It knows nothing of
// Temporal: turning a Failure into a retry policy's terms is the
// activities' job.
package failure

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"
)

// Failure says what a failure means for a retry.
type Failure int

const (
	// Unknown: not recognised. Callers retry it within their budget, so an
	// unforeseen failure reaches a person late rather than never.
	Unknown Failure = iota
	// Transient: the server is restarting, failing over, overloaded or
	// unreachable, or the call lost a race; the same call will work later.
	Transient
	// Permanent: the server answered and refused, or the farm's data says
	// no; the same call gets the same answer, so a person must look at it.
	Permanent
)

// String is the kind's name as logs and test failures show it.
func (f Failure) String() string {
	switch f {
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	case Unknown:
	}
	return "unknown"
}

// networkErrnos are the system's words for a connection that could not be
// made or broke off; any of them heals once the server or the route is back.
var networkErrnos = []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED,
	syscall.EPIPE, syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ENETDOWN}

// networkWords are those errnos' texts, for an error some layer flattened
// into a string (fmt's %v rather than %w), which errors.Is cannot see.
var networkWords = []string{"connection refused", "connection reset", "broken pipe"}

// Network reports whether err is the network failing under a client: the
// connection could not be made or broke off, or the call ran out of time.
// That is transient for any server. It looks through wrapping. words are
// the caller's client's own phrases for a broken connection, for the
// failures that client reports only in text.
func Network(err error, words ...string) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	for _, errno := range networkErrnos {
		if errors.Is(err, errno) {
			return true
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	// A dial, read or write that failed, whatever the errno: the net
	// package reports every socket failure as an OpError.
	var op *net.OpError
	if errors.As(err, &op) {
		return true
	}
	msg := err.Error()
	said := func(m string) bool { return strings.Contains(msg, m) }
	return slices.ContainsFunc(networkWords, said) || slices.ContainsFunc(words, said)
}
