// Package hook is the HTTP endpoint the farm's wikis call: start a
// deletion, a setting change or a wiki request, send a decision, read a
// process. Every request is signed by the wiki with a shared secret; the
// signature proves the wiki sent it, and the processes still check that the
// named user may act.
package hook

import (
	"context"
	"sync"
	"time"
)

// ReplayStore remembers the signatures of accepted requests for as long as
// they could be sent again, across restarts and across every worker serving
// the endpoint (the worker keeps them in the central database).
type ReplayStore interface {
	// First records signature until expires and tells whether it is new.
	First(ctx context.Context, signature string, expires time.Time) (bool, error)
}

// memoryReplays is a ReplayStore for one process alone, for tests that run
// the handler without a database.
type memoryReplays struct {
	mu   sync.Mutex
	seen map[string]time.Time // signature -> when it stops mattering
}

func (r *memoryReplays) First(_ context.Context, sig string, expires time.Time) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]time.Time{}
	}
	now := time.Now()
	for s, until := range r.seen {
		if now.After(until) {
			delete(r.seen, s)
		}
	}
	if _, dup := r.seen[sig]; dup {
		return false, nil
	}
	r.seen[sig] = expires
	return true, nil
}
