package hook

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/signing"
)

// The signature layer alone: a request it refuses never reaches a handler.
func TestVerifyRefusesBeforeAnyHandler(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	reached := 0
	h := (&Server{Secret: secret, Now: func() time.Time { return now }}).verify(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		w.WriteHeader(http.StatusAccepted)
	}))
	send := func(ts int64, sig string, path string, body []byte) int {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		if sig != "" {
			req.Header.Set(signing.HeaderTimestamp, strconv.FormatInt(ts, 10))
			req.Header.Set(signing.HeaderSignature, sig)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	body := []byte(`{"action":"approve","user":"A"}`)
	path := "/v1/processes/delete-wiki:xwiki/actions"
	ts := now.Unix()
	good := signing.Sign(secret, ts, "POST", path, body)
	for name, tc := range map[string]struct {
		ts   int64
		sig  string
		path string
		body []byte
		want int
	}{
		"unsigned":          {ts, "", path, body, 401},
		"wrong secret":      {ts, signing.Sign([]byte("other-secret-other-secret"), ts, "POST", path, body), path, body, 401},
		"other body":        {ts, good, path, []byte(`{"action":"approve","user":"B"}`), 401},
		"other path":        {ts, good, path + "?x=1", body, 401},
		"stale":             {ts - 301, signing.Sign(secret, ts-301, "POST", path, body), path, body, 401},
		"future":            {ts + 301, signing.Sign(secret, ts+301, "POST", path, body), path, body, 401},
		"oversized":         {ts, signing.Sign(secret, ts, "POST", path, []byte(strings.Repeat("x", MaxBody+1))), path, []byte(strings.Repeat("x", MaxBody+1)), 413},
		"garbage signature": {ts, "sha256=zz", path, body, 401},
	} {
		if got := send(tc.ts, tc.sig, tc.path, tc.body); got != tc.want {
			t.Errorf("%s: got %d, want %d", name, got, tc.want)
		}
	}
	if reached != 0 {
		t.Fatalf("%d refused requests reached the handler", reached)
	}
	if got := send(ts, good, path, body); got != http.StatusAccepted {
		t.Fatalf("a valid request: %d", got)
	}
	if got := send(ts, good, path, body); got != 401 || reached != 1 {
		t.Fatalf("a replay: %d, handler reached %d times", got, reached)
	}
	// Within the window an old request is still refused as a replay after
	// the clock moved on; past the window it is stale.
	now = now.Add(200 * time.Second)
	if got := send(ts, good, path, body); got != 401 || reached != 1 {
		t.Fatalf("a later replay: %d", got)
	}
}
