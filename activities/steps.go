package activities

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
	"go.temporal.io/sdk/activity"
)

// SourceSQLFile applies one more SQL file (an extension's tables) to the
// wiki's database, as a step a farm adds in its configuration. Params:
// file, relative to MediaWiki's install path or absolute.
func (f *Farm) SourceSQLFile(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	file := in.Params["file"]
	if file == "" {
		return process.StepResult{}, Permanent(ErrTypeMisconfigured, "step %s: the param file is missing", in.Step)
	}
	if !filepath.IsAbs(file) {
		file = filepath.Join(f.Paths.InstallPath, file)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return process.StepResult{}, Permanent(ErrTypeMisconfigured, "step %s: %v", in.Step, err)
	}
	stmts, err := farmdb.ParseSchema(string(b))
	if err != nil {
		return process.StepResult{}, Permanent(ErrTypeMisconfigured, "step %s: %s: %v", in.Step, file, err)
	}
	return f.ApplyStatements(ctx, in, stmts, filepath.Base(file))
}

// ApplyStatements applies stmts to the database this process created (its
// claim names the cluster).
func (f *Farm) ApplyStatements(ctx context.Context, in process.StepInput, stmts []farmdb.Statement, what string) (process.StepResult, error) {
	cluster, err := f.OurCluster(ctx, in)
	if err != nil {
		return process.StepResult{}, err
	}
	return f.ApplyStatementsOn(ctx, cluster, in, stmts, what)
}

// ApplyStatementsOn applies stmts to the wiki's database on cluster,
// resuming after the statements a heartbeat of an earlier attempt counted
// (every statement is idempotent: CREATE ... IF NOT EXISTS, INSERT IGNORE).
func (f *Farm) ApplyStatementsOn(ctx context.Context, cluster string, in process.StepInput, stmts []farmdb.Statement, what string) (process.StepResult, error) {
	db, err := f.Clusters.OpenWiki(cluster, in.Wiki.DB)
	if err != nil {
		return process.StepResult{}, err
	}
	defer db.Close()
	from := 0
	if activity.HasHeartbeatDetails(ctx) {
		var done int
		if activity.GetHeartbeatDetails(ctx, &done) == nil && done >= 0 && done <= len(stmts) {
			from = done
		}
	}
	err = farmdb.ApplySchema(ctx, db, stmts, from, farmdb.WikiConnections, func(done int) { activity.RecordHeartbeat(ctx, done) })
	if err != nil {
		return process.StepResult{}, err
	}
	server, _ := f.Clusters.Server(cluster)
	tables, err := farmdb.Tables(ctx, server, in.Wiki.DB)
	if err != nil {
		return process.StepResult{}, err
	}
	summary := fmt.Sprintf("%s: %d statements", what, len(stmts))
	if from > 0 {
		summary += fmt.Sprintf(" (resumed after %d)", from)
	}
	return process.StepResult{
		Summary: summary,
		Outputs: map[string]string{"tables": strconv.Itoa(len(tables)), "resumed_at": strconv.Itoa(from)},
	}, nil
}

// RunMaintenanceScript runs a maintenance script against the wiki, as a step
// a farm adds in its configuration. Params: script, args (space-separated).
func (f *Farm) RunMaintenanceScript(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	script := in.Params["script"]
	if script == "" {
		return process.StepResult{}, Permanent(ErrTypeMisconfigured, "step %s: the param script is missing", in.Step)
	}
	out, err := f.Scripts.Run(ctx, in.Wiki.DB, script, strings.Fields(in.Params["args"])...)
	if err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: fmt.Sprintf("%s: %s", script, LastLine(out))}, nil
}

func LastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// OurCluster returns the cluster of this process's claim on the wiki.
func (f *Farm) OurCluster(ctx context.Context, in process.StepInput) (string, error) {
	claim, ok, err := f.Central.GetClaim(ctx, in.Wiki.DB)
	if err != nil {
		return "", err
	}
	if !ok || claim.Process != in.ProcessID {
		return "", Permanent(ErrTypeNotOurs, "the database %s was not created by this process", in.Wiki.DB)
	}
	return claim.Cluster, nil
}

// ParamCentralWiki names the farm's central wiki in a step's params.
const ParamCentralWiki = "central_wiki"

// OrDefault is s, or def when s is empty (an optional param).
func OrDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// PutClaim claims a database name for a process (farmdb.Claim): a claim
// another process won meanwhile is permanent, ErrTypeNotOurs.
func (f *Farm) PutClaim(ctx context.Context, claim farmdb.Claim) error {
	err := f.Central.PutClaim(ctx, claim)
	if errors.Is(err, farmdb.ErrClaimedByOther) {
		return Permanent(ErrTypeNotOurs, "%v", err)
	}
	return err
}

// ClusterServer is a database cluster's server; a cluster the
// configuration does not have is permanent, ErrTypeMisconfigured.
func (f *Farm) ClusterServer(cluster string) (*sql.DB, error) {
	server, err := f.Clusters.Server(cluster)
	if err != nil {
		return nil, Permanent(ErrTypeMisconfigured, "%v", err)
	}
	return server, nil
}

// ClaimName claims the step's wiki name for its process before a database
// of that name is made: an earlier attempt's claim is taken as it is,
// another process's is refused (ErrTypeNotOurs). An unclaimed name must pass
// free (no database of that name on any cluster, for instance), and is
// claimed on cluster, or on the least used cluster when cluster is empty
// or not one the farm has.
func (f *Farm) ClaimName(ctx context.Context, in process.StepInput, cluster string, free func(ctx context.Context) error) (farmdb.Claim, error) {
	db := in.Wiki.DB
	claim, claimed, err := f.Central.GetClaim(ctx, db)
	switch {
	case err != nil:
		return claim, err
	case claimed && claim.Process != in.ProcessID:
		return claim, Permanent(ErrTypeNotOurs, "the name %s is claimed by the process %s", db, claim.Process)
	case claimed:
		return claim, nil
	}
	if err := free(ctx); err != nil {
		return claim, err
	}
	if _, err := f.Clusters.Server(cluster); err != nil {
		if cluster, err = f.Central.LeastUsedCluster(ctx, f.Clusters.Names()); err != nil {
			return claim, err
		}
	}
	claim = farmdb.Claim{DBName: db, Process: in.ProcessID, Cluster: cluster}
	return claim, f.PutClaim(ctx, claim)
}

// ClusterTools are a cluster's server and the connection its MariaDB tools
// (dump, client) use; a cluster the configuration does not have is
// permanent, ErrTypeMisconfigured.
func (f *Farm) ClusterTools(cluster string) (*sql.DB, farmdb.ToolConnection, error) {
	server, err := f.ClusterServer(cluster)
	if err != nil {
		return nil, farmdb.ToolConnection{}, err
	}
	conn, err := f.Clusters.ToolConnection(cluster)
	if err != nil {
		return nil, farmdb.ToolConnection{}, Permanent(ErrTypeMisconfigured, "%v", err)
	}
	return server, conn, nil
}
