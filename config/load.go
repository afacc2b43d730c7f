package config

import (
	"errors"
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
	// ("temporal.address") wins.
	Flags *pflag.FlagSet
	// Environ replaces os.Environ, for tests.
	Environ []string
}

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
