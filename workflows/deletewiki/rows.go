package deletewiki

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
)

// ExportWikiRows writes the wiki's rows of cw_wikis, mw_settings,
// mw_permissions and mw_namespaces, every column, read in one transaction,
// to <base>.rows.json. The file is the same byte for byte while the rows do
// not change; a rerun after the rows were removed answers from the file; a
// different file found at the path is kept aside. Outputs: path, sha256,
// bytes, counts (JSON table -> rows).
func (f *Activities) ExportWikiRows(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db, err := activities.WikiDB(in)
	if err != nil {
		return process.StepResult{}, err
	}
	base, err := f.BackupBase(db, in.ProcessID)
	if err != nil {
		return process.StepResult{}, err
	}
	name := base + activities.SuffixRows
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return process.StepResult{}, activities.Permanent(activities.ErrMisconfigured, "database.backup_dir: %v", err)
	}
	activities.RemoveStale(filepath.Dir(name), "."+db+"-*.rows.tmp")
	live, err := f.Central.ReadWikiRows(ctx, db)
	if err != nil {
		return process.StepResult{}, err
	}
	if !live.Registered() {
		b, err := activities.ReadRows(name)
		if errors.Is(err, os.ErrNotExist) {
			return process.StepResult{}, activities.Permanent(activities.ErrWikiNotFound, "%s is not registered in cw_wikis and no export of its rows is at %s", db, name)
		}
		if err != nil {
			return process.StepResult{}, activities.Permanent(activities.ErrBackupMismatch, "%s is no longer registered and its export %s is unreadable: %v", db, name, err)
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
