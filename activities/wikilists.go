package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// WikiLists are the farm's cached lists of wikis. CreateWiki keeps them in
// its cache directory (databases.json for the wikis that exist, deleted.json
// for the deleted ones, see CreateWikiJson::generateDatabaseList) and
// rewrites them on its own creations, deletions and state changes; a farm's
// configuration reads them to know its wikis. WikiFlow rewrites them the same
// way after each such change, then runs the farm's own command if it has one.
type WikiLists struct {
	Dir     string   // empty: write no lists
	Command []string // {wiki} is replaced; empty: none
}

// RefreshWikiLists rewrites the lists from cw_wikis and runs the command.
// It is idempotent: the lists are always made whole from the table.
func (f *Farm) RefreshWikiLists(ctx context.Context, wiki string) error {
	if f.WikiLists.Dir != "" {
		if err := f.writeWikiLists(ctx); err != nil {
			return fmt.Errorf("refreshing the wiki lists in %s: %w", f.WikiLists.Dir, err)
		}
	}
	if len(f.WikiLists.Command) == 0 {
		return nil
	}
	args := make([]string, len(f.WikiLists.Command))
	for i, a := range f.WikiLists.Command {
		args[i] = strings.ReplaceAll(a, "{wiki}", wiki)
	}
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("the wiki list command %s failed: %v: %s", args[0], err, LastLine(string(out)))
	}
	return nil
}

// listEntry is one wiki in CreateWiki's lists: sitename, cluster, URL.
type listEntry struct {
	S string `json:"s"`
	C string `json:"c"`
	U string `json:"u,omitempty"`
}

func (f *Farm) writeWikiLists(ctx context.Context) error {
	wikis, err := f.Central.ListedWikis(ctx)
	if err != nil {
		return err
	}
	combi, deleted := map[string]listEntry{}, map[string]listEntry{}
	for _, w := range wikis {
		e := listEntry{S: w.Sitename, C: w.Cluster}
		if w.Deleted {
			deleted[w.DBName] = e
			continue
		}
		if w.URL.Valid {
			e.U = w.URL.String
		}
		combi[w.DBName] = e
	}
	now := time.Now().Unix()
	if err := os.MkdirAll(f.WikiLists.Dir, 0o755); err != nil {
		return err
	}
	for name, contents := range map[string]any{
		"databases": map[string]any{"timestamp": now, "combi": combi},
		"deleted":   map[string]any{"timestamp": now, "databases": deleted},
	} {
		if err := writeList(filepath.Join(f.WikiLists.Dir, name+".json"), contents); err != nil {
			return err
		}
	}
	return nil
}

// writeList replaces a list whole (writeFileAtomic), so that a reader never
// sees half a list, readable by the web server that serves the farm.
func writeList(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeFileAtomicMode(path, "."+filepath.Base(path)+".*", b, 0o644)
}
