package farmdb

import (
	"database/sql"
	"database/sql/driver"
	"errors"

	"github.com/go-sql-driver/mysql"

	"github.com/wikiflow/wikiflow/failure"
)

// Transient and Permanent are the shared kinds under this package's name,
// for callers that compare Classify's answer with farmdb.Permanent.
const (
	Transient = failure.Transient
	Permanent = failure.Permanent
)

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

// driverWords are the driver's phrases for a broken connection, for the
// failures it reports only in text.
var driverWords = []string{"invalid connection", "bad connection", "server has gone away", "Lost connection"}

// Classify is the one place that decides whether a database failure is
// worth retrying. It looks through wrapping (errors.As), so callers may add
// context with %w.
//
// Transient: the server is restarting, failing over, overloaded or
// unreachable, or the statement lost a race (a deadlock, a lock wait).
// Permanent: the server answered and refused the statement (a missing
// table, a denied grant, bad SQL, a duplicate), or the farm's data says no.
func Classify(err error) failure.Failure {
	if err == nil {
		return failure.Unknown
	}
	var me *mysql.MySQLError
	switch {
	case errors.Is(err, ErrWikiNotFound), errors.Is(err, ErrClaimedByOther),
		errors.Is(err, ErrRequestNotFound), errors.Is(err, ErrInvalidRequest):
		return failure.Permanent
	case errors.As(err, &me):
		if _, ok := transientServerErrors[me.Number]; ok {
			return failure.Transient
		}
		// The server understood the statement and said no.
		return failure.Permanent
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, mysql.ErrInvalidConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, mysql.ErrPktSync), errors.Is(err, mysql.ErrPktSyncMul), errors.Is(err, mysql.ErrMalformPkt),
		errors.Is(err, mysql.ErrBusyBuffer):
		// The connection broke (the server went away while it was in use).
		return failure.Transient
	case failure.Network(err, driverWords...):
		return failure.Transient
	}
	return failure.Unknown
}
