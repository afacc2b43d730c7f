// Package hook is the HTTP endpoint the farm's wikis call: start a
// deletion, a setting change or a wiki request, send a decision, read a
// process. Every request is signed by the wiki with a shared secret; the
// signature proves the wiki sent it, and the processes still check that the
// named user may act.
package hook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
	"time"
)

// Headers of a signed request.
const (
	HeaderTimestamp = "X-WikiFlow-Timestamp"
	HeaderSignature = "X-WikiFlow-Signature"
)

// Sign returns the signature header value of a request.
func Sign(secret []byte, timestamp int64, method, pathWithQuery string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(timestamp, 10) + "\n" + method + "\n" + pathWithQuery + "\n"))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// replays remembers the signatures seen within the freshness window: a
// request sent twice is refused the second time.
type replays struct {
	mu   sync.Mutex
	seen map[string]time.Time // signature -> when it stops mattering
}

// first records sig and tells whether it is new.
func (r *replays) first(sig string, now time.Time, window time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]time.Time{}
	}
	for s, until := range r.seen {
		if now.After(until) {
			delete(r.seen, s)
		}
	}
	if _, dup := r.seen[sig]; dup {
		return false
	}
	// A timestamp up to window in the future is accepted, so remember it
	// for two windows.
	r.seen[sig] = now.Add(2 * window)
	return true
}
