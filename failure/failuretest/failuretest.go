// Package failuretest holds what the tests of every classifier need: a
// table runner and a port that refuses connections. farmdb and mediawiki
// each test their own Classify against their own cases through it.
package failuretest

import (
	"net"
	"testing"

	"github.com/wikiflow/wikiflow/failure"
)

// Case is one row of a classifier's table: an error and its kind. It is an
// alias of an unnamed struct, not a type of its own, so that the tables in
// other packages can stay positional: vet asks for field names in literals
// of another package's struct types, not of unnamed ones.
type Case = struct {
	Name string
	Err  error
	Want failure.Failure
}

// Check runs classify over cases and reports every row it gets wrong, so
// one run shows all of them.
func Check(t *testing.T, classify func(error) failure.Failure, cases []Case) {
	t.Helper()
	for _, c := range cases {
		if got := classify(c.Err); got != c.Want {
			t.Errorf("%s: %v is %s, want %s", c.Name, c.Err, got, c.Want)
		}
	}
}

// ClosedAddr is a local TCP address nothing listens on: a port the system
// just gave out and took back, so a client meets a real refused connection
// and the test sees the error as that client wraps it.
func ClosedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
