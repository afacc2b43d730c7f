package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/wikiflow/wikiflow/client"
)

func (a *app) wikiInfoCommand() *cobra.Command {
	var db string
	cmd := a.connectedCommand("wiki-info --db DB", "Show a wiki's registration in cw_wikis beside what the wiki itself answers",
		func() error {
			if db == "" {
				return usage("--db is required")
			}
			return client.ValidateDBName(db)
		},
		func(ctx context.Context) error {
			info, err := a.client.InspectWiki(ctx, db)
			if err != nil {
				return failed(err)
			}
			out := map[string]any{"registration": info.Registration, "live": info.Live, "live_error": info.LiveError}
			a.print(out, func(w io.Writer) {
				r := info.Registration
				fmt.Fprintf(w, "%s: %q (%s) closed=%v deleted=%v private=%v\n", r.DBName, r.Sitename, r.Language, r.Closed, r.Deleted, r.Private)
				if info.LiveError != "" {
					fmt.Fprintf(w, "live: not answering: %s\n", info.LiveError)
				} else {
					fmt.Fprintf(w, "live: %q (%s), %s\n", info.Live.SiteName, info.Live.Lang, info.Live.Generator)
				}
			})
			if info.LiveError != "" {
				return failed(fmt.Errorf("%s is registered but does not answer", db))
			}
			return nil
		})
	cmd.Flags().StringVar(&db, "db", "", "wiki database name")
	return cmd
}
