package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Error is a configuration problem tied to one key.
type Error struct {
	Key string
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("config: %s: %s", e.Key, e.Msg) }

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
