package client

import (
	"context"
	"fmt"

	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/renamewiki"
)

// RenameWiki asks for a wiki's rename from db to the name to; one steward
// approves. A protected wiki or name, an invalid or taken new name, and a
// requester without managewiki-core on the wiki are refused by the process
// before anyone is asked.
func (c *Client) RenameWiki(ctx context.Context, db, to, requester, reason string) (process.Status, error) {
	if err := ValidateDBName(to); err != nil {
		return process.Status{}, err
	}
	o := renamewiki.RenameWikiOptions{StewardOptions: c.stewardOptions(), ProtectedWikis: c.Config.Processes.ProtectedWikis}
	return c.startOnWiki(ctx, db, renamewiki.RenameWikiID(db), renamewiki.KindRenameWiki, requester,
		fmt.Sprintf("Rename wiki %s to %s, asked by %s: %s", db, to, requester, reason),
		renamewiki.RenameWiki, renamewiki.RenameWikiInput{
			Wiki: db, To: to, Requester: requester, Reason: reason, Options: o, Definition: renamewiki.RenameWikiDefinition(o),
		})
}
