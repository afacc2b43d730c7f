package eventsink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikiflow/wikiflow/farmdb"
)

// NATS publishes each event, its stored JSON unchanged, on Subject of a
// JetStream stream, with the event's id (meta.id) as Nats-Msg-Id: the
// stream drops a message whose id it stored within its duplicate window, so
// an event published again after a crash (between its PubAck and the
// cursor's write) is stored once. Each publish waits for its PubAck before
// the next, so the stream holds the events in the outbox's order.
//
// The stream is created when it is missing: Stream, storing Subject, on
// files, with DuplicateWindow. A stream that exists is used as it is (an
// operator may have made it with other limits); one that does not store
// Subject is an error, told at each attempt. It works with nats-server 2.9
// and later: only the JetStream API of 2.9 is used (stream info and create,
// publish with Nats-Msg-Id and Nats-Expected-Stream).
type NATS struct {
	URL             string
	Subject         string
	Stream          string
	DuplicateWindow time.Duration
	// Timeout bounds one publish (its PubAck) and the stream calls (default 10 s).
	Timeout time.Duration
	Logger  *slog.Logger

	mu    sync.Mutex
	nc    *nats.Conn
	js    jetstream.JetStream
	ready bool // the stream is there
}

// Name is nats:<stream>: the stream is where the duplicates are dropped,
// so a cursor goes with it.
func (s *NATS) Name() string { return "nats:" + s.Stream }

// Deliver publishes the events one after the other, each after the
// previous one's PubAck.
func (s *NATS) Deliver(ctx context.Context, evs []farmdb.StoredEvent) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	js, err := s.connect(ctx)
	if err != nil {
		return Result{}, err
	}
	for i, ev := range evs {
		pctx, cancel := context.WithTimeout(ctx, s.timeout())
		_, err := js.PublishMsg(pctx, &nats.Msg{Subject: s.Subject, Data: ev.Body},
			jetstream.WithMsgID(ev.ID), jetstream.WithExpectStream(s.Stream))
		cancel()
		if err != nil {
			if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) {
				s.ready = false // the stream was deleted, or JetStream is off: look again
			}
			return Result{Done: i}, fmt.Errorf("publishing event %d (%s) on %s: %w", ev.Seq, ev.ID, s.Subject, err)
		}
	}
	return Result{Done: len(evs)}, nil
}

// connect connects once (the client then reconnects by itself) and makes
// sure the stream is there.
func (s *NATS) connect(ctx context.Context) (jetstream.JetStream, error) {
	if s.nc == nil || s.nc.IsClosed() {
		nc, err := nats.Connect(s.URL,
			nats.Name("wikiflow-worker"),
			nats.Timeout(s.timeout()),
			nats.MaxReconnects(-1),
			// No buffering while disconnected: a publish then fails at once
			// and the events wait in the outbox, not in the client.
			nats.ReconnectBufSize(-1),
			nats.NoCallbacksAfterClientClose(),
		)
		if err != nil {
			return nil, fmt.Errorf("NATS at %s: %w", s.URL, err)
		}
		js, err := jetstream.New(nc)
		if err != nil {
			nc.Close()
			return nil, err
		}
		s.nc, s.js, s.ready = nc, js, false
	}
	if !s.ready {
		if err := s.ensureStream(ctx); err != nil {
			return nil, err
		}
		s.ready = true
	}
	return s.js, nil
}

func (s *NATS) ensureStream(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	st, err := s.js.Stream(ctx, s.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = s.js.CreateStream(ctx, jetstream.StreamConfig{
			Name:        s.Stream,
			Description: "WikiFlow's events (wikiflow.process.change), in the order of the farm's outbox",
			Subjects:    []string{s.Subject},
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			Duplicates:  s.DuplicateWindow,
		})
		if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return fmt.Errorf("creating the JetStream stream %s: %w", s.Stream, err)
		}
		if err == nil {
			s.logger().Info("created the JetStream stream", "stream", s.Stream, "subject", s.Subject,
				"duplicate_window", s.DuplicateWindow.String())
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("the JetStream stream %s: %w", s.Stream, err)
	}
	cfg := st.CachedInfo().Config
	if !slices.ContainsFunc(cfg.Subjects, func(p string) bool { return subjectMatches(p, s.Subject) }) {
		return fmt.Errorf("the JetStream stream %s stores %v, not %s (events.nats_subject)", s.Stream, cfg.Subjects, s.Subject)
	}
	if cfg.Duplicates < time.Minute {
		s.logger().Warn("the JetStream stream's duplicate window is short: an event published again after a crash may be stored twice",
			"stream", s.Stream, "duplicate_window", cfg.Duplicates.String())
	}
	return nil
}

// subjectMatches tells whether pattern (with * and > wildcards) matches subject.
func subjectMatches(pattern, subject string) bool {
	p, t := strings.Split(pattern, "."), strings.Split(subject, ".")
	for i, tok := range p {
		switch {
		case tok == ">":
			return len(t) > i
		case i >= len(t):
			return false
		case tok != "*" && tok != t[i]:
			return false
		}
	}
	return len(p) == len(t)
}

// Close closes the connection.
func (s *NATS) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nc != nil {
		s.nc.Close()
		s.nc = nil
	}
	return nil
}

func (s *NATS) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return 10 * time.Second
}

func (s *NATS) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}
