//go:build integration

package integration

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/restorewiki"
)

// filledWiki is a wiki with uploads enabled as the farm does it (the
// wgEnableUploads setting in mw_settings), a changed setting, some pages
// and a few files imported with MediaWiki's own importImages.php, one of
// them a few MB.
type filledWiki struct {
	db, owner string
	pages     map[string]string // title -> text
	files     map[string]string // file name -> sha256 of the upload
}

func newFilledWiki(t *testing.T, prefix string) filledWiki {
	t.Helper()
	ctx := testContext(t, 3*time.Minute)
	db, owner := liveWiki(t, prefix)
	w := filledWiki{db: db, owner: owner, pages: map[string]string{}, files: map[string]string{}}
	for name, value := range map[string]string{"wgEnableUploads": "true", "wgMaxArticleSize": "1234"} {
		if _, _, err := deps.Central.ApplySetting(ctx, db, name, json.RawMessage(value)); err != nil {
			t.Fatal(err)
		}
	}
	for i, title := range []string{"Restored page", "Another restored page"} {
		text := fmt.Sprintf("Text %d of %s, [[File:Small %s.png]].", i, db, db)
		if _, err := deps.Scripts.RunWithInput(ctx, db, text, "edit", title); err != nil {
			t.Fatal(err)
		}
		w.pages[title] = text
	}
	w.files = importPNGs(t, db, map[string]int{"Small " + db + ".png": 16, "Medium " + db + ".png": 200, "Large " + db + ".png": 1100})
	if got := w.uploadedFiles(t); !reflect.DeepEqual(got, w.files) {
		t.Fatalf("uploaded files %v, want %v", got, w.files)
	}
	return w
}

// importPNGs makes PNG files of the given sizes (noise, so the largest
// stays a few MB), imports them into db with importImages.php and returns
// each file's name (as MediaWiki stores it) and sha256.
func importPNGs(t *testing.T, db string, sizes map[string]int) map[string]string {
	t.Helper()
	ctx := testContext(t, 2*time.Minute)
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	files := map[string]string{}
	for name, size := range sizes {
		img := image.NewNRGBA(image.Rect(0, 0, size, size))
		for i := range img.Pix {
			img.Pix[i] = byte(rng.Intn(256))
		}
		img.Set(0, 0, color.NRGBA{A: 255})
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(buf.Bytes())
		files[strings.ReplaceAll(name, " ", "_")] = hex.EncodeToString(sum[:])
	}
	if out, err := deps.Scripts.Run(ctx, db, "importImages", "--extensions=png", dir); err != nil {
		t.Fatalf("importImages: %v\n%s", err, out)
	}
	if _, err := deps.Scripts.Run(ctx, db, "runJobs"); err != nil {
		t.Fatal(err)
	}
	return files
}

// uploadedFiles maps each original file in the wiki's upload directory
// (not thumbnails) to its sha256.
func (w filledWiki) uploadedFiles(t *testing.T) map[string]string {
	t.Helper()
	root := filepath.Join(config.Abs(deps.Config.MediaWiki.UploadRoot), w.db)
	out := map[string]string{}
	_ = filepath.WalkDir(root, func(name string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, name)
		if d.IsDir() && (rel == "thumb" || rel == "archive" || rel == "deleted" || rel == "temp" || rel == "lockdir") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() && strings.HasSuffix(name, ".png") {
			sum, _, err := activities.FileSHA256(name)
			if err != nil {
				t.Fatal(err)
			}
			out[filepath.Base(name)] = sum
		}
		return nil
	})
	return out
}

// answersAsBefore checks over the wiki's API that the pages, the files
// (imageinfo, and the bytes MediaWiki serves) and the settings are back.
func (w filledWiki) answersAsBefore(t *testing.T) {
	t.Helper()
	ctx := testContext(t, time.Minute)
	si, err := deps.API.SiteInfo(ctx, w.db)
	if err != nil || si.ReadOnly || si.MaxArticleSize != 1234*1024 {
		t.Fatalf("siteinfo of the restored wiki: %+v %v; want writable with maxarticlesize 1234 KiB", si, err)
	}
	if si.Raw["uploadsenabled"] != true {
		t.Fatalf("siteinfo uploadsenabled %v, want uploads enabled", si.Raw["uploadsenabled"])
	}
	titles := make([]string, 0, len(w.pages))
	for title := range w.pages {
		titles = append(titles, title)
	}
	var pages struct {
		Query struct {
			Pages []struct {
				Title     string `json:"title"`
				Missing   bool   `json:"missing"`
				Revisions []struct {
					Slots struct {
						Main struct {
							Content string `json:"content"`
						} `json:"main"`
					} `json:"slots"`
				} `json:"revisions"`
			} `json:"pages"`
		} `json:"query"`
	}
	if err := deps.API.Get(ctx, w.db, url.Values{"action": {"query"}, "prop": {"revisions"}, "rvprop": {"content"}, "rvslots": {"main"},
		"titles": {strings.Join(titles, "|")}, "formatversion": {"2"}}, &pages); err != nil {
		t.Fatal(err)
	}
	if len(pages.Query.Pages) != len(w.pages) {
		t.Fatalf("pages answered: %+v", pages.Query.Pages)
	}
	for _, p := range pages.Query.Pages {
		if p.Missing || len(p.Revisions) != 1 || p.Revisions[0].Slots.Main.Content != w.pages[p.Title] {
			t.Fatalf("page %q after the restore: %+v, want %q", p.Title, p, w.pages[p.Title])
		}
	}
	if got := w.uploadedFiles(t); !reflect.DeepEqual(got, w.files) {
		t.Fatalf("files after the restore %v, want %v", got, w.files)
	}
	for name, sum := range w.files {
		var info struct {
			Query struct {
				Pages []struct {
					Missing   bool `json:"missing"`
					ImageInfo []struct {
						Size int    `json:"size"`
						SHA1 string `json:"sha1"`
						URL  string `json:"url"`
					} `json:"imageinfo"`
				} `json:"pages"`
			} `json:"query"`
		}
		if err := deps.API.Get(ctx, w.db, url.Values{"action": {"query"}, "prop": {"imageinfo"}, "iiprop": {"size|sha1|url"},
			"titles": {"File:" + name}, "formatversion": {"2"}}, &info); err != nil {
			t.Fatal(err)
		}
		if len(info.Query.Pages) != 1 || info.Query.Pages[0].Missing || len(info.Query.Pages[0].ImageInfo) != 1 {
			t.Fatalf("imageinfo of %s: %+v", name, info)
		}
		ii := info.Query.Pages[0].ImageInfo[0]
		body := fetchFile(t, w.db, ii.URL)
		h1, h256 := sha1.Sum(body), sha256.Sum256(body)
		if hex.EncodeToString(h256[:]) != sum || hex.EncodeToString(h1[:]) != ii.SHA1 || len(body) != ii.Size {
			t.Fatalf("%s as MediaWiki serves it: %d bytes, sha1 %x (imageinfo %d, %s), sha256 %x, want %s", name, len(body), h1, ii.Size, ii.SHA1, h256, sum)
		}
	}
}

// farmGet sends a GET of raw (a URL, or a path on db's address) to the
// farm, with the wiki's Host header.
func farmGet(t *testing.T, db, raw string) *http.Response {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !u.IsAbs() {
		u, _ = url.Parse(strings.ReplaceAll(deps.Config.MediaWiki.URLPattern, "{wiki}", db) + raw)
	}
	host := u.Host
	u.Host = farmAddr()
	req, _ := http.NewRequestWithContext(testContext(t, time.Minute), http.MethodGet, u.String(), nil)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// fetchFile gets a file's URL from the farm, with the wiki's Host header.
func fetchFile(t *testing.T, db, raw string) []byte {
	t.Helper()
	resp := farmGet(t, db, raw)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s (Host %s): %d %v", resp.Request.URL, resp.Request.Host, resp.StatusCode, err)
	}
	return body
}

// backupOf reads a deletion's whole backup from its result: the manifest
// and the file manifest, and checks every recorded checksum.
func backupOf(t *testing.T, st process.Status) (manifest map[string]any, files []map[string]any) {
	t.Helper()
	for _, k := range []struct{ path, sum string }{
		{"backup_path", "backup_sha256"}, {"files_archive", "files_archive_sha256"}, {"files_manifest", "files_manifest_sha256"},
		{"rows_path", "rows_sha256"}, {"backup_manifest", "backup_manifest_sha256"},
	} {
		sum, _, err := activities.FileSHA256(st.Result[k.path])
		if err != nil || sum != st.Result[k.sum] {
			t.Fatalf("result %s %q: sha256 %s (%v), recorded %s", k.path, st.Result[k.path], sum, err, st.Result[k.sum])
		}
	}
	b, err := os.ReadFile(st.Result["backup_manifest"])
	if err != nil || json.Unmarshal(b, &manifest) != nil {
		t.Fatalf("backup manifest: %v", err)
	}
	var fm struct {
		Entries []map[string]any `json:"entries"`
	}
	b, _ = os.ReadFile(st.Result["files_manifest"])
	if err := json.Unmarshal(b, &fm); err != nil {
		t.Fatal(err)
	}
	return manifest, fm.Entries
}

// A wiki with files, pages and settings is deleted; its backup holds the
// dump, every file with its checksum and the rows. A restore of a backup
// whose archive is corrupted, and a non-steward's or the requester's own
// approval, are refused and change nothing; a steward's approval brings
// the wiki back as it was.
func TestRestoreWikiBringsBackEverything(t *testing.T) {
	start := time.Now()
	ctx := testContext(t, 6*time.Minute)
	c := shortGrace(2 * time.Second)
	w := newFilledWiki(t, "rst")
	steward := newUser(t, "Steward", "steward")
	plain := newUser(t, "Plain")
	t.Logf("wiki with %d files ready after %v", len(w.files), time.Since(start).Round(time.Millisecond))

	id := approvedDeletion(t, c, w.db, w.owner, steward)
	st := waitFor(t, c, id, 3*time.Minute, process.StateCompleted)
	assertDeleted(t, w.db, st)
	t.Logf("deleted after %v", time.Since(start).Round(time.Millisecond))
	uploads := filepath.Join(config.Abs(deps.Config.MediaWiki.UploadRoot), w.db)
	if _, err := os.Stat(uploads); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the upload directory is still there: %v", err)
	}
	deleted := st
	manifest, entries := backupOf(t, st)
	for _, part := range []string{"database", "files", "rows"} {
		if manifest[part] == nil {
			t.Fatalf("the backup manifest has no %s: %v", part, manifest)
		}
	}
	archived := map[string]string{}
	for _, e := range entries {
		if e["type"] == "file" && strings.HasSuffix(e["path"].(string), ".png") && !strings.HasPrefix(e["path"].(string), "thumb/") {
			archived[filepath.Base(e["path"].(string))] = e["sha256"].(string)
		}
	}
	if !reflect.DeepEqual(archived, w.files) || st.Result["files_count"] == "0" {
		t.Fatalf("the file manifest lists %v, want %v", archived, w.files)
	}
	rows, err := os.ReadFile(st.Result["rows_path"])
	if err != nil || !strings.Contains(string(rows), `"cw_wikis"`) || !strings.Contains(string(rows), "wgMaxArticleSize") {
		t.Fatalf("the rows backup lacks the registration or the setting: %v", err)
	}

	// A corrupted archive: the restore is refused and changes nothing.
	archive := st.Result["files_archive"]
	restoreArchive := corruptFile(t, archive, 0xff)
	_, err = c.RestoreWiki(ctx, w.db, w.owner, "deleted by mistake")
	var refusedErr *client.RefusedError
	if !errors.As(err, &refusedErr) || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("restore of a corrupted archive: want a refusal naming the checksum, got %v", err)
	}
	wantNothingOf(t, w.db)
	restoreArchive()

	// A plain user's and the requester's own approvals change nothing; a steward's restores.
	st, err = c.RestoreWiki(ctx, w.db, w.owner, "deleted by mistake")
	if err != nil {
		t.Fatal(err)
	}
	rid := st.ID
	if rid != restorewiki.RestoreWikiID(w.db) || st.Result["backup_manifest"] != deleted.Result["backup_manifest"] {
		t.Fatalf("restore %s from %q, want the deletion's backup", rid, st.Result["backup_manifest"])
	}
	waitFor(t, c, rid, time.Minute, process.StateWaitingApproval)
	wantRefused(t, c, rid, process.DecisionApprove, plain, "managewiki-restricted")
	wantNothingOf(t, w.db)
	if _, err := c.Decide(ctx, rid, process.DecisionApprove, steward, "restore it"); err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, c, rid, 3*time.Minute, process.StateCompleted)
	t.Logf("restored after %v: %v", time.Since(start).Round(time.Millisecond), st.Result)
	if wiki, err := deps.Central.Wiki(ctx, w.db); err != nil || wiki.Closed || wiki.Deleted || wiki.ClosedAt != "" || wiki.DeletedAt != "" {
		t.Fatalf("cw_wikis after the restore: %+v %v", wiki, err)
	}
	w.answersAsBefore(t)
	replayHistory(t, rid)

	// Restored, it can be deleted again: a new backup set, the first one kept aside whole.
	first := st.Result["backup_manifest"]
	id2 := approvedDeletion(t, c, w.db, w.owner, steward)
	st2 := waitFor(t, c, id2, 3*time.Minute, process.StateCompleted)
	if st2.Result["backup_manifest"] != first {
		t.Fatalf("second backup at %s, want the process's path %s", st2.Result["backup_manifest"], first)
	}
	backupOf(t, st2)
	aside, _ := filepath.Glob(filepath.Join(filepath.Dir(first), "*", filepath.Base(first)))
	if len(aside) != 1 {
		t.Fatalf("the first backup set was not kept aside: %v", aside)
	}
	sum, _, err := activities.FileSHA256(aside[0])
	if err != nil || sum != deleted.Result["backup_manifest_sha256"] {
		t.Fatalf("the first backup's manifest changed when it was kept aside: %v", err)
	}
}

// wantNothingOf checks that nothing of a wiki exists: no registration, no
// central rows, no database, no upload directory.
func wantNothingOf(t *testing.T, db string) {
	t.Helper()
	ctx := testContext(t, time.Minute)
	rows, err := deps.Central.RowCounts(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for table, n := range rows {
		if n != 0 {
			t.Fatalf("%s has %d rows of %s", table, n, db)
		}
	}
	if databaseExists(ctx, db) {
		t.Fatalf("a database %s exists", db)
	}
	if _, ok, _ := deps.Central.GetClaim(ctx, db); ok {
		t.Fatalf("a claim on %s exists", db)
	}
	if _, err := os.Stat(filepath.Join(config.Abs(deps.Config.MediaWiki.UploadRoot), db)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an upload directory of %s exists: %v", db, err)
	}
}

// A name that is taken and a wiki that was never backed up: refused, and
// nothing changes.
func TestRestoreRefusesTakenNamesAndMissingBackups(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	db, owner := liveWiki(t, "taken")
	before, _ := deps.Central.Wiki(ctx, db)
	_, err := cli.RestoreWiki(ctx, db, owner, "again")
	var refusedErr *client.RefusedError
	if !errors.As(err, &refusedErr) || !strings.Contains(err.Error(), "taken") {
		t.Fatalf("restore of a live wiki: want a refusal saying the name is taken, got %v", err)
	}
	if after, _ := deps.Central.Wiki(ctx, db); !reflect.DeepEqual(before, after) {
		t.Fatalf("a refused restore changed cw_wikis: %+v -> %+v", before, after)
	}
	st, err := cli.Status(ctx, restorewiki.RestoreWikiID(db))
	if err != nil || st.State != process.StateRefused {
		t.Fatalf("the refused restore: %s %v", st.State, err)
	}

	never := uniqueDB("never")
	_, err = cli.RestoreWiki(ctx, never, owner, "it never existed")
	if !errors.As(err, &refusedErr) || !strings.Contains(err.Error(), "no verified backup") {
		t.Fatalf("restore of a wiki without a backup: want a refusal, got %v", err)
	}
	wantNothingOf(t, never)
}

// A worker killed (SIGKILL) between the file archive and the removal: the
// wiki is deleted once, and its backup restores.
func TestRestoreAfterWorkerKilledBetweenArchiveAndRemoval(t *testing.T) {
	bin, queue, c := killableWorker(t, "wikiflow-archive-", time.Second)
	steward := newUser(t, "Steward", "steward")
	backups := config.Abs(deps.Config.Database.BackupDir)
	for attempt := 1; attempt <= 3; attempt++ {
		w := newFilledWiki(t, "karc")
		worker := startWorkerProcess(t, bin, queue)
		ctx := testContext(t, 5*time.Minute)
		uploads := filepath.Join(config.Abs(deps.Config.MediaWiki.UploadRoot), w.db)
		id := approvedDeletion(t, c, w.db, w.owner, steward)
		killedBeforeRemoval := false
		if killWhenFileAppears(worker, filepath.Join(backups, w.db, "*.files.tar.gz")) {
			_, err := os.Stat(uploads)
			killedBeforeRemoval = err == nil
		}
		startWorkerProcess(t, bin, queue)
		st := waitFor(t, c, id, 3*time.Minute, process.StateCompleted)
		assertDeleted(t, w.db, st)
		backupOf(t, st)
		if !killedBeforeRemoval {
			t.Logf("attempt %d: the kill came after the removal; trying again", attempt)
			continue
		}
		for _, step := range []string{deletewiki.StepDropDatabase, deletewiki.StepRemoveStorage, deletewiki.StepRemoveRows} {
			if s := st.Step(step); s == nil || s.State != process.StepSucceeded || s.Attempts != 1 {
				t.Fatalf("step %s: %+v, want one successful run", step, s)
			}
		}
		rs, err := c.RestoreWiki(ctx, w.db, w.owner, "after the crash")
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, c, rs.ID, time.Minute, process.StateWaitingApproval)
		if _, err := c.Decide(ctx, rs.ID, process.DecisionApprove, steward, ""); err != nil {
			t.Fatal(err)
		}
		waitFor(t, c, rs.ID, 3*time.Minute, process.StateCompleted)
		w.answersAsBefore(t)
		return
	}
	t.Fatal("could not kill the worker between the archive and the removal in 3 attempts")
}

// Every restore activity, run twice in a row against the real farm after
// a real deletion, leaves the same state as running it once.
func TestRestoreActivitiesAreIdempotent(t *testing.T) {
	ctx := testContext(t, 5*time.Minute)
	farm := deletionFarm(t)
	env := activityEnv(farm)
	c := shortGrace(time.Second)
	w := newFilledWiki(t, "rsta")
	steward := newUser(t, "Steward", "steward")
	st := waitFor(t, c, approvedDeletion(t, c, w.db, w.owner, steward), 3*time.Minute, process.StateCompleted)
	assertDeleted(t, w.db, st)

	val, err := env.ExecuteActivity(restorewiki.NameCheckRestore, restorewiki.CheckRestoreInput{DB: w.db})
	if err != nil {
		t.Fatal(err)
	}
	var check restorewiki.CheckRestoreResult
	if err := val.Get(&check); err != nil || check.Manifest != st.Result["backup_manifest"] || check.Files == 0 {
		t.Fatalf("CheckRestore: %+v %v, want the deletion's backup", check, err)
	}
	in := process.StepInput{
		ProcessID: restorewiki.RestoreWikiID(w.db), Kind: restorewiki.KindRestoreWiki, Wiki: process.WikiSpec{DB: w.db}, Requester: w.owner,
		Args:    map[string]string{"backup": check.Manifest, "backup_sha256": check.ManifestSHA256},
		Outputs: map[string]map[string]string{},
	}
	state := func() string {
		var b strings.Builder
		fmt.Fprintln(&b, deletionState(t, farm, w.db))
		claim, ok, _ := deps.Central.GetClaim(ctx, w.db)
		fmt.Fprintf(&b, "claim %v %s\n", ok, claim.Process)
		files := w.uploadedFiles(t)
		for _, k := range sortedKeys(files) {
			fmt.Fprintf(&b, "file %s %s\n", k, files[k])
		}
		rows, _ := deps.Central.ReadWikiRows(ctx, w.db)
		j, _ := json.Marshal(rows)
		fmt.Fprintf(&b, "rows %s\n", j)
		aside, _ := filepath.Glob(filepath.Join(config.Abs(deps.Config.MediaWiki.UploadRoot), "."+w.db+"*"))
		fmt.Fprintf(&b, "aside %v\n", aside)
		return b.String()
	}
	for _, s := range []struct{ step, activity string }{
		{restorewiki.StepRestoreDatabase, restorewiki.NameRestoreDatabase},
		{restorewiki.StepRestoreFiles, restorewiki.NameRestoreUploads},
		{restorewiki.StepRestoreRows, restorewiki.NameRestoreWikiRows},
		{restorewiki.StepReopen, deletewiki.NameReopenWiki},
	} {
		var states [2]string
		var outs [2]map[string]string
		for run := 0; run < 2; run++ {
			in.Step = s.step
			res, err := runActivity[process.StepResult](t, env, s.activity, in)
			if err != nil {
				t.Fatalf("%s run %d: %v", s.activity, run+1, err)
			}
			outs[run], states[run] = res.Outputs, state()
			t.Logf("%s run %d: %s", s.activity, run+1, res.Summary)
		}
		if states[0] != states[1] || !reflect.DeepEqual(outs[0], outs[1]) {
			t.Errorf("%s is not idempotent:\n%s\n%v\nthen:\n%s\n%v", s.activity, states[0], outs[0], states[1], outs[1])
		}
		in.Outputs[s.step] = outs[1]
	}
	w.answersAsBefore(t)
	// The name is taken now: a restore is refused.
	_, err = env.ExecuteActivity(restorewiki.NameCheckRestore, restorewiki.CheckRestoreInput{DB: w.db})
	wantPermanent(t, err, activities.ErrTypeWikiExists, w.db)
	if _, ok, _ := deps.Central.GetClaim(ctx, w.db); !ok {
		t.Fatal("the restored wiki lost its claim")
	}
}
