package config

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// load runs Load with only the given environment and an optional YAML file.
func load(t *testing.T, yaml string, env ...string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	secret := filepath.Join(dir, "pw")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := Options{Environ: append([]string{"WIKIFLOW_DATABASE_PASSWORD_FILE=" + secret}, env...)}
	if yaml != "" {
		opts.File = filepath.Join(dir, "wikiflow.yaml")
		if err := os.WriteFile(opts.File, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return Load(opts)
}

func wantKeyError(t *testing.T, err error, key, contains string) {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("want a config error for %s, got %v", key, err)
	}
	if ce.Key != key || !strings.Contains(ce.Msg, contains) {
		t.Fatalf("want error on %s containing %q, got %q", key, contains, err)
	}
	if strings.Count(err.Error(), "config:") != 1 {
		t.Fatalf("want exactly one message, got %q", err)
	}
}

func TestDefaultsReachTheLocalStack(t *testing.T) {
	c, err := load(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Temporal.Address != "127.0.0.1:7233" || c.Temporal.TaskQueue != "wikiflow" || c.MediaWiki.CentralWiki != "metawiki" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if c.Database.Password != "s3cret" {
		t.Fatalf("password file not read: %q", c.Database.Password)
	}
	if c.Database.Clusters["c1"] == "" {
		t.Fatalf("default cluster missing: %v", c.Database.Clusters)
	}
}

func TestLayering(t *testing.T) {
	flags := pflag.NewFlagSet("x", pflag.ContinueOnError)
	flags.String("temporal.namespace", "", "")
	if err := flags.Parse([]string{"--temporal.namespace=fromflag"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("temporal:\n  task_queue: fromfile\n  namespace: fromfile\nworker:\n  shutdown_timeout: 5s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(Options{File: file, Flags: flags, Environ: []string{
		"WIKIFLOW_DATABASE_PASSWORD=fromenv",
		"WIKIFLOW_TEMPORAL_ADDRESS=temporal.example:7233",
		"WIKIFLOW_MEDIAWIKI_SCRIPT_COMMAND=mwscript {script} --wiki={wiki}",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Temporal.TaskQueue != "fromfile" || c.Temporal.Namespace != "fromflag" || c.Temporal.Address != "temporal.example:7233" {
		t.Fatalf("layering wrong: %+v", c.Temporal)
	}
	if c.Worker.ShutdownTimeout.Seconds() != 5 || c.Database.Password != "fromenv" {
		t.Fatalf("layering wrong: %+v %q", c.Worker, c.Database.Password)
	}
	if strings.Join(c.MediaWiki.ScriptCommand, "|") != "mwscript|{script}|--wiki={wiki}" {
		t.Fatalf("list from env: %q", c.MediaWiki.ScriptCommand)
	}
}

func TestMissingDSN(t *testing.T) {
	_, err := load(t, "database:\n  central_dsn: \"\"\n")
	wantKeyError(t, err, "database.central_dsn", "missing value")
}

func TestDSNWithPasswordRefused(t *testing.T) {
	_, err := load(t, "", "WIKIFLOW_DATABASE_CENTRAL_DSN=u:pw@tcp(h:3306)/wikifarm")
	wantKeyError(t, err, "database.central_dsn", "must not contain a password")
}

func TestWrongTypeNamesTheKey(t *testing.T) {
	_, err := load(t, "temporal:\n  task_queue: [a, b]\n")
	wantKeyError(t, err, "temporal.task_queue", "want a string")
	_, err = load(t, "processes:\n  attention_window: soon\n")
	wantKeyError(t, err, "processes.attention_window", "duration")
}

func TestUnknownKeys(t *testing.T) {
	_, err := load(t, "temporal:\n  adress: x:1\n")
	wantKeyError(t, err, "temporal.adress", "unknown setting")
	_, err = load(t, "", "WIKIFLOW_TEMPORAL_ADRESS=x:1")
	wantKeyError(t, err, "WIKIFLOW_TEMPORAL_ADRESS", "unknown setting")
}

func TestInvalidValues(t *testing.T) {
	for _, tc := range []struct{ env, key, msg string }{
		{"WIKIFLOW_TEMPORAL_ADDRESS=nohostport", "temporal.address", "host:port"},
		{"WIKIFLOW_MEDIAWIKI_URL_PATTERN=http://example.org", "mediawiki.url_pattern", "{wiki}"},
		{"WIKIFLOW_MEDIAWIKI_CENTRAL_WIKI=Meta-Wiki", "mediawiki.central_wiki", "lowercase"},
		{"WIKIFLOW_MEDIAWIKI_SCRIPT_COMMAND=php", "mediawiki.script_command", "{script}"},
		{"WIKIFLOW_NOTIFY_WEBHOOK_URL=ftp://x", "notify.webhook_url", "http"},
		{"WIKIFLOW_EVENTS_NATS_URL=http://127.0.0.1:4222", "events.nats_url", "NATS URL"},
		{"WIKIFLOW_EVENTS_NATS_SUBJECT=wikiflow.>", "events.nats_subject", "wildcards"},
		{"WIKIFLOW_EVENTS_NATS_STREAM=wiki.flow", "events.nats_stream", "stream name"},
		{"WIKIFLOW_EVENTS_EVENTGATE_URL=127.0.0.1:8192/v1/events", "events.eventgate_url", "http"},
		{"WIKIFLOW_EVENTS_BATCH_SIZE=0", "events.batch_size", "at least 1"},
		{"WIKIFLOW_TEMPORAL_GRPC_COMPRESSION=zstd", "temporal.grpc_compression", "none, gzip"},
	} {
		_, err := load(t, "", tc.env)
		wantKeyError(t, err, tc.key, tc.msg)
	}
}

func TestMissingPassword(t *testing.T) {
	_, err := Load(Options{Environ: []string{"WIKIFLOW_DATABASE_PASSWORD_FILE="}})
	wantKeyError(t, err, "database.password", "missing")
	_, err = Load(Options{Environ: []string{"WIKIFLOW_DATABASE_PASSWORD_FILE=/nonexistent/pw"}})
	wantKeyError(t, err, "database.password_file", "cannot read")
}

func TestSecretsNeverPrinted(t *testing.T) {
	c, err := load(t, "", "WIKIFLOW_NOTIFY_WEBHOOK_URL=https://hooks.example/secret-token")
	if err != nil {
		t.Fatal(err)
	}
	s := c.String()
	if strings.Contains(s, "s3cret") || strings.Contains(s, "secret-token") {
		t.Fatalf("secret leaked: %s", s)
	}
	if !strings.Contains(s, "temporal.address=127.0.0.1:7233") {
		t.Fatalf("missing key in %s", s)
	}
}

func TestExtraStepsFromYAML(t *testing.T) {
	c, err := load(t, `processes:
  create_wiki_extra_steps:
    - name: echo-tables
      activity: SourceSQLFile
      requires: [schema]
      before: [register]
      critical: true
      params: {file: extensions/Echo/sql/mysql/tables-generated.sql}
      timeout: 2m
`)
	if err != nil {
		t.Fatal(err)
	}
	steps := c.Processes.CreateWikiExtraSteps
	if len(steps) != 1 || steps[0].Name != "echo-tables" || !steps[0].Critical || steps[0].Before[0] != "register" ||
		steps[0].Params["file"] == "" || steps[0].Timeout.Minutes() != 2 {
		t.Fatalf("decoded: %+v", steps)
	}
	_, err = load(t, "processes:\n  create_wiki_extra_steps:\n    - name: x\n      activty: SourceSQLFile\n")
	wantKeyError(t, err, "processes.create_wiki_extra_steps", "list of steps")
}

// The README's configuration reference lists every key.
func TestReadmeListsEveryKey(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		if !strings.Contains(string(b), "| `"+k+"` |") {
			t.Errorf("README does not document %s", k)
		}
	}
}

// Every key's default is its field's default tag, and nothing else: the
// loaded default is what the tag decodes to, or empty without a tag.
func TestEveryKeyHasOneDefault(t *testing.T) {
	if len(byKey) != len(settings) {
		t.Fatalf("%d fields share a key", len(settings)-len(byKey))
	}
	var sections func(reflect.Type, string)
	sections = func(typ reflect.Type, prefix string) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.Tag.Get("mapstructure") == "" {
				t.Errorf("%s%s has no mapstructure tag", prefix, f.Name)
			}
			if f.Type.Kind() == reflect.Struct {
				if _, ok := f.Tag.Lookup("default"); ok {
					t.Errorf("section %s%s has a default tag; its keys have theirs", prefix, f.Name)
				}
				sections(f.Type, prefix+f.Name+".")
			}
		}
	}
	sections(reflect.TypeFor[Config](), "")

	c, err := Load(Options{Environ: []string{"WIKIFLOW_DATABASE_PASSWORD=x"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		if s.secret() {
			if _, ok := s.tag.Lookup("default"); ok {
				t.Errorf("secret %s has a default: it would be in the repository", s.key)
			}
			continue
		}
		raw, err := s.defaultValue()
		if err != nil {
			t.Errorf("%s: %v", s.key, err)
			continue
		}
		want := reflect.New(s.typ).Elem()
		if err := s.decode(raw, want); err != nil {
			t.Errorf("default tag of %s: %v", s.key, err)
			continue
		}
		if got := s.field(c); !reflect.DeepEqual(got.Interface(), want.Interface()) {
			t.Errorf("%s: loaded %#v, its tag says %#v", s.key, got, want)
		}
	}
}

// README's table gives each key's default as its tag writes it, or a
// parenthesised word such as (empty) or (none) when it has none.
func TestReadmeGivesEveryDefault(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		_, row, ok := strings.Cut(string(b), "| `"+k+"` | ")
		if !ok {
			continue // TestReadmeListsEveryKey reports it
		}
		cell, _, _ := strings.Cut(row, " |")
		if d := Default(k); d != "" && cell != "`"+d+"`" || d == "" && !strings.HasPrefix(cell, "(") {
			t.Errorf("README gives %s the default %s, its field %q", k, cell, d)
		}
	}
}

// Every secret is masked by String, left out of the flags, and refused when
// a caller's own flag set has it anyway.
func TestEverySecretMaskedAndRefusedAsFlag(t *testing.T) {
	var env []string
	for _, s := range settings {
		if s.secret() {
			// a value every secret's check accepts (the webhook's is a URL)
			env = append(env, envName(s.key)+"=https://secret.example/"+s.key+"-0123456789abcdef")
		}
	}
	if len(env) == 0 {
		t.Fatal("no secret:\"true\" field")
	}
	c, err := load(t, "", env...)
	if err != nil {
		t.Fatal(err)
	}
	printed := c.String()
	for _, s := range settings {
		if !s.secret() {
			continue
		}
		if strings.Contains(printed, s.key+"-0123456789abcdef") || !strings.Contains(printed, "\n"+s.key+"=********\n") {
			t.Errorf("%s not masked in:\n%s", s.key, printed)
		}

		fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		AddFlags(fs)
		if fs.Lookup(s.key) != nil || fs.Parse([]string{"--" + s.key + "=x"}) == nil {
			t.Errorf("--%s is accepted as a flag", s.key)
		}

		own := pflag.NewFlagSet("own", pflag.ContinueOnError)
		own.String(s.key, "", "")
		if err := own.Parse([]string{"--" + s.key + "=x"}); err != nil {
			t.Fatal(err)
		}
		_, err := Load(Options{Flags: own, Environ: []string{"WIKIFLOW_DATABASE_PASSWORD=x"}})
		wantKeyError(t, err, s.key, "not taken from the command line")
	}
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	AddFlags(fs)
	if fs.Lookup("database.password_file") == nil {
		t.Error("a secret's file is a flag like any other key")
	}
}

// Every check tag names a check for its field's type.
func TestEveryCheckFitsItsField(t *testing.T) {
	for _, s := range settings {
		name, _ := strings.CutSuffix(s.tag.Get("check"), ",optional")
		if name == "" {
			continue
		}
		if ch, ok := checks[name]; !ok {
			t.Errorf("%s: no check %q", s.key, name)
		} else if ch.typ != s.typ {
			t.Errorf("%s: check %q is for %v, the field is %v", s.key, name, ch.typ, s.typ)
		}
	}
}

// The event sinks are off when their URLs are empty, and a NATS cluster's
// URLs may be listed together.
func TestEventSinksCanBeOff(t *testing.T) {
	c, err := load(t, "events:\n  nats_url: \"\"\n")
	if err != nil || c.Events.NATSURL != "" || c.Events.EventGateURL != "" {
		t.Fatalf("sinks off: %+v, %v", c.Events, err)
	}
	c, err = load(t, "", "WIKIFLOW_EVENTS_NATS_URL=nats://a:4222,nats://b:4222", "WIKIFLOW_EVENTS_EVENTGATE_URL=http://eventgate:8192/v1/events")
	if err != nil || c.Events.NATSURL != "nats://a:4222,nats://b:4222" || c.Events.EventGateURL == "" {
		t.Fatalf("sinks on: %+v, %v", c.Events, err)
	}
}
