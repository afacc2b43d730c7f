package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/mediawiki"
)

// InspectWikiInput names the wiki to look at.
type InspectWikiInput struct {
	DB string
}

// InspectWikiResult puts what the farm registered beside what the wiki says
// about itself, the first thing an operator checks when a wiki misbehaves.
type InspectWikiResult struct {
	Registration farmdb.Wiki
	Live         mediawiki.SiteInfo
	// LiveError is set when the registration exists but the wiki does not answer.
	LiveError string
}

// InspectWiki reads cw_wikis and the wiki's siteinfo.
func InspectWiki(ctx workflow.Context, in InspectWikiInput) (InspectWikiResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
	})
	var f *activities.Farm
	var reg activities.LookupWikiResult
	if err := workflow.ExecuteActivity(ctx, f.LookupWiki, activities.LookupWikiInput{DB: in.DB}).Get(ctx, &reg); err != nil {
		return InspectWikiResult{}, err
	}
	out := InspectWikiResult{Registration: reg.Wiki}
	var live activities.SiteInfoResult
	if err := workflow.ExecuteActivity(ctx, f.ReadSiteInfo, activities.SiteInfoInput{Wiki: in.DB}).Get(ctx, &live); err != nil {
		out.LiveError = err.Error()
		return out, nil
	}
	out.Live = live.SiteInfo
	return out, nil
}
