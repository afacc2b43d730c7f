// Package mediawiki talks to the farm's MediaWiki: the Action API over HTTP
// and maintenance scripts through the farm's script command.
package mediawiki

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"time"
)

// ErrUnknownWiki means the farm answered 404 or 410: the wiki is not served.
var ErrUnknownWiki = errors.New("the farm does not serve this wiki")

// APIError is an error reported by the Action API itself.
type APIError struct {
	Code string `json:"code"`
	Info string `json:"info"`
	// Data are the error's other fields, details a module adds (the
	// central wiki of wikiflow-notcentral); MediaWiki's docref is left out.
	Data map[string]json.RawMessage `json:"-"`
}

func (e *APIError) Error() string { return fmt.Sprintf("MediaWiki API error %s: %s", e.Code, e.Info) }

// UnmarshalJSON reads code and info, and keeps the other fields in Data.
func (e *APIError) UnmarshalJSON(b []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	for k, v := range fields {
		var err error
		switch k {
		case "code":
			err = json.Unmarshal(v, &e.Code)
		case "info":
			err = json.Unmarshal(v, &e.Info)
		case "docref":
		default:
			if e.Data == nil {
				e.Data = map[string]json.RawMessage{}
			}
			e.Data[k] = v
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Field is a string field of Data, or "".
func (e *APIError) Field(name string) string {
	var s string
	_ = json.Unmarshal(e.Data[name], &s)
	return s
}

// HTTPError is an unexpected HTTP status; 5xx ones are worth retrying.
type HTTPError struct {
	Status int
	Body   string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("MediaWiki answered HTTP %d: %s", e.Status, e.Body)
}

// LoginError is a login the wiki refused (action=login's result and reason).
type LoginError struct {
	Wiki   string
	User   string
	Result string
	Reason string
}

func (e *LoginError) Error() string {
	msg := fmt.Sprintf("login as %s on %s: %s", e.User, e.Wiki, e.Result)
	if e.Reason != "" {
		msg += " " + e.Reason
	}
	return msg
}

// Client calls the Action API of any wiki of the farm.
type Client struct {
	urlPattern string
	http       *http.Client
	// service, when set, is the account every call is made as.
	service *serviceAccount
	// writeSecret signs the writes of action=wikiflowwrite (write.go).
	writeSecret []byte
}

// Option configures a Client.
type Option func(*Client)

// WithServiceAccount makes every call of the client go through a session
// logged in as this account, one session per wiki, made on the first call to
// that wiki. name is a bot password login ("<user>@<app>"). Private wikis
// answer only logged-in readers, so a worker that manages them needs this.
func WithServiceAccount(name, password string) Option {
	return func(c *Client) {
		c.service = &serviceAccount{name: name, password: password, wikis: map[string]*wikiSession{}}
	}
}

// WithWriteSecret gives the client the farm's shared secret, which signs its
// writes (write.go).
func WithWriteSecret(secret []byte) Option {
	return func(c *Client) { c.writeSecret = secret }
}

// NewClient builds a client. urlPattern has {wiki} in place of the database
// name. When dialAddress is set every connection goes there whatever the
// URL's host, which keeps the Host header (and so the wiki) while not relying
// on the resolver to map *.localhost. Without options the client is
// anonymous.
func NewClient(urlPattern, dialAddress string, opts ...Option) *Client {
	c := &Client{urlPattern: urlPattern, http: &http.Client{
		Timeout:   30 * time.Second,
		Transport: transport(dialAddress),
	}}
	for _, o := range opts {
		o(c)
	}
	return c
}

func transport(dialAddress string) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if dialAddress != "" {
		d := &net.Dialer{Timeout: 5 * time.Second}
		t.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, dialAddress)
		}
	}
	return t
}

// BaseURL is the wiki's root URL.
func (c *Client) BaseURL(wiki string) string {
	return strings.TrimRight(strings.ReplaceAll(c.urlPattern, "{wiki}", wiki), "/")
}

// Session is a client with its own cookies, for logged-in calls. It starts
// anonymous (never as the service account) until Login.
func (c *Client) Session() *Client {
	jar, _ := cookiejar.New(nil)
	h := *c.http
	h.Jar = jar
	return &Client{urlPattern: c.urlPattern, http: &h}
}

// Get runs a read query (format=json, formatversion=2) and decodes the body into out.
func (c *Client) Get(ctx context.Context, wiki string, params url.Values, out any) error {
	return c.call(ctx, http.MethodGet, wiki, params, out)
}

func (c *Client) call(ctx context.Context, method, wiki string, params url.Values, out any) error {
	if c.service != nil {
		return c.service.call(ctx, c, method, wiki, params, out)
	}
	return c.do(ctx, c.http, method, wiki, params, out)
}

// do sends one request with the given HTTP client (and so its cookies).
func (c *Client) do(ctx context.Context, hc *http.Client, method, wiki string, params url.Values, out any) error {
	req, _, err := c.newRequest(ctx, method, wiki, params)
	if err != nil {
		return err
	}
	return c.send(hc, req, wiki, out)
}

// newRequest builds an API request: the parameters in the query of a GET,
// or as the form body of a POST, which it also returns.
func (c *Client) newRequest(ctx context.Context, method, wiki string, params url.Values) (*http.Request, []byte, error) {
	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	q.Set("format", "json")
	q.Set("formatversion", "2")
	endpoint := c.BaseURL(wiki) + "/api.php"
	var req *http.Request
	var body []byte
	var err error
	if method == http.MethodGet {
		req, err = http.NewRequestWithContext(ctx, method, endpoint+"?"+q.Encode(), nil)
	} else {
		body = []byte(q.Encode())
		req, err = http.NewRequestWithContext(ctx, method, endpoint, bytes.NewReader(body))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("User-Agent", "WikiFlow/1 (farm automation)")
	return req, body, nil
}

// send makes the request and decodes the API's answer into out.
func (c *Client) send(hc *http.Client, req *http.Request, wiki string, out any) error {
	endpoint := req.URL.Scheme + "://" + req.URL.Host + req.URL.Path
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("calling %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("reading %s: %w", endpoint, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return fmt.Errorf("%s: %w (HTTP %d)", wiki, ErrUnknownWiki, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return &HTTPError{Status: resp.StatusCode, Body: truncate(string(body), 300)}
	}
	var envelope struct {
		Error *APIError `json:"error"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil {
		return fmt.Errorf("%s answered with something that is not JSON: %s", endpoint, truncate(string(body), 200))
	}
	if envelope.Error != nil {
		return envelope.Error
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(body, out)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// SiteInfo is the part of meta=siteinfo the farm cares about.
type SiteInfo struct {
	SiteName       string `json:"sitename"`
	Lang           string `json:"lang"`
	DBName         string `json:"wikiid"`
	Generator      string `json:"generator"`
	MainPage       string `json:"mainpage"`
	ReadOnly       bool   `json:"readonly"`
	ReadOnlyReason string `json:"readonlyreason"`
	MaxArticleSize int    `json:"maxarticlesize"`
	// Raw keeps every general field, for settings the farm adds later.
	Raw map[string]any `json:"-"`
}

// SiteInfo reads meta=siteinfo (general).
func (c *Client) SiteInfo(ctx context.Context, wiki string) (SiteInfo, error) {
	var out struct {
		Query struct {
			General json.RawMessage `json:"general"`
		} `json:"query"`
	}
	err := c.Get(ctx, wiki, url.Values{"action": {"query"}, "meta": {"siteinfo"}}, &out)
	if err != nil {
		return SiteInfo{}, err
	}
	var si SiteInfo
	if err := json.Unmarshal(out.Query.General, &si); err != nil {
		return SiteInfo{}, err
	}
	_ = json.Unmarshal(out.Query.General, &si.Raw)
	return si, nil
}

// Extensions lists the names of the extensions the wiki has loaded now
// (meta=siteinfo&siprop=extensions).
func (c *Client) Extensions(ctx context.Context, wiki string) ([]string, error) {
	var out struct {
		Query struct {
			Extensions []struct {
				Name string `json:"name"`
			} `json:"extensions"`
		} `json:"query"`
	}
	if err := c.Get(ctx, wiki, url.Values{"action": {"query"}, "meta": {"siteinfo"}, "siprop": {"extensions"}}, &out); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(out.Query.Extensions))
	for _, e := range out.Query.Extensions {
		names = append(names, e.Name)
	}
	return names, nil
}

// Login logs the session in with a user name and password (action=login).
func (c *Client) Login(ctx context.Context, wiki, name, password string) error {
	if c.service != nil {
		return errors.New("mediawiki: log in on a Session; this client already calls as its service account")
	}
	return c.login(ctx, c.http, wiki, name, password)
}

// login runs action=login with a fresh login token over hc's cookies.
func (c *Client) login(ctx context.Context, hc *http.Client, wiki, name, password string) error {
	var tok struct {
		Query struct {
			Tokens struct {
				Login string `json:"logintoken"`
			} `json:"tokens"`
		} `json:"query"`
	}
	if err := c.do(ctx, hc, http.MethodGet, wiki, url.Values{"action": {"query"}, "meta": {"tokens"}, "type": {"login"}}, &tok); err != nil {
		return err
	}
	var res struct {
		Login struct {
			Result string `json:"result"`
			Reason string `json:"reason"`
			Name   string `json:"lgusername"`
		} `json:"login"`
	}
	err := c.do(ctx, hc, http.MethodPost, wiki, url.Values{
		"action": {"login"}, "lgname": {name}, "lgpassword": {password}, "lgtoken": {tok.Query.Tokens.Login},
	}, &res)
	if err != nil {
		return err
	}
	if res.Login.Result != "Success" {
		return &LoginError{Wiki: wiki, User: name, Result: res.Login.Result, Reason: res.Login.Reason}
	}
	return nil
}

// serviceAccount holds one logged-in session per wiki for the account.
type serviceAccount struct {
	name     string
	password string

	mu    sync.Mutex
	wikis map[string]*wikiSession
}

// wikiSession is the account's session on one wiki. lock (a one-slot
// channel, so that a waiting caller can give up with its context) is held
// while logging in, so that concurrent calls log in once. Each login gets a
// new cookie jar, leaving no cookie of a lost session behind.
type wikiSession struct {
	lock chan struct{}
	http *http.Client // nil until the first login
	gen  uint64       // counts logins, to tell whether someone else already renewed a lost session
}

func (a *serviceAccount) session(wiki string) *wikiSession {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.wikis[wiki]
	if s == nil {
		s = &wikiSession{lock: make(chan struct{}, 1)}
		a.wikis[wiki] = s
	}
	return s
}

// forget drops a wiki's session, for wikis the farm no longer serves.
func (a *serviceAccount) forget(wiki string, s *wikiSession) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.wikis[wiki] == s {
		delete(a.wikis, wiki)
	}
}

// loggedIn returns the session's HTTP client, logging in first when there
// is no session yet, or when renew is set and the session is still the one
// of login number lost.
func (s *wikiSession) loggedIn(ctx context.Context, c *Client, a *serviceAccount, wiki string, renew bool, lost uint64) (*http.Client, uint64, error) {
	select {
	case s.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	defer func() { <-s.lock }()
	if s.http != nil && (!renew || s.gen != lost) {
		return s.http, s.gen, nil
	}
	jar, _ := cookiejar.New(nil)
	hc := *c.http
	hc.Jar = jar
	err := c.login(ctx, &hc, wiki, a.name, a.password)
	if retryableLogin(err) {
		// A login token from a session that was lost in between: once more
		// with a new token.
		err = c.login(ctx, &hc, wiki, a.name, a.password)
	}
	if err != nil {
		var le *LoginError
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == "readonly" {
			return nil, 0, readOnlyLogin{err}
		}
		if errors.As(err, &le) {
			return nil, 0, fmt.Errorf("the service account cannot log in (mediawiki.service_user, mediawiki.service_password_file): %w", err)
		}
		return nil, 0, err
	}
	s.http = &hc
	s.gen++
	return s.http, s.gen, nil
}

// retryableLogin: the login token was refused or its session was lost.
func retryableLogin(err error) bool {
	var le *LoginError
	if errors.As(err, &le) {
		return le.Result == "WrongToken" || le.Result == "NeedToken" ||
			(le.Result == "Failed" && strings.Contains(strings.ToLower(le.Reason), "session"))
	}
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == "badtoken"
}

// readOnlyLogin is a login refused because the wiki is read-only.
type readOnlyLogin struct{ err error }

func (e readOnlyLogin) Error() string { return e.err.Error() }
func (e readOnlyLogin) Unwrap() error { return e.err }

// sessionLost: the wiki no longer knows the session (assert=user failed), or
// treats the call as anonymous on a private wiki.
func sessionLost(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Code == "assertuserfailed" || ae.Code == "readapidenied")
}

// call makes one API call as the account on the wiki; assert=user makes a
// lost session an error instead of an anonymous answer, and a lost session
// is renewed once. A read on a wiki that refuses the account's login
// because it is read-only is made anonymously.
func (a *serviceAccount) call(ctx context.Context, c *Client, method, wiki string, params url.Values, out any) error {
	return a.callAs(ctx, c, method, wiki, params, out, true)
}

// callAs is call; anonymous says whether a read-only wiki's refused login
// may fall back to an anonymous call (never for writes, which only the
// account may make: the wiki's readonly error is the answer).
func (a *serviceAccount) callAs(ctx context.Context, c *Client, method, wiki string, params url.Values, out any, anonymous bool) error {
	s := a.session(wiki)
	q := make(url.Values, len(params)+1)
	for k, v := range params {
		q[k] = v
	}
	q.Set("assert", "user")
	hc, gen, err := s.loggedIn(ctx, c, a, wiki, false, 0)
	if err == nil {
		err = c.do(ctx, hc, method, wiki, q, out)
		if sessionLost(err) {
			if hc, _, err = s.loggedIn(ctx, c, a, wiki, true, gen); err == nil {
				err = c.do(ctx, hc, method, wiki, q, out)
			}
		}
	}
	var ro readOnlyLogin
	if errors.As(err, &ro) && anonymous {
		// MediaWiki refuses logins on a read-only (closed) wiki unless the farm lets the
		// service account through; a public one still answers anonymously, as before.
		err = c.do(ctx, c.http, method, wiki, params, out)
	}
	if errors.Is(err, ErrUnknownWiki) {
		a.forget(wiki, s)
	}
	return err
}

// CurrentUser returns who the session is logged in as on a wiki.
func (c *Client) CurrentUser(ctx context.Context, wiki string) (string, error) {
	var out struct {
		Query struct {
			UserInfo struct {
				Name string `json:"name"`
				Anon bool   `json:"anon"`
			} `json:"userinfo"`
		} `json:"query"`
	}
	if err := c.Get(ctx, wiki, url.Values{"action": {"query"}, "meta": {"userinfo"}}, &out); err != nil {
		return "", err
	}
	if out.Query.UserInfo.Anon {
		return "", nil
	}
	return out.Query.UserInfo.Name, nil
}

// PageExists tells whether a page exists on a wiki.
func (c *Client) PageExists(ctx context.Context, wiki, title string) (bool, error) {
	var out struct {
		Query struct {
			Pages []struct {
				Missing bool `json:"missing"`
				Invalid bool `json:"invalid"`
			} `json:"pages"`
		} `json:"query"`
	}
	if err := c.Get(ctx, wiki, url.Values{"action": {"query"}, "titles": {title}}, &out); err != nil {
		return false, err
	}
	return len(out.Query.Pages) == 1 && !out.Query.Pages[0].Missing && !out.Query.Pages[0].Invalid, nil
}
