package deletewiki

// backupKeys maps the result keys of a deletion to the step outputs they
// come from: the manifest of the whole backup, each part's path, size and
// checksum. A process started before the files and rows were backed up has
// only the dump's keys.
var backupKeys = []struct{ key, step, output string }{
	{"backup_path", StepBackup, "path"},
	{"backup_sha256", StepBackup, "sha256"},
	{"backup_bytes", StepBackup, "bytes"},
	{"files_archive", StepArchiveFiles, "archive"},
	{"files_archive_sha256", StepArchiveFiles, "archive_sha256"},
	{"files_archive_bytes", StepArchiveFiles, "archive_bytes"},
	{"files_manifest", StepArchiveFiles, "manifest"},
	{"files_manifest_sha256", StepArchiveFiles, "manifest_sha256"},
	{"files_count", StepArchiveFiles, "files"},
	{"files_bytes", StepArchiveFiles, "bytes"},
	{"rows_path", StepExportRows, "path"},
	{"rows_sha256", StepExportRows, "sha256"},
	{"rows_bytes", StepExportRows, "bytes"},
	{"rows_counts", StepExportRows, "counts"},
	{"backup_manifest", StepVerifyBackup, "manifest"},
	{"backup_manifest_sha256", StepVerifyBackup, "manifest_sha256"},
}

// backupResult copies what the backup steps produced into a deletion's result.
func backupResult(result map[string]string, outputs map[string]map[string]string) {
	for _, k := range backupKeys {
		if v, ok := outputs[k.step][k.output]; ok {
			result[k.key] = v
		}
	}
}
