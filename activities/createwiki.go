package activities

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.temporal.io/sdk/activity"

	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/mediawiki"
	"github.com/wikiflow/wikiflow/process"
)

// The create-wiki steps. Each takes process.StepInput and returns
// process.StepResult (the engine's contract) and is idempotent.

// ValidateWiki refuses a request that can never succeed, before anything is
// created: CreateWiki's name rules, a language MediaWiki knows, and a name
// that is neither registered nor an existing database. With the param
// central_wiki it also asks that wiki who the requester is: a name with no
// account is refused, and the outputs requester and requester_id are the
// canonical name and central id.
func (f *Farm) ValidateWiki(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	if err := f.Rules.Check(in.Wiki, in.Requester); err != nil {
		return process.StepResult{}, permanent(ErrInvalidInput, "%v", err)
	}
	known, err := f.knownLanguages()
	if err != nil {
		return process.StepResult{}, err
	}
	if !known[in.Wiki.Language] {
		return process.StepResult{}, permanent(ErrInvalidInput, "invalid wiki request: MediaWiki does not know the language %q", in.Wiki.Language)
	}
	if _, err := f.Central.Wiki(ctx, in.Wiki.DB); err == nil {
		return process.StepResult{}, permanent(ErrWikiExists, "the wiki %s already exists (registered in cw_wikis)", in.Wiki.DB)
	} else if !errors.Is(err, farmdb.ErrWikiNotFound) {
		return process.StepResult{}, err
	}
	cluster, err := f.Clusters.FindDatabase(ctx, in.Wiki.DB)
	if err != nil {
		return process.StepResult{}, err
	}
	if cluster != "" {
		claim, ok, err := f.Central.GetClaim(ctx, in.Wiki.DB)
		if err != nil {
			return process.StepResult{}, err
		}
		if !ok || claim.Process != in.ProcessID {
			return process.StepResult{}, permanent(ErrWikiExists, "the wiki %s already exists (its database is on cluster %s)", in.Wiki.DB, cluster)
		}
	}
	res := process.StepResult{Summary: fmt.Sprintf("%s (%s, %q) may be created", in.Wiki.DB, in.Wiki.Language, in.Wiki.Sitename)}
	if central := in.Params[ParamCentralWiki]; central != "" {
		id, name, err := f.lookupFarmUser(ctx, central, in.Requester)
		if err != nil {
			return process.StepResult{}, err
		}
		res.Summary += " for " + name
		res.Outputs = map[string]string{OutRequester: name, OutRequesterID: strconv.Itoa(id)}
	}
	return res, nil
}

// Keys of ValidateWiki's params and outputs.
const (
	ParamCentralWiki = "central_wiki"
	OutRequester     = "requester"
	OutRequesterID   = "requester_id"
)

var languageEntry = regexp.MustCompile(`(?m)^\s*'([a-z0-9-]+)'\s*=>`)

// knownLanguages reads the language codes MediaWiki itself ships.
func (f *Farm) knownLanguages() (map[string]bool, error) {
	f.languagesOnce.Do(func() {
		path := filepath.Join(f.Paths.InstallPath, "includes", "languages", "data", "Names.php")
		b, err := os.ReadFile(path)
		if err != nil {
			f.languagesErr = permanent(ErrMisconfigured, "cannot read MediaWiki's language list (mediawiki.install_path): %v", err)
			return
		}
		f.languages = map[string]bool{}
		for _, m := range languageEntry.FindAllStringSubmatch(string(b), -1) {
			f.languages[m[1]] = true
		}
	})
	return f.languages, f.languagesErr
}

// CreateDatabase creates the wiki's database on the least used cluster,
// first claiming the name for this process. A database that exists is
// accepted only when this process's claim is on it: "created by an earlier
// attempt" is fine, "exists and is not ours" is refused.
func (f *Farm) CreateDatabase(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db := in.Wiki.DB
	quoted, err := farmdb.QuoteDB(db)
	if err != nil {
		return process.StepResult{}, permanent(ErrInvalidInput, "%v", err)
	}
	claim, claimed, err := f.Central.GetClaim(ctx, db)
	if err != nil {
		return process.StepResult{}, err
	}
	if claimed && claim.Process != in.ProcessID {
		return process.StepResult{}, permanent(ErrNotOurs, "the database %s belongs to another process (%s)", db, claim.Process)
	}
	if !claimed {
		existing, err := f.Clusters.FindDatabase(ctx, db)
		if err != nil {
			return process.StepResult{}, err
		}
		if existing != "" {
			return process.StepResult{}, permanent(ErrNotOurs, "the database %s already exists on cluster %s and was not created by this process", db, existing)
		}
		cluster, err := f.Central.LeastUsedCluster(ctx, f.Clusters.Names())
		if err != nil {
			return process.StepResult{}, err
		}
		claim = farmdb.Claim{DBName: db, Process: in.ProcessID, Cluster: cluster}
		if err := f.Central.PutClaim(ctx, claim); err != nil {
			if errors.Is(err, farmdb.ErrClaimedByOther) {
				return process.StepResult{}, permanent(ErrNotOurs, "%v", err)
			}
			return process.StepResult{}, err
		}
	}
	server, err := f.Clusters.Server(claim.Cluster)
	if err != nil {
		return process.StepResult{}, permanent(ErrMisconfigured, "%v", err)
	}
	// binary, like MediaWiki's installer on MySQL.
	if _, err := server.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+quoted+" CHARACTER SET binary"); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{
		Summary: fmt.Sprintf("database %s on cluster %s", db, claim.Cluster),
		Outputs: map[string]string{"cluster": claim.Cluster},
	}, nil
}

// DropDatabase undoes CreateDatabase: it drops the database only when this
// process's claim is on it, then releases the claim.
func (f *Farm) DropDatabase(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db := in.Wiki.DB
	quoted, err := farmdb.QuoteDB(db)
	if err != nil {
		return process.StepResult{}, permanent(ErrInvalidInput, "%v", err)
	}
	claim, claimed, err := f.Central.GetClaim(ctx, db)
	if err != nil {
		return process.StepResult{}, err
	}
	if !claimed || claim.Process != in.ProcessID {
		return process.StepResult{Summary: fmt.Sprintf("%s was not created by this process: left alone", db)}, nil
	}
	if err := f.checkStillOurs(ctx, in); err != nil {
		return process.StepResult{}, err
	}
	server, err := f.Clusters.Server(claim.Cluster)
	if err != nil {
		return process.StepResult{}, permanent(ErrMisconfigured, "%v", err)
	}
	if _, err := server.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoted); err != nil {
		return process.StepResult{}, err
	}
	if err := f.Central.DeleteClaim(ctx, db, in.ProcessID); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: fmt.Sprintf("dropped %s", db)}, nil
}

// ourCluster returns the cluster of this process's claim on the wiki.
func (f *Farm) ourCluster(ctx context.Context, in process.StepInput) (string, error) {
	claim, ok, err := f.Central.GetClaim(ctx, in.Wiki.DB)
	if err != nil {
		return "", err
	}
	if !ok || claim.Process != in.ProcessID {
		return "", permanent(ErrNotOurs, "the database %s was not created by this process", in.Wiki.DB)
	}
	return claim.Cluster, nil
}

// CreateSchema creates MediaWiki core's tables and the installer's initial
// data (update keys, interwiki table, site stats) one idempotent statement at
// a time. Progress is heartbeated; a retry after a crash resumes where the
// heartbeat says and, since every statement can run twice, finishes the
// schema whatever state the crash left.
func (f *Farm) CreateSchema(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	stmts, err := f.coreSchema()
	if err != nil {
		return process.StepResult{}, err
	}
	return f.applyStatements(ctx, in, stmts, "core schema")
}

// SourceSQLFile applies one more SQL file (an extension's tables) to the
// wiki's database, as a step a farm adds in its configuration. Params:
// file, relative to MediaWiki's install path or absolute.
func (f *Farm) SourceSQLFile(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	file := in.Params["file"]
	if file == "" {
		return process.StepResult{}, permanent(ErrMisconfigured, "step %s: the param file is missing", in.Step)
	}
	if !filepath.IsAbs(file) {
		file = filepath.Join(f.Paths.InstallPath, file)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return process.StepResult{}, permanent(ErrMisconfigured, "step %s: %v", in.Step, err)
	}
	stmts, err := farmdb.ParseSchema(string(b))
	if err != nil {
		return process.StepResult{}, permanent(ErrMisconfigured, "step %s: %s: %v", in.Step, file, err)
	}
	return f.applyStatements(ctx, in, stmts, filepath.Base(file))
}

func (f *Farm) coreSchema() ([]farmdb.Statement, error) {
	read := func(name string) (string, error) {
		b, err := os.ReadFile(filepath.Join(f.Paths.InstallPath, "maintenance", name))
		if err != nil {
			return "", permanent(ErrMisconfigured, "cannot read MediaWiki's %s (mediawiki.install_path): %v", name, err)
		}
		return string(b), nil
	}
	var all []farmdb.Statement
	for _, name := range []string{"tables-generated.sql", "update-keys.sql"} {
		text, err := read(name)
		if err != nil {
			return nil, err
		}
		stmts, err := farmdb.ParseSchema(text)
		if err != nil {
			return nil, permanent(ErrMisconfigured, "%s: %v", name, err)
		}
		all = append(all, stmts...)
	}
	list, err := read("interwiki.list")
	if err != nil {
		return nil, err
	}
	all = append(all, farmdb.Interwiki(list)...)
	return append(all, farmdb.SiteStatsPlaceholder), nil
}

func (f *Farm) applyStatements(ctx context.Context, in process.StepInput, stmts []farmdb.Statement, what string) (process.StepResult, error) {
	cluster, err := f.ourCluster(ctx, in)
	if err != nil {
		return process.StepResult{}, err
	}
	db, err := f.Clusters.OpenWiki(cluster, in.Wiki.DB)
	if err != nil {
		return process.StepResult{}, err
	}
	defer db.Close()
	from := 0
	if activity.HasHeartbeatDetails(ctx) {
		var done int
		if activity.GetHeartbeatDetails(ctx, &done) == nil && done >= 0 && done <= len(stmts) {
			from = done
		}
	}
	err = farmdb.ApplySchema(ctx, db, stmts, from, farmdb.WikiConnections, func(done int) { activity.RecordHeartbeat(ctx, done) })
	if err != nil {
		return process.StepResult{}, err
	}
	server, _ := f.Clusters.Server(cluster)
	tables, err := farmdb.Tables(ctx, server, in.Wiki.DB)
	if err != nil {
		return process.StepResult{}, err
	}
	summary := fmt.Sprintf("%s: %d statements", what, len(stmts))
	if from > 0 {
		summary += fmt.Sprintf(" (resumed after %d)", from)
	}
	return process.StepResult{
		Summary: summary,
		Outputs: map[string]string{"tables": strconv.Itoa(len(tables)), "resumed_at": strconv.Itoa(from)},
	}, nil
}

// RegisterWiki writes the cw_wikis row and ManageWiki's default rows: from
// this moment the farm serves the wiki.
func (f *Farm) RegisterWiki(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	cluster, err := f.ourCluster(ctx, in)
	if err != nil {
		return process.StepResult{}, err
	}
	err = f.Central.RegisterWiki(ctx, farmdb.Registration{
		DBName: in.Wiki.DB, Sitename: in.Wiki.Sitename, Language: in.Wiki.Language,
		Private: in.Wiki.Private, Category: in.Wiki.Category, Cluster: cluster,
	})
	if err != nil {
		return process.StepResult{}, err
	}
	if err := f.refreshWikiLists(ctx, in.Wiki.DB); err != nil {
		return process.StepResult{}, err
	}
	if err := f.logCreated(ctx, in); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: fmt.Sprintf("registered %s in cw_wikis", in.Wiki.DB)}, nil
}

// UnregisterWiki undoes RegisterWiki for a wiki this process created.
func (f *Farm) UnregisterWiki(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	claim, ok, err := f.Central.GetClaim(ctx, in.Wiki.DB)
	if err != nil {
		return process.StepResult{}, err
	}
	if !ok || claim.Process != in.ProcessID {
		return process.StepResult{Summary: "not created by this process: registration left alone"}, nil
	}
	if err := f.checkStillOurs(ctx, in); err != nil {
		return process.StepResult{}, err
	}
	if err := f.Central.UnregisterWiki(ctx, in.Wiki.DB); err != nil {
		return process.StepResult{}, err
	}
	if err := f.refreshWikiLists(ctx, in.Wiki.DB); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: fmt.Sprintf("removed %s from cw_wikis and ManageWiki's tables", in.Wiki.DB)}, nil
}

// requesterGroups are what CreateWiki gives the requester on a new wiki.
var requesterGroups = []string{"bureaucrat", "sysop", "interface-admin"}

// GrantRequesterRights makes the requester bureaucrat, sysop and
// interface-admin on the new wiki (their farm account already works there),
// then checks over the wiki's API that the groups are really there.
func (f *Farm) GrantRequesterRights(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	_, err := f.Scripts.Run(ctx, in.Wiki.DB, "createAndPromote", "--force", "--bureaucrat", "--sysop", "--interface-admin", in.Requester)
	if err != nil {
		var se *mediawiki.ScriptError
		if errors.As(err, &se) && strings.Contains(se.Output, "password") {
			return process.StepResult{}, permanent(ErrInvalidInput, "the requester %s has no account on the farm", in.Requester)
		}
		return process.StepResult{}, err
	}
	u, err := f.API.User(ctx, in.Wiki.DB, in.Requester)
	if err != nil {
		return process.StepResult{}, classifyAPI(err)
	}
	for _, g := range requesterGroups {
		if !u.InGroup(g) {
			return process.StepResult{}, fmt.Errorf("%s is still not in %s on %s", in.Requester, g, in.Wiki.DB)
		}
	}
	return process.StepResult{Summary: fmt.Sprintf("%s is %s", in.Requester, strings.Join(requesterGroups, ", "))}, nil
}

// DefaultMainPage is the main page of a new wiki when no template is configured.
const DefaultMainPage = `__NOTOC__
== Welcome to {sitename} ==
This wiki ({dbname}) was created on the farm for [[User:{requester}|{requester}]].

Start by editing this page, creating your first articles and inviting your community.
`

// CreateMainPage writes the main page from the template (placeholders
// {sitename}, {dbname}, {requester}) under the title the wiki itself
// reports, with MediaWiki's edit.php, and checks over the API that it exists.
// Writing the same text again is a null edit, so a retry changes nothing.
func (f *Farm) CreateMainPage(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	si, err := f.API.SiteInfo(ctx, in.Wiki.DB)
	if err != nil {
		return process.StepResult{}, classifyAPI(err)
	}
	template := f.Paths.MainPageTemplate
	if template == "" {
		template = DefaultMainPage
	}
	text := strings.NewReplacer("{sitename}", in.Wiki.Sitename, "{dbname}", in.Wiki.DB, "{requester}", in.Requester).Replace(template)
	if _, err := f.Scripts.RunWithInput(ctx, in.Wiki.DB, text, "edit", "--summary", "Created with the wiki", si.MainPage); err != nil {
		return process.StepResult{}, err
	}
	exists, err := f.API.PageExists(ctx, in.Wiki.DB, si.MainPage)
	if err != nil {
		return process.StepResult{}, classifyAPI(err)
	}
	if !exists {
		return process.StepResult{}, fmt.Errorf("%s does not show %q after the edit", in.Wiki.DB, si.MainPage)
	}
	return process.StepResult{Summary: fmt.Sprintf("wrote %q", si.MainPage), Outputs: map[string]string{"title": si.MainPage}}, nil
}

// CreateStorage makes the wiki's upload directory, as CreateWiki's storage
// container step does.
func (f *Farm) CreateStorage(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	dir, err := f.uploadDir(in.Wiki.DB)
	if err != nil {
		return process.StepResult{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: "upload directory " + dir, Outputs: map[string]string{"path": dir}}, nil
}

// RemoveStorage removes the wiki's upload directory and everything in it.
// In a deletion whose step names its verification (params verify_step) it
// removes only what that step verified in the backup's archive.
func (f *Farm) RemoveStorage(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	dir, err := f.uploadDir(in.Wiki.DB)
	if err != nil {
		return process.StepResult{}, err
	}
	if err := f.checkStillOurs(ctx, in); err != nil {
		return process.StepResult{}, err
	}
	if step := in.Params["verify_step"]; step != "" {
		return f.removeVerifiedUploads(ctx, in, step)
	}
	if err := os.RemoveAll(dir); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: "removed " + dir}, nil
}

func (f *Farm) uploadDir(db string) (string, error) {
	if err := farmdb.CheckDBName(db); err != nil {
		return "", permanent(ErrInvalidInput, "%v", err)
	}
	if f.Paths.UploadRoot == "" {
		return "", permanent(ErrMisconfigured, "mediawiki.upload_root is not set")
	}
	return filepath.Join(f.Paths.UploadRoot, db), nil
}

// RunMaintenanceScript runs a maintenance script against the wiki, as a step
// a farm adds in its configuration. Params: script, args (space-separated).
func (f *Farm) RunMaintenanceScript(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	script := in.Params["script"]
	if script == "" {
		return process.StepResult{}, permanent(ErrMisconfigured, "step %s: the param script is missing", in.Step)
	}
	out, err := f.Scripts.Run(ctx, in.Wiki.DB, script, strings.Fields(in.Params["args"])...)
	if err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: fmt.Sprintf("%s: %s", script, lastLine(out))}, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// NotifyCreated tells the requester (email, when the request carries an
// address in Args["email"]) and farm staff (webhook) that the wiki is ready.
func (f *Farm) NotifyCreated(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	url := f.API.BaseURL(in.Wiki.DB)
	var sent []string
	if to := in.Args["email"]; to != "" && f.Notifier.SMTPAddress != "" {
		body := fmt.Sprintf("Hello %s,\n\nyour wiki %q is ready at %s/\nYou are its bureaucrat.\n", in.Requester, in.Wiki.Sitename, url)
		if err := f.Notifier.Email(ctx, to, fmt.Sprintf("Your wiki %s is ready", in.Wiki.Sitename), body); err != nil {
			return process.StepResult{}, err
		}
		sent = append(sent, "email to "+to)
	}
	if f.Notifier.WebhookURL != "" {
		msg := fmt.Sprintf("New wiki **%s** (%s, %s) created for %s: %s/", in.Wiki.Sitename, in.Wiki.DB, in.Wiki.Language, in.Requester, url)
		if err := f.Notifier.Webhook(ctx, msg); err != nil {
			return process.StepResult{}, err
		}
		sent = append(sent, "staff webhook")
	}
	if len(sent) == 0 {
		return process.StepResult{Summary: "nothing to notify: no email address and no webhook configured"}, nil
	}
	return process.StepResult{Summary: "sent " + strings.Join(sent, " and ")}, nil
}

// CheckRights answers whether a user holds any of the rights on a wiki,
// asking MediaWiki at this moment (the engine's authorize contract). It also
// says who the user is, as MediaWiki names them: the canonical name and the
// central id every comparison of people uses. A name that is no account is
// a refusal (NoAccount), not an error: no retry will create the account.
func (f *Farm) CheckRights(ctx context.Context, in process.AuthorizeInput) (process.AuthorizeResult, error) {
	u, err := f.API.Account(ctx, in.Wiki, in.User)
	if err != nil {
		return process.AuthorizeResult{}, classifyAPI(err)
	}
	switch {
	case u.Invalid:
		return process.AuthorizeResult{NoAccount: true, Reason: fmt.Sprintf("%q is not a valid user name", in.User)}, nil
	case !u.Exists():
		return process.AuthorizeResult{NoAccount: true, User: u.Name, Reason: fmt.Sprintf("%s has no account on the farm", u.Name)}, nil
	}
	res := process.AuthorizeResult{User: u.Name, UserID: u.CentralID}
	for _, r := range in.AnyRight {
		if u.Has(r) {
			res.Allowed, res.Rights = true, []string{r}
			return res, nil
		}
	}
	res.Reason = fmt.Sprintf("%s holds none of %s on %s", u.Name, strings.Join(in.AnyRight, ", "), in.Wiki)
	return res, nil
}
