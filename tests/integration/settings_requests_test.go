//go:build integration

package integration

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/settings"
	"github.com/wikiflow/wikiflow/workflows/changesetting"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
)

// srActivities is the worker's Farm (with the settings registry) in a test
// activity environment.
func srActivities(t *testing.T) (*activities.Farm, *testsuite.TestActivityEnvironment) {
	t.Helper()
	farm, err := deps.Activities()
	if err != nil {
		t.Fatal(err)
	}
	if farm.Settings == nil {
		reg, err := settings.Load(config.Abs(deps.Config.MediaWiki.SettingsRegistry))
		if err != nil {
			t.Fatal(err)
		}
		farm.Settings = reg
	}
	return farm, activityEnv(farm)
}

// srRawSettings is the wiki's s_settings exactly as stored ("<no row>" when none).
func srRawSettings(t *testing.T, db string) string {
	t.Helper()
	var raw sql.NullString
	err := deps.Central.DB.QueryRowContext(testContext(t, 10*time.Second),
		`SELECT s_settings FROM mw_settings WHERE s_dbname = ?`, db).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return "<no row>"
	}
	if err != nil {
		t.Fatal(err)
	}
	return raw.String
}

func srStep(t *testing.T, env *testsuite.TestActivityEnvironment, activity string, in process.StepInput) (process.StepResult, error) {
	t.Helper()
	return runActivity[process.StepResult](t, env, activity, in)
}

func srSettingInput(db, setting, value string) process.StepInput {
	return process.StepInput{
		ProcessID: "change-setting:" + db, Kind: "change-setting", Step: "apply",
		Wiki: process.WikiSpec{DB: db},
		Args: map[string]string{changesetting.SettingArgName: setting, changesetting.SettingArgValue: value},
	}
}

// srNewWiki creates a wiki through the worker, as a farm would.
func srNewWiki(t *testing.T, prefix string) string {
	t.Helper()
	ctx := testContext(t, 3*time.Minute)
	db := uniqueDB(prefix)
	id, err := cli.CreateWiki(ctx, client.CreateWikiRequest{
		Wiki:      process.WikiSpec{DB: db, Sitename: "Settings " + db, Language: "en"},
		Requester: newUser(t, "Requester"),
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, id, 3*time.Minute, process.StateCompleted)
	return db
}

// A setting change end to end on a real wiki: refusals change nothing, the
// change keeps every other key, records the old value, is idempotent, and
// the wiki itself reports it on its very next request.
func TestSettingChangeOnARealWiki(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	farm, env := srActivities(t)
	db := srNewWiki(t, "set")

	before, err := deps.API.SiteInfo(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if before.MaxArticleSize != 2048*1024 {
		t.Fatalf("a new wiki's maxarticlesize is %d, want the registry's default 2048 KiB", before.MaxArticleSize)
	}
	// Keys set before (one the registry lists, one it does not) must survive.
	_, err = deps.Central.DB.ExecContext(ctx, `UPDATE mw_settings SET s_settings = ? WHERE s_dbname = ?`,
		`{"wgDefaultSkin": "monobook", "wgSomethingElse": {"nested": [1, 2], "s": "a<b"}}`, db)
	if err != nil {
		t.Fatal(err)
	}
	initial := srRawSettings(t, db)

	// Refusals: nothing reaches mw_settings.
	refusals := []struct{ setting, value, mention string }{
		{"wgFoo", "1", "unknown setting wgFoo"},
		{"wgMaxArticleSize", `"12"`, "integer"},
		{"wgMaxArticleSize", "1.5", "integer"},
		{"wgMaxArticleSize", `{"a": 1}`, "got an object"},
		{"wgMaxArticleSize", "5000", "between 1 and 4096"},
		{"wgMaxArticleSize", "0", "between 1 and 4096"},
		{"wgMaxArticleSize", "", "empty"},
		{"wgDefaultSkin", `"cologneblue"`, "must be one of"},
		{"wgFileExtensions", `["png", "exe"]`, "not allowed"},
		{"", "1", `argument "setting" is missing`},
	}
	for _, r := range refusals {
		for _, act := range []string{changesetting.NameValidateSettingChange, changesetting.NameApplySetting} {
			_, err := srStep(t, env, act, srSettingInput(db, r.setting, r.value))
			wantPermanent(t, err, activities.ErrTypeInvalidInput, r.mention)
		}
	}
	if got := srRawSettings(t, db); got != initial {
		t.Fatalf("refused changes altered mw_settings:\nbefore %s\nafter  %s", initial, got)
	}

	// Validation: twice, same answer, nothing written.
	for run := 0; run < 2; run++ {
		res, err := srStep(t, env, changesetting.NameValidateSettingChange, srSettingInput(db, "wgMaxArticleSize", " 1234 "))
		if err != nil {
			t.Fatal(err)
		}
		if res.Outputs[changesetting.SettingOutRestricted] != "true" || res.Outputs[changesetting.SettingOutValue] != "1234" {
			t.Fatalf("validate outputs: %v", res.Outputs)
		}
	}
	res, err := srStep(t, env, changesetting.NameValidateSettingChange, srSettingInput(db, "wgDefaultSkin", `"timeless"`))
	if err != nil || res.Outputs[changesetting.SettingOutRestricted] != "false" || res.Outputs[changesetting.SettingOutValue] != `"timeless"` {
		t.Fatalf("validate wgDefaultSkin: %v %v", res.Outputs, err)
	}
	if got := srRawSettings(t, db); got != initial {
		t.Fatalf("validation altered mw_settings: %s", got)
	}

	// Apply twice: the second run changes nothing and reports the value as old.
	first, err := srStep(t, env, changesetting.NameApplySetting, srSettingInput(db, "wgMaxArticleSize", "1234"))
	if err != nil {
		t.Fatal(err)
	}
	if first.Outputs[changesetting.SettingOutOld] != "" || first.Outputs[changesetting.SettingOutOldSet] != "false" ||
		first.Outputs[changesetting.SettingOutNew] != "1234" || first.Outputs[changesetting.SettingOutRestricted] != "true" {
		t.Fatalf("first apply outputs: %v", first.Outputs)
	}
	afterOne := srRawSettings(t, db)
	second, err := srStep(t, env, changesetting.NameApplySetting, srSettingInput(db, "wgMaxArticleSize", "1234"))
	if err != nil {
		t.Fatal(err)
	}
	if second.Outputs[changesetting.SettingOutOld] != "1234" || second.Outputs[changesetting.SettingOutOldSet] != "true" {
		t.Fatalf("second apply outputs: %v", second.Outputs)
	}
	if afterTwo := srRawSettings(t, db); afterTwo != afterOne {
		t.Fatalf("ApplySetting is not idempotent:\nafter one run:  %s\nafter two runs: %s", afterOne, afterTwo)
	}
	got, err := deps.Central.ReadSettings(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if string(got["wgMaxArticleSize"]) != "1234" || string(got["wgDefaultSkin"]) != `"monobook"` ||
		string(got["wgSomethingElse"]) != `{"nested":[1,2],"s":"a<b"}` || len(got) != 3 {
		t.Fatalf("settings after the change: %s", afterOne)
	}

	// The wiki applies mw_settings on every request: its next answer has it
	// (siteinfo reports maxarticlesize in bytes; the setting is in KiB).
	si, err := deps.API.SiteInfo(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if si.MaxArticleSize != 1234*1024 {
		t.Fatalf("siteinfo maxarticlesize %d right after the change, want %d", si.MaxArticleSize, 1234*1024)
	}
	if raw, _ := si.Raw["maxarticlesize"].(float64); raw != 1234*1024 {
		t.Fatalf("siteinfo raw maxarticlesize %v", si.Raw["maxarticlesize"])
	}

	// A later change records the previous value.
	third, err := srStep(t, env, changesetting.NameApplySetting, srSettingInput(db, "wgMaxArticleSize", "2000"))
	if err != nil || third.Outputs[changesetting.SettingOutOld] != "1234" || third.Outputs[changesetting.SettingOutNew] != "2000" {
		t.Fatalf("third apply: %v %v", third.Outputs, err)
	}
	if si, _ := deps.API.SiteInfo(ctx, db); si.MaxArticleSize != 2000*1024 {
		t.Fatalf("siteinfo maxarticlesize %d after the second change", si.MaxArticleSize)
	}

	// Concurrent changes of different keys all land (the row is locked).
	changes := map[string]string{
		"wgLocaltimezone": `"Asia/Tokyo"`, "wgInterwikiMagic": "false", "wgRightsText": `"CC BY & \"more\""`,
		"wgFileExtensions": `["png","svg"]`, "wgMainPageIsDomainRoot": "true", "wgDefaultSkin": `"timeless"`,
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(changes))
	for name, value := range changes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			norm, err := farm.Settings.Check(name, json.RawMessage(value))
			if err == nil {
				_, _, err = deps.Central.ApplySetting(ctx, db, name, norm)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err = deps.Central.ReadSettings(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for name, value := range changes {
		var want bytes.Buffer
		_ = json.Compact(&want, []byte(value))
		if string(got[name]) != want.String() {
			t.Errorf("%s = %s after concurrent changes, want %s", name, got[name], want.String())
		}
	}
	if string(got["wgMaxArticleSize"]) != "2000" || string(got["wgSomethingElse"]) != `{"nested":[1,2],"s":"a<b"}` {
		t.Fatalf("concurrent changes lost a key: %v", got)
	}
	if si, err := deps.API.SiteInfo(ctx, db); err != nil || si.Raw["timezone"] != "Asia/Tokyo" {
		t.Fatalf("siteinfo timezone %v (%v)", si.Raw["timezone"], err)
	}

	// A closed wiki is refused, then a deleted one, and nothing changes.
	settled := srRawSettings(t, db)
	t.Cleanup(func() { // leave the test wiki open, as the farm's other tests expect wikis to be
		_, _ = deps.Central.DB.ExecContext(context.Background(),
			`UPDATE cw_wikis SET wiki_closed = 0, wiki_closed_timestamp = NULL, wiki_deleted = 0 WHERE wiki_dbname = ?`, db)
	})
	centralExec(t, ctx, `UPDATE cw_wikis SET wiki_closed = 1, wiki_closed_timestamp = ? WHERE wiki_dbname = ?`, farmdb.Timestamp(time.Now()), db)
	for _, act := range []string{changesetting.NameValidateSettingChange, changesetting.NameApplySetting} {
		_, err := srStep(t, env, act, srSettingInput(db, "wgMaxArticleSize", "100"))
		wantPermanent(t, err, activities.ErrTypeInvalidInput, "closed")
	}
	centralExec(t, ctx, `UPDATE cw_wikis SET wiki_deleted = 1 WHERE wiki_dbname = ?`, db)
	for _, act := range []string{changesetting.NameValidateSettingChange, changesetting.NameApplySetting} {
		_, err := srStep(t, env, act, srSettingInput(db, "wgMaxArticleSize", "100"))
		wantPermanent(t, err, activities.ErrTypeWikiNotFound, "deleted")
	}
	if got := srRawSettings(t, db); got != settled {
		t.Fatalf("a refused change on a closed wiki altered mw_settings: %s", got)
	}
}

// A wiki that is not registered is refused, and gets no mw_settings row.
func TestSettingChangeOnAnUnknownWiki(t *testing.T) {
	_, env := srActivities(t)
	db := uniqueDB("nosettings")
	for _, act := range []string{changesetting.NameValidateSettingChange, changesetting.NameApplySetting} {
		_, err := srStep(t, env, act, srSettingInput(db, "wgMaxArticleSize", "100"))
		wantPermanent(t, err, activities.ErrTypeWikiNotFound, db)
	}
	_, err := srStep(t, env, changesetting.NameApplySetting, srSettingInput("Bad Name", "wgMaxArticleSize", "100"))
	wantPermanent(t, err, activities.ErrTypeInvalidInput, "unsafe database name")
	if got := srRawSettings(t, db); got != "<no row>" {
		t.Fatalf("an unknown wiki got settings: %s", got)
	}
}

// farmdb's ApplySetting creates the row a wiki lacks, with ManageWiki's
// empty settings and extensions, and refuses to overwrite a damaged one.
func TestApplySettingRowHandling(t *testing.T) {
	ctx := testContext(t, time.Minute)
	db := uniqueDB("rowless")
	t.Cleanup(func() {
		_, _ = deps.Central.DB.ExecContext(context.Background(), `DELETE FROM mw_settings WHERE s_dbname = ?`, db)
	})
	if got, err := deps.Central.ReadSettings(ctx, db); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("ReadSettings without a row: %v, %v", got, err)
	}
	old, existed, err := deps.Central.ApplySetting(ctx, db, "wgRightsText", json.RawMessage(`"x"`))
	if err != nil || existed || old != nil {
		t.Fatalf("first apply: %s %v %v", old, existed, err)
	}
	var s, e string
	if err := deps.Central.DB.QueryRowContext(ctx, `SELECT s_settings, s_extensions FROM mw_settings WHERE s_dbname = ?`, db).Scan(&s, &e); err != nil {
		t.Fatal(err)
	}
	if s != `{"wgRightsText":"x"}` || e != "[]" {
		t.Fatalf("created row: %s %s", s, e)
	}
	if _, _, err := deps.Central.ApplySetting(ctx, db, "wgRightsText", json.RawMessage(`not json`)); err == nil {
		t.Fatal("ApplySetting took a value that is not JSON")
	}
	centralExec(t, ctx, `UPDATE mw_settings SET s_settings = '[1]' WHERE s_dbname = ?`, db)
	if _, _, err := deps.Central.ApplySetting(ctx, db, "wgRightsText", json.RawMessage(`"y"`)); err == nil || !strings.Contains(err.Error(), "not a JSON object") {
		t.Fatalf("a damaged row was overwritten: %v", err)
	}
	if got := srRawSettings(t, db); got != "[1]" {
		t.Fatalf("damaged row changed: %s", got)
	}
}

// srDeleteRequest removes a test request and its comments and history.
func srDeleteRequest(t *testing.T, id int64) {
	t.Cleanup(func() {
		for _, q := range []string{`DELETE FROM cw_comments WHERE cw_id = ?`, `DELETE FROM cw_history WHERE cw_id = ?`,
			`DELETE FROM wf_request_keys WHERE key_request = ?`, `DELETE FROM cw_requests WHERE cw_id = ?`} {
			_, _ = deps.Central.Requests().ExecContext(context.Background(), q, id)
		}
	})
}

func srCount(t *testing.T, table string, id int64) int {
	t.Helper()
	var n int
	if err := deps.Central.Requests().QueryRowContext(testContext(t, 10*time.Second), `SELECT COUNT(*) FROM `+table+` WHERE cw_id = ?`, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func srActor(t *testing.T, user string) int64 {
	t.Helper()
	server, _ := deps.Clusters.Server("c1")
	var id int64
	if err := server.QueryRowContext(testContext(t, 10*time.Second), "SELECT actor_id FROM metawiki.actor WHERE actor_name = ?", user).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func srUpdate(t *testing.T, env *testsuite.TestActivityEnvironment, in requestwiki.UpdateRequestInput) (requestwiki.UpdateRequestResult, error) {
	t.Helper()
	return runActivity[requestwiki.UpdateRequestResult](t, env, requestwiki.NameUpdateRequest, in)
}

// Wiki requests in CreateWiki's tables: filing, review actions that a retry
// cannot duplicate, refusals of bad statuses and unknown users.
func TestWikiRequestRows(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	_, env := srActivities(t)
	central := deps.Config.MediaWiki.CentralWiki
	requester := newUser(t, "Requester")
	reviewer := newUser(t, "Reviewer")

	val, err := env.ExecuteActivity(requestwiki.NameRequestUserID, requestwiki.RequestUserIDInput{Central: central, User: requester})
	if err != nil {
		t.Fatal(err)
	}
	var who requestwiki.RequestUserIDResult
	if err := val.Get(&who); err != nil || who.ID <= 0 || who.Name != requester {
		t.Fatalf("RequestUserID: %+v %v", who, err)
	}
	_, err = env.ExecuteActivity(requestwiki.NameRequestUserID, requestwiki.RequestUserIDInput{Central: central, User: "Nobody" + randomHex(4)})
	wantPermanent(t, err, activities.ErrTypeInvalidInput, "no account")
	_, err = env.ExecuteActivity(requestwiki.NameRequestUserID, requestwiki.RequestUserIDInput{Central: central, User: "Bad<name>"})
	wantPermanent(t, err, activities.ErrTypeInvalidInput, "not a valid user name")

	db := uniqueDB("req")
	start := time.Now().UTC().Add(-time.Second)
	id, err := deps.Central.CreateRequest(ctx, farmdb.Request{
		DBName: db, Sitename: "Requested Wiki", Language: "en", Category: "test", URL: db + ".localhost",
		Comment: "For a test", UserID: who.ID, Bio: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	srDeleteRequest(t, id)
	req, err := deps.Central.GetRequest(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if req.Status != farmdb.RequestInReview || req.DBName != db || req.UserID != who.ID || req.Comment != "For a test" ||
		!req.Bio || req.Private || req.URL != db+".localhost" || req.Timestamp < farmdb.Timestamp(start) || len(req.Timestamp) != 14 {
		t.Fatalf("filed request: %+v", req)
	}
	if _, err := deps.Central.CreateRequest(ctx, farmdb.Request{DBName: db, Sitename: "x", Language: "en", UserID: 0}); !errors.Is(err, farmdb.ErrInvalidRequest) {
		t.Fatalf("a request without a user id: %v", err)
	}
	if _, err := deps.Central.GetRequest(ctx, 1<<40); !errors.Is(err, farmdb.ErrRequestNotFound) {
		t.Fatalf("GetRequest of no request: %v", err)
	}

	// A reviewer approves with a comment; the step runs twice with the same
	// At: one comment, and nothing in cw_history (CreateWiki logs status
	// changes in Special:Log, not there).
	at := time.Now().UTC().Truncate(time.Second)
	in := requestwiki.UpdateRequestInput{Central: central, ID: id, Status: farmdb.RequestApproved, Comment: "Looks good", User: reviewer, At: at}
	for run := 0; run < 2; run++ {
		res, err := srUpdate(t, env, in)
		if err != nil {
			t.Fatalf("UpdateRequest run %d: %v", run+1, err)
		}
		if res.Status != farmdb.RequestApproved || res.Action != farmdb.RequestApproved || res.User != reviewer || res.ActorID != srActor(t, reviewer) {
			t.Fatalf("UpdateRequest run %d: %+v", run+1, res)
		}
	}
	if c, h := srCount(t, "cw_comments", id), srCount(t, "cw_history", id); c != 1 || h != 0 {
		t.Fatalf("after the same update twice: %d comments, %d history rows; want 1 and 0", c, h)
	}
	val, err = env.ExecuteActivity(requestwiki.NameRequestUserID, requestwiki.RequestUserIDInput{Central: central, User: reviewer})
	if err != nil {
		t.Fatal(err)
	}
	var reviewerAccount requestwiki.RequestUserIDResult
	if err := val.Get(&reviewerAccount); err != nil {
		t.Fatal(err)
	}
	comments, err := deps.Central.RequestComments(ctx, id)
	if err != nil || len(comments) != 1 || comments[0].Comment != "Looks good" || comments[0].Timestamp != farmdb.Timestamp(at) ||
		comments[0].UserID != reviewerAccount.ID {
		t.Fatalf("comments: %+v %v (reviewer %d)", comments, err, reviewerAccount.ID)
	}
	if req, _ := deps.Central.GetRequest(ctx, id); req.Status != farmdb.RequestApproved {
		t.Fatalf("status %q, want approved", req.Status)
	}

	// A comment alone is a "comment"; one in the same second as another
	// takes the next free second, so CreateWiki's viewer shows both.
	res, err := srUpdate(t, env, requestwiki.UpdateRequestInput{Central: central, ID: id, Comment: "One more thing", User: requester, At: at})
	if err != nil || res.Action != requestwiki.RequestActionComment || res.Status != farmdb.RequestApproved || res.PreviousStatus != farmdb.RequestApproved {
		t.Fatalf("comment alone: %+v %v", res, err)
	}
	comments, _ = deps.Central.RequestComments(ctx, id)
	if len(comments) != 2 || comments[1].Comment != "One more thing" || comments[1].Timestamp != farmdb.Timestamp(at.Add(time.Second)) {
		t.Fatalf("a second comment in the same second: %+v", comments)
	}
	// A decision's comment keeps the person's words; one without words adds nothing.
	for _, c := range []string{"approve: ", "approve:"} {
		if _, err := srUpdate(t, env, requestwiki.UpdateRequestInput{Central: central, ID: id, Comment: c, Action: "approve", User: reviewer, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := srUpdate(t, env, requestwiki.UpdateRequestInput{Central: central, ID: id, Comment: "decline: not yet", Action: "decline", User: reviewer, At: at}); err != nil {
		t.Fatal(err)
	}
	comments, _ = deps.Central.RequestComments(ctx, id)
	if len(comments) != 3 || comments[2].Comment != "not yet" || comments[2].Timestamp != farmdb.Timestamp(at.Add(2*time.Second)) {
		t.Fatalf("decision comments: %+v", comments)
	}

	// Refusals change nothing.
	if err := deps.Central.SetRequestStatus(ctx, id, "bogus"); !errors.Is(err, farmdb.ErrInvalidRequest) {
		t.Fatalf("SetRequestStatus(bogus): %v", err)
	}
	if err := deps.Central.SetRequestStatus(ctx, 1<<40, farmdb.RequestOnHold); !errors.Is(err, farmdb.ErrRequestNotFound) {
		t.Fatalf("SetRequestStatus of no request: %v", err)
	}
	later := at.Add(2 * time.Minute)
	_, err = srUpdate(t, env, requestwiki.UpdateRequestInput{Central: central, ID: id, Status: "bogus", Comment: "x", User: reviewer, At: later})
	wantPermanent(t, err, activities.ErrTypeInvalidInput, "unknown status")
	_, err = srUpdate(t, env, requestwiki.UpdateRequestInput{Central: central, ID: id, Comment: "x", User: "Nobody" + randomHex(4), At: later})
	wantPermanent(t, err, activities.ErrTypeInvalidInput, "no account")
	_, err = srUpdate(t, env, requestwiki.UpdateRequestInput{Central: central, ID: id, Comment: "x", User: reviewer})
	wantPermanent(t, err, activities.ErrTypeInvalidInput, "no time")
	_, err = srUpdate(t, env, requestwiki.UpdateRequestInput{Central: central, ID: id, User: reviewer, At: later})
	wantPermanent(t, err, activities.ErrTypeInvalidInput, "nothing to do")
	_, err = srUpdate(t, env, requestwiki.UpdateRequestInput{Central: central, ID: 1 << 40, Comment: "x", User: reviewer, At: later})
	wantPermanent(t, err, requestwiki.ErrTypeRequestNotFound)
	if req, _ := deps.Central.GetRequest(ctx, id); req.Status != farmdb.RequestApproved {
		t.Fatalf("status %q after refusals", req.Status)
	}
	if c, h := srCount(t, "cw_comments", id), srCount(t, "cw_history", id); c != 3 || h != 0 {
		t.Fatalf("refusals added rows: %d comments, %d history rows", c, h)
	}

	// The farm's own status change (no user) is commented under its system
	// account, and stays after a decision of its time written later.
	res, err = srUpdate(t, env, requestwiki.UpdateRequestInput{Central: central, ID: id, Status: farmdb.RequestDeclined, Comment: "Declined by the farm", At: later})
	if err != nil || res.User != activities.SystemUser || res.UserID <= 0 || res.Status != farmdb.RequestDeclined {
		t.Fatalf("the farm's own update: %+v %v", res, err)
	}
	comments, _ = deps.Central.RequestComments(ctx, id)
	if last := comments[len(comments)-1]; last.UserID != res.UserID || last.Comment != "Declined by the farm" || last.Timestamp != farmdb.Timestamp(later) {
		t.Fatalf("the farm's comment: %+v", last)
	}
	if _, err := srUpdate(t, env, requestwiki.UpdateRequestInput{Central: central, ID: id, Action: "decline", Comment: "decline: the deciding vote", User: reviewer, At: later}); err != nil {
		t.Fatal(err)
	}
	comments, _ = deps.Central.RequestComments(ctx, id)
	if n := len(comments); n != 5 || comments[n-2].Comment != "the deciding vote" || comments[n-2].Timestamp != farmdb.Timestamp(later) ||
		comments[n-1].Comment != "Declined by the farm" || comments[n-1].Timestamp != farmdb.Timestamp(later.Add(time.Second)) {
		t.Fatalf("the vote and the farm's comment: %+v", comments)
	}

	// farmdb's own idempotency, without the activity; cw_history takes only
	// CreateWiki's actions.
	for run := 0; run < 2; run++ {
		if err := deps.Central.AddRequestComment(ctx, id, "Direct", who.ID, later); err != nil {
			t.Fatal(err)
		}
		if err := deps.Central.AddRequestHistory(ctx, id, farmdb.HistoryEdited, srActor(t, requester), "Direct", later); err != nil {
			t.Fatal(err)
		}
	}
	if c, h := srCount(t, "cw_comments", id), srCount(t, "cw_history", id); c != 6 || h != 1 {
		t.Fatalf("direct inserts twice: %d comments, %d history rows; want 6 and 1", c, h)
	}
	if err := deps.Central.AddRequestHistory(ctx, id, "note", srActor(t, requester), "Direct", later); !errors.Is(err, farmdb.ErrInvalidRequest) {
		t.Fatalf("a history action CreateWiki does not write: %v", err)
	}
	if err := deps.Central.AddRequestComment(ctx, id, "x", 0, later); !errors.Is(err, farmdb.ErrInvalidRequest) {
		t.Fatalf("a comment by user 0: %v", err)
	}
	if err := deps.Central.AddRequestComment(ctx, id, " ", who.ID, later); !errors.Is(err, farmdb.ErrInvalidRequest) {
		t.Fatalf("an empty comment: %v", err)
	}
	if err := deps.Central.AddRequestComment(ctx, 1<<40, "x", who.ID, later); !errors.Is(err, farmdb.ErrRequestNotFound) {
		t.Fatalf("a comment on no request: %v", err)
	}
	srDistinctTimestamps(t, id)

	// The requester's edit.
	if err := deps.Central.UpdateRequestDetails(ctx, id, "Renamed Wiki", "de", true, "other", "A better reason"); err != nil {
		t.Fatal(err)
	}
	req, _ = deps.Central.GetRequest(ctx, id)
	if req.Sitename != "Renamed Wiki" || req.Language != "de" || !req.Private || req.Category != "other" || req.Comment != "A better reason" {
		t.Fatalf("after the edit: %+v", req)
	}
	if err := deps.Central.UpdateRequestDetails(ctx, id, "", "de", true, "", ""); !errors.Is(err, farmdb.ErrInvalidRequest) {
		t.Fatalf("an edit to an empty sitename: %v", err)
	}
	if err := deps.Central.UpdateRequestDetails(ctx, id, strings.Repeat("x", 129), "de", true, "", ""); !errors.Is(err, farmdb.ErrInvalidRequest) {
		t.Fatalf("an edit to a too long sitename: %v", err)
	}
	// Lengths are bytes: 100 Hebrew letters (200 bytes) do not fit, 64 (128 bytes) do.
	if err := deps.Central.UpdateRequestDetails(ctx, id, strings.Repeat("א", 100), "he", true, "", ""); !errors.Is(err, farmdb.ErrInvalidRequest) ||
		!strings.Contains(err.Error(), "200 bytes") {
		t.Fatalf("an edit to a 200-byte sitename: %v", err)
	}
	if err := deps.Central.UpdateRequestDetails(ctx, id, strings.Repeat("א", 64), "he", true, "", ""); err != nil {
		t.Fatalf("an edit to a 128-byte sitename: %v", err)
	}
}

// srDistinctTimestamps fails when two comments, or two history entries, of
// a request share a second: CreateWiki's viewer would show only one.
func srDistinctTimestamps(t *testing.T, id int64) {
	t.Helper()
	for _, q := range []string{
		`SELECT cw_comment_timestamp, COUNT(*) FROM cw_comments WHERE cw_id = ? GROUP BY cw_comment_timestamp HAVING COUNT(*) > 1`,
		`SELECT cw_history_timestamp, COUNT(*) FROM cw_history WHERE cw_id = ? GROUP BY cw_history_timestamp HAVING COUNT(*) > 1`,
	} {
		var ts string
		var n int
		err := deps.Central.Requests().QueryRowContext(testContext(t, 10*time.Second), q, id).Scan(&ts, &n)
		if err == nil {
			t.Errorf("request %d: %d rows at %s (%s)", id, n, ts, q)
		} else if !errors.Is(err, sql.ErrNoRows) {
			t.Fatal(err)
		}
	}
}

// Filing through the activity is idempotent per workflow run (key), and the
// requester's edit through the activity changes only what it names.
func TestWikiRequestFileAndEditActivities(t *testing.T) {
	ctx := testContext(t, time.Minute)
	_, env := srActivities(t)
	central := deps.Config.MediaWiki.CentralWiki
	requester := newUser(t, "Requester")
	db := uniqueDB("filed")
	in := requestwiki.FileRequestInput{DB: db, Sitename: "Filed Wiki", Language: "en", Category: "test",
		Reason: "Because", Requester: requester, Central: central, Key: "test-run-" + randomHex(4)}
	var ids [2]int64
	for run := range ids {
		val, err := env.ExecuteActivity(requestwiki.NameFileWikiRequest, in)
		if err != nil {
			t.Fatal(err)
		}
		var res requestwiki.FileRequestResult
		if err := val.Get(&res); err != nil {
			t.Fatal(err)
		}
		ids[run] = res.ID
	}
	srDeleteRequest(t, ids[0])
	if ids[0] != ids[1] || ids[0] <= 0 {
		t.Fatalf("filing twice gave requests %v", ids)
	}
	var n int
	var extra sql.NullString
	if err := deps.Central.Requests().QueryRowContext(ctx, `SELECT COUNT(*), MAX(cw_extra) FROM cw_requests WHERE cw_dbname = ?`, db).Scan(&n, &extra); err != nil || n != 1 {
		t.Fatalf("%d requests for %s (%v)", n, db, err)
	}
	if extra.Valid {
		t.Fatalf("cw_extra holds %q: WikiFlow's key belongs in wf_request_keys", extra.String)
	}
	req, err := deps.Central.GetRequest(ctx, ids[0])
	wantURL := strings.TrimSuffix(db, deps.Config.MediaWiki.DBSuffix) + "." + deps.Config.MediaWiki.Subdomain
	if err != nil || req.Status != farmdb.RequestInReview || req.Comment != "Because" || req.URL != wantURL {
		t.Fatalf("filed: %+v %v (cw_url want %s)", req, err, wantURL)
	}
	if c, h := srCount(t, "cw_comments", ids[0]), srCount(t, "cw_history", ids[0]); c != 0 || h != 0 {
		t.Fatalf("filing wrote %d comments and %d history rows; CreateWiki writes none", c, h)
	}

	bad := in
	bad.Key, bad.Language = "other-"+randomHex(4), "xx-nope"
	_, err = env.ExecuteActivity(requestwiki.NameFileWikiRequest, bad)
	wantPermanent(t, err, activities.ErrTypeInvalidInput, "language")
	bad.Language, bad.Requester = "en", "Nobody"+randomHex(4)
	_, err = env.ExecuteActivity(requestwiki.NameFileWikiRequest, bad)
	wantPermanent(t, err, activities.ErrTypeInvalidInput, "no account")
	bad.Requester, bad.DB = requester, deps.Config.MediaWiki.CentralWiki
	_, err = env.ExecuteActivity(requestwiki.NameFileWikiRequest, bad)
	wantPermanent(t, err, activities.ErrTypeWikiExists)

	edit := requestwiki.EditRequestInput{ID: ids[0], Sitename: "Better Name", Comment: "A better reason"}
	for run := 0; run < 2; run++ {
		if _, err := env.ExecuteActivity(requestwiki.NameEditWikiRequest, edit); err != nil {
			t.Fatal(err)
		}
	}
	req, _ = deps.Central.GetRequest(ctx, ids[0])
	if req.Sitename != "Better Name" || req.Comment != "A better reason" || req.Language != "en" || req.Category != "test" {
		t.Fatalf("after the edit: %+v", req)
	}
	// As CreateWiki's edit form: the requester's "Updated request." and one
	// "edited" entry with its change message; the second run added nothing.
	comments, _ := deps.Central.RequestComments(ctx, ids[0])
	if len(comments) != 1 || comments[0].Comment != farmdb.UpdatedComment || comments[0].UserID != req.UserID {
		t.Fatalf("comments after the edit: %+v", comments)
	}
	history, _ := deps.Central.RequestHistory(ctx, ids[0])
	wantDetails := "* Field ''sitename'' changed:\n** '''Old value''': Filed Wiki\n** '''New value''': Better Name\n" +
		"* Field ''reason'' changed:\n** '''Old value''': Because\n** '''New value''': A better reason"
	if len(history) != 1 || history[0].Action != farmdb.HistoryEdited || history[0].ActorID != srActor(t, requester) || history[0].Details != wantDetails {
		t.Fatalf("history after the edit: %+v\nwant details %q", history, wantDetails)
	}
	hebrew := requestwiki.EditRequestInput{ID: ids[0], Sitename: strings.Repeat("א", 100)}
	_, err = env.ExecuteActivity(requestwiki.NameEditWikiRequest, hebrew)
	wantPermanent(t, err, activities.ErrTypeInvalidInput, "200 bytes")
	_, err = env.ExecuteActivity(requestwiki.NameEditWikiRequest, requestwiki.EditRequestInput{ID: ids[0], Language: "xx-nope"})
	wantPermanent(t, err, activities.ErrTypeInvalidInput, "language")
	_, err = env.ExecuteActivity(requestwiki.NameEditWikiRequest, requestwiki.EditRequestInput{ID: 1 << 40, Sitename: "x"})
	wantPermanent(t, err, requestwiki.ErrTypeRequestNotFound)
}
