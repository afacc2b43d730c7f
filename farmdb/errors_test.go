package farmdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/wikiflow/wikiflow/failure"
	"github.com/wikiflow/wikiflow/failure/failuretest"
)

// The network below the driver (refused, reset, timed out) is
// failure.Network's, tested there; these are the driver's and the server's
// own answers.
func TestClassify(t *testing.T) {
	server := func(n uint16) error { return &mysql.MySQLError{Number: n, Message: "test"} }
	failuretest.Check(t, Classify, []failuretest.Case{
		{"bad connection", driver.ErrBadConn, failure.Transient},
		{"invalid connection (server went away mid-query)", mysql.ErrInvalidConn, failure.Transient},
		{"connection done", sql.ErrConnDone, failure.Transient},
		{"lost connection, in the driver's words only", errors.New("commit: Lost connection to server during query"), failure.Transient},
		{"too many connections", server(1040), failure.Transient},
		{"server shutdown in progress", server(1053), failure.Transient},
		{"lock wait timeout", server(1205), failure.Transient},
		{"deadlock, wrapped", fmt.Errorf("tx: %w", server(1213)), failure.Transient},
		{"read-only (--read-only)", server(1290), failure.Transient},
		{"read-only mode", server(1836), failure.Transient},
		{"connection killed", server(1927), failure.Transient},
		{"server has gone away", server(2006), failure.Transient},
		{"lost connection", server(2013), failure.Transient},
		{"missing table", server(1146), failure.Permanent},
		{"unknown database", server(1049), failure.Permanent},
		{"access denied", server(1045), failure.Permanent},
		{"syntax error", server(1064), failure.Permanent},
		{"duplicate entry", server(1062), failure.Permanent},
		{"wiki not registered", fmt.Errorf("x: %w", ErrWikiNotFound), failure.Permanent},
		{"claimed by another process", fmt.Errorf("x: %w", ErrClaimedByOther), failure.Permanent},
		{"no such request", ErrRequestNotFound, failure.Permanent},
		{"no rows", sql.ErrNoRows, failure.Unknown},
		{"something else", errors.New("unexpected"), failure.Unknown},
		{"nil", nil, failure.Unknown},
	})
}

// A pool whose server does not answer fails in a way Classify calls
// transient, as the driver really reports it.
func TestClassifyRealRefusedConnection(t *testing.T) {
	db, err := Open("u:p@tcp(" + failuretest.ClosedAddr(t) + ")/x?timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = db.PingContext(ctx)
	if err == nil {
		t.Fatal("want an error from a closed port")
	}
	if got := Classify(err); got != failure.Transient {
		t.Fatalf("%v is %s, want transient", err, got)
	}
}
