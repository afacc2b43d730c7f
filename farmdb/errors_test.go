package farmdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

func TestClassify(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	server := func(n uint16) error { return &mysql.MySQLError{Number: n, Message: "test"} }
	cases := []struct {
		name string
		err  error
		want Failure
	}{
		{"connection refused", refused, Transient},
		{"connection reset", fmt.Errorf("query: %w", syscall.ECONNRESET), Transient},
		{"bad connection", driver.ErrBadConn, Transient},
		{"invalid connection (server went away mid-query)", mysql.ErrInvalidConn, Transient},
		{"connection done", sql.ErrConnDone, Transient},
		{"timeout", context.DeadlineExceeded, Transient},
		{"too many connections", server(1040), Transient},
		{"server shutdown in progress", server(1053), Transient},
		{"lock wait timeout", server(1205), Transient},
		{"deadlock, wrapped", fmt.Errorf("tx: %w", server(1213)), Transient},
		{"read-only (--read-only)", server(1290), Transient},
		{"read-only mode", server(1836), Transient},
		{"connection killed", server(1927), Transient},
		{"server has gone away", server(2006), Transient},
		{"lost connection", server(2013), Transient},
		{"missing table", server(1146), Permanent},
		{"unknown database", server(1049), Permanent},
		{"access denied", server(1045), Permanent},
		{"syntax error", server(1064), Permanent},
		{"duplicate entry", server(1062), Permanent},
		{"wiki not registered", fmt.Errorf("x: %w", ErrWikiNotFound), Permanent},
		{"claimed by another process", fmt.Errorf("x: %w", ErrClaimedByOther), Permanent},
		{"no such request", ErrRequestNotFound, Permanent},
		{"no rows", sql.ErrNoRows, Unknown},
		{"something else", errors.New("unexpected"), Unknown},
		{"nil", nil, Unknown},
	}
	for _, c := range cases {
		if got := Classify(c.err); got != c.want {
			t.Errorf("%s: %v is %s, want %s", c.name, c.err, got, c.want)
		}
	}
}

// A pool whose server does not answer fails in a way Classify calls
// transient, as the driver really reports it.
func TestClassifyRealRefusedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	db, err := Open("u:p@tcp(" + addr + ")/x?timeout=2s")
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
	if got := Classify(err); got != Transient {
		t.Fatalf("%v is %s, want transient", err, got)
	}
}
