//go:build integration

package integration

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
)

// The cluster's ready schemas (farmdb/schemapool.go), against the real
// MariaDB: what a creation moves in is the installer's schema, two
// creations never get the same one, and a fill clears what nobody can use
// and nothing else.

func poolStatements(t *testing.T) []farmdb.Statement {
	t.Helper()
	stmts, err := createwiki.CoreSchema(deps.Config.MediaWiki.InstallPath)
	if err != nil {
		t.Fatal(err)
	}
	return stmts
}

// emptyDatabase makes a database with no table, dropped at the test's end.
func emptyDatabase(t *testing.T, prefix string) string {
	t.Helper()
	db := uniqueDB(prefix)
	server, _ := deps.Clusters.Server("c1")
	if _, err := server.ExecContext(testContext(t, time.Minute), "CREATE DATABASE `"+db+"`"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = server.ExecContext(context.Background(), "DROP DATABASE IF EXISTS `"+db+"`") })
	return db
}

// fillPool fills c1's pool now and checks it is full.
func fillPool(t *testing.T, stmts []farmdb.Statement) {
	t.Helper()
	ctx := testContext(t, 3*time.Minute)
	if err := deps.SchemaPools.FillNow(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if n, err := deps.SchemaPools.Ready(ctx, "c1", stmts); err != nil || n < deps.SchemaPools.Size {
		t.Fatalf("after a fill: %d ready schemas (%v), want %d", n, err, deps.SchemaPools.Size)
	}
}

// A schema moved in from the pool is the installer's: the same tables, the
// same interwiki rows, update keys and site stats row; the ready database
// it came from is gone.
func TestSchemaPoolGivesTheInstallersSchema(t *testing.T) {
	stmts := poolStatements(t)
	fillPool(t, stmts)
	db := emptyDatabase(t, "pooled")
	ctx := testContext(t, time.Minute)
	from, err := deps.SchemaPools.Take(ctx, "c1", db, stmts)
	if err != nil || from == "" {
		t.Fatalf("Take: %q, %v; want a ready schema", from, err)
	}
	assertSchemaLikeInstaller(t, db)
	if ok, err := deps.Clusters.DatabaseExists(ctx, "c1", from); err != nil || ok {
		t.Errorf("the ready database %s still exists after the take (%v)", from, err)
	}
	// A database that has tables already is never given another schema.
	if again, err := deps.SchemaPools.Take(ctx, "c1", db, stmts); err != nil || again != "" {
		t.Errorf("a second take into %s: %q, %v; want none", db, again, err)
	}
}

// Creations racing for the ready schemas each get a different one, or
// none (and build their own); every database ends with the full schema.
func TestSchemaPoolRacingTakes(t *testing.T) {
	stmts := poolStatements(t)
	fillPool(t, stmts)
	dbs := []string{emptyDatabase(t, "racea"), emptyDatabase(t, "raceb"), emptyDatabase(t, "racec")}
	from := make([]string, len(dbs))
	errs := make([]error, len(dbs))
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from[i], errs[i] = deps.SchemaPools.Take(testContext(t, time.Minute), "c1", db, stmts)
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, db := range dbs {
		if errs[i] != nil {
			t.Fatalf("take into %s: %v", db, errs[i])
		}
		if from[i] == "" {
			// No ready schema left for this one: it builds, as the step does.
			wiki, err := deps.Clusters.OpenWiki("c1", db)
			if err != nil {
				t.Fatal(err)
			}
			err = farmdb.ApplySchema(testContext(t, time.Minute), wiki, stmts, 0, farmdb.WikiConnections, nil)
			wiki.Close()
			if err != nil {
				t.Fatal(err)
			}
		} else if seen[from[i]] {
			t.Fatalf("two creations got %s", from[i])
		}
		seen[from[i]] = true
		assertSchemaLikeInstaller(t, db)
	}
	if len(seen) < 2 {
		t.Errorf("takes: %v; with %d ready, want at least one from the pool", from, deps.SchemaPools.Size)
	}
}

// A fill drops a crashed build and a schema of another MediaWiki version,
// leaves a database that only looks like the pool's alone, and tops the
// pool up.
func TestSchemaPoolFillClearsOnlyItsLeftovers(t *testing.T) {
	stmts := poolStatements(t)
	ctx := testContext(t, 3*time.Minute)
	server, _ := deps.Clusters.Server("c1")
	leftovers := []string{"wfpoolbuild_00000000beef", "wfpool_000000000000_00000000beef"}
	notOurs := "wfpool_kept_by_someone"
	for _, db := range append(leftovers, notOurs) {
		if _, err := server.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+db+"`"); err != nil {
			t.Fatal(err)
		}
		if _, err := server.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS `"+db+"`.page (page_id INT)"); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _, _ = server.ExecContext(context.Background(), "DROP DATABASE IF EXISTS `"+notOurs+"`") })
	fillPool(t, stmts)
	for _, db := range leftovers {
		if ok, err := deps.Clusters.DatabaseExists(ctx, "c1", db); err != nil || ok {
			t.Errorf("%s is still there after a fill (%v)", db, err)
		}
	}
	if ok, err := deps.Clusters.DatabaseExists(ctx, "c1", notOurs); err != nil || !ok {
		t.Errorf("%s, which is no pool database, was dropped (%v)", notOurs, err)
	}
}
