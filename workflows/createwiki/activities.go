package createwiki

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.temporal.io/sdk/activity"

	"github.com/wikiflow/wikiflow/activities"
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
func (f *Activities) ValidateWiki(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	if err := f.Rules.Check(in.Wiki, in.Requester); err != nil {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "%v", err)
	}
	known, err := f.KnownLanguages()
	if err != nil {
		return process.StepResult{}, err
	}
	if !known[in.Wiki.Language] {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "invalid wiki request: MediaWiki does not know the language %q", in.Wiki.Language)
	}
	if _, err := f.Central.Wiki(ctx, in.Wiki.DB); err == nil {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeWikiExists, "the wiki %s already exists (registered in cw_wikis)", in.Wiki.DB)
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
			return process.StepResult{}, activities.Permanent(activities.ErrTypeWikiExists, "the wiki %s already exists (its database is on cluster %s)", in.Wiki.DB, cluster)
		}
	}
	res := process.StepResult{Summary: fmt.Sprintf("%s (%s, %q) may be created", in.Wiki.DB, in.Wiki.Language, in.Wiki.Sitename)}
	if central := in.Params[activities.ParamCentralWiki]; central != "" {
		id, name, err := f.LookupFarmUser(ctx, central, in.Requester)
		if err != nil {
			return process.StepResult{}, err
		}
		res.Summary += " for " + name
		res.Outputs = map[string]string{OutRequester: name, OutRequesterID: strconv.Itoa(id)}
	}
	return res, nil
}

// CreateDatabase creates the wiki's database on the least used cluster,
// first claiming the name for this process. A database that exists is
// accepted only when this process's claim is on it: "created by an earlier
// attempt" is fine, "exists and is not ours" is refused.
func (f *Activities) CreateDatabase(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db, quoted, err := activities.QuotedWikiDB(in)
	if err != nil {
		return process.StepResult{}, err
	}
	claim, err := f.ClaimName(ctx, in, "", func(ctx context.Context) error {
		existing, err := f.Clusters.FindDatabase(ctx, db)
		if err == nil && existing != "" {
			err = activities.Permanent(activities.ErrTypeNotOurs, "the database %s already exists on cluster %s and was not created by this process", db, existing)
		}
		return err
	})
	if err != nil {
		return process.StepResult{}, err
	}
	server, err := f.ClusterServer(claim.Cluster)
	if err != nil {
		return process.StepResult{}, err
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
func (f *Activities) DropDatabase(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db, quoted, err := activities.QuotedWikiDB(in)
	if err != nil {
		return process.StepResult{}, err
	}
	claim, claimed, err := f.Central.GetClaim(ctx, db)
	if err != nil {
		return process.StepResult{}, err
	}
	if !claimed || claim.Process != in.ProcessID {
		return process.StepResult{Summary: fmt.Sprintf("%s was not created by this process: left alone", db)}, nil
	}
	if err := f.CheckStillOurs(ctx, in); err != nil {
		return process.StepResult{}, err
	}
	server, err := f.ClusterServer(claim.Cluster)
	if err != nil {
		return process.StepResult{}, err
	}
	if _, err := server.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoted); err != nil {
		return process.StepResult{}, err
	}
	if err := f.Central.DeleteClaim(ctx, db, in.ProcessID); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: fmt.Sprintf("dropped %s", db)}, nil
}

// CreateSchema creates MediaWiki core's tables and the installer's initial
// data (update keys, interwiki table, site stats) one idempotent statement at
// a time. Progress is heartbeated; a retry after a crash resumes where the
// heartbeat says and, since every statement can run twice, finishes the
// schema whatever state the crash left.
//
// When the cluster keeps finished schemas (database.schema_pool_size), the
// step first moves one's tables into the wiki's database, in one atomic
// rename, if that database has no table yet: the same statements ran there
// before, in the background.
func (f *Activities) CreateSchema(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	stmts, err := CoreSchema(f.Paths.InstallPath)
	if err != nil {
		return process.StepResult{}, err
	}
	if !activity.HasHeartbeatDetails(ctx) {
		cluster, err := f.OurCluster(ctx, in)
		if err != nil {
			return process.StepResult{}, err
		}
		from, err := f.SchemaPools.Take(ctx, cluster, in.Wiki.DB, stmts)
		if err != nil {
			return process.StepResult{}, err
		}
		if from != "" {
			return process.StepResult{
				Summary: fmt.Sprintf("core schema: %d statements, run ahead in %s and moved in", len(stmts), from),
				Outputs: map[string]string{"tables": strconv.Itoa(len(farmdb.TableNames(stmts))), "resumed_at": "0", "pool": from},
			}, nil
		}
	}
	return f.ApplyStatements(ctx, in, stmts, "core schema")
}

// CoreSchema is MediaWiki core's schema, as the installer makes it, read
// from MediaWiki's installation at installPath: its tables, update keys,
// interwiki table and site stats row.
func CoreSchema(installPath string) ([]farmdb.Statement, error) {
	read := func(name string) (string, error) {
		b, err := os.ReadFile(filepath.Join(installPath, "maintenance", name))
		if err != nil {
			return "", activities.Permanent(activities.ErrTypeMisconfigured, "cannot read MediaWiki's %s (mediawiki.install_path): %v", name, err)
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
			return nil, activities.Permanent(activities.ErrTypeMisconfigured, "%s: %v", name, err)
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

// RegisterWiki writes the cw_wikis row and ManageWiki's default rows: from
// this moment the farm serves the wiki.
func (f *Activities) RegisterWiki(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	cluster, err := f.OurCluster(ctx, in)
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
	if err := f.RefreshWikiLists(ctx, in.Wiki.DB); err != nil {
		return process.StepResult{}, err
	}
	if err := f.logCreated(ctx, in); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: fmt.Sprintf("registered %s in cw_wikis", in.Wiki.DB)}, nil
}

// UnregisterWiki undoes RegisterWiki for a wiki this process created.
func (f *Activities) UnregisterWiki(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	claim, ok, err := f.Central.GetClaim(ctx, in.Wiki.DB)
	if err != nil {
		return process.StepResult{}, err
	}
	if !ok || claim.Process != in.ProcessID {
		return process.StepResult{Summary: "not created by this process: registration left alone"}, nil
	}
	if err := f.CheckStillOurs(ctx, in); err != nil {
		return process.StepResult{}, err
	}
	if err := f.Central.UnregisterWiki(ctx, in.Wiki.DB); err != nil {
		return process.StepResult{}, err
	}
	if err := f.RefreshWikiLists(ctx, in.Wiki.DB); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: fmt.Sprintf("removed %s from cw_wikis and ManageWiki's tables", in.Wiki.DB)}, nil
}

// requesterGroups are what CreateWiki gives the requester on a new wiki.
var requesterGroups = []string{"bureaucrat", "sysop", "interface-admin"}

// GrantRequesterRights makes the requester bureaucrat, sysop and
// interface-admin on the new wiki (their farm account already works there)
// through the WikiFlow extension's API module, which adds the groups as
// createAndPromote --force does (a group the requester is in already is
// left alone), and checks the groups the module read back from the wiki's
// primary database after the write.
func (f *Activities) GrantRequesterRights(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	granted, err := f.API.GrantGroups(ctx, in.Wiki.DB, in.Requester, requesterGroups)
	if err != nil {
		var ae *mediawiki.APIError
		if errors.As(err, &ae) && (ae.Code == "nosuchuser" || ae.Code == "invaliduser") {
			return process.StepResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "the requester %s has no account on the farm", in.Requester)
		}
		return process.StepResult{}, activities.ClassifyAPI(err)
	}
	for _, g := range requesterGroups {
		if !slices.Contains(granted.Groups, g) {
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

// MainPageSummary is the main page's edit summary.
const MainPageSummary = "Created with the wiki"

// CreateMainPage writes the main page from the template (placeholders
// {sitename}, {dbname}, {requester}) under the title the wiki itself gives
// its main page, through the WikiFlow extension's API module, which saves it
// as edit.php does (by the "Maintenance script" system user), and checks the
// page the module read back from the wiki's primary database after the
// write. Writing the same text again is a null edit, so a retry changes
// nothing.
func (f *Activities) CreateMainPage(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	template := f.Paths.MainPageTemplate
	if template == "" {
		template = DefaultMainPage
	}
	text := strings.NewReplacer("{sitename}", in.Wiki.Sitename, "{dbname}", in.Wiki.DB, "{requester}", in.Requester).Replace(template)
	page, err := f.API.WriteMainPage(ctx, in.Wiki.DB, "", text, MainPageSummary)
	if err != nil {
		return process.StepResult{}, activities.ClassifyAPI(err)
	}
	if page.PageID <= 0 || page.RevID <= 0 {
		return process.StepResult{}, fmt.Errorf("%s does not show %q after the edit", in.Wiki.DB, page.Title)
	}
	return process.StepResult{Summary: fmt.Sprintf("wrote %q", page.Title), Outputs: map[string]string{"title": page.Title}}, nil
}

// CreateStorage makes the wiki's upload directory, as CreateWiki's storage
// container step does.
func (f *Activities) CreateStorage(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	dir, err := f.UploadDir(in.Wiki.DB)
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
func (f *Activities) RemoveStorage(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	dir, err := f.UploadDir(in.Wiki.DB)
	if err != nil {
		return process.StepResult{}, err
	}
	if err := f.CheckStillOurs(ctx, in); err != nil {
		return process.StepResult{}, err
	}
	if step := in.Params["verify_step"]; step != "" {
		return f.RemoveVerifiedUploads(ctx, in, step)
	}
	if err := os.RemoveAll(dir); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: "removed " + dir}, nil
}

// NotifyCreated tells the requester (email, when the request carries an
// address in Args["email"]) and farm staff (webhook) that the wiki is ready.
func (f *Activities) NotifyCreated(ctx context.Context, in process.StepInput) (process.StepResult, error) {
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

// Activities are the createwiki process's own activities, on the farm's shared
// dependencies. Their methods are registered one by one (see Register), so
// the helpers of the embedded Farm are never registered a second time.
type Activities struct{ *activities.Farm }

// Keys of ValidateWiki's outputs: who MediaWiki says the requester is.
const (
	OutRequester   = "requester"
	OutRequesterID = "requester_id"
)

// Names under which the creation's step activities are registered; process
// definitions are data and name them by these strings.
const (
	NameValidateWiki         = "ValidateWiki"
	NameCreateDatabase       = "CreateDatabase"
	NameDropDatabase         = "DropDatabase"
	NameCreateSchema         = "CreateSchema"
	NameRegisterWiki         = "RegisterWiki"
	NameUnregisterWiki       = "UnregisterWiki"
	NameGrantRequesterRights = "GrantRequesterRights"
	NameCreateMainPage       = "CreateMainPage"
	NameCreateStorage        = "CreateStorage"
	NameRemoveStorage        = "RemoveStorage"
	NameNotifyCreated        = "NotifyCreated"
)

// StepActivities lists every activity a farm may name in a step it adds
// through configuration.
var StepActivities = []string{
	NameValidateWiki, NameCreateDatabase, NameDropDatabase, NameCreateSchema, activities.NameSourceSQLFile,
	NameRegisterWiki, NameUnregisterWiki, NameGrantRequesterRights, NameCreateMainPage,
	NameCreateStorage, NameRemoveStorage, activities.NameRunMaintenanceScript, NameNotifyCreated,
}

// logCreated: farmer/createwiki on the central wiki. The performer is the
// wiki creator whose approval completed the wiki's request (the farmer log
// of request-wiki:<db> says who), as CreateWiki logs the creator who
// approved; a creation an operator started has no one else named in it, so
// its performer is the requester, for whom the wiki was made and who
// becomes its bureaucrat.
func (f *Activities) logCreated(ctx context.Context, in process.StepInput) error {
	request := "request-wiki:" + in.Wiki.DB
	approverOf := activities.ProcessPage(request)
	if f.Processes != nil {
		// Approvals count only while the review waits for this creation.
		if open, err := f.Processes.Open(ctx, request, ""); err == nil && !open {
			approverOf = ""
		}
	}
	return f.WriteLog(ctx, activities.LogEntry{
		Wiki: f.CentralHint(in.Params[activities.ParamCentralWiki], in.Wiki.DB), Central: true, Type: activities.LogFarmer, Action: "createwiki",
		Performer: in.Requester, ApproverOf: approverOf, Target: activities.ProcessPage(in.ProcessID),
		Params: map[string]any{"4::wiki": in.Wiki.DB, "5::requester": in.Requester},
		Key:    activities.StepKey(ctx, in, activities.LogFarmer+"/createwiki"),
	})
}
