package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/wikiflow/wikiflow/process"
)

func (a *app) restoreWikiCommand() *cobra.Command {
	var db, requester, reason string
	return a.startCommand("restore-wiki --db DB --requester USER --reason R",
		"Ask for a deleted wiki's restore from its latest verified backup; one steward approves",
		map[string]*string{"db": &db, "requester": &requester, "reason": &reason}, nil,
		func(ctx context.Context) (process.Status, error) {
			return a.client.RestoreWiki(ctx, db, requester, reason)
		})
}
