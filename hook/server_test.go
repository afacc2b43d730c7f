package hook

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/signing"
)

// signed sends a request signed as a wiki would and decodes the error code.
func signed(t *testing.T, h http.Handler, secret []byte, method, path string, body any) (int, string) {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	ts := time.Now().Unix()
	req := httptest.NewRequest(method, path, bytes.NewReader(b))
	req.Header.Set(signing.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(signing.HeaderSignature, signing.Sign(secret, ts, method, path, b))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out struct {
		Error Error `json:"error"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out.Error.Code
}

// An action the process's kind never takes is refused before the client
// is used: the client here has no Temporal connection, so reaching it would
// panic.
func TestActionRefusedBeforeAnythingIsSent(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	h := (&Server{Client: &client.Client{}, Secret: secret}).Handler()
	for _, tc := range []struct {
		id, action string
		code       int
		err        string
	}{
		{"create-wiki:demowiki", "approve", 409, "unsupported_action"},
		{"create-wiki:demowiki", "hold", 409, "unsupported_action"},
		{"delete-wiki:demowiki", "hold", 409, "unsupported_action"},
		{"delete-wiki:demowiki", "edit-request", 409, "unsupported_action"},
		{"change-setting:demowiki:wgMaxArticleSize", "undelete", 409, "unsupported_action"},
		{"change-setting:demowiki:wgMaxArticleSize", "more-details", 409, "unsupported_action"},
		{"request-wiki:newwiki", "retry", 409, "unsupported_action"},
		{"request-wiki:newwiki", "undelete", 409, "unsupported_action"},
		{"request-wiki:newwiki", "promote", 400, "unknown_action"},
		{"rename-wiki:demowiki", "undelete", 409, "unsupported_action"},
		{"merge-wikis:newwiki", "approve", 404, "unknown_process"},
		{"Create-wiki:x", "approve", 404, "unknown_process"},
	} {
		code, errCode := signed(t, h, secret, http.MethodPost, "/v1/processes/"+tc.id+"/actions",
			map[string]string{"action": tc.action, "user": "Someone"})
		if code != tc.code || errCode != tc.err {
			t.Errorf("%s to %s: want %d %s, got %d %s", tc.action, tc.id, tc.code, tc.err, code, errCode)
		}
	}
}

// A rename without the new name, the user or the reason is refused before
// the client is used.
func TestRenameNeedsItsFields(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	h := (&Server{Client: &client.Client{}, Secret: secret}).Handler()
	for _, body := range []map[string]string{
		{"wiki": "demowiki", "user": "Someone", "reason": "r"},
		{"wiki": "demowiki", "to": "newwiki", "reason": "r"},
		{"wiki": "demowiki", "to": "newwiki", "user": "Someone"},
	} {
		if code, errCode := signed(t, h, secret, http.MethodPost, "/v1/processes/rename-wiki", body); code != 400 || errCode != "invalid_request" {
			t.Errorf("%v: got %d %s, want 400 invalid_request", body, code, errCode)
		}
	}
}

// A viewer that is not a user name is refused before anything is read.
func TestViewerMustBeAUserName(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	h := (&Server{Client: &client.Client{}, Secret: secret}).Handler()
	for _, v := range []string{"A%7CB", "%3Cscript%3E", "Tab%09Name", "%20Spaced", "x%23frag"} {
		for _, path := range []string{"/v1/processes?viewer=" + v, "/v1/processes/create-wiki:demowiki?viewer=" + v} {
			if code, errCode := signed(t, h, secret, http.MethodGet, path, nil); code != 400 || errCode != "invalid_request" {
				t.Errorf("%s: got %d %s", path, code, errCode)
			}
		}
	}
	for _, ok := range []string{"", "FarmAdmin", "Some User", "Zoë"} {
		if err := checkViewer(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
}
