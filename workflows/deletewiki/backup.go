package deletewiki

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
)

// Steps whose outputs the later deletion steps read, unless the step's
// params name others (backup_step, verify_step).
const (
	DefaultBackupStep = "backup"
	DefaultVerifyStep = "verify-backup"
)

// dumpFlags make a dump that restores on its own into any database name
// (no CREATE DATABASE, no USE), is consistent without locking InnoDB
// tables, keeps binary columns byte for byte, and is byte-identical from one
// run to the next while the wiki does not change (no date in it).
var dumpFlags = []string{
	"--single-transaction", "--skip-dump-date", "--routines", "--events", "--triggers", "--hex-blob",
}

// backupManifest is written beside each backup: what a rerun after the drop
// answers, since the database can no longer be counted.
type backupManifest struct {
	DB      string           `json:"db"`
	Cluster string           `json:"cluster"`
	Process string           `json:"process"`
	SHA256  string           `json:"sha256"`
	Bytes   int64            `json:"bytes"`
	Counts  map[string]int64 `json:"counts"`
}

func (m backupManifest) Outputs(path string) map[string]string {
	counts, _ := json.Marshal(m.Counts)
	return map[string]string{
		"path":    path,
		"sha256":  m.SHA256,
		"bytes":   strconv.FormatInt(m.Bytes, 10),
		"tables":  strconv.Itoa(len(m.Counts)),
		"counts":  string(counts),
		"cluster": m.Cluster,
	}
}

// BackupDatabase dumps the wiki's database with the configured dump tool
// (mariadb-dump --single-transaction --skip-dump-date --routines --events
// --triggers --hex-blob) to <backup dir>/<db>/<db>-<process id>.sql, written
// to a temporary file and renamed only when complete and taken while no
// table's row count changed. A rerun dumps again (byte-identical while the
// wiki is closed); a rerun after the drop answers from the manifest beside
// the file. Outputs: path, sha256, bytes, tables, counts (JSON table -> rows)
// and cluster.
func (f *Activities) BackupDatabase(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db, err := activities.WikiDB(in)
	if err != nil {
		return process.StepResult{}, err
	}
	path, err := f.BackupPath(db, in.ProcessID)
	if err != nil {
		return process.StepResult{}, err
	}
	cluster, err := f.WikiCluster(ctx, db)
	if err != nil {
		return process.StepResult{}, err
	}
	if cluster == "" {
		m, err := readManifest(path)
		if errors.Is(err, os.ErrNotExist) {
			return process.StepResult{}, activities.Permanent(activities.ErrTypeNoDatabase, "the database %s exists on no cluster and there is no backup of it at %s", db, path)
		}
		if err != nil {
			return process.StepResult{}, activities.Permanent(activities.ErrTypeBackupMissing, "the database %s is gone and its backup manifest is unreadable: %v", db, err)
		}
		if err := activities.CheckFile(path, m.SHA256); err != nil {
			return process.StepResult{}, err
		}
		return process.StepResult{
			Summary: fmt.Sprintf("the database %s is already dropped; its backup %s (%d tables, %d bytes) is intact", db, path, len(m.Counts), m.Bytes),
			Outputs: m.Outputs(path),
		}, nil
	}
	server, conn, err := f.ClusterTools(cluster)
	if err != nil {
		return process.StepResult{}, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeMisconfigured, "database.backup_dir: %v", err)
	}
	// A verified set another run left at this path (the same name deleted
	// before by a process of the same ID) moves aside whole.
	if err := activities.MoveSealedAside(ctx, strings.TrimSuffix(path, activities.SuffixDump)); err != nil {
		return process.StepResult{}, err
	}
	// Temporary files of an attempt that died (worker killed mid-dump).
	for _, pattern := range []string{"." + db + "-*.sql.tmp", ".manifest-*.tmp"} {
		stale, _ := filepath.Glob(filepath.Join(filepath.Dir(path), pattern))
		for _, s := range stale {
			os.Remove(s)
		}
	}
	const attempts = 3
	for attempt := 1; attempt <= attempts; attempt++ {
		before, err := farmdb.TableRowCounts(ctx, server, db)
		if err != nil {
			return process.StepResult{}, err
		}
		tmp, sum, size, err := f.dump(ctx, conn, db, filepath.Dir(path))
		if err != nil {
			return process.StepResult{}, err
		}
		after, err := farmdb.TableRowCounts(ctx, server, db)
		if err != nil {
			os.Remove(tmp)
			return process.StepResult{}, err
		}
		if !activities.SameCounts(before, after) {
			os.Remove(tmp)
			continue // it changed while being dumped: the counts would not describe the dump
		}
		m := backupManifest{DB: db, Cluster: cluster, Process: in.ProcessID, SHA256: sum, Bytes: size, Counts: after}
		if err := keepOtherBackup(path, sum); err != nil {
			os.Remove(tmp)
			return process.StepResult{}, err
		}
		if err := os.Rename(tmp, path); err != nil {
			os.Remove(tmp)
			return process.StepResult{}, err
		}
		if err := writeManifest(path, m); err != nil {
			return process.StepResult{}, err
		}
		activities.SyncDir(filepath.Dir(path))
		return process.StepResult{
			Summary: fmt.Sprintf("dumped %s (%d tables, %d rows, %d bytes) to %s", db, len(after), activities.TotalRows(after), size, path),
			Outputs: m.Outputs(path),
		}, nil
	}
	return process.StepResult{}, fmt.Errorf("the database %s kept changing during %d dumps: is the wiki really closed?", db, attempts)
}

// dump runs the dump tool into a temporary file in dir (mode 0600: a dump
// holds password hashes and email addresses) and returns it with its
// sha256 and size, synced to disk.
func (f *Activities) dump(ctx context.Context, conn farmdb.ToolConnection, db, dir string) (string, string, int64, error) {
	tmp, err := os.CreateTemp(dir, "."+db+"-*.sql.tmp")
	if err != nil {
		return "", "", 0, activities.Permanent(activities.ErrTypeMisconfigured, "database.backup_dir: %v", err)
	}
	fail := func(err error) (string, string, int64, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", "", 0, err
	}
	h := sha256.New()
	counter := &activities.CountingWriter{}
	args := append(append([]string{}, dumpFlags...), db)
	if err := f.RunTool(ctx, activities.OrDefault(f.Backup.DumpCommand, activities.DefaultDumpCommand), conn, args, nil, io.MultiWriter(tmp, h, counter)); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if !counter.EndsWith("-- Dump completed\n") {
		os.Remove(tmp.Name())
		return "", "", 0, fmt.Errorf("the dump of %s does not end with mariadb-dump's completion line: incomplete", db)
	}
	return tmp.Name(), hex.EncodeToString(h.Sum(nil)), counter.N, nil
}

// VerifyBackup proves the backup restores: it checks the file's sha256
// against the backup step's output, restores it into the scratch database
// wfverify_<db> (dropped before and after) with the configured client, and
// compares every table and its exact row count with the counts recorded at
// the dump. When the process also archived the files (the step files_step,
// default archive-files) and exported the rows (rows_step, default
// export-rows), it extracts the archive into a scratch directory and checks
// every file's size and sha256 against the manifest, and loads the rows into
// scratch copies of the central tables and compares them with the export
// and with the live rows; a backup without them is verified for what it
// has. It then writes <base>.backup.json, the verified set (kept as it is
// on a rerun that finds the same parts). Outputs: verified ("true"), path,
// sha256 (the dump), manifest, manifest_sha256 (backup.json), and
// files_verified, files_manifest, files_manifest_sha256, rows_verified,
// rows_path, rows_sha256 for the parts it verified.
func (f *Activities) VerifyBackup(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db := in.Wiki.DB
	scratch, err := farmdb.ScratchDBName(db)
	if err != nil {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "%v", err)
	}
	step := activities.OrDefault(in.Params["backup_step"], DefaultBackupStep)
	rec := in.Outputs[step]
	path, sum := rec["path"], rec["sha256"]
	var want map[string]int64
	if path == "" || sum == "" || json.Unmarshal([]byte(rec["counts"]), &want) != nil || want == nil {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeMisconfigured, "step %s needs the outputs path, sha256 and counts of the step %s", in.Step, step)
	}
	if err := activities.CheckFile(path, sum); err != nil {
		return process.StepResult{}, err
	}
	cluster := rec["cluster"]
	if _, err := f.Clusters.Server(cluster); err != nil {
		if cluster, err = f.WikiCluster(ctx, db); err != nil {
			return process.StepResult{}, err
		}
		if cluster == "" {
			names := f.Clusters.Names()
			if len(names) == 0 {
				return process.StepResult{}, activities.Permanent(activities.ErrTypeMisconfigured, "no database cluster configured")
			}
			cluster = names[0]
		}
	}
	server, conn, err := f.ClusterTools(cluster)
	if err != nil {
		return process.StepResult{}, err
	}
	quoted, _ := farmdb.QuoteDB(scratch)
	if _, err := server.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoted); err != nil {
		return process.StepResult{}, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_, _ = server.ExecContext(cctx, "DROP DATABASE IF EXISTS "+quoted)
	}()
	if _, err := server.ExecContext(ctx, "CREATE DATABASE "+quoted+" CHARACTER SET binary"); err != nil {
		return process.StepResult{}, err
	}
	file, err := os.Open(path)
	if err != nil {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeBackupMissing, "the backup %s: %v", path, err)
	}
	defer file.Close()
	err = f.RunTool(ctx, activities.OrDefault(f.Backup.ClientCommand, activities.DefaultClientCommand), conn,
		[]string{"--binary-mode", "--batch", scratch}, file, io.Discard)
	if err != nil {
		return process.StepResult{}, err
	}
	got, err := farmdb.TableRowCounts(ctx, server, scratch)
	if err != nil {
		return process.StepResult{}, err
	}
	if diff := activities.CountsDiff(want, got); diff != "" {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeBackupMismatch, "the backup %s of %s does not restore what was dumped: %s", path, db, diff)
	}
	size, _ := strconv.ParseInt(rec["bytes"], 10, 64)
	whole := activities.WholeBackup{DB: db, Process: in.ProcessID, Cluster: cluster,
		Database: &activities.DatabasePart{File: filepath.Base(path), SHA256: sum, Bytes: size, Counts: want}}
	outputs := map[string]string{"verified": "true", "path": path, "sha256": sum}
	summary := fmt.Sprintf("restored %s into %s: %d tables, %d rows, as dumped", filepath.Base(path), scratch, len(got), activities.TotalRows(got))

	// The files and the rows, when the process backed them up (a process
	// started before they were has only the dump: that is verified alone).
	if files := in.Outputs[activities.OrDefault(in.Params["files_step"], activities.DefaultFilesStep)]; files["manifest"] != "" {
		m, err := f.VerifyFiles(ctx, db, files)
		if err != nil {
			return process.StepResult{}, err
		}
		whole.Files = &activities.FilesPart{Archive: m.Archive, ArchiveSHA256: m.ArchiveSHA256, ArchiveBytes: m.ArchiveBytes,
			Manifest: filepath.Base(files["manifest"]), ManifestSHA256: files["manifest_sha256"], Files: m.Files, Bytes: m.Bytes}
		outputs["files_verified"] = "true"
		outputs["files_manifest"] = files["manifest"]
		outputs["files_manifest_sha256"] = files["manifest_sha256"]
		summary += fmt.Sprintf("; extracted %s: %d files, %d bytes, every checksum as listed", m.Archive, m.Files, m.Bytes)
	}
	if rows := in.Outputs[activities.OrDefault(in.Params["rows_step"], activities.DefaultRowsStep)]; rows["path"] != "" {
		b, err := f.VerifyRows(ctx, db, rows)
		if err != nil {
			return process.StepResult{}, err
		}
		rsize, _ := strconv.ParseInt(rows["bytes"], 10, 64)
		whole.Rows = &activities.RowsPart{File: filepath.Base(rows["path"]), SHA256: rows["sha256"], Bytes: rsize, Counts: b.Counts}
		outputs["rows_verified"] = "true"
		outputs["rows_path"] = rows["path"]
		outputs["rows_sha256"] = rows["sha256"]
		summary += fmt.Sprintf("; the rows (%s) restore into scratch tables as exported", activities.CountsText(b.Counts))
	}
	// backup.json names its parts relative to itself.
	for _, part := range []string{outputs["files_manifest"], outputs["rows_path"]} {
		if part != "" && filepath.Dir(part) != filepath.Dir(path) {
			return process.StepResult{}, activities.Permanent(activities.ErrTypeMisconfigured, "the parts of the backup of %s are not in one directory: %s", db, part)
		}
	}
	manifest, manifestSum, err := f.SealBackup(ctx, strings.TrimSuffix(path, activities.SuffixDump), whole)
	if err != nil {
		return process.StepResult{}, err
	}
	outputs["manifest"], outputs["manifest_sha256"] = manifest, manifestSum
	return process.StepResult{Summary: summary, Outputs: outputs}, nil
}

func manifestPath(path string) string { return path + ".json" }

// keepOtherBackup moves aside a backup already at path whose content is not
// the new dump's (a wiki of the same name deleted again by a process of the
// same ID, or one that changed between two runs), to
// <name>-<first 12 hex of its sha256>.sql with its manifest: a rerun never
// destroys a backup. An identical file is simply replaced.
func keepOtherBackup(path, newSum string) error {
	old, _, err := activities.FileSHA256(path)
	if errors.Is(err, os.ErrNotExist) || (err == nil && old == newSum) {
		return nil
	}
	if err != nil {
		return err
	}
	aside := strings.TrimSuffix(path, ".sql") + "-" + old[:12] + ".sql"
	if err := os.Rename(path, aside); err != nil {
		return err
	}
	if err := os.Rename(manifestPath(path), manifestPath(aside)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func readManifest(path string) (backupManifest, error) {
	var m backupManifest
	b, err := os.ReadFile(manifestPath(path))
	if err != nil {
		return m, err
	}
	return m, json.Unmarshal(b, &m)
}

func writeManifest(path string, m backupManifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return activities.WriteFileAtomic(manifestPath(path), ".manifest-*.tmp", append(b, '\n'))
}

// ExportWikiRows writes the wiki's rows of cw_wikis, mw_settings,
// mw_permissions and mw_namespaces, every column, read in one transaction,
// to <base>.rows.json. The file is the same byte for byte while the rows do
// not change; a rerun after the rows were removed answers from the file; a
// different file found at the path is kept aside. Outputs: path, sha256,
// bytes, counts (JSON table -> rows).
func (f *Activities) ExportWikiRows(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db, base, err := f.StepBackup(in)
	if err != nil {
		return process.StepResult{}, err
	}
	name := base + activities.SuffixRows
	activities.RemoveStale(filepath.Dir(name), "."+db+"-*.rows.tmp")
	live, err := f.Central.ReadWikiRows(ctx, db)
	if err != nil {
		return process.StepResult{}, err
	}
	if !live.Registered() {
		b, err := activities.ReadRows(name)
		if errors.Is(err, os.ErrNotExist) {
			return process.StepResult{}, activities.Permanent(activities.ErrTypeWikiNotFound, "%s is not registered in cw_wikis and no export of its rows is at %s", db, name)
		}
		if err != nil {
			return process.StepResult{}, activities.Permanent(activities.ErrTypeBackupMismatch, "%s is no longer registered and its export %s is unreadable: %v", db, name, err)
		}
		return rowsResult(name, b, fmt.Sprintf("the rows of %s are already removed; their export %s is intact", db, name))
	}
	b := activities.RowsBackup{DB: db, Process: in.ProcessID, Counts: live.Counts(), Tables: live}
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return process.StepResult{}, err
	}
	data = append(data, '\n')
	sum := sha256.Sum256(data)
	if err := activities.KeepAside(name, activities.SuffixRows, hex.EncodeToString(sum[:])); err != nil {
		return process.StepResult{}, err
	}
	if err := activities.WriteFileAtomic(name, "."+db+"-*.rows.tmp", data); err != nil {
		return process.StepResult{}, err
	}
	return rowsResult(name, b, fmt.Sprintf("exported the rows of %s (%s) to %s", db, activities.CountsText(b.Counts), name))
}

func rowsResult(name string, b activities.RowsBackup, summary string) (process.StepResult, error) {
	sum, size, err := activities.FileSHA256(name)
	if err != nil {
		return process.StepResult{}, err
	}
	counts, _ := json.Marshal(b.Counts)
	return process.StepResult{Summary: summary, Outputs: map[string]string{
		"path": name, "sha256": sum, "bytes": strconv.FormatInt(size, 10), "counts": string(counts),
	}}, nil
}
