package main

import (
	"github.com/spf13/cobra"

	"github.com/wikiflow/wikiflow/client"
)

func (a *app) restoreWikiCommand() *cobra.Command {
	return a.wikiReasonCommand("restore-wiki",
		"Ask for a deleted wiki's restore from its latest verified backup; one steward approves",
		(*client.Client).RestoreWiki)
}
