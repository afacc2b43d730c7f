// Package config loads WikiFlow's configuration: embedded defaults, then one
// optional YAML file, then WIKIFLOW_* environment variables, then command-line
// flags. Load validates everything before anything connects, so a bad value is
// one clear error naming its key instead of a failure deep inside a workflow.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// EnvPrefix is the prefix of every environment override: temporal.address is
// WIKIFLOW_TEMPORAL_ADDRESS.
const EnvPrefix = "WIKIFLOW"

// DefaultFile is read from the working directory when no --config is given
// and it exists; it is optional because the defaults reach the local stack.
const DefaultFile = "wikiflow.yaml"

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

// Options say where to read from; zero values mean the usual places.
type Options struct {
	// File is an explicit config file; it must exist when set.
	File string
	// Flags are bound over everything else: a set flag named like a key
	// ("temporal.address") wins.
	Flags *pflag.FlagSet
	// Environ replaces os.Environ, for tests.
	Environ []string
}

// Error is a configuration problem tied to one key.
type Error struct {
	Key string
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("config: %s: %s", e.Key, e.Msg) }

// Load reads and validates the configuration.
func Load(opts Options) (*Config, error) {
	v := viper.New()
	for k, val := range defaults() {
		v.SetDefault(k, val)
	}
	v.SetConfigType("yaml")
	file := opts.File
	if file == "" {
		if _, err := os.Stat(DefaultFile); err == nil {
			file = DefaultFile
		}
	}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, &Error{Key: "config file", Msg: err.Error()}
		}
		err = v.ReadConfig(f)
		f.Close()
		if err != nil {
			return nil, &Error{Key: "config file", Msg: fmt.Sprintf("%s is not valid YAML: %v", file, err)}
		}
		if err := unknownKeys(v.AllSettings(), ""); err != nil {
			return nil, err
		}
	}
	if err := applyEnv(v, opts.Environ); err != nil {
		return nil, err
	}
	if opts.Flags != nil {
		var flagErr error
		opts.Flags.Visit(func(f *pflag.Flag) {
			if _, known := defaults()[f.Name]; known && flagErr == nil {
				flagErr = setFromString(v, f.Name, f.Value.String())
			}
		})
		if flagErr != nil {
			return nil, flagErr
		}
	}
	var c Config
	for _, key := range Keys() {
		if err := decodeKey(v, key, &c); err != nil {
			return nil, err
		}
	}
	if err := c.resolveSecrets(); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// applyEnv reads WIKIFLOW_* variables. Each must name a known key: a typo
// would otherwise silently leave the default in place.
func applyEnv(v *viper.Viper, environ []string) error {
	if environ == nil {
		environ = os.Environ()
	}
	byEnv := map[string]string{}
	for _, k := range Keys() {
		byEnv[envName(k)] = k
	}
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix+"_") {
			continue
		}
		key, known := byEnv[name]
		if !known {
			if isStackVariable(name) {
				continue
			}
			return &Error{Key: name, Msg: "unknown setting (see README for the list of keys)"}
		}
		if err := setFromString(v, key, val); err != nil {
			return err
		}
	}
	return nil
}

// setFromString sets a key from the text of an environment variable or a
// flag: lists are space-separated, maps are name=value pairs separated by commas.
func setFromString(v *viper.Viper, key, val string) error {
	switch defaults()[key].(type) {
	case []string:
		v.Set(key, strings.Fields(val))
	case map[string]string:
		m := map[string]string{}
		for _, pair := range strings.Split(val, ",") {
			name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok {
				return &Error{Key: key, Msg: "want name=value[,name=value...]"}
			}
			m[name] = value
		}
		v.Set(key, m)
	default:
		v.Set(key, val)
	}
	return nil
}

// AddFlags adds one string flag per key ("--temporal.address"), so any
// setting can be given on the command line.
func AddFlags(fs *pflag.FlagSet) {
	for _, key := range Keys() {
		if strings.HasSuffix(key, "password") || key == "notify.webhook_url" || key == "hook.secret" {
			continue // secrets on a command line end up in process lists and shell history
		}
		fs.String(key, "", fmt.Sprintf("overrides %s (default %v)", key, Default(key)))
		_ = fs.MarkHidden(key)
	}
}

// isStackVariable tells the local stack's own variables (read by its shell
// scripts and MediaWiki settings) from misspelt worker settings.
func isStackVariable(name string) bool {
	switch name {
	case "WIKIFLOW_STATE_DIR", "WIKIFLOW_FAST_DB", "WIKIFLOW_CENTRAL_DB", "WIKIFLOW_MW_PORT",
		"WIKIFLOW_DATABASE_HOST", "WIKIFLOW_DATABASE_USER", "WIKIFLOW_MW_SECRET_KEY", "WIKIFLOW_MW_DIR":
		return true
	}
	return false
}

func envName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// unknownKeys refuses keys the program does not know, so a misspelt key in the
// file is an error rather than an ignored line.
func unknownKeys(settings map[string]any, prefix string) error {
	known := defaults()
	for k, val := range settings {
		full := k
		if prefix != "" {
			full = prefix + "." + k
		}
		if _, ok := known[full]; ok {
			continue
		}
		if sub, ok := val.(map[string]any); ok {
			if err := unknownKeys(sub, full); err != nil {
				return err
			}
			continue
		}
		return &Error{Key: full, Msg: "unknown setting (see README for the list of keys)"}
	}
	return nil
}

// decodeKey decodes one key into its field with strict types, so the error
// names the key and the type it wanted.
func decodeKey(v *viper.Viper, key string, c *Config) error {
	field, err := fieldByKey(reflect.ValueOf(c).Elem(), strings.Split(key, "."))
	if err != nil {
		return &Error{Key: key, Msg: err.Error()}
	}
	raw := v.Get(key)
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		Result:           field.Addr().Interface(),
		WeaklyTypedInput: false,
		ErrorUnused:      true,
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			stringScalars,
		),
	})
	if err != nil {
		return err
	}
	if err := dec.Decode(raw); err != nil {
		return &Error{Key: key, Msg: fmt.Sprintf("want %s, got %v (%T)", typeName(field.Type()), raw, raw)}
	}
	return nil
}

// stringScalars lets environment variables and flags (always strings) fill
// numeric fields, while a YAML list or map in a string field stays an error.
func stringScalars(from, to reflect.Type, data any) (any, error) {
	if from.Kind() != reflect.String || to.Kind() == reflect.String {
		return data, nil
	}
	s := data.(string)
	switch to.Kind() {
	case reflect.Int, reflect.Int32, reflect.Int64:
		var n int64
		if _, err := fmt.Sscan(s, &n); err != nil {
			return nil, err
		}
		return n, nil
	case reflect.Bool:
		return s == "true" || s == "1", nil
	}
	return data, nil
}

func typeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeOf(time.Duration(0)):
		return "a duration such as 30s or 168h"
	case t == reflect.TypeOf([]ExtraStep{}):
		return "a list of steps (name, activity, requires, before, critical, params, maximum_attempts, timeout)"
	case t.Kind() == reflect.Slice:
		return "a list of strings"
	case t.Kind() == reflect.Map:
		return "a map of names to strings"
	default:
		return "a " + t.Kind().String()
	}
}

func fieldByKey(v reflect.Value, path []string) (reflect.Value, error) {
	for _, name := range path {
		found := false
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).Tag.Get("mapstructure") == name {
				v = v.Field(i)
				found = true
				break
			}
		}
		if !found {
			return reflect.Value{}, errors.New("no such field")
		}
	}
	return v, nil
}

// resolveSecrets reads password files; a value given directly wins.
func (c *Config) resolveSecrets() error {
	read := func(key, file string, dst *string) error {
		if *dst != "" || file == "" {
			return nil
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return &Error{Key: key, Msg: fmt.Sprintf("cannot read the secret file: %v", err)}
		}
		*dst = strings.TrimSpace(string(b))
		return nil
	}
	if err := read("database.password_file", c.Database.PasswordFile, &c.Database.Password); err != nil {
		return err
	}
	if err := read("notify.smtp.password_file", c.Notify.SMTP.PasswordFile, &c.Notify.SMTP.Password); err != nil {
		return err
	}
	// Like the hook's secret, the service password is only needed by the
	// worker; a missing file is reported when the worker connects.
	if c.MediaWiki.ServicePassword == "" && c.MediaWiki.ServicePasswordFile != "" {
		if b, err := os.ReadFile(c.MediaWiki.ServicePasswordFile); err == nil {
			c.MediaWiki.ServicePassword = strings.TrimSpace(string(b))
		}
	}
	// The hook's secret is only needed by the worker serving it; a missing
	// file is reported there (HookSecret), not to every command.
	if c.Hook.Secret == "" && c.Hook.SecretFile != "" {
		if b, err := os.ReadFile(c.Hook.SecretFile); err == nil {
			c.Hook.Secret = strings.TrimSpace(string(b))
		}
	}
	return nil
}

// HookSecret returns the hook's shared secret, or an error naming the key
// when the endpoint is enabled without one.
func (c *Config) HookSecret() ([]byte, error) {
	if c.Hook.Secret == "" {
		return nil, &Error{Key: "hook.secret_file", Msg: fmt.Sprintf("no secret for the hook endpoint (file %q missing or empty; or set WIKIFLOW_HOOK_SECRET, or empty hook.address to disable it)", c.Hook.SecretFile)}
	}
	if len(c.Hook.Secret) < 16 {
		return nil, &Error{Key: "hook.secret", Msg: "the hook secret must have at least 16 characters"}
	}
	return []byte(c.Hook.Secret), nil
}

var wikiName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Validate checks every value; the first problem is returned naming its key.
func (c *Config) Validate() error {
	checks := []struct {
		key string
		err error
	}{
		{"temporal.address", hostPort(c.Temporal.Address)},
		{"temporal.namespace", nonEmpty(c.Temporal.Namespace)},
		{"temporal.task_queue", nonEmpty(c.Temporal.TaskQueue)},
		{"temporal.ui_url", httpURL(c.Temporal.UIURL)},
		{"database.central_dsn", dsn(c.Database.CentralDSN, true)},
		{"database.clusters", clusters(c.Database.Clusters)},
		{"database.requests_dsn", c.requestsDSN()},
		{"database.password", nonEmptySecret(c.Database.Password)},
		{"database.dump_command", nonEmpty(c.Database.DumpCommand)},
		{"database.client_command", nonEmpty(c.Database.ClientCommand)},
		{"database.backup_dir", nonEmpty(c.Database.BackupDir)},
		{"mediawiki.url_pattern", urlPattern(c.MediaWiki.URLPattern)},
		{"mediawiki.dial_address", optional(c.MediaWiki.DialAddress, hostPort)},
		{"mediawiki.script_command", scriptCommand(c.MediaWiki.ScriptCommand)},
		{"mediawiki.central_wiki", wikiDB(c.MediaWiki.CentralWiki)},
		{"mediawiki.install_path", nonEmpty(c.MediaWiki.InstallPath)},
		{"mediawiki.upload_root", nonEmpty(c.MediaWiki.UploadRoot)},
		{"mediawiki.settings_registry", nonEmpty(c.MediaWiki.SettingsRegistry)},
		{"mediawiki.subdomain", domainName(c.MediaWiki.Subdomain)},
		{"notify.smtp.address", optional(c.Notify.SMTP.Address, hostPort)},
		{"notify.smtp.from", nonEmpty(c.Notify.SMTP.From)},
		{"notify.webhook_url", optional(c.Notify.WebhookURL, httpURL)},
		{"worker.health_address", hostPort(c.Worker.HealthAddress)},
		{"hook.address", optional(c.Hook.Address, hostPort)},
		{"worker.shutdown_timeout", positive(c.Worker.ShutdownTimeout)},
		{"processes.attention_window", positive(c.Processes.AttentionWindow)},
		{"processes.deletion_grace_period", positive(c.Processes.DeletionGracePeriod)},
		{"processes.deletion_approvers", atLeastOne(c.Processes.DeletionApprovers)},
		{"processes.approval_expiry", positive(c.Processes.ApprovalExpiry)},
		{"processes.request_reviewers", atLeastOne(c.Processes.RequestReviewers)},
		{"processes.more_details_timeout", positive(c.Processes.MoreDetailsTimeout)},
		{"processes.protected_wikis", wikiList(c.Processes.ProtectedWikis)},
		{"processes.transient_retry_budget", positive(c.Processes.TransientRetryBudget)},
	}
	for _, ch := range checks {
		if ch.err != nil {
			return &Error{Key: ch.key, Msg: ch.err.Error()}
		}
	}
	return nil
}

// RequestsDefaultCluster is the cluster whose server holds the central
// wiki's database when database.requests_dsn is empty.
const RequestsDefaultCluster = "c1"

// RequestsDatabaseDSN is the DSN (without password) of the database that
// holds CreateWiki's request tables: database.requests_dsn, or else the
// central wiki's database on cluster c1's server.
func (c *Config) RequestsDatabaseDSN() (string, error) {
	if c.Database.RequestsDSN != "" {
		return c.Database.RequestsDSN, nil
	}
	base, ok := c.Database.Clusters[RequestsDefaultCluster]
	if !ok {
		return "", fmt.Errorf("empty, and there is no cluster %s whose server holds the central wiki's database: set it (CreateWiki's virtual-createwiki-central)", RequestsDefaultCluster)
	}
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		return "", err
	}
	cfg.DBName = c.MediaWiki.CentralWiki
	return cfg.FormatDSN(), nil
}

func (c *Config) requestsDSN() error {
	if c.Database.RequestsDSN != "" {
		return dsn(c.Database.RequestsDSN, true)
	}
	_, err := c.RequestsDatabaseDSN()
	return err
}

var domainPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

// domainName accepts a lowercase host name without scheme, port or path,
// as CreateWiki's $wgCreateWikiSubdomain.
func domainName(s string) error {
	if !domainPattern.MatchString(s) || len(s) > 80 {
		return fmt.Errorf("want a domain name such as example.org (lowercase, no scheme, port or path), got %q", s)
	}
	return nil
}

func wikiList(list []string) error {
	for _, w := range list {
		if err := wikiDB(w); err != nil {
			return fmt.Errorf("%q: %v", w, err)
		}
	}
	return nil
}

// Protected tells whether a wiki may never be deleted, renamed or moved:
// the central wiki and those listed in processes.protected_wikis.
func (c *Config) Protected(db string) bool {
	if db == c.MediaWiki.CentralWiki {
		return true
	}
	for _, w := range c.Processes.ProtectedWikis {
		if w == db {
			return true
		}
	}
	return false
}

func nonEmpty(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("missing value")
	}
	return nil
}

func nonEmptySecret(s string) error {
	if s == "" {
		return errors.New("missing: set WIKIFLOW_DATABASE_PASSWORD or database.password_file")
	}
	return nil
}

func optional(s string, check func(string) error) error {
	if s == "" {
		return nil
	}
	return check(s)
}

func positive(d time.Duration) error {
	if d <= 0 {
		return errors.New("must be a positive duration")
	}
	return nil
}

func atLeastOne(n int) error {
	if n < 1 {
		return errors.New("must be at least 1")
	}
	return nil
}

func hostPort(s string) error {
	if s == "" {
		return errors.New("missing value")
	}
	if _, _, err := net.SplitHostPort(s); err != nil {
		return fmt.Errorf("want host:port, got %q", s)
	}
	return nil
}

func httpURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("want an http(s) URL, got %q", s)
	}
	return nil
}

func urlPattern(s string) error {
	if !strings.Contains(s, "{wiki}") {
		return fmt.Errorf("must contain {wiki}, got %q", s)
	}
	return httpURL(strings.ReplaceAll(s, "{wiki}", "x"))
}

func wikiDB(s string) error {
	if !wikiName.MatchString(s) {
		return fmt.Errorf("want a database name of lowercase letters, digits and underscores, got %q", s)
	}
	return nil
}

func scriptCommand(cmd []string) error {
	if len(cmd) == 0 {
		return errors.New("missing value")
	}
	joined := strings.Join(cmd, " ")
	if !strings.Contains(joined, "{script}") || !strings.Contains(joined, "{wiki}") {
		return errors.New("must contain {script} and {wiki}")
	}
	return nil
}

func dsn(s string, needDB bool) error {
	if s == "" {
		return errors.New("missing value")
	}
	cfg, err := mysql.ParseDSN(s)
	if err != nil {
		return fmt.Errorf("not a valid DSN: %v", err)
	}
	if cfg.Passwd != "" {
		return errors.New("must not contain a password: use database.password or database.password_file")
	}
	if needDB && cfg.DBName == "" {
		return errors.New("must name the central database, e.g. user@tcp(host:3306)/wikifarm")
	}
	return nil
}

func clusters(m map[string]string) error {
	if len(m) == 0 {
		return errors.New("missing value: at least one cluster name -> DSN")
	}
	for name, d := range m {
		if err := dsn(d, false); err != nil {
			return fmt.Errorf("cluster %q: %v", name, err)
		}
	}
	return nil
}

// DSNWithPassword returns a DSN with the configured password filled in.
func (c *Config) DSNWithPassword(base string) (string, error) {
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		return "", err
	}
	cfg.Passwd = c.Database.Password
	cfg.ParseTime = true
	cfg.MultiStatements = false
	return cfg.FormatDSN(), nil
}

// Abs resolves a configured path relative to the working directory, so a
// worker started from the repository root and its subprocesses agree.
func Abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// String prints the configuration with secrets masked, for logs.
func (c *Config) String() string {
	var b strings.Builder
	writeMasked(&b, reflect.ValueOf(*c), "")
	return b.String()
}

func writeMasked(b *strings.Builder, v reflect.Value, prefix string) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		key := f.Tag.Get("mapstructure")
		if prefix != "" {
			key = prefix + "." + key
		}
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
			writeMasked(b, v.Field(i), key)
			continue
		}
		val := fmt.Sprint(v.Field(i).Interface())
		if f.Tag.Get("secret") == "true" && val != "" {
			val = "********"
		}
		if f.Type.Kind() == reflect.Map {
			val = "(" + fmt.Sprint(v.Field(i).Len()) + " entries)"
		}
		fmt.Fprintf(b, "%s=%s\n", key, val)
	}
}
