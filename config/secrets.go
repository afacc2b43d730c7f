package config

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"
)

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
