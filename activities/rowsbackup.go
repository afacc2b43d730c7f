package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
)

// RowsBackup is <base>.rows.json.
type RowsBackup struct {
	DB      string          `json:"db"`
	Process string          `json:"process"`
	Counts  map[string]int  `json:"counts"`
	Tables  farmdb.WikiRows `json:"tables"`
}

func CountsText(c map[string]int) string {
	parts := make([]string, 0, len(c))
	for _, t := range farmdb.WikiTables {
		parts = append(parts, fmt.Sprintf("%s %d", t.Name, c[t.Name]))
	}
	return strings.Join(parts, ", ")
}

func ReadRows(name string) (RowsBackup, error) {
	var b RowsBackup
	data, err := os.ReadFile(name)
	if err != nil {
		return b, err
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return b, err
	}
	if b.Tables == nil {
		return b, fmt.Errorf("%s holds no tables", name)
	}
	return b, nil
}

func Total(c map[string]int) int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// VerifyRows proves the rows restore: the file is the recorded one, its
// rows go into scratch copies of the central tables and come back equal,
// and the wiki's live rows, while they are there, are still the same.
func (f *Farm) VerifyRows(ctx context.Context, db string, rec map[string]string) (RowsBackup, error) {
	name := rec["path"]
	if err := CheckFile(name, rec["sha256"]); err != nil {
		return RowsBackup{}, err
	}
	b, err := ReadRows(name)
	if err != nil {
		return b, Permanent(ErrTypeBackupMismatch, "the rows %s: %v", name, err)
	}
	if b.DB != db || !b.Tables.Registered() {
		return b, Permanent(ErrTypeBackupMismatch, "the rows %s are not a registration of %s", name, db)
	}
	back, err := f.Central.CheckWikiRows(ctx, db, b.Tables)
	if err != nil {
		return b, Permanent(ErrTypeBackupMismatch, "the rows %s do not restore: %v", name, err)
	}
	if diff := b.Tables.Diff(back); diff != "" {
		return b, Permanent(ErrTypeBackupMismatch, "the rows %s do not restore as exported: %s", name, diff)
	}
	live, err := f.Central.ReadWikiRows(ctx, db)
	if err != nil {
		return b, err
	}
	if live.Registered() {
		if diff := b.Tables.Diff(live); diff != "" {
			return b, Permanent(ErrTypeBackupMismatch, "the rows of %s changed after they were exported to %s: %s", db, name, diff)
		}
	}
	return b, nil
}

// RemoveVerifiedRows is RemoveWikiRows in a deletion whose step names its
// verification: the rows go only when the verification covered them, their
// export is intact, and the live rows are still the exported ones.
func (f *Farm) RemoveVerifiedRows(ctx context.Context, in process.StepInput, verifyStep string) error {
	db := in.Wiki.DB
	rec := in.Outputs[verifyStep]
	if rec["rows_verified"] != "true" || rec["rows_path"] == "" {
		return Permanent(ErrTypeNoVerifiedBackup, "refusing to remove the rows of %s: the step %s has not verified an export of them", db, verifyStep)
	}
	if typ, err := FileProblem(rec["rows_path"], rec["rows_sha256"]); typ != "" {
		return Permanent(ErrTypeNoVerifiedBackup, "refusing to remove the rows of %s: %v", db, err)
	} else if err != nil {
		return err
	}
	b, err := ReadRows(rec["rows_path"])
	if err != nil {
		return Permanent(ErrTypeNoVerifiedBackup, "refusing to remove the rows of %s: %v", db, err)
	}
	live, err := f.Central.ReadWikiRows(ctx, db)
	if err != nil {
		return err
	}
	if Total(live.Counts()) > 0 {
		if diff := b.Tables.Diff(live); diff != "" {
			return Permanent(ErrTypeNotInBackup, "refusing to remove the rows of %s: they changed after the export %s (%s)", db, rec["rows_path"], diff)
		}
	}
	return nil
}
