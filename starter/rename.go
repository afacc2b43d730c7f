package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/wikiflow/wikiflow/process"
)

func (a *app) renameWikiCommand() *cobra.Command {
	var db, to, requester, reason string
	return a.startCommand("rename-wiki --db OLD --to NEW --requester USER --reason R",
		"Ask for a wiki's rename to a new database name; one steward approves",
		map[string]*string{"db": &db, "to": &to, "requester": &requester, "reason": &reason}, nil,
		func(ctx context.Context) (process.Status, error) {
			return a.client.RenameWiki(ctx, db, to, requester, reason)
		})
}
