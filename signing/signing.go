// Package signing is the one signature between the farm's wikis and the
// worker, in both directions: a wiki signs its calls of the hook endpoint,
// the worker signs its writes through the WikiFlow extension's API module
// (farm/extensions/WikiFlow/includes/SignedRequest.php is the PHP side).
// The key is the farm's shared secret (hook.secret, $wgWikiFlowHookSecret).
package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// Headers of a signed request.
const (
	HeaderTimestamp = "X-WikiFlow-Timestamp"
	HeaderSignature = "X-WikiFlow-Signature"
)

// Window is how far a request's timestamp may be from the receiver's clock.
const Window = 300 * time.Second

// Sign returns the signature header value of a request: "sha256=" and the
// hex HMAC-SHA256 of timestamp\nMETHOD\npath-with-query\nbody.
func Sign(secret []byte, timestamp int64, method, pathWithQuery string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(timestamp, 10) + "\n" + method + "\n" + pathWithQuery + "\n"))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
