// Package extensions reads the farm's extension registry, the one list of
// extensions a wiki may enable, shared by the worker and the farm's PHP
// (farm/mediawiki/LocalSettings.php loads the wiki's mw_settings.s_extensions
// that farm/extensions.json lists).
//
// An entry says what enabling the extension takes, in the terms of
// ManageWiki's install steps: SQL files sourced into the wiki's database
// (and the tables they make, checked afterwards), rights added to the
// wiki's groups in mw_permissions, maintenance scripts run after those;
// what it requires and conflicts with; and whether it is restricted (a
// steward approves).
package extensions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Extension is one entry of the registry.
type Extension struct {
	Name        string              `json:"-"`
	Description string              `json:"description"`
	Restricted  bool                `json:"restricted,omitempty"`
	Requires    []string            `json:"requires,omitempty"`
	Conflicts   []string            `json:"conflicts,omitempty"`
	SQL         []string            `json:"sql,omitempty"`
	Tables      []string            `json:"tables,omitempty"`
	Permissions map[string][]string `json:"permissions,omitempty"`
	Scripts     []Script            `json:"scripts,omitempty"`
}

// Script is a maintenance script run once the extension's tables and rights
// are there, with its arguments.
type Script struct {
	Script string   `json:"script"`
	Args   []string `json:"args,omitempty"`
}

// Registry is the parsed registry.
type Registry struct {
	byName map[string]Extension
}

var (
	namePattern   = regexp.MustCompile(`^[A-Z][A-Za-z0-9_]{0,63}$`)
	groupPattern  = regexp.MustCompile(`^(\*|[a-z][a-z0-9_-]{0,63})$`)
	rightPattern  = regexp.MustCompile(`^[a-z][a-z0-9-]{0,99}$`)
	tablePattern  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	scriptPattern = regexp.MustCompile(`^[A-Za-z0-9_./-]{1,200}$`)
)

// Load reads and checks the registry file.
func Load(file string) (*Registry, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	r, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return r, nil
}

// Parse reads a registry and refuses one that names an unknown extension
// in requires or conflicts, a path out of MediaWiki's tree, or a field it
// does not know (a typo would otherwise be an install step silently
// skipped).
func Parse(b []byte) (*Registry, error) {
	var doc struct {
		Comment    string               `json:"comment"`
		Extensions map[string]Extension `json:"extensions"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("the extension registry is not valid: %w", err)
	}
	r := &Registry{byName: map[string]Extension{}}
	for name, e := range doc.Extensions {
		e.Name = name
		r.byName[name] = e
	}
	for _, name := range r.Names() {
		if err := r.check(r.byName[name]); err != nil {
			return nil, fmt.Errorf("extension %s: %w", name, err)
		}
	}
	return r, nil
}

func (r *Registry) check(e Extension) error {
	if !namePattern.MatchString(e.Name) {
		return fmt.Errorf("the name must match %s", namePattern)
	}
	for _, other := range append(slices.Clone(e.Requires), e.Conflicts...) {
		if _, ok := r.byName[other]; !ok || other == e.Name {
			return fmt.Errorf("requires or conflicts with %q, which is not another extension of the registry", other)
		}
	}
	for _, f := range e.SQL {
		if path.IsAbs(f) || strings.Contains(f, "..") || !strings.HasSuffix(f, ".sql") {
			return fmt.Errorf("the sql file %q must be a .sql file inside MediaWiki's install path", f)
		}
	}
	if len(e.SQL) > 0 && len(e.Tables) == 0 {
		return fmt.Errorf("sql files without the tables they create")
	}
	for _, t := range e.Tables {
		if !tablePattern.MatchString(t) {
			return fmt.Errorf("invalid table name %q", t)
		}
	}
	for group, rights := range e.Permissions {
		if !groupPattern.MatchString(group) {
			return fmt.Errorf("invalid group %q", group)
		}
		for _, right := range rights {
			if !rightPattern.MatchString(right) {
				return fmt.Errorf("invalid right %q of group %s", right, group)
			}
		}
	}
	for _, s := range e.Scripts {
		if !scriptPattern.MatchString(s.Script) || strings.Contains(s.Script, "..") {
			return fmt.Errorf("invalid maintenance script %q", s.Script)
		}
	}
	return nil
}

// Get finds an extension by its exact name.
func (r *Registry) Get(name string) (Extension, bool) {
	e, ok := r.byName[name]
	return e, ok
}

// Names lists the extensions, sorted.
func (r *Registry) Names() []string { return slices.Sorted(maps.Keys(r.byName)) }

// CheckEnable refuses enabling e on a wiki whose enabled extensions are
// enabled: an extension it requires is missing, or one it conflicts with
// (either way round) is there.
func (r *Registry) CheckEnable(e Extension, enabled []string) error {
	if slices.Contains(enabled, e.Name) {
		return fmt.Errorf("%s is already enabled", e.Name)
	}
	for _, req := range e.Requires {
		if !slices.Contains(enabled, req) {
			return fmt.Errorf("%s requires %s, which is not enabled", e.Name, req)
		}
	}
	for _, other := range enabled {
		o, _ := r.Get(other)
		if slices.Contains(e.Conflicts, other) || slices.Contains(o.Conflicts, e.Name) {
			return fmt.Errorf("%s conflicts with %s, which is enabled", e.Name, other)
		}
	}
	return nil
}

// CheckDisable refuses disabling e while it is not enabled or another
// enabled extension requires it.
func (r *Registry) CheckDisable(e Extension, enabled []string) error {
	if !slices.Contains(enabled, e.Name) {
		return fmt.Errorf("%s is not enabled", e.Name)
	}
	for _, other := range enabled {
		if o, ok := r.Get(other); ok && slices.Contains(o.Requires, e.Name) {
			return fmt.Errorf("%s requires %s: disable it first", other, e.Name)
		}
	}
	return nil
}
