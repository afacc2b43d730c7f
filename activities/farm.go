package activities

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/wikiflow/wikiflow/extensions"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/mediawiki"
	"github.com/wikiflow/wikiflow/notify"
	"github.com/wikiflow/wikiflow/settings"
)

// Farm holds the dependencies of the activities; it is registered once, by
// pointer, and workflows name its methods through a nil *Farm or, for steps
// defined as data, by the names in names.go.
type Farm struct {
	Central  *farmdb.Central
	Clusters *farmdb.Clusters
	API      *mediawiki.Client
	Scripts  *mediawiki.Scripts
	Notifier *notify.Notifier
	Rules    WikiRules
	Paths    Paths
	Backup   BackupConfig
	Settings *settings.Registry
	// Extensions is the farm's extension registry (farm/extensions.json).
	Extensions *extensions.Registry
	// Processes answers whether a workflow run is still open (ownership).
	Processes ProcessChecker
	// WikiLists are the farm's cached wiki lists, refreshed after changes.
	WikiLists WikiLists
	// SchemaPools hold finished schemas a creation moves in (nil: none).
	SchemaPools *farmdb.SchemaPools

	languagesOnce sync.Once
	languages     map[string]bool
	languagesErr  error
}

// BackupConfig says where database backups go and which MariaDB tools
// make and restore them.
type BackupConfig struct {
	Dir           string
	DumpCommand   string
	ClientCommand string
}

// Paths are the places on disk the activities use.
type Paths struct {
	// InstallPath is MediaWiki's code (schema and data files).
	InstallPath string
	// UploadRoot holds one upload directory per wiki.
	UploadRoot string
	// MainPageTemplate is the text of a new wiki's main page; empty uses the built-in one.
	MainPageTemplate string
}

type LookupWikiInput struct {
	DB string
}

type LookupWikiResult struct {
	Wiki farmdb.Wiki
}

// LookupWiki reads a wiki's registration from cw_wikis.
func (f *Farm) LookupWiki(ctx context.Context, in LookupWikiInput) (LookupWikiResult, error) {
	w, err := f.Central.Wiki(ctx, in.DB)
	if errors.Is(err, farmdb.ErrWikiNotFound) {
		return LookupWikiResult{}, Permanent(ErrTypeWikiNotFound, "%s is not registered in cw_wikis", in.DB)
	}
	return LookupWikiResult{Wiki: w}, err
}

type SiteInfoInput struct {
	Wiki string
}

type SiteInfoResult struct {
	SiteInfo mediawiki.SiteInfo
}

// ReadSiteInfo asks the wiki itself, over its API, what it is.
func (f *Farm) ReadSiteInfo(ctx context.Context, in SiteInfoInput) (SiteInfoResult, error) {
	si, err := f.API.SiteInfo(ctx, in.Wiki)
	if err != nil {
		return SiteInfoResult{}, ClassifyAPI(err)
	}
	si.Raw = nil // keep histories small
	return SiteInfoResult{SiteInfo: si}, nil
}

func (f *Farm) UploadDir(db string) (string, error) {
	if err := farmdb.CheckDBName(db); err != nil {
		return "", Permanent(ErrTypeInvalidInput, "%v", err)
	}
	if f.Paths.UploadRoot == "" {
		return "", Permanent(ErrTypeMisconfigured, "mediawiki.upload_root is not set")
	}
	return filepath.Join(f.Paths.UploadRoot, db), nil
}

// WikiCluster is the cluster holding the wiki's database: cw_wikis says,
// and for a wiki not (or no longer) registered the clusters are asked. ""
// means no cluster has the database.
func (f *Farm) WikiCluster(ctx context.Context, db string) (string, error) {
	w, err := f.Central.Wiki(ctx, db)
	if err != nil && !errors.Is(err, farmdb.ErrWikiNotFound) {
		return "", err
	}
	if err == nil && w.Cluster != "" {
		if _, serr := f.Clusters.Server(w.Cluster); serr != nil {
			return "", Permanent(ErrTypeMisconfigured, "%s is on cluster %s, which is not configured (database.clusters)", db, w.Cluster)
		}
		ok, err := f.Clusters.DatabaseExists(ctx, w.Cluster, db)
		if err != nil || ok {
			return w.Cluster, err
		}
	}
	return f.Clusters.FindDatabase(ctx, db)
}

// CentralErr is err from a change of db's central rows, a missing cw_wikis
// row made the permanent failure it is.
func CentralErr(db string, err error) error {
	if errors.Is(err, farmdb.ErrWikiNotFound) {
		return Permanent(ErrTypeWikiNotFound, "%s is not registered in cw_wikis", db)
	}
	return err
}

// CloseServed closes db in cw_wikis with reason (the first closing time is
// kept on a rerun), refreshes the wiki lists and checks over the API that
// the farm serves it read-only now; a wiki already marked deleted is not
// served at all, which is fine too.
func (f *Farm) CloseServed(ctx context.Context, db, reason string) error {
	if err := f.Central.CloseWiki(ctx, db, reason, time.Now()); err != nil {
		return CentralErr(db, err)
	}
	if err := f.RefreshWikiLists(ctx, db); err != nil {
		return err
	}
	si, err := f.API.SiteInfo(ctx, db)
	switch {
	case errors.Is(err, mediawiki.ErrUnknownWiki):
		w, werr := f.Central.Wiki(ctx, db)
		if werr != nil {
			return CentralErr(db, werr)
		}
		if !w.Deleted {
			return fmt.Errorf("%s is closed in cw_wikis but the farm does not serve it: %w", db, err)
		}
	case err != nil:
		return err
	case !si.ReadOnly:
		return fmt.Errorf("%s is closed in cw_wikis but its API does not report it read-only yet", db)
	}
	return nil
}

// ReopenServed reopens db in cw_wikis (not closed, not deleted, no reason
// or timestamps left), refreshes the wiki lists and checks over the API
// that the farm serves it writable again.
func (f *Farm) ReopenServed(ctx context.Context, db string) error {
	if err := f.Central.Reopen(ctx, db); err != nil {
		return CentralErr(db, err)
	}
	if err := f.RefreshWikiLists(ctx, db); err != nil {
		return err
	}
	si, err := f.API.SiteInfo(ctx, db)
	if err != nil {
		// Not ClassifyAPI: a wiki just reopened may take a moment to be served.
		return fmt.Errorf("%s is reopened in cw_wikis but its API does not answer: %w", db, err)
	}
	if si.ReadOnly {
		return fmt.Errorf("%s is reopened in cw_wikis but its API still reports it read-only: %s", db, si.ReadOnlyReason)
	}
	return nil
}
