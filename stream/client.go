package stream

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wikiflow/wikiflow/signing"
)

// Message is one SSE message of a stream.
type Message struct {
	ID    int64 // the event's outbox number
	Event string
	Data  []byte
}

// Client reads a stream, resuming after a dropped connection from the last
// event it received.
type Client struct {
	// BaseURL is the endpoint's root, http://host:port.
	BaseURL string
	Stream  string
	// Secret signs each request, so that private wikis' events come too;
	// nil reads anonymously.
	Secret []byte
	Wiki   string
	// HTTP is the client used (nil: one without a timeout, as a stream
	// needs).
	HTTP *http.Client
	// Retry is how long to wait before reconnecting after a dropped
	// connection (zero: one second, doubling up to 30 s).
	Retry time.Duration
	// MaxRetries is how many reconnections in a row may fail before Read
	// gives up (zero: it never does).
	MaxRetries int
	// OnReconnect, if set, is told of each drop before the client
	// reconnects.
	OnReconnect func(err error, lastID int64)
}

// Start says where a read starts: after LastID if HasLastID, else at Since
// if set, else from now on.
type Start struct {
	LastID    int64
	HasLastID bool
	Since     time.Time
}

// StatusError is a refusal of the endpoint: it is not retried.
type StatusError struct {
	Code    int
	ErrCode string
	Message string
}

func (e *StatusError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("the event stream answered HTTP %d", e.Code)
	}
	return fmt.Sprintf("the event stream refused the request (HTTP %d): %s", e.Code, e.Message)
}

// Read calls fn with each event from start on. With untilHead it returns
// nil once every event stored when it connected has come; otherwise it
// follows the stream until ctx ends (and returns ctx's error). A dropped
// connection is resumed with the last event's number, so fn sees every
// event once, in order. The first connection's failure and any refusal
// (HTTP 4xx) end the read at once; fn's error too.
func (c *Client) Read(ctx context.Context, start Start, untilHead bool, fn func(Message) error) error {
	pos := start
	connected := false
	base := c.Retry
	if base <= 0 {
		base = time.Second
	}
	wait := base
	failures := 0
	for {
		ended, got, err := c.once(ctx, pos, untilHead, func(m Message) error {
			pos = Start{LastID: m.ID, HasLastID: true}
			return fn(m)
		})
		connected = connected || got
		var se *StatusError
		switch {
		case err == nil && ended:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &se) && se.Code < 500:
			return err
		case errors.Is(err, errCallback):
			return errors.Unwrap(err)
		case !connected:
			return err
		}
		if err == nil {
			err = errors.New("the server closed the stream")
		}
		if got {
			failures, wait = 0, base
		}
		failures++
		if c.MaxRetries > 0 && failures > c.MaxRetries {
			return fmt.Errorf("gave up after %d reconnections: %w", c.MaxRetries, err)
		}
		if c.OnReconnect != nil {
			c.OnReconnect(err, pos.LastID)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		if c.Retry <= 0 {
			wait = min(2*wait, 30*time.Second)
		}
	}
}

var errCallback = errors.New("callback")

type callbackError struct{ err error }

func (e callbackError) Error() string        { return e.err.Error() }
func (e callbackError) Unwrap() error        { return e.err }
func (e callbackError) Is(target error) bool { return target == errCallback }

// once makes one connection: ended tells the stream ended with EndComment,
// connected that the endpoint answered 200.
func (c *Client) once(ctx context.Context, start Start, untilHead bool, fn func(Message) error) (ended, connected bool, err error) {
	req, err := c.request(ctx, start, untilHead)
	if err != nil {
		return false, false, err
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false, false, fmt.Errorf("cannot reach the event stream at %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		se := &StatusError{Code: resp.StatusCode}
		var body struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body) == nil {
			se.ErrCode, se.Message = body.Error.Code, body.Error.Message
		}
		return false, false, se
	}
	ended, err = Parse(resp.Body, func(m Message) error {
		if err := fn(m); err != nil {
			return callbackError{err}
		}
		return nil
	})
	return ended, true, err
}

// URL is the stream's URL for a read from start.
func (c *Client) URL(start Start, untilHead bool) string {
	q := url.Values{}
	switch {
	case start.HasLastID:
		q.Set(ParamLastEventID, strconv.FormatInt(start.LastID, 10))
	case !start.Since.IsZero():
		q.Set(ParamSince, start.Since.UTC().Format(time.RFC3339Nano))
	}
	if c.Wiki != "" {
		q.Set(ParamWiki, c.Wiki)
	}
	if untilHead {
		q.Set(ParamUntilHead, "true")
	}
	if len(c.Secret) > 0 {
		// Two requests alike signed in the same second would have the same
		// signature, and the second would count as a replay.
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		q.Set(ParamNonce, hex.EncodeToString(b))
	}
	u := strings.TrimRight(c.BaseURL, "/") + Prefix + url.PathEscape(c.Stream)
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

func (c *Client) request(ctx context.Context, start Start, untilHead bool) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL(start, untilHead), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if start.HasLastID {
		req.Header.Set(HeaderLastEventID, strconv.FormatInt(start.LastID, 10))
	}
	if len(c.Secret) > 0 {
		ts := time.Now().Unix()
		req.Header.Set(signing.HeaderTimestamp, strconv.FormatInt(ts, 10))
		req.Header.Set(signing.HeaderSignature, signing.Sign(c.Secret, ts, http.MethodGet, req.URL.RequestURI(), nil))
	}
	return req, nil
}

// Parse reads SSE messages from r and calls fn with each one that has
// data, until r ends; ended tells whether the stream ended with EndComment.
// A message's id must be an event number.
func Parse(r io.Reader, fn func(Message) error) (ended bool, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var m Message
	var data []string
	hasID := false
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if data != nil {
				if !hasID {
					return false, errors.New("the stream sent a message without an id")
				}
				m.Data = []byte(strings.Join(data, "\n"))
				if m.Event == "" {
					m.Event = "message"
				}
				if err := fn(m); err != nil {
					return false, err
				}
			}
			m, data, hasID = Message{}, nil, false
			continue
		}
		if line == EndComment {
			ended = true
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			id, err := ParseLastEventID(value)
			if err != nil {
				return false, fmt.Errorf("the stream sent an id that is not an event number: %q", value)
			}
			m.ID, hasID = id, true
		case "event":
			m.Event = value
		case "data":
			data = append(data, value)
		}
	}
	return ended, sc.Err()
}
