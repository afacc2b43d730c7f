package activities

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/mediawiki"
	"github.com/wikiflow/wikiflow/process"
)

// The wiki-deletion activities. The process runs them in this order:
// approval -> CloseWiki + MarkWikiDeleted + NotifyBureaucrats(scheduled) ->
// grace period (ReopenWiki undeletes) -> BackupDatabase -> ArchiveUploads +
// ExportWikiRows -> VerifyBackup -> DropWikiDatabase -> RemoveWikiRows +
// RemoveStorage -> NotifyBureaucrats (deleted). Nothing is dropped or
// removed without a backup that was restored and checked (backup.go).
// Each step takes process.StepInput, returns process.StepResult and is
// idempotent.

// Names under which the deletion activities are registered.
const (
	NameCloseWiki         = "CloseWiki"
	NameMarkWikiDeleted   = "MarkWikiDeleted"
	NameReopenWiki        = "ReopenWiki"
	NameNotifyBureaucrats = "NotifyBureaucrats"
	NameCountRightHolders = "CountRightHolders" // RightHoldersInput -> RightHoldersResult, not a step
	NameBackupDatabase    = "BackupDatabase"
	NameVerifyBackup      = "VerifyBackup"
	NameDropWikiDatabase  = "DropWikiDatabase"
	NameRemoveWikiRows    = "RemoveWikiRows"
)

// DeletionStepActivities lists the deletion's step activities
// (StepInput -> StepResult); RemoveStorage, shared with creation, is in
// StepActivities.
var DeletionStepActivities = []string{
	NameCloseWiki, NameMarkWikiDeleted, NameReopenWiki, NameNotifyBureaucrats,
	NameBackupDatabase, NameArchiveUploads, NameExportWikiRows, NameVerifyBackup, NameDropWikiDatabase, NameRemoveWikiRows,
}

// Error types of the deletion's permanent failures.
const (
	// ErrNoVerifiedBackup: DropWikiDatabase refuses without a backup that
	// VerifyBackup restored and counted, still on disk with its checksum.
	ErrNoVerifiedBackup = "NoVerifiedBackup"
	// ErrNoDatabase: the wiki has no database to back up and no backup exists.
	ErrNoDatabase = "NoDatabase"
	// ErrBackupMissing: the backup file recorded by the backup step is gone.
	ErrBackupMissing = "BackupMissing"
	// ErrChecksumMismatch: the backup file is not what the backup step wrote.
	ErrChecksumMismatch = "ChecksumMismatch"
	// ErrBackupMismatch: the restored backup does not have the recorded tables and rows.
	ErrBackupMismatch = "BackupMismatch"
)

// Steps whose outputs the later deletion steps read, unless the step's
// params name others (backup_step, verify_step).
const (
	DefaultBackupStep = "backup"
	DefaultVerifyStep = "verify-backup"
)

// Phases of NotifyBureaucrats (params: phase).
const (
	PhaseScheduled = "scheduled"
	PhaseDeleted   = "deleted"
)

// Defaults of BackupConfig.
const (
	DefaultDumpCommand   = "mariadb-dump"
	DefaultClientCommand = "mariadb"
)

// dumpFlags make a dump that restores on its own into any database name
// (no CREATE DATABASE, no USE), is consistent without locking InnoDB
// tables, keeps binary columns byte for byte, and is byte-identical from one
// run to the next while the wiki does not change (no date in it).
var dumpFlags = []string{
	"--single-transaction", "--skip-dump-date", "--routines", "--events", "--triggers", "--hex-blob",
}

// ---------------------------------------------------------------------------
// Closing, deleting, reopening

// CloseWiki closes the wiki with the reason in Args["reason"]: the farm keeps
// serving it read-only. The first closing time is kept on a rerun. It then
// checks over the wiki's API that the wiki really is read-only (a wiki that
// is already marked deleted is not served at all, which is fine too).
func (f *Farm) CloseWiki(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db := in.Wiki.DB
	if err := farmdb.CheckDBName(db); err != nil {
		return process.StepResult{}, permanent(ErrInvalidInput, "%v", err)
	}
	reason := strings.TrimSpace(in.Args["reason"])
	if err := f.Central.CloseWiki(ctx, db, reason, time.Now()); err != nil {
		return process.StepResult{}, f.centralErr(db, err)
	}
	if err := f.refreshWikiLists(ctx, db); err != nil {
		return process.StepResult{}, err
	}
	si, err := f.API.SiteInfo(ctx, db)
	switch {
	case errors.Is(err, mediawiki.ErrUnknownWiki):
		w, werr := f.Central.Wiki(ctx, db)
		if werr != nil {
			return process.StepResult{}, f.centralErr(db, werr)
		}
		if !w.Deleted {
			return process.StepResult{}, fmt.Errorf("%s is closed in cw_wikis but the farm does not serve it: %w", db, err)
		}
	case err != nil:
		return process.StepResult{}, err
	case !si.ReadOnly:
		return process.StepResult{}, fmt.Errorf("%s is closed in cw_wikis but its API does not report it read-only yet", db)
	}
	summary := fmt.Sprintf("closed %s (read-only)", db)
	if reason != "" {
		summary += ": " + reason
	}
	if err := f.logDeletion(ctx, in, LogManageWiki, "closed"); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: summary}, nil
}

// MarkWikiDeleted marks the wiki deleted in cw_wikis (the first time is
// kept on a rerun) and checks that the farm no longer serves it. Its data
// stays until the grace period ends; ReopenWiki undoes this.
func (f *Farm) MarkWikiDeleted(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db := in.Wiki.DB
	if err := farmdb.CheckDBName(db); err != nil {
		return process.StepResult{}, permanent(ErrInvalidInput, "%v", err)
	}
	if err := f.Central.MarkDeleted(ctx, db, time.Now()); err != nil {
		return process.StepResult{}, f.centralErr(db, err)
	}
	if err := f.refreshWikiLists(ctx, db); err != nil {
		return process.StepResult{}, err
	}
	if _, err := f.API.SiteInfo(ctx, db); err == nil {
		return process.StepResult{}, fmt.Errorf("%s is marked deleted in cw_wikis but the farm still serves it", db)
	} else if !errors.Is(err, mediawiki.ErrUnknownWiki) {
		return process.StepResult{}, err
	}
	if err := f.logDeletion(ctx, in, LogManageWiki, "delete"); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: fmt.Sprintf("marked %s deleted: the farm no longer serves it", db)}, nil
}

// ReopenWiki is the undelete: it reverses CloseWiki and MarkWikiDeleted
// (no closing or deletion time or reason left) and checks over the API
// that the wiki answers again and accepts edits.
func (f *Farm) ReopenWiki(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db := in.Wiki.DB
	if err := farmdb.CheckDBName(db); err != nil {
		return process.StepResult{}, permanent(ErrInvalidInput, "%v", err)
	}
	if err := f.Central.Reopen(ctx, db); err != nil {
		return process.StepResult{}, f.centralErr(db, err)
	}
	if err := f.refreshWikiLists(ctx, db); err != nil {
		return process.StepResult{}, err
	}
	si, err := f.API.SiteInfo(ctx, db)
	if err != nil {
		// Not classifyAPI: a wiki just reopened may take a moment to be served.
		return process.StepResult{}, fmt.Errorf("%s is reopened in cw_wikis but its API does not answer: %w", db, err)
	}
	if si.ReadOnly {
		return process.StepResult{}, fmt.Errorf("%s is reopened in cw_wikis but its API still reports it read-only: %s", db, si.ReadOnlyReason)
	}
	if err := f.logDeletion(ctx, in, LogManageWiki, "undelete"); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: fmt.Sprintf("reopened %s: served and writable again", db)}, nil
}

func (f *Farm) centralErr(db string, err error) error {
	if errors.Is(err, farmdb.ErrWikiNotFound) {
		return permanent(ErrWikiNotFound, "%s is not registered in cw_wikis", db)
	}
	return err
}

// ---------------------------------------------------------------------------
// Notifications and quorum

// NotifyBureaucrats tells the wiki's bureaucrats, by email to those with a
// confirmed address in the farm's shared user table, and farm staff, by one
// webhook message, that the wiki is scheduled for deletion or was deleted.
//
// Params: phase ("scheduled" or "deleted"), central_wiki (whose database
// holds the shared user table). Args: reason; delete_after (RFC 3339, for
// "scheduled"); bureaucrats (optional JSON list, see below). The
// bureaucrats come from the wiki's API; when the farm no longer serves the
// wiki (marked deleted), from its database; when that is gone too (the
// "deleted" phase), from Args["bureaucrats"] or else the "bureaucrats"
// output of an earlier step: this activity records the list it found, so the
// process passes the "scheduled" run's output on. Outputs: bureaucrats and
// emailed (JSON lists).
func (f *Farm) NotifyBureaucrats(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db := in.Wiki.DB
	if err := farmdb.CheckDBName(db); err != nil {
		return process.StepResult{}, permanent(ErrInvalidInput, "%v", err)
	}
	phase := in.Params["phase"]
	if phase != PhaseScheduled && phase != PhaseDeleted {
		return process.StepResult{}, permanent(ErrMisconfigured, "step %s: the param phase must be %q or %q, not %q", in.Step, PhaseScheduled, PhaseDeleted, phase)
	}
	central := in.Params["central_wiki"]
	if err := farmdb.CheckDBName(central); err != nil {
		return process.StepResult{}, permanent(ErrMisconfigured, "step %s: the param central_wiki: %v", in.Step, err)
	}
	reason := strings.TrimSpace(in.Args["reason"])
	var deleteAfter time.Time
	if phase == PhaseScheduled {
		t, err := time.Parse(time.RFC3339, in.Args["delete_after"])
		if err != nil {
			return process.StepResult{}, permanent(ErrInvalidInput, "the argument delete_after must be an RFC 3339 time: %v", err)
		}
		deleteAfter = t.UTC()
	}
	bureaucrats, source, err := f.bureaucrats(ctx, in, central)
	if err != nil {
		return process.StepResult{}, err
	}
	emails, err := f.confirmedEmails(ctx, central, bureaucrats)
	if err != nil {
		return process.StepResult{}, err
	}

	var emailed []string
	if f.Notifier.SMTPAddress != "" {
		for _, name := range bureaucrats {
			addr, ok := emails[name]
			if !ok {
				continue
			}
			subject, body := bureaucratEmail(phase, db, name, reason, deleteAfter)
			if err := f.Notifier.Email(ctx, addr, subject, body); err != nil {
				return process.StepResult{}, err
			}
			emailed = append(emailed, name)
		}
	}
	staff := false
	if f.Notifier.WebhookURL != "" {
		if err := f.Notifier.Webhook(ctx, staffMessage(phase, db, reason, deleteAfter, bureaucrats, emailed)); err != nil {
			return process.StepResult{}, err
		}
		staff = true
	}

	var told []string
	if len(emailed) > 0 {
		told = append(told, "emailed "+strings.Join(emailed, ", "))
	}
	if n := len(bureaucrats) - len(emailed); n > 0 {
		told = append(told, fmt.Sprintf("%d bureaucrat(s) without a confirmed address (or no mail server) not emailed", n))
	}
	if len(bureaucrats) == 0 {
		told = append(told, "no bureaucrats found ("+source+")")
	}
	if staff {
		told = append(told, "staff webhook sent")
	} else {
		told = append(told, "no staff webhook configured")
	}
	return process.StepResult{
		Summary: fmt.Sprintf("%s of %s: %s", phase, db, strings.Join(told, "; ")),
		Outputs: map[string]string{"bureaucrats": jsonList(bureaucrats), "emailed": jsonList(emailed)},
	}, nil
}

// bureaucrats lists the wiki's bureaucrats from the best source still there.
func (f *Farm) bureaucrats(ctx context.Context, in process.StepInput, central string) ([]string, string, error) {
	db := in.Wiki.DB
	names, err := f.API.GroupMembers(ctx, db, "bureaucrat")
	if err == nil {
		sort.Strings(names)
		return names, "the wiki's API", nil
	}
	if !errors.Is(err, mediawiki.ErrUnknownWiki) {
		return nil, "", err
	}
	// Not served (marked deleted): its database still knows.
	cluster, err := f.wikiCluster(ctx, db)
	if err != nil {
		return nil, "", err
	}
	if cluster != "" {
		names, err := f.groupMembersFromDB(ctx, cluster, db, central, "bureaucrat")
		if err != nil {
			return nil, "", err
		}
		return names, "the wiki's database", nil
	}
	// Dropped: the process passed them on, or an earlier step recorded them.
	if v := in.Args["bureaucrats"]; v != "" {
		var names []string
		if err := json.Unmarshal([]byte(v), &names); err != nil {
			return nil, "", permanent(ErrInvalidInput, "the argument bureaucrats must be a JSON list of user names: %v", err)
		}
		return names, "the process's arguments", nil
	}
	steps := make([]string, 0, len(in.Outputs))
	for s := range in.Outputs {
		steps = append(steps, s)
	}
	sort.Strings(steps)
	for _, s := range steps {
		if v, ok := in.Outputs[s]["bureaucrats"]; ok {
			var names []string
			if err := json.Unmarshal([]byte(v), &names); err == nil {
				return names, "recorded by step " + s, nil
			}
		}
	}
	return nil, "the wiki is gone and no earlier step recorded its bureaucrats", nil
}

// groupMembersFromDB reads a group's current members from the wiki's own
// user_groups, and their names from the farm's shared user table.
func (f *Farm) groupMembersFromDB(ctx context.Context, cluster, db, central, group string) ([]string, error) {
	quoted, err := farmdb.QuoteDB(db)
	if err != nil {
		return nil, permanent(ErrInvalidInput, "%v", err)
	}
	server, err := f.Clusters.Server(cluster)
	if err != nil {
		return nil, permanent(ErrMisconfigured, "%v", err)
	}
	rows, err := server.QueryContext(ctx,
		"SELECT ug_user FROM "+quoted+".user_groups WHERE ug_group = ? AND (ug_expiry IS NULL OR ug_expiry > ?)",
		group, farmdb.Timestamp(time.Now()))
	if err != nil {
		return nil, err
	}
	var ids []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return nil, err
	}
	userTable, centralServer, err := f.sharedUserTable(ctx, central)
	if err != nil {
		return nil, err
	}
	rows, err = centralServer.QueryContext(ctx,
		"SELECT user_name FROM "+userTable+" WHERE user_id IN ("+placeholders(len(ids))+") ORDER BY user_name", ids...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, rows.Err()
}

// confirmedEmails maps the users who have a confirmed email address in the
// farm's shared user table to it.
func (f *Farm) confirmedEmails(ctx context.Context, central string, names []string) (map[string]string, error) {
	out := map[string]string{}
	if len(names) == 0 {
		return out, nil
	}
	userTable, server, err := f.sharedUserTable(ctx, central)
	if err != nil {
		return nil, err
	}
	args := make([]any, len(names))
	for i, n := range names {
		args[i] = n
	}
	rows, err := server.QueryContext(ctx,
		"SELECT user_name, user_email FROM "+userTable+" WHERE user_name IN ("+placeholders(len(names))+
			") AND user_email <> '' AND user_email_authenticated IS NOT NULL", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, email string
		if err := rows.Scan(&name, &email); err != nil {
			return nil, err
		}
		out[name] = email
	}
	return out, rows.Err()
}

// sharedUserTable is the quoted `user` table of the central wiki's database
// and the server that holds it.
func (f *Farm) sharedUserTable(ctx context.Context, central string) (string, *sql.DB, error) {
	quoted, err := farmdb.QuoteDB(central)
	if err != nil {
		return "", nil, permanent(ErrMisconfigured, "central wiki: %v", err)
	}
	cluster, err := f.wikiCluster(ctx, central)
	if err != nil {
		return "", nil, err
	}
	if cluster == "" {
		return "", nil, permanent(ErrMisconfigured, "the central wiki's database %s is on no cluster", central)
	}
	server, err := f.Clusters.Server(cluster)
	if err != nil {
		return "", nil, permanent(ErrMisconfigured, "%v", err)
	}
	return quoted + ".`user`", server, nil
}

func bureaucratEmail(phase, db, name, reason string, deleteAfter time.Time) (string, string) {
	why := ""
	if reason != "" {
		why = "\nReason: " + reason + "\n"
	}
	if phase == PhaseScheduled {
		return fmt.Sprintf("Your wiki %s is scheduled for deletion", db),
			fmt.Sprintf("Hello %s,\n\nthe wiki %s, where you are a bureaucrat, has been closed and is scheduled for deletion.\n%s\n"+
				"It will be deleted after %s. Until then farm staff can still restore it; reply to this message or contact them if this is a mistake.\n",
				name, db, why, deleteAfter.Format("2006-01-02 15:04 MST"))
	}
	return fmt.Sprintf("Your wiki %s has been deleted", db),
		fmt.Sprintf("Hello %s,\n\nthe wiki %s, where you were a bureaucrat, has been deleted.\n%s\nFarm staff keep a backup of its database.\n",
			name, db, why)
}

func staffMessage(phase, db, reason string, deleteAfter time.Time, bureaucrats, emailed []string) string {
	var b strings.Builder
	if phase == PhaseScheduled {
		fmt.Fprintf(&b, "Wiki **%s** is closed and scheduled for deletion after %s.", db, deleteAfter.Format(time.RFC3339))
	} else {
		fmt.Fprintf(&b, "Wiki **%s** has been deleted (database backed up, verified and dropped).", db)
	}
	if reason != "" {
		fmt.Fprintf(&b, " Reason: %s.", reason)
	}
	if len(bureaucrats) == 0 {
		b.WriteString(" Bureaucrats: none.")
	} else {
		fmt.Fprintf(&b, " Bureaucrats: %s", strings.Join(bureaucrats, ", "))
		if len(emailed) > 0 {
			fmt.Fprintf(&b, " (emailed: %s)", strings.Join(emailed, ", "))
		} else {
			b.WriteString(" (none emailed)")
		}
		b.WriteString(".")
	}
	return b.String()
}

// RightHoldersInput asks who holds Right on Wiki, not counting Exclude.
type RightHoldersInput struct {
	Wiki    string   `json:"wiki"`
	Right   string   `json:"right"`
	Exclude []string `json:"exclude,omitempty"`
}

// RightHoldersResult lists them by name, sorted.
type RightHoldersResult struct {
	Users []string `json:"users"`
}

// CountRightHolders lists the local holders of a right on a wiki over its
// API, minus Exclude (the requester), for the deletion quorum ("2 holders of
// managewiki-core, fewer if the wiki has fewer").
func (f *Farm) CountRightHolders(ctx context.Context, in RightHoldersInput) (RightHoldersResult, error) {
	if err := farmdb.CheckDBName(in.Wiki); err != nil {
		return RightHoldersResult{}, permanent(ErrInvalidInput, "%v", err)
	}
	if in.Right == "" {
		return RightHoldersResult{}, permanent(ErrInvalidInput, "no right given")
	}
	holders, err := f.API.RightHolders(ctx, in.Wiki, in.Right)
	if err != nil {
		return RightHoldersResult{}, classifyAPI(err)
	}
	exclude := map[string]bool{}
	for _, e := range in.Exclude {
		exclude[normalUserName(e)] = true
	}
	users := []string{}
	for _, h := range holders {
		if !exclude[normalUserName(h)] {
			users = append(users, h)
		}
	}
	sort.Strings(users)
	return RightHoldersResult{Users: users}, nil
}

// normalUserName is MediaWiki's form of a user name: spaces, first letter capital.
func normalUserName(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "_", " "))
	if s == "" {
		return s
	}
	r := []rune(s)
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

// ---------------------------------------------------------------------------
// Backup, verification, drop

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

func (m backupManifest) outputs(path string) map[string]string {
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
func (f *Farm) BackupDatabase(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db := in.Wiki.DB
	if err := farmdb.CheckDBName(db); err != nil {
		return process.StepResult{}, permanent(ErrInvalidInput, "%v", err)
	}
	path, err := f.backupPath(db, in.ProcessID)
	if err != nil {
		return process.StepResult{}, err
	}
	cluster, err := f.wikiCluster(ctx, db)
	if err != nil {
		return process.StepResult{}, err
	}
	if cluster == "" {
		m, err := readManifest(path)
		if errors.Is(err, os.ErrNotExist) {
			return process.StepResult{}, permanent(ErrNoDatabase, "the database %s exists on no cluster and there is no backup of it at %s", db, path)
		}
		if err != nil {
			return process.StepResult{}, permanent(ErrBackupMissing, "the database %s is gone and its backup manifest is unreadable: %v", db, err)
		}
		if err := checkFile(path, m.SHA256); err != nil {
			return process.StepResult{}, err
		}
		return process.StepResult{
			Summary: fmt.Sprintf("the database %s is already dropped; its backup %s (%d tables, %d bytes) is intact", db, path, len(m.Counts), m.Bytes),
			Outputs: m.outputs(path),
		}, nil
	}
	conn, err := f.Clusters.ToolConnection(cluster)
	if err != nil {
		return process.StepResult{}, permanent(ErrMisconfigured, "%v", err)
	}
	server, err := f.Clusters.Server(cluster)
	if err != nil {
		return process.StepResult{}, permanent(ErrMisconfigured, "%v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return process.StepResult{}, permanent(ErrMisconfigured, "database.backup_dir: %v", err)
	}
	// A verified set another run left at this path (the same name deleted
	// before by a process of the same ID) moves aside whole.
	if err := moveSealedAside(ctx, strings.TrimSuffix(path, suffixDump)); err != nil {
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
		if !sameCounts(before, after) {
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
		syncDir(filepath.Dir(path))
		return process.StepResult{
			Summary: fmt.Sprintf("dumped %s (%d tables, %d rows, %d bytes) to %s", db, len(after), totalRows(after), size, path),
			Outputs: m.outputs(path),
		}, nil
	}
	return process.StepResult{}, fmt.Errorf("the database %s kept changing during %d dumps: is the wiki really closed?", db, attempts)
}

// dump runs the dump tool into a temporary file in dir (mode 0600: a dump
// holds password hashes and email addresses) and returns it with its
// sha256 and size, synced to disk.
func (f *Farm) dump(ctx context.Context, conn farmdb.ToolConnection, db, dir string) (string, string, int64, error) {
	tmp, err := os.CreateTemp(dir, "."+db+"-*.sql.tmp")
	if err != nil {
		return "", "", 0, permanent(ErrMisconfigured, "database.backup_dir: %v", err)
	}
	fail := func(err error) (string, string, int64, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", "", 0, err
	}
	h := sha256.New()
	counter := &countingWriter{}
	args := append(append([]string{}, dumpFlags...), db)
	if err := f.runTool(ctx, orDefault(f.Backup.DumpCommand, DefaultDumpCommand), conn, args, nil, io.MultiWriter(tmp, h, counter)); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if !counter.endsWith("-- Dump completed\n") {
		os.Remove(tmp.Name())
		return "", "", 0, fmt.Errorf("the dump of %s does not end with mariadb-dump's completion line: incomplete", db)
	}
	return tmp.Name(), hex.EncodeToString(h.Sum(nil)), counter.n, nil
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
func (f *Farm) VerifyBackup(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db := in.Wiki.DB
	scratch, err := farmdb.ScratchDBName(db)
	if err != nil {
		return process.StepResult{}, permanent(ErrInvalidInput, "%v", err)
	}
	step := orDefault(in.Params["backup_step"], DefaultBackupStep)
	rec := in.Outputs[step]
	path, sum := rec["path"], rec["sha256"]
	var want map[string]int64
	if path == "" || sum == "" || json.Unmarshal([]byte(rec["counts"]), &want) != nil || want == nil {
		return process.StepResult{}, permanent(ErrMisconfigured, "step %s needs the outputs path, sha256 and counts of the step %s", in.Step, step)
	}
	if err := checkFile(path, sum); err != nil {
		return process.StepResult{}, err
	}
	cluster := rec["cluster"]
	if _, err := f.Clusters.Server(cluster); err != nil {
		if cluster, err = f.wikiCluster(ctx, db); err != nil {
			return process.StepResult{}, err
		}
		if cluster == "" {
			names := f.Clusters.Names()
			if len(names) == 0 {
				return process.StepResult{}, permanent(ErrMisconfigured, "no database cluster configured")
			}
			cluster = names[0]
		}
	}
	server, err := f.Clusters.Server(cluster)
	if err != nil {
		return process.StepResult{}, permanent(ErrMisconfigured, "%v", err)
	}
	conn, err := f.Clusters.ToolConnection(cluster)
	if err != nil {
		return process.StepResult{}, permanent(ErrMisconfigured, "%v", err)
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
		return process.StepResult{}, permanent(ErrBackupMissing, "the backup %s: %v", path, err)
	}
	defer file.Close()
	err = f.runTool(ctx, orDefault(f.Backup.ClientCommand, DefaultClientCommand), conn,
		[]string{"--binary-mode", "--batch", scratch}, file, io.Discard)
	if err != nil {
		return process.StepResult{}, err
	}
	got, err := farmdb.TableRowCounts(ctx, server, scratch)
	if err != nil {
		return process.StepResult{}, err
	}
	if diff := countsDiff(want, got); diff != "" {
		return process.StepResult{}, permanent(ErrBackupMismatch, "the backup %s of %s does not restore what was dumped: %s", path, db, diff)
	}
	size, _ := strconv.ParseInt(rec["bytes"], 10, 64)
	whole := wholeBackup{DB: db, Process: in.ProcessID, Cluster: cluster,
		Database: &databasePart{File: filepath.Base(path), SHA256: sum, Bytes: size, Counts: want}}
	outputs := map[string]string{"verified": "true", "path": path, "sha256": sum}
	summary := fmt.Sprintf("restored %s into %s: %d tables, %d rows, as dumped", filepath.Base(path), scratch, len(got), totalRows(got))

	// The files and the rows, when the process backed them up (a process
	// started before they were has only the dump: that is verified alone).
	if files := in.Outputs[orDefault(in.Params["files_step"], DefaultFilesStep)]; files["manifest"] != "" {
		m, err := f.verifyFiles(ctx, db, files)
		if err != nil {
			return process.StepResult{}, err
		}
		whole.Files = &filesPart{Archive: m.Archive, ArchiveSHA256: m.ArchiveSHA256, ArchiveBytes: m.ArchiveBytes,
			Manifest: filepath.Base(files["manifest"]), ManifestSHA256: files["manifest_sha256"], Files: m.Files, Bytes: m.Bytes}
		outputs["files_verified"] = "true"
		outputs["files_manifest"] = files["manifest"]
		outputs["files_manifest_sha256"] = files["manifest_sha256"]
		summary += fmt.Sprintf("; extracted %s: %d files, %d bytes, every checksum as listed", m.Archive, m.Files, m.Bytes)
	}
	if rows := in.Outputs[orDefault(in.Params["rows_step"], DefaultRowsStep)]; rows["path"] != "" {
		b, err := f.verifyRows(ctx, db, rows)
		if err != nil {
			return process.StepResult{}, err
		}
		rsize, _ := strconv.ParseInt(rows["bytes"], 10, 64)
		whole.Rows = &rowsPart{File: filepath.Base(rows["path"]), SHA256: rows["sha256"], Bytes: rsize, Counts: b.Counts}
		outputs["rows_verified"] = "true"
		outputs["rows_path"] = rows["path"]
		outputs["rows_sha256"] = rows["sha256"]
		summary += fmt.Sprintf("; the rows (%s) restore into scratch tables as exported", countsText(b.Counts))
	}
	// backup.json names its parts relative to itself.
	for _, part := range []string{outputs["files_manifest"], outputs["rows_path"]} {
		if part != "" && filepath.Dir(part) != filepath.Dir(path) {
			return process.StepResult{}, permanent(ErrMisconfigured, "the parts of the backup of %s are not in one directory: %s", db, part)
		}
	}
	manifest, manifestSum, err := f.sealBackup(ctx, strings.TrimSuffix(path, suffixDump), whole)
	if err != nil {
		return process.StepResult{}, err
	}
	outputs["manifest"], outputs["manifest_sha256"] = manifest, manifestSum
	return process.StepResult{Summary: summary, Outputs: outputs}, nil
}

// DropWikiDatabase drops the wiki's database, and only after VerifyBackup
// succeeded and its backup file is still on disk with the verified sha256.
// Any claim on the name (wf_database_claims) goes with it.
func (f *Farm) DropWikiDatabase(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db := in.Wiki.DB
	quoted, err := farmdb.QuoteDB(db)
	if err != nil {
		return process.StepResult{}, permanent(ErrInvalidInput, "%v", err)
	}
	step := orDefault(in.Params["verify_step"], DefaultVerifyStep)
	rec := in.Outputs[step]
	if rec["verified"] != "true" || rec["path"] == "" || rec["sha256"] == "" {
		return process.StepResult{}, permanent(ErrNoVerifiedBackup, "refusing to drop %s: no verified backup (the step %s has not succeeded)", db, step)
	}
	if typ, err := fileProblem(rec["path"], rec["sha256"]); typ != "" {
		return process.StepResult{}, permanent(ErrNoVerifiedBackup, "refusing to drop %s: %v", db, err)
	} else if err != nil {
		return process.StepResult{}, err
	}
	cluster, err := f.wikiCluster(ctx, db)
	if err != nil {
		return process.StepResult{}, err
	}
	summary := fmt.Sprintf("%s was already gone", db)
	if cluster != "" {
		server, err := f.Clusters.Server(cluster)
		if err != nil {
			return process.StepResult{}, permanent(ErrMisconfigured, "%v", err)
		}
		if _, err := server.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoted); err != nil {
			return process.StepResult{}, err
		}
		summary = fmt.Sprintf("dropped %s on cluster %s", db, cluster)
	}
	released, err := f.Central.ReleaseClaims(ctx, db)
	if err != nil {
		return process.StepResult{}, err
	}
	if released {
		summary += " and released its claim"
	}
	if err := f.logDeletion(ctx, in, LogFarmer, "dropwiki"); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: summary + "; backup " + rec["path"]}, nil
}

// RemoveWikiRows deletes the wiki's rows from cw_wikis and ManageWiki's
// tables (settings, permissions, namespaces), in one transaction. When its
// params name the verification step (verify_step), it removes them only if
// that step verified an export of them and they are still the exported
// rows; a process started before rows were exported names none.
func (f *Farm) RemoveWikiRows(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db := in.Wiki.DB
	if err := farmdb.CheckDBName(db); err != nil {
		return process.StepResult{}, permanent(ErrInvalidInput, "%v", err)
	}
	if step := in.Params["verify_step"]; step != "" {
		if err := f.removeVerifiedRows(ctx, in, step); err != nil {
			return process.StepResult{}, err
		}
	}
	before, err := f.Central.RowCounts(ctx, db)
	if err != nil {
		return process.StepResult{}, err
	}
	if err := f.Central.UnregisterWiki(ctx, db); err != nil {
		return process.StepResult{}, err
	}
	if err := f.refreshWikiLists(ctx, db); err != nil {
		return process.StepResult{}, err
	}
	tables := make([]string, 0, len(before))
	n := 0
	for t, c := range before {
		if c > 0 {
			tables = append(tables, fmt.Sprintf("%s %d", t, c))
			n += c
		}
	}
	if n == 0 {
		return process.StepResult{Summary: fmt.Sprintf("%s had no rows left in the central tables", db)}, nil
	}
	sort.Strings(tables)
	return process.StepResult{Summary: fmt.Sprintf("removed %d rows of %s (%s)", n, db, strings.Join(tables, ", "))}, nil
}

// ---------------------------------------------------------------------------
// Helpers

// wikiCluster is the cluster holding the wiki's database: cw_wikis says,
// and for a wiki not (or no longer) registered the clusters are asked. ""
// means no cluster has the database.
func (f *Farm) wikiCluster(ctx context.Context, db string) (string, error) {
	w, err := f.Central.Wiki(ctx, db)
	if err != nil && !errors.Is(err, farmdb.ErrWikiNotFound) {
		return "", err
	}
	if err == nil && w.Cluster != "" {
		if _, serr := f.Clusters.Server(w.Cluster); serr != nil {
			return "", permanent(ErrMisconfigured, "%s is on cluster %s, which is not configured (database.clusters)", db, w.Cluster)
		}
		ok, err := f.Clusters.DatabaseExists(ctx, w.Cluster, db)
		if err != nil || ok {
			return w.Cluster, err
		}
	}
	return f.Clusters.FindDatabase(ctx, db)
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// backupPath is <backup dir>/<db>/<db>-<process id, made a safe file name>.sql.
func (f *Farm) backupPath(db, processID string) (string, error) {
	if f.Backup.Dir == "" {
		return "", permanent(ErrMisconfigured, "database.backup_dir is not set")
	}
	id := strings.Trim(unsafeFileChars.ReplaceAllString(processID, "_"), "._-")
	if id == "" {
		return "", permanent(ErrInvalidInput, "no process id to name the backup after")
	}
	if len(id) > 120 {
		sum := sha256.Sum256([]byte(processID))
		id = id[:100] + "-" + hex.EncodeToString(sum[:6])
	}
	return filepath.Join(f.Backup.Dir, db, db+"-"+id+".sql"), nil
}

func manifestPath(path string) string { return path + ".json" }

// keepOtherBackup moves aside a backup already at path whose content is not
// the new dump's (a wiki of the same name deleted again by a process of the
// same ID, or one that changed between two runs), to
// <name>-<first 12 hex of its sha256>.sql with its manifest: a rerun never
// destroys a backup. An identical file is simply replaced.
func keepOtherBackup(path, newSum string) error {
	old, _, err := FileSHA256(path)
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
	return writeFileAtomic(manifestPath(path), ".manifest-*.tmp", append(b, '\n'))
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// FileSHA256 returns the hex sha256 and size of a file.
func FileSHA256(path string) (string, int64, error) {
	file, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer file.Close()
	h := sha256.New()
	n, err := io.Copy(h, file)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// checkFile fails permanently when the file is missing or not the one whose
// sha256 was recorded.
func checkFile(path, want string) error {
	typ, err := fileProblem(path, want)
	if typ != "" {
		return permanent(typ, "%v", err)
	}
	return err
}

// fileProblem tells what is wrong with a backup file: its error type
// (ErrBackupMissing, ErrChecksumMismatch) and a description; an error with
// no type is a failure to read it, worth retrying.
func fileProblem(path, want string) (string, error) {
	got, _, err := FileSHA256(path)
	if errors.Is(err, os.ErrNotExist) {
		return ErrBackupMissing, fmt.Errorf("the backup file %s is missing", path)
	}
	if err != nil {
		return "", err
	}
	if got != want {
		return ErrChecksumMismatch, fmt.Errorf("the backup file %s has sha256 %s, not the recorded %s: it changed after the dump", path, got, want)
	}
	return "", nil
}

// runTool runs one of MariaDB's command-line tools against a cluster:
// --no-defaults (no option file changes what is connected to), the
// connection arguments, then args. The password travels in MYSQL_PWD, never
// in argv. The activity heartbeats while the tool runs.
func (f *Farm) runTool(ctx context.Context, command string, conn farmdb.ToolConnection, args []string, stdin io.Reader, stdout io.Writer) error {
	argv := append([]string{"--no-defaults"}, conn.Args...)
	argv = append(argv, args...)
	cmd := exec.CommandContext(ctx, command, argv...)
	env := make([]string, 0, len(os.Environ())+1)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "MYSQL_PWD=") {
			env = append(env, e)
		}
	}
	cmd.Env = append(env, conn.Env())
	cmd.Stdin = stdin
	cmd.Stdout = stdout
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 64 << 10}
	cmd.WaitDelay = 10 * time.Second

	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(10 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()

	err := cmd.Run()
	if err == nil {
		return nil
	}
	name := filepath.Base(command)
	out := strings.TrimSpace(stderr.String())
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
		return permanent(ErrMisconfigured, "cannot run %s (database.dump_command / database.client_command): %v", command, err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if strings.Contains(out, "Unknown database") {
		return permanent(ErrNoDatabase, "%s: %s", name, truncateText(out, 500))
	}
	for _, marker := range []string{"Access denied", "unknown option", "unknown variable"} {
		if strings.Contains(out, marker) {
			return permanent(ErrMisconfigured, "%s failed: %s", name, truncateText(out, 500))
		}
	}
	if strings.Contains(out, "ERROR 1064") {
		return permanent(ErrBackupMismatch, "%s could not read the backup: %s", name, truncateText(out, 500))
	}
	return fmt.Errorf("%s failed (%v): %s", name, err, truncateText(out, 500))
}

type countingWriter struct {
	n    int64
	tail []byte
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	c.tail = append(c.tail, p...)
	if len(c.tail) > 64 {
		c.tail = append([]byte(nil), c.tail[len(c.tail)-64:]...)
	}
	return len(p), nil
}

func (c *countingWriter) endsWith(s string) bool { return bytes.HasSuffix(c.tail, []byte(s)) }

type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		q := p
		if len(q) > l.n {
			q = q[:l.n]
		}
		l.n -= len(q)
		_, _ = l.w.Write(q)
	}
	return len(p), nil
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func sameCounts(a, b map[string]int64) bool { return countsDiff(a, b) == "" }

// countsDiff describes the first difference between recorded and restored
// counts, in table order; "" when they are the same.
func countsDiff(want, got map[string]int64) string {
	tables := map[string]bool{}
	for t := range want {
		tables[t] = true
	}
	for t := range got {
		tables[t] = true
	}
	names := make([]string, 0, len(tables))
	for t := range tables {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		w, inWant := want[t]
		g, inGot := got[t]
		switch {
		case !inGot:
			return fmt.Sprintf("table %s is missing", t)
		case !inWant:
			return fmt.Sprintf("table %s was not in the database", t)
		case w != g:
			return fmt.Sprintf("table %s has %d rows, not %d", t, g, w)
		}
	}
	return ""
}

func totalRows(counts map[string]int64) int64 {
	var n int64
	for _, c := range counts {
		n += c
	}
	return n
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func jsonList(s []string) string {
	if s == nil {
		s = []string{}
	}
	b, _ := json.Marshal(s)
	return string(b)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
