package mediawiki

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wikiflow/wikiflow/signing"
)

// The worker's writes on a wiki go through the WikiFlow extension's API
// module, action=wikiflowwrite (farm/extensions/WikiFlow/includes/
// ApiWikiFlowWrite.php), which does each the way MediaWiki's own tools do it:
// a Special:Log entry (do=log, the code behind addLogEntry.php), a user's
// groups (do=grant-groups, as createAndPromote.php) and a page written by the
// "Maintenance script" system user (do=main-page, as edit.php). One request
// of the API costs a fraction of starting a maintenance script, which loads
// all of MediaWiki for one call.
//
// Each call is one POST signed with the farm's shared secret (package
// signing), with no session: a new wiki has none, and logging the service
// account in there cost three requests before the first write. The signed
// body names the wiki and a fresh nonce, so a call made again is a new
// signature and a signature seen before is refused (wikiflow-replayed).

const writeModule = "wikiflowwrite"

// LogWrite is one Special:Log entry to write (do=log).
type LogWrite struct {
	Type   string
	Action string
	// Performer is who acted, by any spelling MediaWiki takes for the account.
	Performer string
	Target    string
	Comment   string
	// Params are the entry's parameters ("4::wiki" and the like).
	Params map[string]any
	// Key identifies the entry: it is written once per key.
	Key string
	// Time is when it happened; zero means now.
	Time time.Time
	// Central puts the entry on the farm's central wiki ($wgWikiFlowCentralWiki)
	// whichever wiki is called: a wiki that is not the central one names it,
	// and the call is made there.
	Central bool
	// ApproverOf is a wiki request's page: the performer is then its latest
	// approver in the farmer log, when it has one.
	ApproverOf string
}

// LogWritten is the module's answer to do=log.
type LogWritten struct {
	Wiki      string `json:"wiki"`
	LogID     int64  `json:"logid"`
	Performer string `json:"performer"`
	Created   bool   `json:"created"`
	Published bool   `json:"published"`
}

// WriteLogEntry writes e on wiki (or on the central wiki, with e.Central),
// once per key: a second call with the key writes nothing and answers with
// the entry the first one wrote. Input that will never be logged is the API
// error wikiflow-refused; a key locked by another write, or an entry written
// but not yet published to recent changes, are wikiflow-locked and
// wikiflow-unpublished, worth another call.
func (c *Client) WriteLogEntry(ctx context.Context, wiki string, e LogWrite) (LogWritten, error) {
	params := url.Values{
		"do": {"log"}, "logtype": {e.Type}, "logaction": {e.Action}, "performer": {e.Performer},
		"target": {e.Target}, "key": {e.Key},
	}
	if e.Comment != "" {
		params.Set("comment", e.Comment)
	}
	if len(e.Params) > 0 {
		b, err := json.Marshal(e.Params)
		if err != nil {
			return LogWritten{}, fmt.Errorf("the log entry's params: %w", err)
		}
		params.Set("logparams", string(b))
	}
	if !e.Time.IsZero() {
		params.Set("timestamp", e.Time.UTC().Format("20060102150405"))
	}
	if e.Central {
		params.Set("central", "1")
	}
	if e.ApproverOf != "" {
		params.Set("approverof", e.ApproverOf)
	}
	var out struct {
		Written LogWritten `json:"wikiflowwrite"`
	}
	err := c.write(ctx, wiki, params, &out)
	var ae *APIError
	if e.Central && errors.As(err, &ae) && ae.Code == "wikiflow-notcentral" {
		central := ae.Field("central")
		if central == "" || central == wiki {
			return LogWritten{}, err
		}
		wiki = central
		err = c.write(ctx, wiki, params, &out)
	}
	if err != nil {
		return LogWritten{}, err
	}
	if out.Written.LogID <= 0 {
		return LogWritten{}, fmt.Errorf("%s on %s answered without a log id", writeModule, wiki)
	}
	return out.Written, nil
}

// GroupsGranted is the module's answer to do=grant-groups.
type GroupsGranted struct {
	// User is the canonical name.
	User string `json:"user"`
	// Added are the groups the call added: empty when the user was in all.
	Added []string `json:"added"`
	// Groups are all of the user's groups on the wiki afterwards, sorted,
	// as the wiki's primary database holds them.
	Groups []string `json:"groups"`
}

// GrantGroups adds an existing user to groups on wiki (the module takes
// bureaucrat, sysop and interface-admin only), as createAndPromote --force
// does; groups the user is in already are left alone. A name with no
// account is the API error nosuchuser, a name that is no user name
// invaliduser.
func (c *Client) GrantGroups(ctx context.Context, wiki, user string, groups []string) (GroupsGranted, error) {
	var out struct {
		Granted GroupsGranted `json:"wikiflowwrite"`
	}
	err := c.write(ctx, wiki, url.Values{"do": {"grant-groups"}, "user": {user}, "groups": {strings.Join(groups, "|")}}, &out)
	return out.Granted, err
}

// PageWritten is the module's answer to do=main-page.
type PageWritten struct {
	Title  string `json:"title"`
	PageID int64  `json:"pageid"`
	RevID  int64  `json:"revid"`
	// Created: the call created the page. NoChange: the page already had
	// the text (a null edit, no revision).
	Created  bool `json:"created"`
	NoChange bool `json:"nochange"`
}

// WriteMainPage writes text to title on wiki (the wiki's own main page,
// as Title::newMainPage names it, when title is empty) as the "Maintenance
// script" system user with the summary, as edit.php does; the same text
// again saves no revision. The answer is the page as the wiki's primary
// database holds it after the write.
func (c *Client) WriteMainPage(ctx context.Context, wiki, title, text, summary string) (PageWritten, error) {
	var out struct {
		Written PageWritten `json:"wikiflowwrite"`
	}
	params := url.Values{"do": {"main-page"}, "text": {text}, "summary": {summary}}
	if title != "" {
		params.Set("title", title)
	}
	err := c.write(ctx, wiki, params, &out)
	return out.Written, err
}

// ErrNoWriteSecret: the client has no shared secret to sign writes with.
var ErrNoWriteSecret = errors.New("no shared secret to sign writes to the wikis with (hook.secret, hook.secret_file)")

// write POSTs action=wikiflowwrite to the wiki, signed.
func (c *Client) write(ctx context.Context, wiki string, params url.Values, out any) error {
	if len(c.writeSecret) == 0 {
		return ErrNoWriteSecret
	}
	q := make(url.Values, len(params)+3)
	for k, v := range params {
		q[k] = v
	}
	q.Set("action", writeModule)
	q.Set("wiki", wiki)
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	q.Set("nonce", hex.EncodeToString(nonce))
	req, body, err := c.newRequest(ctx, http.MethodPost, wiki, q)
	if err != nil {
		return err
	}
	ts := time.Now().Unix()
	req.Header.Set(signing.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(signing.HeaderSignature, signing.Sign(c.writeSecret, ts, http.MethodPost, req.URL.RequestURI(), body))
	return c.send(c.http, req, wiki, out)
}
