package farmdb

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// The event outbox: every event a process announces is stored here, in the
// central database, before any reader or sink sees it. The central
// database because it is the one store every worker already writes and
// that outlives them all: an event committed here survives the worker that
// made it, and sinks read it at their own pace, so a broker that is down
// never holds up a process.
//
// Each event gets the next number of one farm-wide sequence (ev_seq), given
// under a row lock on wf_event_sequence: events commit in the order of
// their numbers, with no gaps, so a reader that has seen number N has seen
// every event before it, and "after N" (SSE's Last-Event-ID, a sink's
// cursor) is exact. The event id is unique: storing an event again (an
// activity retried after its commit) stores nothing.
const eventsSchema = `CREATE TABLE IF NOT EXISTS wf_events (
  ev_seq BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  ev_id BINARY(36) NOT NULL,
  ev_stream VARBINARY(64) NOT NULL,
  ev_wiki VARBINARY(64) NOT NULL,
  ev_private TINYINT NOT NULL,
  ev_time DATETIME(6) NOT NULL,
  ev_body MEDIUMBLOB NOT NULL,
  UNIQUE KEY ev_id (ev_id),
  KEY ev_time (ev_time),
  KEY ev_wiki (ev_wiki, ev_seq)
) ENGINE=InnoDB DEFAULT CHARSET=binary`

const eventSequenceSchema = `CREATE TABLE IF NOT EXISTS wf_event_sequence (
  seq_name VARBINARY(32) NOT NULL PRIMARY KEY,
  seq_last BIGINT UNSIGNED NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=binary`

// A sink's cursor: the last event it delivered.
const eventCursorsSchema = `CREATE TABLE IF NOT EXISTS wf_event_cursors (
  cursor_sink VARBINARY(64) NOT NULL PRIMARY KEY,
  cursor_seq BIGINT UNSIGNED NOT NULL,
  cursor_time DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=binary`

// StoredEvent is an event as the outbox keeps it.
type StoredEvent struct {
	Seq     int64
	ID      string
	Stream  string
	Wiki    string
	Private bool
	Time    time.Time // when it was stored (the event's meta.dt)
	Body    []byte    // the event's JSON
}

// Outbox is the event outbox on the central database.
type Outbox struct{ Central *Central }

// Append stores the events not stored yet, in order, and tells how many it
// stored. Events whose id is already stored are skipped.
func (o Outbox) Append(ctx context.Context, evs []StoredEvent) (int, error) {
	if len(evs) == 0 {
		return 0, nil
	}
	tx, err := o.Central.DB.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	// The counter's row is locked first and made only when missing: an
	// INSERT IGNORE of the existing row would take a shared lock, and two
	// stores holding it while both wait for the exclusive one deadlock.
	const lockCounter = `SELECT seq_last FROM wf_event_sequence WHERE seq_name = 'events' FOR UPDATE`
	var last int64
	err = tx.QueryRowContext(ctx, lockCounter).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err = tx.ExecContext(ctx, `INSERT IGNORE INTO wf_event_sequence (seq_name, seq_last) VALUES ('events', 0)`); err == nil {
			err = tx.QueryRowContext(ctx, lockCounter).Scan(&last)
		}
	}
	if err != nil {
		return 0, err
	}
	ids := make([]any, len(evs))
	for i, ev := range evs {
		ids[i] = ev.ID
	}
	rows, err := tx.QueryContext(ctx, `SELECT ev_id FROM wf_events WHERE ev_id IN (?`+strings.Repeat(",?", len(ids)-1)+`)`, ids...)
	if err != nil {
		return 0, err
	}
	stored := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		stored[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	// One INSERT per chunk of rows, not per event: each statement is
	// three round trips (prepare, execute, close), and a batch holds every
	// change of a process's last second.
	const chunk, columns = 200, 7
	var args []any
	n := 0
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		rows := len(args) / columns
		_, err := tx.ExecContext(ctx, `INSERT INTO wf_events (ev_seq, ev_id, ev_stream, ev_wiki, ev_private, ev_time, ev_body) VALUES `+
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?),", rows), ","), args...)
		args = args[:0]
		return err
	}
	for _, ev := range evs {
		if stored[ev.ID] {
			continue
		}
		stored[ev.ID] = true
		last++
		args = append(args, last, ev.ID, ev.Stream, ev.Wiki, ev.Private, ev.Time.UTC(), ev.Body)
		n++
		if n%chunk == 0 {
			if err := flush(); err != nil {
				return 0, err
			}
		}
	}
	if err := flush(); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE wf_event_sequence SET seq_last = ? WHERE seq_name = 'events'`, last); err != nil {
		return 0, err
	}
	return n, tx.Commit()
}

// ReadFilter says which events a reader gets.
type ReadFilter struct {
	Stream         string
	Wiki           string // "" for every wiki
	IncludePrivate bool
}

// Read returns up to limit events numbered after after, in order.
func (o Outbox) Read(ctx context.Context, after int64, limit int, f ReadFilter) ([]StoredEvent, error) {
	q := `SELECT ev_seq, ev_id, ev_stream, ev_wiki, ev_private, ev_time, ev_body FROM wf_events WHERE ev_seq > ?`
	args := []any{after}
	if f.Stream != "" {
		q += ` AND ev_stream = ?`
		args = append(args, f.Stream)
	}
	if f.Wiki != "" {
		q += ` AND ev_wiki = ?`
		args = append(args, f.Wiki)
	}
	if !f.IncludePrivate {
		q += ` AND ev_private = 0`
	}
	q += ` ORDER BY ev_seq LIMIT ?`
	args = append(args, limit)
	rows, err := o.Central.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StoredEvent
	for rows.Next() {
		var ev StoredEvent
		var at string // as the DSN has the driver give times: parsed or not
		if err := rows.Scan(&ev.Seq, &ev.ID, &ev.Stream, &ev.Wiki, &ev.Private, &at, &ev.Body); err != nil {
			return nil, err
		}
		if ev.Time, err = time.Parse(time.RFC3339Nano, at); err != nil {
			if ev.Time, err = time.Parse("2006-01-02 15:04:05.999999", at); err != nil {
				return nil, err
			}
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// Head is the number of the last event stored (0 when there is none).
func (o Outbox) Head(ctx context.Context) (int64, error) {
	var last int64
	err := o.Central.DB.QueryRowContext(ctx, `SELECT seq_last FROM wf_event_sequence WHERE seq_name = 'events'`).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return last, err
}

// Before is the number of the last event stored before t: reading after it
// gives the events stored at t or later.
func (o Outbox) Before(ctx context.Context, t time.Time) (int64, error) {
	var seq int64
	err := o.Central.DB.QueryRowContext(ctx,
		`SELECT COALESCE(MAX(ev_seq), 0) FROM wf_events WHERE ev_time < ?`, t.UTC()).Scan(&seq)
	return seq, err
}

// Cursor is the last event sink delivered (0 when it never did).
func (o Outbox) Cursor(ctx context.Context, sink string) (int64, error) {
	var seq int64
	err := o.Central.DB.QueryRowContext(ctx, `SELECT cursor_seq FROM wf_event_cursors WHERE cursor_sink = ?`, sink).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}

// SetCursor records that sink delivered every event up to seq.
func (o Outbox) SetCursor(ctx context.Context, sink string, seq int64) error {
	_, err := o.Central.DB.ExecContext(ctx, `INSERT INTO wf_event_cursors (cursor_sink, cursor_seq, cursor_time)
		VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE cursor_seq = GREATEST(cursor_seq, VALUES(cursor_seq)), cursor_time = VALUES(cursor_time)`,
		sink, seq, time.Now().UTC())
	return err
}
