package farmdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/go-sql-driver/mysql"
)

// Failure says what a failure of the database means for a retry.
type Failure int

const (
	// Unknown: not recognised. Callers retry it within their budget.
	Unknown Failure = iota
	// Transient: the server is restarting, failing over, overloaded or
	// unreachable, or the statement lost a race; the same statement will
	// work later.
	Transient
	// Permanent: the server answered and refused the statement (a missing
	// table, a denied grant, bad SQL, a duplicate), or the farm's data says
	// no; running it again gets the same answer.
	Permanent
)

func (f Failure) String() string {
	switch f {
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	}
	return "unknown"
}

// transientServerErrors are the MariaDB/MySQL error numbers that heal by
// themselves.
var transientServerErrors = map[uint16]string{
	1040: "too many connections",
	1047: "node not ready (Galera)",
	1053: "server shutdown in progress",
	1152: "aborted connection",
	1158: "network read error",
	1159: "network read timeout",
	1160: "network write error",
	1161: "network write timeout",
	1184: "aborted new connection",
	1203: "too many user connections",
	1205: "lock wait timeout",
	1213: "deadlock",
	1226: "user resource limit",
	1290: "read-only (--read-only, a replica during a failover)",
	1317: "query interrupted",
	1614: "XA deadlock",
	1637: "too many active transactions",
	1836: "read-only mode",
	1927: "connection killed",
	1969: "statement timeout (max_statement_time)",
	2002: "cannot connect",
	2003: "cannot connect",
	2006: "server has gone away",
	2013: "lost connection during query",
	3024: "statement timeout (max_execution_time)",
	4031: "disconnected for inactivity",
}

// Classify is the one place that decides whether a database failure is
// worth retrying. It looks through wrapping (errors.As), so callers may add
// context with %w.
func Classify(err error) Failure {
	if err == nil {
		return Unknown
	}
	var me *mysql.MySQLError
	switch {
	case errors.Is(err, ErrWikiNotFound), errors.Is(err, ErrClaimedByOther),
		errors.Is(err, ErrRequestNotFound), errors.Is(err, ErrInvalidRequest):
		return Permanent
	case errors.As(err, &me):
		if _, ok := transientServerErrors[me.Number]; ok {
			return Transient
		}
		// The server understood the statement and said no.
		return Permanent
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, mysql.ErrInvalidConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, mysql.ErrPktSync), errors.Is(err, mysql.ErrPktSyncMul), errors.Is(err, mysql.ErrMalformPkt),
		errors.Is(err, mysql.ErrBusyBuffer):
		// The connection broke (the server went away while it was in use).
		return Transient
	case transientNetwork(err):
		return Transient
	}
	return Unknown
}

// transientNetwork: the connection could not be made or broke off, or the
// statement ran out of time.
func transientNetwork(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED,
		syscall.EPIPE, syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return true
	}
	// The driver reports some broken connections only in words.
	msg := err.Error()
	for _, m := range []string{"connection refused", "connection reset", "broken pipe", "invalid connection", "bad connection", "server has gone away", "Lost connection"} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}
