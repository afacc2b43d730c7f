package failure_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"

	"github.com/wikiflow/wikiflow/failure"
	"github.com/wikiflow/wikiflow/failure/failuretest"
)

func TestString(t *testing.T) {
	for f, want := range map[failure.Failure]string{
		failure.Unknown: "unknown", failure.Transient: "transient", failure.Permanent: "permanent",
		failure.Failure(7): "unknown",
	} {
		if got := f.String(); got != want {
			t.Errorf("Failure(%d) is %q, want %q", int(f), got, want)
		}
	}
}

// network is Network as a classifier, with one phrase of a client's own.
func network(err error) failure.Failure {
	if failure.Network(err, "the client's own phrase") {
		return failure.Transient
	}
	return failure.Unknown
}

func TestNetwork(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	failuretest.Check(t, network, []failuretest.Case{
		{"connection refused", refused, failure.Transient},
		{"connection refused, inside an HTTP client's error", &url.Error{Op: "Get", URL: "http://x/api.php", Err: refused}, failure.Transient},
		{"connection reset, wrapped", fmt.Errorf("query: %w", syscall.ECONNRESET), failure.Transient},
		{"broken pipe", syscall.EPIPE, failure.Transient},
		{"network down", syscall.ENETDOWN, failure.Transient},
		{"deadline", context.DeadlineExceeded, failure.Transient},
		{"socket deadline (a net.Error that is a timeout)", os.ErrDeadlineExceeded, failure.Transient},
		{"server closed the connection", fmt.Errorf("reading: %w", io.EOF), failure.Transient},
		{"cut off mid-answer", io.ErrUnexpectedEOF, failure.Transient},
		{"reset in words only", errors.New("read tcp 127.0.0.1:1->127.0.0.1:8080: read: connection reset by peer"), failure.Transient},
		{"the client's own words", errors.New("x: the client's own phrase"), failure.Transient},
		// Canceled is the caller giving up (the worker stopping), not the network.
		{"canceled", context.Canceled, failure.Unknown},
		{"something else", errors.New("unexpected"), failure.Unknown},
		{"nil", nil, failure.Unknown},
	})
}

// A real refused dial, as the net package reports it, is the network.
func TestNetworkRealRefusedConnection(t *testing.T) {
	conn, err := net.Dial("tcp", failuretest.ClosedAddr(t))
	if err == nil {
		conn.Close()
		t.Fatal("want an error from a closed port")
	}
	if !failure.Network(err) {
		t.Fatalf("%v is not the network", err)
	}
}
