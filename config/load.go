package config

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"

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

// Options say where to read from; zero values mean the usual places.
type Options struct {
	// File is an explicit config file; it must exist when set.
	File string
	// Flags are bound over everything else: a set flag named like a key
	// ("temporal.address") wins; one named like a secret is refused.
	Flags *pflag.FlagSet
	// Environ replaces os.Environ, for tests.
	Environ []string
}

// Load reads and validates the configuration.
func Load(opts Options) (*Config, error) {
	v := viper.New()
	for _, s := range settings {
		val, err := s.defaultValue()
		if err != nil {
			return nil, err
		}
		v.SetDefault(s.key, val)
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
			s, known := byKey[f.Name]
			switch {
			case !known || flagErr != nil:
			case s.secret():
				flagErr = &Error{Key: s.key, Msg: "a secret is not taken from the command line: set " + secretSources(s)}
			default:
				flagErr = setFromText(v, s, f.Value.String())
			}
		})
		if flagErr != nil {
			return nil, flagErr
		}
	}
	var c Config
	for _, key := range Keys() {
		s := byKey[key]
		if err := s.decode(v.Get(key), s.field(&c)); err != nil {
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
	byEnv := map[string]setting{}
	for _, s := range settings {
		byEnv[envName(s.key)] = s
	}
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix+"_") {
			continue
		}
		s, known := byEnv[name]
		if !known {
			if isStackVariable(name) {
				continue
			}
			return &Error{Key: name, Msg: "unknown setting (see README for the list of keys)"}
		}
		if err := setFromText(v, s, val); err != nil {
			return err
		}
	}
	return nil
}

// setFromText sets a key from the text of an environment variable or a flag.
func setFromText(v *viper.Viper, s setting, text string) error {
	val, err := s.fromText(text)
	if err != nil {
		return err
	}
	v.Set(s.key, val)
	return nil
}

// AddFlags adds one string flag per key ("--temporal.address"), so any
// setting but a secret can be given on the command line: secrets on a command
// line end up in process lists and shell history.
func AddFlags(fs *pflag.FlagSet) {
	for _, key := range Keys() {
		if byKey[key].secret() {
			continue
		}
		fs.String(key, "", fmt.Sprintf("overrides %s (default %v)", key, Default(key)))
		_ = fs.MarkHidden(key)
	}
}

// isStackVariable tells the local stack's own variables (read by its shell
// scripts and MediaWiki settings) from misspelt worker settings. The ports and
// the hook URL reach the worker's environment on purpose: the maintenance
// scripts it runs read them (farm/bin/stack env, farm/bin/run-workers).
func isStackVariable(name string) bool {
	switch name {
	case "WIKIFLOW_STATE_DIR", "WIKIFLOW_FAST_DB", "WIKIFLOW_CENTRAL_DB", "WIKIFLOW_MW_PORT",
		"WIKIFLOW_DATABASE_HOST", "WIKIFLOW_DATABASE_USER", "WIKIFLOW_MW_SECRET_KEY", "WIKIFLOW_MW_DIR",
		"WIKIFLOW_DB_PORT", "WIKIFLOW_TEMPORAL_PORT", "WIKIFLOW_UI_PORT", "WIKIFLOW_PG_PORT",
		"WIKIFLOW_WORKER_PORT", "WIKIFLOW_CLUSTER", "WIKIFLOW_HOOK_URL", "WIKIFLOW_NATS_PORT":
		return true
	}
	return false
}

// unknownKeys refuses keys the program does not know, so a misspelt key in the
// file is an error rather than an ignored line.
func unknownKeys(values map[string]any, prefix string) error {
	for k, val := range values {
		full := k
		if prefix != "" {
			full = prefix + "." + k
		}
		if _, ok := byKey[full]; ok {
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

// decode decodes a value of the key into a field of its type, strictly, so
// the error names the key and the type it wanted.
func (s setting) decode(raw any, field reflect.Value) error {
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
		return &Error{Key: s.key, Msg: fmt.Sprintf("want %s, got %v (%T)", typeName(field.Type()), raw, raw)}
	}
	return nil
}

// stringScalars lets environment variables, flags and default tags (always
// strings) fill numeric fields, while a YAML list or map in a string field
// stays an error.
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
	case t == reflect.TypeFor[time.Duration]():
		return "a duration such as 30s or 168h"
	case t == reflect.TypeFor[[]ExtraStep]():
		return "a list of steps (" + strings.Join(fieldNames(t.Elem()), ", ") + ")"
	case t.Kind() == reflect.Slice:
		return "a list of strings"
	case t.Kind() == reflect.Map:
		return "a map of names to strings"
	default:
		return "a " + t.Kind().String()
	}
}

// fieldNames are the keys of a struct written in YAML (ExtraStep's).
func fieldNames(t reflect.Type) []string {
	names := make([]string, t.NumField())
	for i := range names {
		names[i] = t.Field(i).Tag.Get("mapstructure")
	}
	return names
}
