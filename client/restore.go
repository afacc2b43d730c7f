package client

import (
	"context"
	"fmt"

	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/restorewiki"
)

// RestoreWiki asks for a deleted wiki's restore from its latest verified
// backup; one steward approves. A taken name, no verified backup or one
// that fails its checksums is refused by the process before anyone is asked.
func (c *Client) RestoreWiki(ctx context.Context, db, requester, reason string) (process.Status, error) {
	if err := ValidateDBName(db); err != nil {
		return process.Status{}, err
	}
	o := restorewiki.RestoreWikiOptions{
		CentralWiki: c.Config.MediaWiki.CentralWiki, AttentionWindow: c.Config.Processes.AttentionWindow,
		Expiry: c.Config.Processes.ApprovalExpiry, RetryBudget: c.Config.Processes.TransientRetryBudget,
	}
	id := restorewiki.RestoreWikiID(db)
	return c.start(ctx, c.startOptions(id, restorewiki.KindRestoreWiki, db, requester, fmt.Sprintf("Restore wiki %s, asked by %s: %s", db, requester, reason)),
		restorewiki.RestoreWiki, restorewiki.RestoreWikiInput{
			Wiki: db, Requester: requester, Reason: reason, Options: o, Definition: restorewiki.RestoreWikiDefinition(o),
		})
}
