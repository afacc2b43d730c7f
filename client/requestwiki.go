package client

import (
	"context"
	"fmt"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
)

// RequestWiki files a wiki request for review.
func (c *Client) RequestWiki(ctx context.Context, req CreateWikiRequest, reason string) (process.Status, error) {
	rules := activities.WikiRules{Suffix: c.Config.MediaWiki.DBSuffix}
	if err := rules.Check(req.Wiki, req.Requester); err != nil {
		return process.Status{}, refused("%v", err)
	}
	def, err := c.CreateWikiDefinition()
	if err != nil {
		return process.Status{}, err
	}
	id := requestwiki.RequestWikiID(req.Wiki.DB)
	return c.start(ctx, c.startOptions(id, requestwiki.KindRequestWiki, req.Wiki.DB, req.Requester, fmt.Sprintf("Request for wiki %s (%q) by %s", req.Wiki.DB, req.Wiki.Sitename, req.Requester)),
		requestwiki.RequestWiki, requestwiki.RequestWikiInput{
			Wiki: req.Wiki, Requester: req.Requester, Email: req.Email, Reason: reason, Create: def,
			Options: requestwiki.RequestWikiOptions{
				CentralWiki: c.Config.MediaWiki.CentralWiki, MoreDetailsTimeout: c.Config.Processes.MoreDetailsTimeout,
				Reviewers: c.Config.Processes.RequestReviewers,
			},
		})
}

// Review sends hold, more-details or edit-request to a wiki request.
func (c *Client) Review(ctx context.Context, id string, r requestwiki.ReviewRequest) (process.Status, error) {
	if _, err := c.update(ctx, id, requestwiki.UpdateReview, r); err != nil {
		return process.Status{}, err
	}
	return c.Status(ctx, id)
}
