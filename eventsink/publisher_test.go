package eventsink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/farmdb"
)

// memStore is an outbox in memory, numbered as farmdb.Outbox numbers.
type memStore struct {
	mu      sync.Mutex
	evs     []farmdb.StoredEvent
	cursors map[string]int64
	sets    int
}

func (m *memStore) add(n int, private bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for range n {
		seq := int64(len(m.evs) + 1)
		m.evs = append(m.evs, farmdb.StoredEvent{Seq: seq, ID: fmt.Sprintf("id-%d", seq), Private: private,
			Body: fmt.Appendf(nil, `{"n":%d}`, seq)})
	}
}

func (m *memStore) Read(_ context.Context, after int64, limit int, f farmdb.ReadFilter) ([]farmdb.StoredEvent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []farmdb.StoredEvent
	for _, ev := range m.evs {
		if ev.Seq > after && (f.IncludePrivate || !ev.Private) && len(out) < limit {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (m *memStore) Head(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.evs)), nil
}

func (m *memStore) Cursor(_ context.Context, sink string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cursors[sink], nil
}

func (m *memStore) SetCursor(_ context.Context, sink string, seq int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cursors == nil {
		m.cursors = map[string]int64{}
	}
	m.cursors[sink] = max(m.cursors[sink], seq)
	m.sets++
	return nil
}

// listSink keeps what it takes; fail tells it to fail a delivery (after
// taking some of its events).
type listSink struct {
	mu   sync.Mutex
	got  []string
	fail func(call int, evs []farmdb.StoredEvent) (take int, err error)
	call int
}

func (s *listSink) Name() string { return "list" }
func (s *listSink) Close() error { return nil }
func (s *listSink) Deliver(_ context.Context, evs []farmdb.StoredEvent) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.call++
	take, err := len(evs), error(nil)
	if s.fail != nil {
		take, err = s.fail(s.call, evs)
	}
	for _, ev := range evs[:take] {
		s.got = append(s.got, ev.ID)
	}
	return Result{Done: take}, err
}

func (s *listSink) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// flagLock is a lock another worker may hold (taken) or take away (lost).
type flagLock struct {
	mu                 sync.Mutex
	taken, held, lost  bool
	acquires, releases int
}

func (l *flagLock) TryAcquire(context.Context) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.taken {
		return false, nil
	}
	l.held, l.lost = true, false
	l.acquires++
	return true, nil
}

func (l *flagLock) Held(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held || l.lost {
		l.held = false
		return errors.New("lost")
	}
	return nil
}

func (l *flagLock) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held {
		l.releases++
	}
	l.held = false
}

func (l *flagLock) set(f func(l *flagLock)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(l)
}

// syncBuffer is a log output that the publisher's goroutine writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func newPublisher(store *memStore, sink *listSink, lock *flagLock, logs *syncBuffer) *Publisher {
	return &Publisher{
		Sink: sink, Store: store, Lock: lock, Filter: farmdb.ReadFilter{IncludePrivate: true},
		BatchSize: 10, PollInterval: 5 * time.Millisecond, LockInterval: 5 * time.Millisecond,
		MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	}
}

// run runs p until cond holds (or a few seconds pass) and stops it.
func run(t *testing.T, p *Publisher, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if !cond() {
		t.Fatal("the condition never held")
	}
}

func wantIDs(t *testing.T, got []string, from, to int) {
	t.Helper()
	var want []string
	for i := from; i <= to; i++ {
		want = append(want, fmt.Sprintf("id-%d", i))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("delivered %v, want %v", got, want)
	}
}

func TestDeliversInOrderInBatches(t *testing.T) {
	store := &memStore{}
	store.add(35, false)
	sink, lock, logs := &listSink{}, &flagLock{}, &syncBuffer{}
	p := newPublisher(store, sink, lock, logs)
	run(t, p, func() bool { return len(sink.ids()) == 35 })
	wantIDs(t, sink.ids(), 1, 35)
	if c, _ := store.Cursor(context.Background(), "list"); c != 35 {
		t.Fatalf("cursor %d, want 35", c)
	}
	if sink.call != 4 {
		t.Fatalf("%d deliveries of at most 10, want 4", sink.call)
	}
	if lock.releases != 1 {
		t.Fatalf("lock released %d times at the end, want 1", lock.releases)
	}
}

// A sink that fails a few times (after taking part of a batch once) gets
// every event once, in order; the outage is logged once and its end once.
func TestRetriesAFailingSinkWithoutLossOrRepeat(t *testing.T) {
	store := &memStore{}
	store.add(25, false)
	sink := &listSink{fail: func(call int, evs []farmdb.StoredEvent) (int, error) {
		switch {
		case call == 2:
			return 3, errors.New("broker gone") // took 3, then failed
		case call > 2 && call < 7:
			return 0, errors.New("broker gone")
		}
		return len(evs), nil
	}}
	logs := &syncBuffer{}
	p := newPublisher(store, sink, &flagLock{}, logs)
	run(t, p, func() bool { return len(sink.ids()) == 25 })
	wantIDs(t, sink.ids(), 1, 25)
	if n := strings.Count(logs.String(), "the sink does not take events"); n != 1 {
		t.Fatalf("the outage was logged %d times, want once:\n%s", n, logs)
	}
	if n := strings.Count(logs.String(), "events flow to the sink again"); n != 1 {
		t.Fatalf("the end of the outage was logged %d times, want once:\n%s", n, logs)
	}
}

// Events left out by the filter (private wikis') still move the cursor, so
// the lag comes back to 0.
func TestFilteredEventsMoveTheCursor(t *testing.T) {
	store := &memStore{}
	store.add(5, false)
	store.add(4, true)
	sink := &listSink{}
	p := newPublisher(store, sink, &flagLock{}, &syncBuffer{})
	p.Filter.IncludePrivate = false
	run(t, p, func() bool { c, _ := store.Cursor(context.Background(), "list"); return c == 9 })
	wantIDs(t, sink.ids(), 1, 5)
}

// A worker that cannot take the lock delivers nothing; once the holder
// lets go it takes over; when it loses the lock it stops at once.
func TestOnlyTheLockHolderPublishes(t *testing.T) {
	store := &memStore{}
	store.add(3, false)
	sink, lock := &listSink{}, &flagLock{taken: true}
	p := newPublisher(store, sink, lock, &syncBuffer{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	time.Sleep(50 * time.Millisecond)
	if got := sink.ids(); len(got) != 0 {
		t.Fatalf("published %v without the lock", got)
	}
	lock.set(func(l *flagLock) { l.taken = false })
	for deadline := time.Now().Add(5 * time.Second); len(sink.ids()) < 3 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	wantIDs(t, sink.ids(), 1, 3)
	lock.set(func(l *flagLock) { l.lost, l.taken = true, true })
	time.Sleep(20 * time.Millisecond)
	store.add(2, false)
	time.Sleep(50 * time.Millisecond)
	cancel()
	<-done
	wantIDs(t, sink.ids(), 1, 3)
}

func TestLockName(t *testing.T) {
	if got := LockName("nats:WIKIFLOW"); got != "wikiflow-events-nats:WIKIFLOW" {
		t.Fatalf("LockName = %q", got)
	}
	long := LockName("eventgate:" + strings.Repeat("x", 80) + ".example.org:8192")
	if len(long) > 64 || !strings.HasPrefix(long, "wikiflow-events-") {
		t.Fatalf("LockName of a long sink = %q (%d characters)", long, len(long))
	}
}

func TestSubjectMatches(t *testing.T) {
	for _, tc := range []struct {
		pattern, subject string
		want             bool
	}{
		{"wikiflow.process.change", "wikiflow.process.change", true},
		{"wikiflow.>", "wikiflow.process.change", true},
		{"wikiflow.*.change", "wikiflow.process.change", true},
		{"wikiflow.*", "wikiflow.process.change", false},
		{"wikiflow.process.change.>", "wikiflow.process.change", false},
		{"other", "wikiflow.process.change", false},
	} {
		if got := subjectMatches(tc.pattern, tc.subject); got != tc.want {
			t.Errorf("subjectMatches(%q, %q) = %v", tc.pattern, tc.subject, got)
		}
	}
}
