package config

import (
	"fmt"
	"os"
	"reflect"
	"strings"
)

// secretFile is the key naming a file a secret is read from when it is
// empty: the secret's own key with _file appended, if there is one.
func secretFile(s setting) (setting, bool) {
	file, ok := byKey[s.key+"_file"]
	return file, ok
}

// secretSources says where a secret may come from, for messages.
func secretSources(s setting) string {
	if file, ok := secretFile(s); ok {
		return envName(s.key) + " or " + file.key
	}
	return envName(s.key)
}

// resolveSecrets reads secret files; a value given directly wins. A secret
// only the worker needs (usedby:"worker") stays empty when its file cannot be
// read: the worker reports it where it is used, not every command.
func (c *Config) resolveSecrets() error {
	for _, s := range settings {
		if !s.secret() {
			continue
		}
		file, ok := secretFile(s)
		if !ok {
			continue
		}
		dst, path := s.field(c), file.field(c).String()
		if dst.String() != "" || path == "" {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			if s.tag.Get("usedby") != "" {
				continue
			}
			return &Error{Key: file.key, Msg: fmt.Sprintf("cannot read the secret file: %v", err)}
		}
		dst.SetString(strings.TrimSpace(string(b)))
	}
	return nil
}

// HookSecret returns the farm's shared secret, or an error naming the key
// when there is none. The wikis sign their calls of the hook endpoint with
// it, and the worker its writes on the wikis (package signing), so a worker
// needs it even with the endpoint disabled.
func (c *Config) HookSecret() ([]byte, error) {
	secret := byKey[keyOf(c, &c.Hook.Secret)]
	if c.Hook.Secret == "" {
		file, _ := secretFile(secret)
		return nil, &Error{Key: file.key, Msg: fmt.Sprintf("no shared secret, which signs the hook's calls and the worker's writes on the wikis (file %q missing or empty; or set %s)", c.Hook.SecretFile, envName(secret.key))}
	}
	if len(c.Hook.Secret) < 16 {
		return nil, &Error{Key: secret.key, Msg: "the hook secret must have at least 16 characters"}
	}
	return []byte(c.Hook.Secret), nil
}

// String prints the configuration with secrets masked, for logs.
func (c *Config) String() string {
	var b strings.Builder
	for _, s := range settings {
		f := s.field(c)
		val := fmt.Sprint(f.Interface())
		if s.secret() && val != "" {
			val = "********"
		}
		if f.Kind() == reflect.Map {
			val = "(" + fmt.Sprint(f.Len()) + " entries)"
		}
		fmt.Fprintf(&b, "%s=%s\n", s.key, val)
	}
	return b.String()
}
