// Package config loads WikiFlow's configuration: embedded defaults, then one
// optional YAML file, then WIKIFLOW_* environment variables, then command-line
// flags. Load validates everything before anything connects, so a bad value is
// one clear error naming its key instead of a failure deep inside a workflow.
package config

import "time"

// Config is the whole configuration. Each field that is not a section is one
// key, and its tags are all the code says about it (README documents it); the
// key list, defaults, environment names, flags, secrets and checks are
// derived from them:
//
//   - mapstructure: its name within its section ("address" in "temporal");
//   - default: its default, written as in an environment variable (lists
//     space-separated, maps name=value,...); without it the key is empty.
//     The defaults reach the local stack started by `make run` from the
//     repository root;
//   - secret:"true": never printed by String nor taken from a flag; when
//     empty, it is read from the file named by the sibling key <name>_file;
//   - check: the check Validate applies (see checks in validate.go), with
//     ",optional" when an empty value needs none;
//   - usedby:"worker", on a secret: only the worker needs it, so an
//     unreadable file leaves it empty and the worker reports that where it
//     uses it (HookSecret, service's check of the service account), not
//     every command.
type Config struct {
	Temporal  Temporal  `mapstructure:"temporal"`
	Database  Database  `mapstructure:"database"`
	MediaWiki MediaWiki `mapstructure:"mediawiki"`
	Notify    Notify    `mapstructure:"notify"`
	Worker    Worker    `mapstructure:"worker"`
	Hook      Hook      `mapstructure:"hook"`
	Processes Processes `mapstructure:"processes"`
	// Inactivity is the inactivity policy (README, "Inactive wikis").
	Inactivity Inactivity `mapstructure:"inactivity"`
	// Events are the sinks the worker publishes the farm's events to.
	Events Events `mapstructure:"events"`
}

type Temporal struct {
	Address   string `mapstructure:"address" default:"127.0.0.1:7233" check:"host_port"`
	Namespace string `mapstructure:"namespace" default:"default" check:"nonempty"`
	TaskQueue string `mapstructure:"task_queue" default:"wikiflow" check:"nonempty"`
	// UIURL is used to print links to a process in the Web UI.
	UIURL string `mapstructure:"ui_url" default:"http://127.0.0.1:8233" check:"http_url"`
	// GRPCCompression is how requests to Temporal are compressed: "none"
	// for a worker beside its server, where gzip spends CPU at both ends of
	// every workflow task to save bytes a LAN does not miss; "gzip" (the
	// SDK's own default) for a worker far from it. docs/performance.md.
	GRPCCompression string `mapstructure:"grpc_compression" default:"none" check:"grpc_compression"`
}

type Database struct {
	// CentralDSN is a go-sql-driver DSN of the central farm database
	// (cw_wikis, mw_settings, ...), without the password.
	CentralDSN string `mapstructure:"central_dsn" default:"wikiflow@tcp(127.0.0.1:3306)/wikifarm" check:"database_dsn"`
	// Clusters maps a database cluster name (cw_wikis.wiki_dbcluster) to the
	// DSN of the server holding those wikis' databases (no database name, no password).
	// It comes before RequestsDSN, whose default is found among them, so
	// that Validate reports missing clusters as such.
	Clusters map[string]string `mapstructure:"clusters" default:"c1=wikiflow@tcp(127.0.0.1:3306)/" check:"clusters"`
	// RequestsDSN is the DSN of the database holding CreateWiki's request
	// tables (cw_requests, cw_comments, cw_history: its virtual domain
	// virtual-createwiki-central, the central wiki's own database), without
	// the password. Empty means mediawiki.central_wiki's database on the
	// server of cluster c1 (see RequestsDatabaseDSN).
	RequestsDSN string `mapstructure:"requests_dsn" check:"requests_dsn"`
	// Password (or PasswordFile) is used for every DSN above.
	Password     string `mapstructure:"password" secret:"true" check:"required_secret"`
	PasswordFile string `mapstructure:"password_file" default:".stack/secrets/db-password"`
	// DumpCommand and ClientCommand are MariaDB's client tools, used for backups.
	DumpCommand   string `mapstructure:"dump_command" default:"mariadb-dump" check:"nonempty"`
	ClientCommand string `mapstructure:"client_command" default:"mariadb" check:"nonempty"`
	// BackupDir receives database backups before anything is dropped.
	BackupDir string `mapstructure:"backup_dir" default:".stack/backups" check:"nonempty"`
	// SchemaPoolSize is how many finished wiki schemas each cluster keeps
	// ready for the next creations (farmdb/schemapool.go); 0 turns the pool off.
	SchemaPoolSize int `mapstructure:"schema_pool_size" default:"5" check:"not_negative"`
}

type MediaWiki struct {
	// URLPattern gives a wiki's base URL; {wiki} is replaced by its database name.
	URLPattern string `mapstructure:"url_pattern" default:"http://{wiki}.localhost:8080" check:"url_pattern"`
	// DialAddress, when set, is where HTTP connections go whatever the URL's
	// host (the local farm serves every wiki on one address, chosen by Host).
	DialAddress string `mapstructure:"dial_address" default:"127.0.0.1:8080" check:"host_port,optional"`
	// ScriptCommand runs a maintenance script against one wiki; {script} and
	// {wiki} are replaced, the script's own arguments are appended.
	ScriptCommand []string `mapstructure:"script_command" default:"farm/bin/mwscript {script} --wiki={wiki}" check:"script_command"`
	CentralWiki   string   `mapstructure:"central_wiki" default:"metawiki" check:"wiki_db"`
	// InstallPath is MediaWiki's code, for its schema and data files.
	InstallPath string `mapstructure:"install_path" default:"/usr/share/mediawiki" check:"nonempty"`
	// UploadRoot holds one upload directory per wiki.
	UploadRoot string `mapstructure:"upload_root" default:".stack/uploads" check:"nonempty"`
	// SettingsRegistry is the farm's list of settings ManageWiki may change.
	SettingsRegistry string `mapstructure:"settings_registry" default:"farm/settings.json" check:"nonempty"`
	// ExtensionRegistry is the farm's list of extensions a wiki may enable.
	ExtensionRegistry string `mapstructure:"extension_registry" default:"farm/extensions.json" check:"nonempty"`
	// MainPageTemplate is a file with a new wiki's main page ({sitename},
	// {dbname}, {requester} are replaced); empty uses the built-in text.
	MainPageTemplate string `mapstructure:"main_page_template"`
	// DBSuffix is the ending every wiki database name must have.
	DBSuffix string `mapstructure:"db_suffix" default:"wiki"`
	// Subdomain is the farm's domain below which each wiki has its own
	// subdomain (CreateWiki's $wgCreateWikiSubdomain): a request's cw_url
	// is <database name without db_suffix>.<subdomain>.
	Subdomain string `mapstructure:"subdomain" default:"localhost" check:"domain_name"`
	// WikiListDir receives CreateWiki's cached wiki lists (databases.json,
	// deleted.json), rewritten after every change of a wiki's existence or
	// state; empty writes none.
	WikiListDir string `mapstructure:"wiki_list_dir" default:".stack/cache"`
	// WikiListCommand, when set, runs after the lists are rewritten, for a
	// farm whose own caches need a reset ({wiki} is replaced).
	WikiListCommand []string `mapstructure:"wiki_list_command"`
	// ServiceUser is the farm account the worker reads wikis with (private
	// wikis answer nobody else); it logs in with a bot password
	// (ServicePassword, "<user>@<app>" style name in ServiceUser).
	ServiceUser         string `mapstructure:"service_user" default:"WikiFlow@worker"`
	ServicePassword     string `mapstructure:"service_password" secret:"true" usedby:"worker"`
	ServicePasswordFile string `mapstructure:"service_password_file" default:".stack/secrets/service-password"`
}

type Notify struct {
	SMTP       SMTP   `mapstructure:"smtp"`
	WebhookURL string `mapstructure:"webhook_url" secret:"true" check:"http_url,optional"`
}

type SMTP struct {
	// Address (host:port) of the SMTP server; empty disables email.
	Address      string `mapstructure:"address" check:"host_port,optional"`
	From         string `mapstructure:"from" default:"wikiflow@localhost" check:"nonempty"`
	Username     string `mapstructure:"username"`
	Password     string `mapstructure:"password" secret:"true"`
	PasswordFile string `mapstructure:"password_file"`
}

type Worker struct {
	HealthAddress string `mapstructure:"health_address" default:"127.0.0.1:8091" check:"host_port"`
	// ShutdownTimeout bounds how long a stopping worker waits for running activities.
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout" default:"30s" check:"positive"`
	// StickyCacheSize is how many workflows the worker keeps in memory
	// between their tasks (the SDK's sticky cache, one per process: the
	// first worker created sets it). A workflow pushed out is replayed from
	// its history at its next task. A waiting wiki request holds about
	// 120 KB in the cache (measured by `make bench`): the SDK's default of
	// 10,000 took a worker to 964 MB with 10,000 open requests, 1,000 keeps
	// it under 200 MB, and a replayed decision costs about what a cached
	// one does (docs/performance.md).
	StickyCacheSize int `mapstructure:"sticky_cache_size" default:"1000" check:"at_least_one"`
	// MaxConcurrentWorkflowTasks and MaxConcurrentActivities bound the
	// workflow tasks and activities the worker executes at once (the SDK's
	// defaults; the SDK refuses 1 workflow task).
	MaxConcurrentWorkflowTasks int `mapstructure:"max_concurrent_workflow_tasks" default:"1000" check:"at_least_two"`
	MaxConcurrentActivities    int `mapstructure:"max_concurrent_activities" default:"1000" check:"at_least_one"`
	// MetricsInterval is how often the worker counts open processes and
	// waiting approvals for /metrics.
	MetricsInterval time.Duration `mapstructure:"metrics_interval" default:"30s" check:"positive"`
}

// Hook is the signed HTTP endpoint the wikis call.
type Hook struct {
	// Address to serve on; empty disables the endpoint.
	Address    string `mapstructure:"address" default:"127.0.0.1:8092" check:"host_port,optional"`
	Secret     string `mapstructure:"secret" secret:"true" usedby:"worker"`
	SecretFile string `mapstructure:"secret_file" default:".stack/secrets/hook-secret"`
}

type Processes struct {
	// AttentionWindow is how long a process that needs attention stays open
	// for a person to retry or abort it.
	AttentionWindow time.Duration `mapstructure:"attention_window" default:"168h" check:"positive"`
	// CreateWikiExtraSteps are the farm's own steps of wiki creation, e.g.
	// an extension's SQL file after the schema or a maintenance script.
	CreateWikiExtraSteps []ExtraStep `mapstructure:"create_wiki_extra_steps"`
	// DeletionGracePeriod is how long a deleted wiki stays closed and
	// restorable before its database is backed up and dropped.
	DeletionGracePeriod time.Duration `mapstructure:"deletion_grace_period" default:"336h" check:"positive"`
	// DeletionApprovers is how many local holders of managewiki-core must
	// approve a deletion (fewer if the wiki has fewer).
	DeletionApprovers int `mapstructure:"deletion_approvers" default:"2" check:"at_least_one"`
	// ApprovalExpiry ends a deletion or restricted change nobody decided.
	ApprovalExpiry time.Duration `mapstructure:"approval_expiry" default:"720h" check:"positive"`
	// RequestReviewers is how many wiki creators must approve (or decline) a wiki request.
	RequestReviewers int `mapstructure:"request_reviewers" default:"2" check:"at_least_one"`
	// MoreDetailsTimeout abandons a wiki request left waiting for its requester.
	MoreDetailsTimeout time.Duration `mapstructure:"more_details_timeout" default:"336h" check:"positive"`
	// TransientRetryBudget is how long a step keeps retrying a transient
	// failure (connection refused, timeout, 5xx) before a person is asked.
	TransientRetryBudget time.Duration `mapstructure:"transient_retry_budget" default:"20m" check:"positive"`
	// ProtectedWikis can never be deleted (nor renamed or moved); the
	// central wiki is always protected.
	ProtectedWikis []string `mapstructure:"protected_wikis" check:"wiki_list"`
}

// Inactivity: CreateWiki's $wgCreateWikiStateDays (its defaults, 45, 15 and
// 120 days; the fourth, deleted, is processes.deletion_grace_period) and
// $wgCreateWikiEnableManageInactiveWikis.
type Inactivity struct {
	// Enabled lets the daily sweep's schedule run. Off by default: the
	// schedule is created paused, so it can be seen, triggered by hand and
	// unpaused once the farm has chosen its periods.
	Enabled bool `mapstructure:"enabled" default:"false"`
	// DryRun makes the scheduled sweep report what it would do and change
	// nothing.
	DryRun bool `mapstructure:"dry_run" default:"false"`
	// SweepInterval is how often the schedule sweeps.
	SweepInterval time.Duration `mapstructure:"sweep_interval" default:"24h" check:"positive"`
	// InactiveAfter: no edit or log entry for this long, and the wiki is
	// marked inactive and its bureaucrats warned.
	InactiveAfter time.Duration `mapstructure:"inactive_after" default:"1080h" check:"positive"`
	// CloseAfter: marked inactive this long, and the wiki is closed.
	CloseAfter time.Duration `mapstructure:"close_after" default:"360h" check:"positive"`
	// DeleteAfter: closed for inactivity this long, and the wiki goes to
	// a deletion (its grace period and verified backup as for any).
	DeleteAfter time.Duration `mapstructure:"delete_after" default:"2880h" check:"positive"`
}

// Events: the brokers the worker delivers the event outbox to
// (wikiflow.process.change, events/), each in the outbox's order, at least
// once, by one worker of the farm at a time (eventsink/).
type Events struct {
	// NATSURL is the NATS server (nats://host:port, with JetStream) the
	// events are published to; empty publishes none.
	NATSURL string `mapstructure:"nats_url" default:"nats://127.0.0.1:4222" check:"nats_url,optional"`
	// NATSSubject is the subject every event is published on.
	NATSSubject string `mapstructure:"nats_subject" default:"wikiflow.process.change" check:"nats_subject"`
	// NATSStream is the JetStream stream that stores the subject; the worker
	// creates it when it is missing, with NATSDuplicateWindow.
	NATSStream string `mapstructure:"nats_stream" default:"WIKIFLOW" check:"nats_stream"`
	// NATSDuplicateWindow is how long the stream remembers an event's id
	// (the Nats-Msg-Id header) to drop a second publish of it: a worker
	// that died between publishing and recording its cursor publishes
	// again when it, or another worker, takes over, long before that.
	NATSDuplicateWindow time.Duration `mapstructure:"nats_duplicate_window" default:"2h" check:"positive"`
	// EventGateURL is an EventGate-compatible intake (MediaWiki's EventBus
	// posts to the same: a JSON array of events); empty posts none.
	EventGateURL string `mapstructure:"eventgate_url" check:"http_url,optional"`
	// IncludePrivate also publishes the events of private wikis (each says
	// wiki.is_private): the brokers are the farm's own, like its database.
	IncludePrivate bool `mapstructure:"include_private" default:"true"`
	// BatchSize is how many events a sink is handed at once.
	BatchSize int `mapstructure:"batch_size" default:"100" check:"at_least_one"`
	// PollInterval is how often the outbox is read for new events once a
	// sink has caught up.
	PollInterval time.Duration `mapstructure:"poll_interval" default:"1s" check:"positive"`
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
