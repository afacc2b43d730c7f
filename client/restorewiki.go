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
	o := c.stewardOptions()
	return c.startOnWiki(ctx, db, restorewiki.RestoreWikiID(db), restorewiki.KindRestoreWiki, requester,
		fmt.Sprintf("Restore wiki %s, asked by %s: %s", db, requester, reason),
		restorewiki.RestoreWiki, restorewiki.RestoreWikiInput{
			Wiki: db, Requester: requester, Reason: reason, Options: o, Definition: restorewiki.RestoreWikiDefinition(o),
		})
}
