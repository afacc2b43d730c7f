//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
)

// deletionFarm is the real Farm with its backup configuration (set here
// until the service wires it).
func deletionFarm(t *testing.T) *activities.Farm {
	t.Helper()
	farm, err := deps.Activities()
	if err != nil {
		t.Fatal(err)
	}
	if farm.Backup.Dir == "" {
		farm.Backup = activities.BackupConfig{
			Dir:           config.Abs(deps.Config.Database.BackupDir),
			DumpCommand:   deps.Config.Database.DumpCommand,
			ClientCommand: deps.Config.Database.ClientCommand,
		}
	}
	return farm
}

// deletionState is everything a deletion activity may change, as text:
// the cw_wikis row with its timestamps, the central rows, the database and
// its row counts, the scratch database, the claim, the upload directory and
// the backup files with their checksums.
func deletionState(t *testing.T, farm *activities.Farm, db string) string {
	t.Helper()
	ctx := testContext(t, time.Minute)
	var b strings.Builder
	if w, err := deps.Central.Wiki(ctx, db); err == nil {
		fmt.Fprintf(&b, "cw_wikis: closed=%v (%s, %q) deleted=%v (%s)\n", w.Closed, w.ClosedAt, w.ClosedReason, w.Deleted, w.DeletedAt)
	} else {
		fmt.Fprintf(&b, "cw_wikis: %v\n", err)
	}
	rows, err := deps.Central.RowCounts(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "central rows: %v\n", rows)
	server, _ := deps.Clusters.Server("c1")
	counts, err := farmdb.TableRowCounts(ctx, server, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range sortedKeys(counts) {
		if !volatileTables[table] {
			fmt.Fprintf(&b, "%s=%d ", table, counts[table])
		}
	}
	scratch, _ := farmdb.ScratchDBName(db)
	exists, err := deps.Clusters.DatabaseExists(ctx, "c1", scratch)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "\nscratch database: %v\n", exists)
	claim, ok, _ := deps.Central.GetClaim(ctx, db)
	fmt.Fprintf(&b, "claim: %v %s\n", ok, claim.Process)
	_, err = os.Stat(filepath.Join(config.Abs(deps.Config.MediaWiki.UploadRoot), db))
	fmt.Fprintf(&b, "uploads: %v\n", err == nil)
	files, _ := filepath.Glob(filepath.Join(farm.Backup.Dir, db, "*"))
	for _, f := range files {
		sum, size, err := activities.FileSHA256(f)
		fmt.Fprintf(&b, "backup file %s %d %s %v\n", filepath.Base(f), size, sum, err)
	}
	return b.String()
}

// Every deletion activity, run twice in a row in the process's order
// against the real farm, leaves the same state as running it once; nothing
// is dropped without a verified backup, and the backup restores by hand.
func TestDeleteWikiActivitiesAreIdempotent(t *testing.T) {
	ctx := testContext(t, 10*time.Minute)
	farm := deletionFarm(t)
	env := activityEnv(farm)

	// A wiki to delete, made by the create-wiki activities, with pages.
	create := creationInput(newUser(t, "Doomed"), uniqueDB("delact"), "Doomed Wiki")
	requester, db := create.Requester, create.Wiki.DB
	release := heldByCreation(t, db) // as the creation workflow holds it around its steps
	for _, a := range []string{"ValidateWiki", "CreateDatabase", "CreateSchema", "RegisterWiki", "GrantRequesterRights", "CreateMainPage", "CreateStorage"} {
		create.Step = a
		if _, err := env.ExecuteActivity(a, create); err != nil {
			t.Fatalf("creating %s: %s: %v", db, a, err)
		}
	}
	release()
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Join(farm.Backup.Dir, db)) })
	for i, title := range []string{"Some page", "Another page", "Some page"} {
		if _, err := deps.Scripts.RunWithInput(ctx, db, fmt.Sprintf("text %d of %s", i, db), "edit", title); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := deps.Scripts.Run(ctx, db, "runJobs"); err != nil {
		t.Fatal(err)
	}
	// Files, in the upload directory MediaWiki writes them to.
	if _, _, err := deps.Central.ApplySetting(ctx, db, "wgEnableUploads", json.RawMessage("true")); err != nil {
		t.Fatal(err)
	}
	uploaded := importPNGs(t, db, map[string]int{"One " + db + ".png": 8, "Two " + db + ".png": 300})
	uploadDir := filepath.Join(config.Abs(deps.Config.MediaWiki.UploadRoot), db)
	// A second bureaucrat, with a confirmed email address; the requester has none.
	bcrat := newUser(t, "Bcrat")
	addr := strings.ToLower(bcrat) + "@example.org"
	if _, err := deps.Scripts.Run(ctx, "metawiki", "resetUserEmail", "--no-reset-password", bcrat, addr); err != nil {
		t.Fatal(err)
	}
	if _, err := deps.Scripts.Run(ctx, db, "createAndPromote", "--force", "--bureaucrat", bcrat); err != nil {
		t.Fatal(err)
	}
	bureaucrats := []string{bcrat, requester}
	sort.Strings(bureaucrats)

	// The quorum helper: holders of managewiki-core, minus the requester.
	for run := 0; run < 2; run++ {
		val, err := env.ExecuteActivity(deletewiki.NameCountRightHolders, deletewiki.RightHoldersInput{
			Wiki: db, Right: "managewiki-core", Exclude: []string{strings.ReplaceAll(requester, " ", "_")},
		})
		if err != nil {
			t.Fatal(err)
		}
		var res deletewiki.RightHoldersResult
		if err := val.Get(&res); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(res.Users, []string{bcrat}) {
			t.Fatalf("holders of managewiki-core on %s but %s: %v, want [%s]", db, requester, res.Users, bcrat)
		}
	}

	central := deps.Config.MediaWiki.CentralWiki
	reason := "Deletion test " + randomHex(3)
	deleteAfter := time.Now().Add(7 * 24 * time.Hour).UTC().Truncate(time.Second)
	in := process.StepInput{
		ProcessID: "delete-wiki:" + db, Kind: "delete-wiki",
		Wiki:      process.WikiSpec{DB: db},
		Requester: requester,
		Args:      map[string]string{"reason": reason, "delete_after": deleteAfter.Format(time.RFC3339)},
		Outputs:   map[string]map[string]string{},
	}
	exec1 := func(step, activity string, params map[string]string) (process.StepResult, error) {
		in.Step, in.Params = step, params
		val, err := env.ExecuteActivity(activity, in)
		if err != nil {
			return process.StepResult{}, err
		}
		var res process.StepResult
		return res, val.Get(&res)
	}
	// twice runs a step two times, checks the state did not move between
	// the runs and records the step's outputs as the engine would.
	twice := func(step, activity string, params map[string]string) process.StepResult {
		t.Helper()
		var states [2]string
		var results [2]process.StepResult
		for run := 0; run < 2; run++ {
			res, err := exec1(step, activity, params)
			if err != nil {
				t.Fatalf("%s run %d: %v", activity, run+1, err)
			}
			results[run], states[run] = res, deletionState(t, farm, db)
		}
		if states[0] != states[1] {
			t.Errorf("%s is not idempotent:\nafter one run:\n%s\nafter two runs:\n%s", activity, states[0], states[1])
		}
		if !reflect.DeepEqual(results[0].Outputs, results[1].Outputs) {
			t.Errorf("%s gave other outputs the second time: %v then %v", activity, results[0].Outputs, results[1].Outputs)
		}
		t.Logf("%s: %s / then: %s", activity, results[0].Summary, results[1].Summary)
		in.Outputs[step] = results[1].Outputs
		return results[1]
	}

	// Close: read-only, with its reason, the first time kept.
	twice("close", deletewiki.NameCloseWiki, nil)
	si, err := deps.API.SiteInfo(ctx, db)
	if err != nil || !si.ReadOnly || !strings.Contains(si.ReadOnlyReason, reason) {
		t.Fatalf("closed %s: siteinfo readonly=%v (%q), %v", db, si.ReadOnly, si.ReadOnlyReason, err)
	}

	// Tell the bureaucrats (from the API) and staff.
	res := twice("notify-scheduled", deletewiki.NameNotifyBureaucrats, map[string]string{"phase": "scheduled", "central_wiki": central})
	if res.Outputs["bureaucrats"] != mustJSON(t, bureaucrats) || res.Outputs["emailed"] != mustJSON(t, []string{bcrat}) {
		t.Fatalf("notify outputs %v: want bureaucrats %v, emailed only %s", res.Outputs, bureaucrats, bcrat)
	}
	if mails := mailbox.To(addr); len(mails) != 2 || !strings.Contains(mails[0].Data, reason) || !strings.Contains(mails[0].Data, db) {
		t.Fatalf("emails to %s: %+v", addr, mails)
	}
	msgs := webhook.Containing(reason)
	if len(msgs) != 2 || !strings.Contains(msgs[0], db) || !strings.Contains(msgs[0], "scheduled for deletion") ||
		!strings.Contains(msgs[0], deleteAfter.Format(time.RFC3339)) || !strings.Contains(msgs[0], bcrat) || !strings.Contains(msgs[0], requester) {
		t.Fatalf("staff webhook messages: %q", msgs)
	}

	scheduled := res.Outputs["bureaucrats"]
	delete(in.Outputs, "notify-scheduled") // the removal runs as its own step graph

	// Mark deleted: the farm answers 410.
	twice("mark-deleted", deletewiki.NameMarkWikiDeleted, nil)
	if unknown, err := wikiUnknown(ctx, db); !unknown || !strings.Contains(err.Error(), "410") {
		t.Fatalf("deleted %s: siteinfo answered %v, want HTTP 410", db, err)
	}
	// The bureaucrats of a wiki the farm no longer serves come from its database.
	res, err = exec1("notify-again", deletewiki.NameNotifyBureaucrats, map[string]string{"phase": "scheduled", "central_wiki": central})
	if err != nil || res.Outputs["bureaucrats"] != mustJSON(t, bureaucrats) {
		t.Fatalf("notify after the deletion mark: %v %v", res, err)
	}

	// Undelete, then delete again.
	twice("undelete", deletewiki.NameReopenWiki, nil)
	if si, err := deps.API.SiteInfo(ctx, db); err != nil || si.ReadOnly {
		t.Fatalf("reopened %s: siteinfo %+v, %v", db, si, err)
	}
	if w, err := deps.Central.Wiki(ctx, db); err != nil || w.Closed || w.Deleted || w.ClosedAt != "" || w.DeletedAt != "" || w.ClosedReason != "" {
		t.Fatalf("reopened %s: cw_wikis %+v, %v", db, w, err)
	}
	twice("close", deletewiki.NameCloseWiki, nil)
	twice("mark-deleted", deletewiki.NameMarkWikiDeleted, nil)

	// No drop without a verified backup.
	_, err = exec1("drop-database", deletewiki.NameDropWikiDatabase, nil)
	wantPermanent(t, err, activities.ErrTypeNoVerifiedBackup, db)

	// Backup and its verification. A different backup already at the
	// path (the same name deleted before by a process of the same ID) is
	// kept aside, never overwritten.
	path := filepath.Join(farm.Backup.Dir, db, db+"-delete-wiki_"+db+".sql")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("-- an older backup\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	olderSum, _, _ := activities.FileSHA256(path)
	backup := twice("backup", deletewiki.NameBackupDatabase, nil)
	if b, err := os.ReadFile(strings.TrimSuffix(path, ".sql") + "-" + olderSum[:12] + ".sql"); err != nil || string(b) != "-- an older backup\n" {
		t.Fatalf("the older backup was not kept aside: %q %v", b, err)
	}
	var counts map[string]int64
	if err := json.Unmarshal([]byte(backup.Outputs["counts"]), &counts); err != nil || counts["page"] != 3+2 || counts["revision"] != 4+2 || counts["image"] != 2 {
		t.Fatalf("backup counts %s (%v): want 3 pages (with the main page) and 4 revisions, and 2 file pages with 2 images", backup.Outputs["counts"], err)
	}
	if backup.Outputs["path"] != path {
		t.Fatalf("backup at %s, want %s", backup.Outputs["path"], path)
	}
	if sum, _, err := activities.FileSHA256(path); err != nil || sum != backup.Outputs["sha256"] {
		t.Fatalf("backup file %s: sha256 %s (%v), recorded %s", path, sum, err, backup.Outputs["sha256"])
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Fatalf("backup file %s must be private to the worker: %v %v", path, fi.Mode(), err)
	}
	// A process started before files and rows were backed up verifies the dump alone.
	onlyDump := in.Outputs
	in.Outputs = map[string]map[string]string{"backup": onlyDump["backup"]}
	legacy, err := exec1("verify-backup", deletewiki.NameVerifyBackup, nil)
	if err != nil || legacy.Outputs["verified"] != "true" || legacy.Outputs["files_verified"] != "" || legacy.Outputs["rows_verified"] != "" {
		t.Fatalf("verification of a dump without files and rows: %v %v", legacy.Outputs, err)
	}
	in.Outputs = onlyDump

	// The upload directory and the central rows.
	files := twice("archive-files", deletewiki.NameArchiveUploads, nil)
	archive, fileManifest := files.Outputs["archive"], files.Outputs["manifest"]
	if files.Outputs["files"] == "0" || archive != strings.TrimSuffix(path, ".sql")+".files.tar.gz" {
		t.Fatalf("archive outputs %v", files.Outputs)
	}
	var fm struct {
		Root    string `json:"root"`
		Entries []struct {
			Path, Type, SHA256 string
			Size               int64
		} `json:"entries"`
	}
	if b, err := os.ReadFile(fileManifest); err != nil || json.Unmarshal(b, &fm) != nil || fm.Root != uploadDir {
		t.Fatalf("file manifest %s: %v %+v", fileManifest, err, fm)
	}
	listed := map[string]string{}
	for _, e := range fm.Entries {
		if e.Type == "file" && !strings.HasPrefix(e.Path, "thumb/") {
			listed[filepath.Base(e.Path)] = e.SHA256
		}
	}
	if !reflect.DeepEqual(listed, uploaded) {
		t.Fatalf("the file manifest lists %v, want the uploads %v", listed, uploaded)
	}
	rowsOut := twice("export-rows", deletewiki.NameExportWikiRows, nil)
	var rowCounts map[string]int
	if err := json.Unmarshal([]byte(rowsOut.Outputs["counts"]), &rowCounts); err != nil || rowCounts["cw_wikis"] != 1 || rowCounts["mw_namespaces"] == 0 {
		t.Fatalf("rows outputs %v", rowsOut.Outputs)
	}

	verify := twice("verify-backup", deletewiki.NameVerifyBackup, nil)
	if verify.Outputs["verified"] != "true" || verify.Outputs["sha256"] != backup.Outputs["sha256"] ||
		verify.Outputs["files_verified"] != "true" || verify.Outputs["rows_verified"] != "true" || verify.Outputs["manifest"] == "" {
		t.Fatalf("verify outputs %v", verify.Outputs)
	}

	// A corrupted archive: verification and the removal of the files refuse.
	restoreArchive := corruptFile(t, archive, 0x01)
	_, err = exec1("verify-backup", deletewiki.NameVerifyBackup, nil)
	wantPermanent(t, err, activities.ErrTypeChecksumMismatch, archive)
	_, err = exec1("storage", createwiki.NameRemoveStorage, map[string]string{"verify_step": "verify-backup"})
	wantPermanent(t, err, activities.ErrTypeNoVerifiedBackup, db)
	restoreArchive()
	if _, err := os.Stat(uploadDir); err != nil {
		t.Fatalf("the upload directory went although its archive was corrupted: %v", err)
	}

	// Recorded counts that the restore does not give: refused, naming the table.
	good := in.Outputs["backup"]
	bad := map[string]string{}
	for k, v := range good {
		bad[k] = v
	}
	wrong := map[string]int64{}
	for k, v := range counts {
		wrong[k] = v
	}
	wrong["page"]++
	bad["counts"] = mustJSON(t, wrong)
	in.Outputs["backup"] = bad
	_, err = exec1("verify-backup", deletewiki.NameVerifyBackup, nil)
	wantPermanent(t, err, activities.ErrTypeBackupMismatch, "table page")
	in.Outputs["backup"] = good

	// A tampered file: verification and the drop refuse.
	restoreDump := corruptFile(t, path, 0x01)
	_, err = exec1("verify-backup", deletewiki.NameVerifyBackup, nil)
	wantPermanent(t, err, activities.ErrTypeChecksumMismatch, path, "changed after the dump")
	_, err = exec1("drop-database", deletewiki.NameDropWikiDatabase, nil)
	wantPermanent(t, err, activities.ErrTypeNoVerifiedBackup, db)
	if ok, _ := deps.Clusters.DatabaseExists(ctx, "c1", db); !ok {
		t.Fatalf("%s was dropped although its backup was tampered with", db)
	}
	restoreDump()

	// Drop: the database and its claim go, the backup stays.
	twice("drop-database", deletewiki.NameDropWikiDatabase, nil)
	if ok, _ := deps.Clusters.DatabaseExists(ctx, "c1", db); ok {
		t.Fatalf("%s still exists after the drop", db)
	}
	if _, ok, _ := deps.Central.GetClaim(ctx, db); ok {
		t.Fatalf("the claim on %s outlived its database", db)
	}
	if sum, _, err := activities.FileSHA256(path); err != nil || sum != backup.Outputs["sha256"] {
		t.Fatalf("backup after the drop: %s %v", sum, err)
	}
	// A rerun of the backup after the drop answers from what it wrote.
	again, err := exec1("backup", deletewiki.NameBackupDatabase, nil)
	if err != nil || !reflect.DeepEqual(again.Outputs, backup.Outputs) {
		t.Fatalf("backup rerun after the drop: %v %v, want %v", again.Outputs, err, backup.Outputs)
	}
	// The backup, restored by hand, has the same rows, and the archive the same files.
	restoreByHand(t, path, counts)
	restoreFilesByHand(t, archive, fileManifest)

	// The rows, the storage, the last notification: only what the verification covered.
	verified := map[string]string{"verify_step": "verify-backup"}
	_, err = exec1("remove-rows", deletewiki.NameRemoveWikiRows, map[string]string{"verify_step": "backup"})
	wantPermanent(t, err, activities.ErrTypeNoVerifiedBackup, db)
	twice("remove-rows", deletewiki.NameRemoveWikiRows, verified)
	if rows, err := deps.Central.RowCounts(ctx, db); err != nil || rows["cw_wikis"]+rows["mw_settings"]+rows["mw_permissions"]+rows["mw_namespaces"] != 0 {
		t.Fatalf("rows of %s left: %v %v", db, rows, err)
	}
	// A file the archive does not hold: the directory stays.
	stray := filepath.Join(uploadDir, "stray.txt")
	if err := os.WriteFile(stray, []byte("not archived"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = exec1("storage", createwiki.NameRemoveStorage, verified)
	wantPermanent(t, err, activities.ErrTypeNotInBackup, "stray.txt")
	if err := os.Remove(stray); err != nil {
		t.Fatal(err)
	}
	twice("storage", createwiki.NameRemoveStorage, verified)
	// Reruns once everything is gone answer from the backup.
	for _, step := range []struct{ name, activity string }{{"archive-files", deletewiki.NameArchiveUploads}, {"export-rows", deletewiki.NameExportWikiRows}} {
		again, err := exec1(step.name, step.activity, nil)
		if err != nil || !reflect.DeepEqual(again.Outputs, in.Outputs[step.name]) {
			t.Fatalf("%s rerun after the removal: %v %v, want %v", step.activity, again.Outputs, err, in.Outputs[step.name])
		}
	}
	// The wiki and its database are gone: the process passes on whom it told before.
	in.Args["bureaucrats"] = scheduled
	res = twice("notify-deleted", deletewiki.NameNotifyBureaucrats, map[string]string{"phase": "deleted", "central_wiki": central})
	if res.Outputs["bureaucrats"] != mustJSON(t, bureaucrats) || len(mailbox.To(addr)) != 2+1+2 {
		t.Fatalf("deletion notice: outputs %v, %d emails to %s", res.Outputs, len(mailbox.To(addr)), addr)
	}
	if msgs := webhook.Containing(db + "** has been deleted"); len(msgs) != 2 || !strings.Contains(msgs[0], reason) {
		t.Fatalf("staff deletion messages: %q", msgs)
	}
	final := deletionState(t, farm, db)
	for _, gone := range []string{"closed=", "claim: true", "uploads: true", "scratch database: true"} {
		if strings.Contains(final, gone) {
			t.Fatalf("after the deletion %q is still there:\n%s", gone, final)
		}
	}
}

// restoreByHand loads a backup into a new database with the mariadb client,
// as an operator would, and compares its row counts.
func restoreByHand(t *testing.T, path string, want map[string]int64) {
	t.Helper()
	ctx := testContext(t, 5*time.Minute)
	name := "wfcheck" + randomHex(4)
	server, _ := deps.Clusters.Server("c1")
	if _, err := server.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET binary"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = server.ExecContext(testContext(t, time.Minute), "DROP DATABASE IF EXISTS `"+name+"`") })
	conn, err := deps.Clusters.ToolConnection("c1")
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	cmd := exec.CommandContext(ctx, deps.Config.Database.ClientCommand, append(append([]string{"--no-defaults"}, conn.Args...), name)...)
	cmd.Env = append(os.Environ(), conn.Env())
	cmd.Stdin = file
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("restoring %s by hand: %v: %s", path, err, out)
	}
	got, err := farmdb.TableRowCounts(ctx, server, name)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("restored by hand: %v\nrecorded: %v", got, want)
	}
}

// restoreFilesByHand extracts an archive with tar, as an operator would,
// and checks every file of its manifest with sha256sum.
func restoreFilesByHand(t *testing.T, archive, manifest string) {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("tar", "-xzf", archive, "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("tar -xzf %s: %v %s", archive, err, out)
	}
	var m struct {
		Entries []struct{ Path, Type, SHA256 string } `json:"entries"`
	}
	b, err := os.ReadFile(manifest)
	if err != nil || json.Unmarshal(b, &m) != nil {
		t.Fatalf("manifest %s: %v", manifest, err)
	}
	var sums strings.Builder
	for _, e := range m.Entries {
		if e.Type == "file" {
			fmt.Fprintf(&sums, "%s  %s\n", e.SHA256, e.Path)
		}
	}
	cmd := exec.Command("sha256sum", "--check", "--quiet", "--strict")
	cmd.Dir, cmd.Stdin = dir, strings.NewReader(sums.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum of the files restored by hand: %v %s", err, out)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
