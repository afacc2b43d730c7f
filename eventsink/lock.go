package eventsink

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// DBLock is a MariaDB named lock, GET_LOCK(Name, 0), held on a connection
// of its own: MariaDB gives the lock back when that connection ends, so a
// worker that dies, or loses its connection, loses the lock with it and
// another worker can take over.
type DBLock struct {
	DB   *sql.DB
	Name string
	conn *sql.Conn
}

// LockName is the name of the lock of sink: wikiflow-events-<sink>, or a
// digest of it past MariaDB's 64 characters.
func LockName(sink string) string {
	name := "wikiflow-events-" + sink
	if len(name) <= 64 {
		return name
	}
	sum := sha256.Sum256([]byte(sink))
	return "wikiflow-events-" + hex.EncodeToString(sum[:16])
}

// TryAcquire takes the lock if nobody holds it.
func (l *DBLock) TryAcquire(ctx context.Context) (bool, error) {
	if l.conn != nil {
		return true, l.Held(ctx)
	}
	conn, err := l.DB.Conn(ctx)
	if err != nil {
		return false, err
	}
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(?, 0)`, l.Name).Scan(&got); err != nil {
		conn.Close()
		return false, err
	}
	if !got.Valid || got.Int64 != 1 {
		conn.Close()
		return false, nil
	}
	l.conn = conn
	return true, nil
}

// Held checks, on the lock's own connection, that this connection still
// holds the lock: a connection that broke took the lock with it.
func (l *DBLock) Held(ctx context.Context) error {
	if l.conn == nil {
		return errors.New("not taken")
	}
	var mine sql.NullInt64
	err := l.conn.QueryRowContext(ctx, `SELECT IS_USED_LOCK(?) = CONNECTION_ID()`, l.Name).Scan(&mine)
	if err != nil {
		l.drop()
		return fmt.Errorf("the lock's connection: %w", err)
	}
	if !mine.Valid || mine.Int64 != 1 {
		l.drop()
		return fmt.Errorf("lock %s is held by another connection, or by none", l.Name)
	}
	return nil
}

// Release gives the lock up and closes its connection.
func (l *DBLock) Release() {
	if l.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), lockReleaseTimeout)
	defer cancel()
	_, _ = l.conn.ExecContext(ctx, `DO RELEASE_LOCK(?)`, l.Name)
	l.drop()
}

// lockReleaseTimeout bounds the release at shutdown.
const lockReleaseTimeout = 5 * time.Second

// drop closes the lock's connection for good, never back into the pool:
// a connection that still held the lock there would keep it from every
// worker until it closed.
func (l *DBLock) drop() {
	if l.conn == nil {
		return
	}
	_ = l.conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = l.conn.Close()
	l.conn = nil
}
