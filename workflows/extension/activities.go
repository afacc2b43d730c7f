package extension

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/extensions"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
)

// The steps of an extension change. Each takes process.StepInput with the
// wiki in Wiki.DB and Args["extension"]; SourceExtensionSQL also
// Params["file"].
const (
	NameValidateExtensionChange = "ValidateExtensionChange"
	NameSourceExtensionSQL      = "SourceExtensionSQL"
	NameChangeExtensionRights   = "ChangeExtensionRights"
	NameSetExtension            = "SetExtension"
)

// StepActivities lists the extension steps a definition names.
var StepActivities = []string{NameSourceExtensionSQL, NameChangeExtensionRights, NameSetExtension, activities.NameRunMaintenanceScript}

// Keys of the Args and Outputs of the steps.
const (
	ArgExtension     = "extension"
	ArgEnable        = "enable" // "true" to enable, "false" to disable
	OutRestricted    = "restricted"
	OutChangedRights = "changed_rights"
)

// Activities are the extension process's own activities.
type Activities struct{ *activities.Farm }

// ValidateExtensionChange refuses, before anything changes, a change that
// can never be made: an extension the registry does not list, a wiki that is
// not registered, closed, deleted or in a deletion's or restore's hands, an
// extension already in the state asked for, a requirement missing, a
// conflict. Outputs restricted.
func (f *Activities) ValidateExtensionChange(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	e, enable, err := f.extension(in)
	if err != nil {
		return process.StepResult{}, err
	}
	db := in.Wiki.DB
	w, err := f.Central.Wiki(ctx, db)
	if err != nil {
		return process.StepResult{}, activities.CentralErr(db, err)
	}
	switch {
	case w.Deleted:
		return process.StepResult{}, activities.Permanent(activities.ErrTypeWikiNotFound, "%s is deleted", db)
	case w.Closed:
		return process.StepResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "%s is closed: its extensions cannot change", db)
	}
	if why, err := f.UnderDeletion(ctx, db); err != nil || why != "" {
		if err != nil {
			return process.StepResult{}, err
		}
		return process.StepResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "%s: its extensions cannot change", why)
	}
	enabled, err := f.Central.EnabledExtensions(ctx, db)
	if err != nil {
		return process.StepResult{}, err
	}
	check := f.Extensions.CheckDisable
	if enable {
		check = f.Extensions.CheckEnable
	}
	if err := check(e, enabled); err != nil {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "%v", err)
	}
	return process.StepResult{
		Summary: fmt.Sprintf("%s may be %s on %s", e.Name, verb(enable), db),
		Outputs: map[string]string{OutRestricted: strconv.FormatBool(e.Restricted)},
	}, nil
}

// SourceExtensionSQL sources one of the extension's SQL files into the
// wiki's database: every statement made idempotent (CREATE TABLE IF NOT
// EXISTS, ...), resumed after the statements an interrupted attempt
// finished, then the extension's tables checked to be there.
func (f *Activities) SourceExtensionSQL(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	e, _, err := f.extension(in)
	if err != nil {
		return process.StepResult{}, err
	}
	rel := in.Params["file"]
	if !slices.Contains(e.SQL, rel) {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeMisconfigured, "%s is not an SQL file of %s in the registry", rel, e.Name)
	}
	b, err := os.ReadFile(filepath.Join(f.Paths.InstallPath, rel))
	if err != nil {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeMisconfigured, "%s: %v", e.Name, err)
	}
	stmts, err := farmdb.ParseSchema(string(b))
	if err != nil {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeMisconfigured, "%s: %s: %v", e.Name, rel, err)
	}
	cluster, err := f.WikiCluster(ctx, in.Wiki.DB)
	if err != nil {
		return process.StepResult{}, err
	}
	if cluster == "" {
		return process.StepResult{}, activities.Permanent(activities.ErrTypeWikiNotFound, "the database of %s is on no cluster", in.Wiki.DB)
	}
	res, err := f.ApplyStatementsOn(ctx, cluster, in, stmts, filepath.Base(rel))
	if err != nil {
		return res, err
	}
	server, err := f.Clusters.Server(cluster)
	if err != nil {
		return res, err
	}
	tables, err := farmdb.Tables(ctx, server, in.Wiki.DB)
	if err != nil {
		return res, err
	}
	for _, t := range e.Tables {
		if !slices.Contains(tables, t) {
			return res, fmt.Errorf("%s: the table %s is missing after %s", e.Name, t, rel)
		}
	}
	return res, nil
}

// ChangeExtensionRights adds the extension's rights to the wiki's groups
// in mw_permissions (enable), or takes them away (disable). Outputs the
// rights that changed, as group:right.
func (f *Activities) ChangeExtensionRights(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	e, enable, err := f.extension(in)
	if err != nil {
		return process.StepResult{}, err
	}
	var changed []string
	for _, group := range slices.Sorted(maps.Keys(e.Permissions)) {
		rights, err := f.Central.ChangeGroupRights(ctx, in.Wiki.DB, group, e.Permissions[group], enable)
		if err != nil {
			return process.StepResult{}, err
		}
		for _, r := range rights {
			changed = append(changed, group+":"+r)
		}
	}
	return process.StepResult{
		Summary: fmt.Sprintf("%s rights of %s on %s: %d changed", verb(enable), e.Name, in.Wiki.DB, len(changed)),
		Outputs: map[string]string{OutChangedRights: strings.Join(changed, " ")},
	}, nil
}

// SetExtension adds the extension to the wiki's s_extensions (enable) or
// removes it, checks over the wiki's API that MediaWiki loads it (or no
// longer does), and logs managewiki/settings on the wiki as ManageWiki's
// extension form does. A disabled extension's tables and rows stay.
func (f *Activities) SetExtension(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	e, enable, err := f.extension(in)
	if err != nil {
		return process.StepResult{}, err
	}
	db := in.Wiki.DB
	if _, err := f.Central.SetExtension(ctx, db, e.Name, enable); err != nil {
		return process.StepResult{}, err
	}
	loaded, err := f.API.Extensions(ctx, db)
	if err != nil {
		return process.StepResult{}, activities.ClassifyAPI(err)
	}
	if slices.Contains(loaded, f.displayName(e)) != enable {
		return process.StepResult{}, fmt.Errorf("%s is %s in s_extensions but the wiki's API does not show it so yet", e.Name, verb(enable))
	}
	old, next := "enabled", "disabled"
	if enable {
		old, next = next, old
	}
	if err := f.WriteLog(ctx, activities.LogEntry{
		Wiki: db, Type: activities.LogManageWiki, Action: "settings", Performer: in.Requester,
		Target: activities.ProcessPage(in.ProcessID), Comment: in.Args["reason"],
		Params: map[string]any{"4::wiki": db, "5::changes": e.Name, "6::old": old, "7::new": next},
		Key:    activities.StepKey(ctx, in, "managewiki/settings"),
	}); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: fmt.Sprintf("%s %s on %s, as the wiki's API shows", e.Name, next, db)}, nil
}

// displayName is the name MediaWiki lists the extension under
// (meta=siteinfo&siprop=extensions): the "name" of its extension.json,
// which may differ from the name it is loaded by ("Abuse Filter" for
// AbuseFilter).
func (f *Activities) displayName(e extensions.Extension) string {
	b, err := os.ReadFile(filepath.Join(f.Paths.InstallPath, "extensions", e.Name, "extension.json"))
	if err != nil {
		return e.Name
	}
	var manifest struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(b, &manifest) != nil || manifest.Name == "" {
		return e.Name
	}
	return manifest.Name
}

// extension is the step's extension, from the registry, and whether the
// step enables it.
func (f *Activities) extension(in process.StepInput) (extensions.Extension, bool, error) {
	if f.Extensions == nil {
		return extensions.Extension{}, false, activities.Permanent(activities.ErrTypeMisconfigured, "no extension registry is loaded (mediawiki.extension_registry)")
	}
	if _, err := activities.WikiDB(in); err != nil {
		return extensions.Extension{}, false, err
	}
	e, ok := f.Extensions.Get(in.Args[ArgExtension])
	if !ok {
		return extensions.Extension{}, false, activities.Permanent(activities.ErrTypeInvalidInput,
			"unknown extension %q (the registry lists %s)", in.Args[ArgExtension], strings.Join(f.Extensions.Names(), ", "))
	}
	return e, in.Args[ArgEnable] == "true", nil
}

func verb(enable bool) string {
	if enable {
		return "enabled"
	}
	return "disabled"
}
