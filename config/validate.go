package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"slices"
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

// Validate checks every value in the order of Config's fields, each with the
// check its check tag names (",optional": an empty value is not checked);
// the first problem is returned naming its key.
func (c *Config) Validate() error {
	for _, s := range settings {
		name, optional := strings.CutSuffix(s.tag.Get("check"), ",optional")
		if name == "" || optional && s.field(c).IsZero() {
			continue
		}
		if err := checks[name].run(c, s); err != nil {
			return &Error{Key: s.key, Msg: err.Error()}
		}
	}
	return nil
}

// A check validates the value of one key.
type check struct {
	typ reflect.Type // the type of the fields it applies to
	run func(c *Config, s setting) error
}

// checkOf makes a check that sees the whole configuration and the key.
func checkOf[T any](run func(c *Config, s setting, v T) error) check {
	return check{reflect.TypeFor[T](), func(c *Config, s setting) error {
		return run(c, s, s.field(c).Interface().(T))
	}}
}

// valueCheck makes a check of the value alone.
func valueCheck[T any](f func(T) error) check {
	return checkOf(func(_ *Config, _ setting, v T) error { return f(v) })
}

// checks are the names a check tag may give.
var checks = map[string]check{
	"nonempty":         valueCheck(nonEmpty),
	"host_port":        valueCheck(hostPort),
	"http_url":         valueCheck(httpURL),
	"url_pattern":      valueCheck(urlPattern),
	"wiki_db":          valueCheck(wikiDB),
	"wiki_list":        valueCheck(wikiList),
	"domain_name":      valueCheck(domainName),
	"script_command":   valueCheck(scriptCommand),
	"positive":         valueCheck(positive),
	"at_least_one":     valueCheck(atLeastOne),
	"not_negative":     valueCheck(notNegative),
	"at_least_two":     valueCheck(atLeastTwo),
	"nats_url":         valueCheck(natsURL),
	"nats_subject":     valueCheck(natsSubject),
	"nats_stream":      valueCheck(natsStream),
	"grpc_compression": valueCheck(grpcCompression),
	"database_dsn": checkOf(func(c *Config, _ setting, s string) error {
		return c.dsn(s, true)
	}),
	"clusters": checkOf(func(c *Config, _ setting, m map[string]string) error {
		return c.clusters(m)
	}),
	"requests_dsn": checkOf(func(c *Config, _ setting, s string) error {
		if s != "" {
			return c.dsn(s, true)
		}
		_, err := c.RequestsDatabaseDSN()
		return err
	}),
	"required_secret": checkOf(func(_ *Config, s setting, v string) error {
		if v == "" {
			return errors.New("missing: set " + secretSources(s))
		}
		return nil
	}),
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

func positive(d time.Duration) error {
	if d <= 0 {
		return errors.New("must be a positive duration")
	}
	return nil
}

func atLeastTwo(n int) error {
	if n < 2 {
		return errors.New("must be at least 2")
	}
	return nil
}

func notNegative(n int) error {
	if n < 0 {
		return errors.New("must be 0 or more")
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

var wikiName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

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

func (c *Config) dsn(s string, needDB bool) error {
	if s == "" {
		return errors.New("missing value")
	}
	cfg, err := mysql.ParseDSN(s)
	if err != nil {
		return fmt.Errorf("not a valid DSN: %v", err)
	}
	if cfg.Passwd != "" {
		password := byKey[keyOf(c, &c.Database.Password)]
		file, _ := secretFile(password)
		return errors.New("must not contain a password: use " + password.key + " or " + file.key)
	}
	if needDB && cfg.DBName == "" {
		return errors.New("must name the central database, e.g. user@tcp(host:3306)/wikifarm")
	}
	return nil
}

func (c *Config) clusters(m map[string]string) error {
	if len(m) == 0 {
		return errors.New("missing value: at least one cluster name -> DSN")
	}
	for name, d := range m {
		if err := c.dsn(d, false); err != nil {
			return fmt.Errorf("cluster %q: %v", name, err)
		}
	}
	return nil
}

// natsURL accepts one NATS server URL (nats://, tls://) or several, comma
// separated, as the NATS client takes them.
func natsURL(s string) error {
	for _, one := range strings.Split(s, ",") {
		u, err := url.Parse(strings.TrimSpace(one))
		if err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
			return fmt.Errorf("want a NATS URL such as nats://127.0.0.1:4222, got %q", one)
		}
	}
	return nil
}

var natsToken = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// natsSubject accepts a subject to publish on: dot-separated tokens, no
// wildcards or spaces.
func natsSubject(s string) error {
	for _, tok := range strings.Split(s, ".") {
		if !natsToken.MatchString(tok) {
			return fmt.Errorf("want a NATS subject of dot-separated tokens without wildcards, such as wikiflow.process.change, got %q", s)
		}
	}
	return nil
}

// grpcCompressions are the values temporal.grpc_compression takes.
var grpcCompressions = []string{"none", "gzip"}

func grpcCompression(s string) error {
	if !slices.Contains(grpcCompressions, s) {
		return fmt.Errorf("want one of %s, got %q", strings.Join(grpcCompressions, ", "), s)
	}
	return nil
}

// natsStream accepts a JetStream stream name (no dots, wildcards or spaces).
func natsStream(s string) error {
	if !natsToken.MatchString(s) || len(s) > 64 {
		return fmt.Errorf("want a JetStream stream name of letters, digits, '-' and '_', such as WIKIFLOW, got %q", s)
	}
	return nil
}
