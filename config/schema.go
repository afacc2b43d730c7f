// Package config loads WikiFlow's configuration: embedded defaults, then one
// optional YAML file, then WIKIFLOW_* environment variables, then command-line
// flags. Load validates everything before anything connects, so a bad value is
// one clear error naming its key instead of a failure deep inside a workflow.
package config

import (
	"sort"
	"time"
)

// Config is the whole configuration. Secrets (passwords) are tagged
// `secret:"true"` and never printed by String.
type Config struct {
	Temporal  Temporal  `mapstructure:"temporal"`
	Database  Database  `mapstructure:"database"`
	MediaWiki MediaWiki `mapstructure:"mediawiki"`
	Notify    Notify    `mapstructure:"notify"`
	Worker    Worker    `mapstructure:"worker"`
	Hook      Hook      `mapstructure:"hook"`
	Processes Processes `mapstructure:"processes"`
}

type Temporal struct {
	Address   string `mapstructure:"address"`
	Namespace string `mapstructure:"namespace"`
	TaskQueue string `mapstructure:"task_queue"`
	// UIURL is used to print links to a process in the Web UI.
	UIURL string `mapstructure:"ui_url"`
}

type Database struct {
	// CentralDSN is a go-sql-driver DSN of the central farm database
	// (cw_wikis, mw_settings, ...), without the password.
	CentralDSN string `mapstructure:"central_dsn"`
	// RequestsDSN is the DSN of the database holding CreateWiki's request
	// tables (cw_requests, cw_comments, cw_history: its virtual domain
	// virtual-createwiki-central, the central wiki's own database), without
	// the password. Empty means mediawiki.central_wiki's database on the
	// server of cluster c1 (see RequestsDatabaseDSN).
	RequestsDSN string `mapstructure:"requests_dsn"`
	// Clusters maps a database cluster name (cw_wikis.wiki_dbcluster) to the
	// DSN of the server holding those wikis' databases (no database name, no password).
	Clusters map[string]string `mapstructure:"clusters"`
	// Password (or PasswordFile) is used for every DSN above.
	Password     string `mapstructure:"password" secret:"true"`
	PasswordFile string `mapstructure:"password_file"`
	// DumpCommand and ClientCommand are MariaDB's client tools, used for backups.
	DumpCommand   string `mapstructure:"dump_command"`
	ClientCommand string `mapstructure:"client_command"`
	// BackupDir receives database backups before anything is dropped.
	BackupDir string `mapstructure:"backup_dir"`
}

type MediaWiki struct {
	// URLPattern gives a wiki's base URL; {wiki} is replaced by its database name.
	URLPattern string `mapstructure:"url_pattern"`
	// DialAddress, when set, is where HTTP connections go whatever the URL's
	// host (the local farm serves every wiki on one address, chosen by Host).
	DialAddress string `mapstructure:"dial_address"`
	// ScriptCommand runs a maintenance script against one wiki; {script} and
	// {wiki} are replaced, the script's own arguments are appended.
	ScriptCommand []string `mapstructure:"script_command"`
	CentralWiki   string   `mapstructure:"central_wiki"`
	// InstallPath is MediaWiki's code, for its schema and data files.
	InstallPath string `mapstructure:"install_path"`
	// UploadRoot holds one upload directory per wiki.
	UploadRoot string `mapstructure:"upload_root"`
	// SettingsRegistry is the farm's list of settings ManageWiki may change.
	SettingsRegistry string `mapstructure:"settings_registry"`
	// MainPageTemplate is a file with a new wiki's main page ({sitename},
	// {dbname}, {requester} are replaced); empty uses the built-in text.
	MainPageTemplate string `mapstructure:"main_page_template"`
	// DBSuffix is the ending every wiki database name must have.
	DBSuffix string `mapstructure:"db_suffix"`
	// Subdomain is the farm's domain below which each wiki has its own
	// subdomain (CreateWiki's $wgCreateWikiSubdomain): a request's cw_url
	// is <database name without db_suffix>.<subdomain>.
	Subdomain string `mapstructure:"subdomain"`
	// WikiListDir receives CreateWiki's cached wiki lists (databases.json,
	// deleted.json), rewritten after every change of a wiki's existence or
	// state; empty writes none.
	WikiListDir string `mapstructure:"wiki_list_dir"`
	// WikiListCommand, when set, runs after the lists are rewritten, for a
	// farm whose own caches need a reset ({wiki} is replaced).
	WikiListCommand []string `mapstructure:"wiki_list_command"`
	// ServiceUser is the farm account the worker reads wikis with (private
	// wikis answer nobody else); it logs in with a bot password
	// (ServicePassword, "<user>@<app>" style name in ServiceUser).
	ServiceUser         string `mapstructure:"service_user"`
	ServicePassword     string `mapstructure:"service_password" secret:"true"`
	ServicePasswordFile string `mapstructure:"service_password_file"`
}

type Notify struct {
	SMTP       SMTP   `mapstructure:"smtp"`
	WebhookURL string `mapstructure:"webhook_url" secret:"true"`
}

type SMTP struct {
	// Address (host:port) of the SMTP server; empty disables email.
	Address      string `mapstructure:"address"`
	From         string `mapstructure:"from"`
	Username     string `mapstructure:"username"`
	Password     string `mapstructure:"password" secret:"true"`
	PasswordFile string `mapstructure:"password_file"`
}

type Worker struct {
	HealthAddress string `mapstructure:"health_address"`
	// ShutdownTimeout bounds how long a stopping worker waits for running activities.
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"`
}

// Hook is the signed HTTP endpoint the wikis call.
type Hook struct {
	// Address to serve on; empty disables the endpoint.
	Address    string `mapstructure:"address"`
	Secret     string `mapstructure:"secret" secret:"true"`
	SecretFile string `mapstructure:"secret_file"`
}

type Processes struct {
	// AttentionWindow is how long a process that needs attention stays open
	// for a person to retry or abort it.
	AttentionWindow time.Duration `mapstructure:"attention_window"`
	// CreateWikiExtraSteps are the farm's own steps of wiki creation, e.g.
	// an extension's SQL file after the schema or a maintenance script.
	CreateWikiExtraSteps []ExtraStep `mapstructure:"create_wiki_extra_steps"`
	// DeletionGracePeriod is how long a deleted wiki stays closed and
	// restorable before its database is backed up and dropped.
	DeletionGracePeriod time.Duration `mapstructure:"deletion_grace_period"`
	// DeletionApprovers is how many local holders of managewiki-core must
	// approve a deletion (fewer if the wiki has fewer).
	DeletionApprovers int `mapstructure:"deletion_approvers"`
	// ApprovalExpiry ends a deletion or restricted change nobody decided.
	ApprovalExpiry time.Duration `mapstructure:"approval_expiry"`
	// RequestReviewers is how many wiki creators must approve (or decline) a wiki request.
	RequestReviewers int `mapstructure:"request_reviewers"`
	// MoreDetailsTimeout abandons a wiki request left waiting for its requester.
	MoreDetailsTimeout time.Duration `mapstructure:"more_details_timeout"`
	// TransientRetryBudget is how long a step keeps retrying a transient
	// failure (connection refused, timeout, 5xx) before a person is asked.
	TransientRetryBudget time.Duration `mapstructure:"transient_retry_budget"`
	// ProtectedWikis can never be deleted (nor renamed or moved); the
	// central wiki is always protected.
	ProtectedWikis []string `mapstructure:"protected_wikis"`
}

// ExtraStep is a step a farm adds to a process without code. Activity is
// one of the step activities (SourceSQLFile, RunMaintenanceScript, ...).
type ExtraStep struct {
	Name     string   `mapstructure:"name"`
	Activity string   `mapstructure:"activity"`
	Requires []string `mapstructure:"requires"`
	// Before names steps that must wait for this one.
	Before          []string          `mapstructure:"before"`
	Critical        bool              `mapstructure:"critical"`
	Params          map[string]string `mapstructure:"params"`
	MaximumAttempts int32             `mapstructure:"maximum_attempts"`
	Timeout         time.Duration     `mapstructure:"timeout"`
}

// Defaults reach the local stack started by `make run` from the repository root.
func defaults() map[string]any {
	return map[string]any{
		"temporal.address":                  "127.0.0.1:7233",
		"temporal.namespace":                "default",
		"temporal.task_queue":               "wikiflow",
		"temporal.ui_url":                   "http://127.0.0.1:8233",
		"database.central_dsn":              "wikiflow@tcp(127.0.0.1:3306)/wikifarm",
		"database.requests_dsn":             "",
		"database.clusters":                 map[string]string{"c1": "wikiflow@tcp(127.0.0.1:3306)/"},
		"database.password":                 "",
		"database.password_file":            ".stack/secrets/db-password",
		"database.dump_command":             "mariadb-dump",
		"database.client_command":           "mariadb",
		"database.backup_dir":               ".stack/backups",
		"mediawiki.url_pattern":             "http://{wiki}.localhost:8080",
		"mediawiki.dial_address":            "127.0.0.1:8080",
		"mediawiki.script_command":          []string{"farm/bin/mwscript", "{script}", "--wiki={wiki}"},
		"mediawiki.central_wiki":            "metawiki",
		"mediawiki.install_path":            "/usr/share/mediawiki",
		"mediawiki.upload_root":             ".stack/uploads",
		"mediawiki.settings_registry":       "farm/settings.json",
		"mediawiki.db_suffix":               "wiki",
		"mediawiki.subdomain":               "localhost",
		"mediawiki.service_user":            "WikiFlow@worker",
		"mediawiki.wiki_list_dir":           ".stack/cache",
		"mediawiki.wiki_list_command":       []string{},
		"mediawiki.service_password":        "",
		"mediawiki.service_password_file":   ".stack/secrets/service-password",
		"processes.protected_wikis":         []string{},
		"processes.transient_retry_budget":  "20m",
		"notify.smtp.address":               "",
		"notify.smtp.from":                  "wikiflow@localhost",
		"notify.smtp.username":              "",
		"notify.smtp.password":              "",
		"notify.smtp.password_file":         "",
		"notify.webhook_url":                "",
		"worker.health_address":             "127.0.0.1:8091",
		"hook.address":                      "127.0.0.1:8092",
		"hook.secret":                       "",
		"hook.secret_file":                  ".stack/secrets/hook-secret",
		"worker.shutdown_timeout":           "30s",
		"processes.attention_window":        "168h",
		"processes.create_wiki_extra_steps": []ExtraStep{},
		"processes.deletion_grace_period":   "336h",
		"processes.deletion_approvers":      2,
		"processes.approval_expiry":         "720h",
		"processes.request_reviewers":       2,
		"processes.more_details_timeout":    "336h",
		"mediawiki.main_page_template":      "",
	}
}

// Keys lists every configuration key, sorted; README documents each of them.
func Keys() []string {
	keys := make([]string, 0, len(defaults()))
	for k := range defaults() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Default returns the embedded default of a key, for documentation.
func Default(key string) any { return defaults()[key] }
