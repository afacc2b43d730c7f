package requestwiki

import (
	"context"
	"errors"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
	"go.temporal.io/sdk/activity"
)

// FileRequestInput is a request for a new wiki, as its requester files it.
type FileRequestInput struct {
	DB        string `json:"db"`
	Sitename  string `json:"sitename"`
	Language  string `json:"language"`
	Private   bool   `json:"private,omitempty"`
	Category  string `json:"category,omitempty"`
	Reason    string `json:"reason,omitempty"` // cw_comment
	Requester string `json:"requester"`
	// Central is the central wiki, where the requester's account is looked up.
	Central string `json:"central"`
	// URL is not used any more (recorded inputs may carry it): cw_url is
	// always written as CreateWiki writes it, <subdomain>.<mediawiki.subdomain>.
	URL string `json:"url,omitempty"`
	Bio bool   `json:"bio,omitempty"`
	// Key makes filing idempotent; empty uses the calling workflow's run.
	Key string `json:"key,omitempty"`
}

type FileRequestResult struct {
	ID     int64 `json:"id"`
	UserID int   `json:"user_id"`
	// Requester is the requester's canonical name, as MediaWiki gives it.
	Requester string `json:"requester,omitempty"`
}

// FileWikiRequest files a request in cw_requests (status inreview) under
// the requester's farm user id, after CreateWiki's checks: the name rules,
// a language MediaWiki ships, a wiki that does not exist yet, a requester
// with an account. A retry returns the request the first attempt filed.
func (f *Activities) FileWikiRequest(ctx context.Context, in FileRequestInput) (FileRequestResult, error) {
	spec := process.WikiSpec{DB: in.DB, Sitename: in.Sitename, Language: in.Language, Category: in.Category, Private: in.Private}
	if err := f.Rules.Check(spec, in.Requester); err != nil {
		return FileRequestResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "%v", err)
	}
	known, err := f.KnownLanguages()
	if err != nil {
		return FileRequestResult{}, err
	}
	if !known[in.Language] {
		return FileRequestResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "invalid wiki request: MediaWiki does not know the language %q", in.Language)
	}
	if _, err := f.Central.Wiki(ctx, in.DB); err == nil {
		return FileRequestResult{}, activities.Permanent(activities.ErrTypeWikiExists, "the wiki %s already exists (registered in cw_wikis)", in.DB)
	} else if !errors.Is(err, farmdb.ErrWikiNotFound) {
		return FileRequestResult{}, err
	}
	userID, canonical, err := f.LookupFarmUser(ctx, in.Central, in.Requester)
	if err != nil {
		return FileRequestResult{}, err
	}
	key := in.Key
	if key == "" && activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		key = info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID
	}
	address, err := f.requestURL(in.DB)
	if err != nil {
		return FileRequestResult{}, err
	}
	id, err := f.Central.CreateRequest(ctx, farmdb.Request{
		DBName: in.DB, Sitename: in.Sitename, Language: in.Language, Private: in.Private, Category: in.Category,
		URL: address, Comment: in.Reason, UserID: userID, Bio: in.Bio, Key: key,
	})
	if err != nil {
		return FileRequestResult{}, classifyRequestErr(err)
	}
	if err := f.logRequestFiled(ctx, in, id, canonical); err != nil {
		return FileRequestResult{}, err
	}
	activity.GetLogger(ctx).Info("wiki request filed", "id", id, "db", in.DB)
	return FileRequestResult{ID: id, UserID: userID, Requester: canonical}, nil
}

// requestURL is the cw_url CreateWiki writes for a database name.
func (f *Activities) requestURL(db string) (string, error) {
	if f.Rules.Subdomain == "" {
		return "", activities.Permanent(activities.ErrTypeMisconfigured, "no farm domain for cw_url (mediawiki.subdomain)")
	}
	u := farmdb.RequestURL(db, f.Rules.Suffix, f.Rules.Subdomain)
	if len(u) > 96 {
		return "", activities.Permanent(activities.ErrTypeInvalidInput, "invalid wiki request: the wiki's address %s is %d bytes long, cw_url holds at most 96", u, len(u))
	}
	return u, nil
}
