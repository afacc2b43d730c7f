//go:build integration

package integration

import (
	"encoding/json"
	"errors"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/changesetting"
)

// footerCopyright is the footer's license line of a page ("" when the page
// has none), as the skin printed it.
var footerCopyright = regexp.MustCompile(`(?s)<li id="footer-info-copyright">(.*?)</li>`)

// markupPage fetches a wiki's main page as an anonymous reader and returns
// its HTML and the footer's license line.
func markupPage(t *testing.T, db string) (page, footer string) {
	t.Helper()
	code, page := newVisitor(t, farmAddr(), db).page("Main_Page")
	if code != 200 {
		t.Fatalf("Main_Page of %s: HTTP %d %.300s", db, code, page)
	}
	if m := footerCopyright.FindStringSubmatch(page); m != nil {
		footer = m[1]
	}
	return page, footer
}

// noProcess asserts that no change-setting process exists for the setting.
func noProcess(t *testing.T, db, setting string) {
	t.Helper()
	_, err := deps.Temporal.DescribeWorkflowExecution(testContext(t, time.Minute), changesetting.ChangeSettingID(db, setting), "")
	var notFound *serviceerror.NotFound
	if !errors.As(err, &notFound) {
		t.Fatalf("a process %s exists after a refused request: %v", changesetting.ChangeSettingID(db, setting), err)
	}
}

// A bureaucrat cannot put markup into the footer: hostile license texts and
// addresses are refused with the reason before any process starts, through
// the CLI's client and through the wikis' hook endpoint, and change
// nothing. Plain text with "&" and quotes is applied and printed escaped;
// with a license address it is a link whose text is escaped once.
func TestSettingMarkupRefusedAndEscaped(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	db, _ := liveWiki(t, "markup")
	crat := bureaucrat(t, db)
	before := srRawSettings(t, db)

	for _, tc := range []struct{ setting, value, why string }{
		{"wgRightsText", `"<script>alert(1)</script>"`, `wgRightsText must be plain text: "<" and ">" are not allowed (HTML markup)`},
		{"wgRightsText", `"CC <b>BY</b>"`, `wgRightsText must be plain text: "<" and ">" are not allowed (HTML markup)`},
		{"wgRightsText", `"&lt;script&gt;alert(1)&lt;/script&gt;"`, `wgRightsText must be plain text: character references such as "&lt;" are not allowed`},
		{"wgRightsText", `"[[Special:UserLogout|license]]"`, `wgRightsText must be plain text: "[", "]", "{" and "}" are not allowed`},
		{"wgRightsText", `"CC BY\n<hr>"`, `wgRightsText must be plain text`},
		{"wgRightsText", `123`, `wgRightsText must be a JSON string, got a number`},
		{"wgRightsUrl", `"javascript:alert(1)"`, `wgRightsUrl may only be an http:// or https:// URL: the scheme "javascript" is not allowed`},
		{"wgRightsUrl", `" JaVaScRiPt:alert(1)"`, `wgRightsUrl must be a URL without spaces or control characters`},
		{"wgRightsUrl", `"data:text/html,<script>alert(1)</script>"`, `the scheme "data" is not allowed`},
		{"wgRightsUrl", `"//evil.example/"`, `not a protocol-relative one`},
	} {
		_, err := cli.ChangeSetting(ctx, db, tc.setting, tc.value, crat, "markup test")
		var refusedErr *client.RefusedError
		if !errors.As(err, &refusedErr) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s=%s: want a refusal saying %q, got %v", tc.setting, tc.value, tc.why, err)
		}
		noProcess(t, db, tc.setting)
	}
	// The wiki's form sends its requests through the hook endpoint: the same refusal.
	code, out := signedCall("POST", "/v1/processes/change-setting",
		map[string]any{"wiki": db, "setting": "wgRightsText", "value": "<script>alert(1)</script>", "user": crat}).do(t)
	e, _ := out["error"].(map[string]any)
	if msg, _ := e["message"].(string); code != 400 || errorCode(out) != "invalid_request" ||
		!strings.Contains(msg, `wgRightsText must be plain text: "<" and ">" are not allowed (HTML markup)`) {
		t.Fatalf("a script through the hook: %d %v", code, out)
	}
	noProcess(t, db, "wgRightsText")
	if got := srRawSettings(t, db); got != before {
		t.Fatalf("refused changes altered mw_settings: %s, was %s", got, before)
	}
	if page, footer := markupPage(t, db); footer != "" || strings.Contains(page, "alert(1)") {
		t.Fatalf("a license line or a refused script on the page after refused changes: %q", footer)
	}

	// Plain text with "&" and quotes: applied at once, printed escaped
	// (LocalSettings' htmlspecialchars, since MediaWiki prints it raw).
	const text = `Tom & Jerry's "CC BY-SA" license`
	const textJSON = `"Tom & Jerry's \"CC BY-SA\" license"`
	st, err := cli.ChangeSetting(ctx, db, "wgRightsText", textJSON, crat, "license")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, st.ID, time.Minute, process.StateCompleted)
	values, err := deps.Central.ReadSettings(ctx, db)
	if err != nil || string(values["wgRightsText"]) != textJSON {
		t.Fatalf("stored wgRightsText: %s (%v)", values["wgRightsText"], err)
	}
	page, footer := markupPage(t, db)
	if !strings.Contains(footer, `Tom &amp; Jerry&#039;s &quot;CC BY-SA&quot; license`) {
		t.Fatalf("the footer does not show the text escaped: %q", footer)
	}
	if strings.Contains(page, text) || strings.Contains(page, `"CC BY-SA"`) || strings.Contains(footer, "&amp;amp;") {
		t.Fatalf("the license text is printed raw or escaped twice: %q", footer)
	}
	if !strings.Contains(html.UnescapeString(footer), text) {
		t.Fatalf("the footer does not read as the text: %q", footer)
	}

	// With a license address the text is a link: MediaWiki escapes the
	// link's text itself (Linker::makeExternalLink), so LocalSettings leaves
	// it and it is escaped once; the address is the href and the page's
	// <link rel="license">.
	st, err = cli.ChangeSetting(ctx, db, "wgRightsUrl", `"https://example.org/license?a=1&b=2"`, crat, "license link")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, st.ID, time.Minute, process.StateCompleted)
	page, footer = markupPage(t, db)
	if !strings.Contains(footer, `href="https://example.org/license?a=1&amp;b=2"`) ||
		!strings.Contains(footer, `>Tom &amp; Jerry's &quot;CC BY-SA&quot; license</a>`) {
		t.Fatalf("the license link: %q", footer)
	}
	if !strings.Contains(page, `<link rel="license" href="https://example.org/license?a=1&amp;b=2"`) {
		t.Fatal(`no <link rel="license"> with the address`)
	}
}

// Values written into mw_settings by another tool, past the worker's
// checks, are never printed raw: LocalSettings applies only values the
// registry accepts, so the wiki keeps its defaults (no license line).
func TestSettingMarkupWrittenDirectlyIsNotApplied(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	db, _ := liveWiki(t, "rawmarkup")
	for _, tc := range []struct{ setting, value string }{
		{"wgRightsText", `"<script>alert('raw')</script>"`},
		{"wgRightsUrl", `"javascript:alert('raw')"`},
	} {
		// farmdb writes what it is given: the registry is the callers' check.
		if _, _, err := deps.Central.ApplySetting(ctx, db, tc.setting, json.RawMessage(tc.value)); err != nil {
			t.Fatal(err)
		}
	}
	page, footer := markupPage(t, db)
	if footer != "" || strings.Contains(page, "alert('raw')") || strings.Contains(page, "alert(&#039;raw&#039;)") ||
		strings.Contains(strings.ToLower(page), "javascript:alert") {
		t.Fatalf("a value written past the registry reached the page: footer %q", footer)
	}
	var si struct {
		Query struct {
			RightsInfo struct {
				URL  string `json:"url"`
				Text string `json:"text"`
			} `json:"rightsinfo"`
		} `json:"query"`
	}
	newVisitor(t, farmAddr(), db).apiJSON(url.Values{"action": {"query"}, "meta": {"siteinfo"}, "siprop": {"rightsinfo"}}, &si)
	if si.Query.RightsInfo.URL != "" || si.Query.RightsInfo.Text != "" {
		t.Fatalf("siteinfo rightsinfo after values written past the registry: %+v", si.Query.RightsInfo)
	}

	// A character reference is refused in the same way (it would show as
	// another character than the one stored); a plain value next to it in
	// the row is applied, escaped.
	if _, _, err := deps.Central.ApplySetting(ctx, db, "wgRightsText", json.RawMessage(`"&lt;script&gt;"`)); err != nil {
		t.Fatal(err)
	}
	if _, footer := markupPage(t, db); footer != "" {
		t.Fatalf("a character reference reached the footer: %q", footer)
	}
	if _, _, err := deps.Central.ApplySetting(ctx, db, "wgRightsText", json.RawMessage(`"A & \"B\""`)); err != nil {
		t.Fatal(err)
	}
	if _, footer := markupPage(t, db); !strings.Contains(footer, `A &amp; &quot;B&quot;`) {
		t.Fatalf("a plain value written directly: footer %q", footer)
	}
}
