package renamewiki

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.temporal.io/sdk/activity"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
)

// CloseForRename closes the wiki (read-only) so that nothing is written
// while it moves, and checks over the API that it is.
func (f *Activities) CloseForRename(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	from, to, err := names(in)
	if err != nil {
		return process.StepResult{}, err
	}
	reason := "being renamed to " + to
	if r := strings.TrimSpace(in.Args[ArgReason]); r != "" {
		reason += ": " + r
	}
	if err := f.CloseServed(ctx, from, reason); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: fmt.Sprintf("closed %s (read-only) for its move to %s", from, to)}, nil
}

// CreateRenamedDatabase claims the new name for this process and creates
// its empty database on the cluster of the old one (tables move only
// within a server). A database of the new name is accepted only under this
// process's claim: one an earlier attempt created.
func (f *Activities) CreateRenamedDatabase(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	from, to, err := names(in)
	if err != nil {
		return process.StepResult{}, err
	}
	cluster, err := f.WikiCluster(ctx, from)
	if err != nil {
		return process.StepResult{}, err
	}
	if cluster == "" {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeWikiNotFound, "no cluster has a database %s", from)
	}
	claim, err := f.ClaimName(ctx, named(in, to), cluster, func(ctx context.Context) error {
		return f.nameFree(ctx, to, in.ProcessID)
	})
	if err != nil {
		return process.StepResult{}, err
	}
	if claim.Cluster != cluster {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeMisconfigured,
			"%s is claimed on cluster %s but %s is on cluster %s: tables move only within a cluster", to, claim.Cluster, from, cluster)
	}
	server, err := f.ClusterServer(cluster)
	if err != nil {
		return process.StepResult{}, err
	}
	quoted, err := farmdb.QuoteDB(to)
	if err != nil {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "%v", err)
	}
	if _, err := server.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+quoted+" CHARACTER SET binary"); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{
		Summary: fmt.Sprintf("created the database %s on cluster %s, claimed by this process", to, cluster),
		Outputs: map[string]string{"cluster": cluster},
	}, nil
}

// named is the step's input about another wiki: the new name.
func named(in process.StepInput, db string) process.StepInput {
	in.Wiki = process.WikiSpec{DB: db}
	return in
}

// tableMove is where a rename's tables are: both names, the cluster this
// process claimed the new name on and its server, and the tables still in
// the old database.
type tableMove struct {
	from, to, cluster string
	server            *sql.DB
	left              []string
}

// locateTables reads where the step's tables are; a claim on the new name by
// another process, or none, is ErrTypeNotOurs.
func (f *Activities) locateTables(ctx context.Context, in process.StepInput) (tableMove, error) {
	from, to, err := names(in)
	if err != nil {
		return tableMove{}, err
	}
	claim, ok, err := f.Central.GetClaim(ctx, to)
	if err != nil {
		return tableMove{}, err
	}
	if !ok || claim.Process != in.ProcessID {
		return tableMove{}, activities.Permanent(activities.ErrTypeNotOurs, "the name %s is not claimed by this process (%s)", to, claim.Process)
	}
	server, err := f.ClusterServer(claim.Cluster)
	if err != nil {
		return tableMove{}, err
	}
	left, err := farmdb.Tables(ctx, server, from)
	if err != nil {
		return tableMove{}, err
	}
	return tableMove{from: from, to: to, cluster: claim.Cluster, server: server, left: left}, nil
}

// MoveWikiTables moves the wiki's tables into the new database one by
// one (RENAME TABLE, each whole or not at all), heartbeating after each.
// A rerun moves what is still in the old database: tables moved before
// are skipped. A table in both databases is left for a person to look at.
// Then the old wiki ID's entries are purged from the moved object cache.
// Outputs: tables (in the new database), moved (by this attempt).
func (f *Activities) MoveWikiTables(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	m, err := f.locateTables(ctx, in)
	if err != nil {
		return process.StepResult{}, err
	}
	from, to, server, left := m.from, m.to, m.server, m.left
	moved, err := farmdb.Tables(ctx, server, to)
	if err != nil {
		return process.StepResult{}, err
	}
	for _, t := range left {
		if slices.Contains(moved, t) {
			return process.StepResult{}, activities.Permanent(activities.ErrTypeNotOurs, "the table %s is in both %s and %s", t, from, to)
		}
	}
	for i, t := range left {
		if err := farmdb.MoveTable(ctx, server, from, to, t); err != nil {
			return process.StepResult{}, fmt.Errorf("moving %s.%s to %s: %w", from, t, to, err)
		}
		activity.RecordHeartbeat(ctx, fmt.Sprintf("moved %d of %d tables from %s to %s", i+1, len(left), from, to))
	}
	purged, err := farmdb.PurgeWikiCache(ctx, server, to, from)
	if err != nil {
		return process.StepResult{}, fmt.Errorf("purging the object cache of %s: %w", from, err)
	}
	total := len(moved) + len(left)
	return process.StepResult{
		Summary: fmt.Sprintf("moved %d tables from %s to %s on cluster %s (%d moved before); purged %d cache entries of %s",
			len(left), from, to, m.cluster, len(moved), purged, from),
		Outputs: map[string]string{"tables": fmt.Sprint(total), "moved": fmt.Sprint(len(left))},
	}, nil
}

// MoveUploads renames the wiki's upload directory to the new name's, on
// the same file system. Already moved (only the new one there) or never
// made (a wiki without uploads) is success; both there is left for a
// person to look at. Outputs: path.
func (f *Activities) MoveUploads(_ context.Context, in process.StepInput) (process.StepResult, error) {
	from, to, err := names(in)
	if err != nil {
		return process.StepResult{}, err
	}
	oldDir, err := f.UploadDir(from)
	if err != nil {
		return process.StepResult{}, err
	}
	newDir, err := f.UploadDir(to)
	if err != nil {
		return process.StepResult{}, err
	}
	outputs := map[string]string{"path": newDir}
	oldThere, err := exists(oldDir)
	if err != nil {
		return process.StepResult{}, err
	}
	newThere, err := exists(newDir)
	if err != nil {
		return process.StepResult{}, err
	}
	switch {
	case oldThere && newThere:
		return process.StepResult{}, activities.Permanent(activities.ErrTypeNotOurs, "both %s and %s exist: the files are left as they are", oldDir, newDir)
	case newThere:
		return process.StepResult{Summary: fmt.Sprintf("%s is already moved to %s", oldDir, newDir), Outputs: outputs}, nil
	case !oldThere:
		return process.StepResult{Summary: fmt.Sprintf("%s has no upload directory: nothing to move", from), Outputs: outputs}, nil
	}
	if err := os.Rename(oldDir, newDir); err != nil {
		return process.StepResult{}, err
	}
	activities.SyncDir(filepath.Dir(newDir))
	return process.StepResult{Summary: fmt.Sprintf("moved %s to %s", oldDir, newDir), Outputs: outputs}, nil
}

func exists(path string) (bool, error) {
	_, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
