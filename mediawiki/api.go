// Package mediawiki talks to the farm's MediaWiki: the Action API over HTTP
// and maintenance scripts through the farm's script command.
package mediawiki

import (
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
	"time"
)

// ErrUnknownWiki means the farm answered 404 or 410: the wiki is not served.
var ErrUnknownWiki = errors.New("the farm does not serve this wiki")

// APIError is an error reported by the Action API itself.
type APIError struct {
	Code string `json:"code"`
	Info string `json:"info"`
}

func (e *APIError) Error() string { return fmt.Sprintf("MediaWiki API error %s: %s", e.Code, e.Info) }

// HTTPError is an unexpected HTTP status; 5xx ones are worth retrying.
type HTTPError struct {
	Status int
	Body   string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("MediaWiki answered HTTP %d: %s", e.Status, e.Body)
}

// Client calls the Action API of any wiki of the farm.
type Client struct {
	urlPattern string
	http       *http.Client
}

// NewClient builds a client. urlPattern has {wiki} in place of the database
// name. When dialAddress is set every connection goes there whatever the
// URL's host, which keeps the Host header (and so the wiki) while not relying
// on the resolver to map *.localhost.
func NewClient(urlPattern, dialAddress string) *Client {
	return &Client{urlPattern: urlPattern, http: &http.Client{
		Timeout:   30 * time.Second,
		Transport: transport(dialAddress),
	}}
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

// Session is a client with its own cookies, for logged-in calls.
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

// Post runs a write action.
func (c *Client) Post(ctx context.Context, wiki string, params url.Values, out any) error {
	return c.call(ctx, http.MethodPost, wiki, params, out)
}

func (c *Client) call(ctx context.Context, method, wiki string, params url.Values, out any) error {
	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	q.Set("format", "json")
	q.Set("formatversion", "2")
	endpoint := c.BaseURL(wiki) + "/api.php"
	var req *http.Request
	var err error
	if method == http.MethodGet {
		req, err = http.NewRequestWithContext(ctx, method, endpoint+"?"+q.Encode(), nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, endpoint, strings.NewReader(q.Encode()))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "WikiFlow/1 (farm automation)")
	resp, err := c.http.Do(req)
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

// User is a user as one wiki sees them.
type User struct {
	ID      int      `json:"userid"`
	Name    string   `json:"name"`
	Missing bool     `json:"missing"`
	Invalid bool     `json:"invalid"`
	Groups  []string `json:"groups"`
	Rights  []string `json:"rights"`
}

// Has tells whether the user holds a right on that wiki.
func (u User) Has(right string) bool {
	for _, r := range u.Rights {
		if r == right {
			return true
		}
	}
	return false
}

// InGroup tells whether the user is a member of a group on that wiki.
func (u User) InGroup(group string) bool {
	for _, g := range u.Groups {
		if g == group {
			return true
		}
	}
	return false
}

// User reads a user's groups and rights on one wiki (list=users).
func (c *Client) User(ctx context.Context, wiki, name string) (User, error) {
	var out struct {
		Query struct {
			Users []User `json:"users"`
		} `json:"query"`
	}
	err := c.Get(ctx, wiki, url.Values{
		"action": {"query"}, "list": {"users"}, "ususers": {name}, "usprop": {"groups|rights"},
	}, &out)
	if err != nil {
		return User{}, err
	}
	if len(out.Query.Users) != 1 {
		return User{}, fmt.Errorf("list=users for %q on %s returned %d users", name, wiki, len(out.Query.Users))
	}
	return out.Query.Users[0], nil
}

// Login logs the session in with a user name and password (action=login).
func (c *Client) Login(ctx context.Context, wiki, name, password string) error {
	var tok struct {
		Query struct {
			Tokens struct {
				Login string `json:"logintoken"`
			} `json:"tokens"`
		} `json:"query"`
	}
	if err := c.Get(ctx, wiki, url.Values{"action": {"query"}, "meta": {"tokens"}, "type": {"login"}}, &tok); err != nil {
		return err
	}
	var res struct {
		Login struct {
			Result string `json:"result"`
			Reason string `json:"reason"`
			Name   string `json:"lgusername"`
		} `json:"login"`
	}
	err := c.Post(ctx, wiki, url.Values{
		"action": {"login"}, "lgname": {name}, "lgpassword": {password}, "lgtoken": {tok.Query.Tokens.Login},
	}, &res)
	if err != nil {
		return err
	}
	if res.Login.Result != "Success" {
		return fmt.Errorf("login as %s on %s: %s %s", name, wiki, res.Login.Result, res.Login.Reason)
	}
	return nil
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
