package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/process"
)

// extensionCommand builds `enable-extension` or `disable-extension`.
func (a *app) extensionCommand(verb, short string,
	change func(c *client.Client, ctx context.Context, db, name, requester, reason string) (process.Status, error)) *cobra.Command {
	var db, name, requester, reason string
	return a.startCommand(verb+" --db DB --extension NAME --requester USER --reason R", short,
		map[string]*string{"db": &db, "extension": &name, "requester": &requester, "reason": &reason}, nil,
		func(ctx context.Context) (process.Status, error) {
			return change(a.client, ctx, db, name, requester, reason)
		})
}

func (a *app) extensionCommands() []*cobra.Command {
	return []*cobra.Command{
		a.extensionCommand("enable-extension",
			"Enable an extension of farm/extensions.json on a wiki: its SQL, rights and scripts, then s_extensions; a restricted one waits for a steward",
			(*client.Client).EnableExtension),
		a.extensionCommand("disable-extension",
			"Disable an extension on a wiki (its tables and rows stay)",
			(*client.Client).DisableExtension),
	}
}
