package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/wikiflow/wikiflow/client"
)

func (a *app) wikiInfoCommand() *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "wiki-info --db DB",
		Short: "Show a wiki's registration in cw_wikis beside what the wiki itself answers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if db == "" {
				return usage("--db is required")
			}
			if err := client.ValidateDBName(db); err != nil {
				return err
			}
			if err := a.connect(cmd); err != nil {
				return err
			}
			info, err := a.client.InspectWiki(cmd.Context(), db)
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
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "wiki database name")
	return cmd
}
