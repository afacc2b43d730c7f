// Package service wires the worker: it connects to Temporal, the central
// database and MediaWiki, registers every workflow and activity, and answers
// health checks. worker/main.go and the integration tests share it, so the
// tests run exactly what production runs.
package service

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/extensions"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/mediawiki"
	"github.com/wikiflow/wikiflow/notify"
	"github.com/wikiflow/wikiflow/settings"
	"github.com/wikiflow/wikiflow/workflows"
	"github.com/wikiflow/wikiflow/workflows/changesetting"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/extension"
	"github.com/wikiflow/wikiflow/workflows/inactivity"
	"github.com/wikiflow/wikiflow/workflows/renamewiki"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
	"github.com/wikiflow/wikiflow/workflows/restorewiki"
)

// Deps are the live connections every part of the service uses.
type Deps struct {
	Config   *config.Config
	Temporal client.Client
	Central  *farmdb.Central
	Clusters *farmdb.Clusters
	API      *mediawiki.Client
	Scripts  *mediawiki.Scripts
	Logger   *slog.Logger
	// Metrics is what /metrics serves; the Temporal client reports into it.
	Metrics *Metrics
	// SchemaPools are shared by every worker of the process.
	SchemaPools *farmdb.SchemaPools
}

// DialTemporal connects to the Temporal server, failing fast with one clear
// message when it does not answer.
func DialTemporal(ctx context.Context, cfg *config.Config, logger *slog.Logger) (client.Client, error) {
	return dialTemporal(ctx, cfg, logger, nil)
}

// dialTemporal is DialTemporal with the SDK's metrics going to metrics
// (nil: nowhere).
func dialTemporal(ctx context.Context, cfg *config.Config, logger *slog.Logger, metrics client.MetricsHandler) (client.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{
		HostPort:          cfg.Temporal.Address,
		Namespace:         cfg.Temporal.Namespace,
		Logger:            tlog.NewStructuredLogger(logger),
		MetricsHandler:    metrics,
		ConnectionOptions: client.ConnectionOptions{GrpcCompression: grpcCompression(cfg.Temporal.GRPCCompression)},
	})
	if err != nil {
		return nil, fmt.Errorf("cannot reach Temporal at %s (temporal.address): %v", cfg.Temporal.Address, err)
	}
	return c, nil
}

// grpcCompression is the SDK's option for temporal.grpc_compression, which
// Validate has checked.
func grpcCompression(name string) client.GrpcCompression {
	if name == "gzip" {
		return &client.GrpcCompressionGzip{}
	}
	return &client.GrpcCompressionNone{}
}

// Open connects everything. The caller closes the result.
func Open(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*Deps, error) {
	if err := checkServiceAccount(cfg); err != nil {
		return nil, err
	}
	writeSecret, err := cfg.HookSecret()
	if err != nil {
		return nil, err
	}
	metrics := NewMetrics(logger)
	tc, err := dialTemporal(ctx, cfg, logger, metrics.Handler)
	if err != nil {
		_ = metrics.Close()
		return nil, err
	}
	dsn, err := cfg.DSNWithPassword(cfg.Database.CentralDSN)
	if err != nil {
		tc.Close()
		return nil, fmt.Errorf("database.central_dsn: %v", err)
	}
	db, err := farmdb.Open(dsn)
	if err != nil {
		tc.Close()
		return nil, fmt.Errorf("database.central_dsn: %v", err)
	}
	// CreateWiki's request tables live in the central wiki's own database.
	reqBase, err := cfg.RequestsDatabaseDSN()
	if err != nil {
		tc.Close()
		db.Close()
		return nil, fmt.Errorf("database.requests_dsn: %v", err)
	}
	reqDSN, err := cfg.DSNWithPassword(reqBase)
	if err != nil {
		tc.Close()
		db.Close()
		return nil, fmt.Errorf("database.requests_dsn: %v", err)
	}
	reqDB, err := farmdb.Open(reqDSN)
	if err != nil {
		tc.Close()
		db.Close()
		return nil, fmt.Errorf("database.requests_dsn: %v", err)
	}
	clusterDSNs := map[string]string{}
	for name, base := range cfg.Database.Clusters {
		if clusterDSNs[name], err = cfg.DSNWithPassword(base); err != nil {
			tc.Close()
			db.Close()
			reqDB.Close()
			return nil, fmt.Errorf("database.clusters: %s: %v", name, err)
		}
	}
	clusters, err := farmdb.OpenClusters(clusterDSNs)
	if err != nil {
		tc.Close()
		db.Close()
		reqDB.Close()
		return nil, fmt.Errorf("database.clusters: %v", err)
	}
	// Every read is made as the service account, so private wikis answer;
	// every write is signed with the shared secret.
	api := mediawiki.NewClient(cfg.MediaWiki.URLPattern, cfg.MediaWiki.DialAddress,
		mediawiki.WithServiceAccount(cfg.MediaWiki.ServiceUser, cfg.MediaWiki.ServicePassword),
		mediawiki.WithWriteSecret(writeSecret))
	return &Deps{
		Config:   cfg,
		Temporal: tc,
		Central:  &farmdb.Central{DB: db, RequestsDB: reqDB},
		Clusters: clusters,
		API:      api,
		Scripts:  mediawiki.NewScripts(cfg.MediaWiki.ScriptCommand, ""),
		Logger:   logger,
		Metrics:  metrics,
		SchemaPools: &farmdb.SchemaPools{
			Clusters:   clusters,
			Size:       cfg.Database.SchemaPoolSize,
			Statements: func() ([]farmdb.Statement, error) { return createwiki.CoreSchema(cfg.MediaWiki.InstallPath) },
			Logger:     logger,
		},
	}, nil
}

// checkServiceAccount refuses a worker without the service account's
// password: private wikis answer nobody else, and the rights checks need to
// read every wiki, so a worker without it would fail later and less clearly.
func checkServiceAccount(cfg *config.Config) error {
	if cfg.MediaWiki.ServiceUser == "" {
		return &config.Error{Key: "mediawiki.service_user", Msg: "missing: the farm account the worker reads wikis with (a bot password login, <user>@<app>)"}
	}
	if cfg.MediaWiki.ServicePassword == "" {
		return &config.Error{Key: "mediawiki.service_password_file", Msg: fmt.Sprintf("no password for the service account %s (file %q missing or empty; or set WIKIFLOW_MEDIAWIKI_SERVICE_PASSWORD; farm/bin/stack up creates both on the local farm)", cfg.MediaWiki.ServiceUser, cfg.MediaWiki.ServicePasswordFile)}
	}
	return nil
}

// Close releases the connections.
func (d *Deps) Close() {
	d.Temporal.Close()
	d.Central.DB.Close()
	if d.Central.RequestsDB != nil {
		d.Central.RequestsDB.Close()
	}
	d.Clusters.Close()
	_ = d.Metrics.Close()
}

// Activities builds the activity structs from the live dependencies.
func (d *Deps) Activities() (*activities.Farm, error) {
	cfg := d.Config
	template := ""
	if cfg.MediaWiki.MainPageTemplate != "" {
		b, err := os.ReadFile(cfg.MediaWiki.MainPageTemplate)
		if err != nil {
			return nil, fmt.Errorf("mediawiki.main_page_template: %v", err)
		}
		template = string(b)
	}
	reg, err := settings.Load(cfg.MediaWiki.SettingsRegistry)
	if err != nil {
		return nil, fmt.Errorf("mediawiki.settings_registry: %v", err)
	}
	exts, err := extensions.Load(cfg.MediaWiki.ExtensionRegistry)
	if err != nil {
		return nil, fmt.Errorf("mediawiki.extension_registry: %v", err)
	}
	return &activities.Farm{
		Central:  d.Central,
		Clusters: d.Clusters,
		API:      d.API,
		Scripts:  d.Scripts,
		Notifier: &notify.Notifier{
			SMTPAddress: cfg.Notify.SMTP.Address,
			From:        cfg.Notify.SMTP.From,
			Username:    cfg.Notify.SMTP.Username,
			Password:    cfg.Notify.SMTP.Password,
			WebhookURL:  cfg.Notify.WebhookURL,
		},
		Rules:       activities.WikiRules{Suffix: cfg.MediaWiki.DBSuffix, Subdomain: cfg.MediaWiki.Subdomain, CentralWiki: cfg.MediaWiki.CentralWiki},
		Settings:    reg,
		Extensions:  exts,
		Processes:   openRuns{temporal: d.Temporal},
		WikiLists:   activities.WikiLists{Dir: dirOrEmpty(cfg.MediaWiki.WikiListDir), Command: cfg.MediaWiki.WikiListCommand},
		SchemaPools: d.SchemaPools,
		Backup: activities.BackupConfig{
			Dir:           config.Abs(cfg.Database.BackupDir),
			DumpCommand:   cfg.Database.DumpCommand,
			ClientCommand: cfg.Database.ClientCommand,
		},
		Paths: activities.Paths{
			InstallPath:      cfg.MediaWiki.InstallPath,
			UploadRoot:       config.Abs(cfg.MediaWiki.UploadRoot),
			MainPageTemplate: template,
		},
	}, nil
}

func dirOrEmpty(dir string) string {
	if dir == "" {
		return ""
	}
	return config.Abs(dir)
}

// NewWorker creates a worker on taskQueue with every workflow and activity,
// after making sure WikiFlow's own table exists in the central database.
func (d *Deps) NewWorker(ctx context.Context, taskQueue string) (worker.Worker, error) {
	farm, err := d.Activities()
	if err != nil {
		return nil, err
	}
	if err := d.Central.EnsureOwnTables(ctx); err != nil {
		return nil, fmt.Errorf("central database: %v", err)
	}
	// The cache is the process's: only the first worker's call sizes it.
	worker.SetStickyWorkflowCacheSize(d.Config.Worker.StickyCacheSize)
	w := worker.New(d.Temporal, taskQueue, worker.Options{
		WorkerStopTimeout:                      d.Config.Worker.ShutdownTimeout,
		MaxConcurrentWorkflowTaskExecutionSize: d.Config.Worker.MaxConcurrentWorkflowTasks,
		MaxConcurrentActivityExecutionSize:     d.Config.Worker.MaxConcurrentActivities,
		Interceptors:                           WorkerInterceptors(),
	})
	Register(w, farm)
	// Ready schemas for the first creations (farmdb/schemapool.go).
	for _, cluster := range d.Clusters.Names() {
		d.SchemaPools.Fill(cluster)
	}
	return w, nil
}

// WorkerInterceptors are the interceptors of every worker, and of the
// replay tests: the activities' (classifying failures, stamping attempts,
// timing steps) and the workflows' (counting processes).
func WorkerInterceptors() []interceptor.WorkerInterceptor {
	return append(activities.WorkerInterceptors(), &workflows.MetricsInterceptor{})
}

// Register puts every workflow and activity on a worker.
func Register(w worker.Registry, farm *activities.Farm) {
	RegisterWorkflows(w)
	RegisterActivities(w, farm)
}

// RegisterActivities registers every activity, on a worker or in a test's
// activity environment: the shared ones, then each process's own.
func RegisterActivities(w activities.Registry, farm *activities.Farm) {
	activities.Register(w, farm)
	activities.RegisterOwn(w, &createwiki.Activities{Farm: farm})
	activities.RegisterOwn(w, &deletewiki.Activities{Farm: farm})
	activities.RegisterOwn(w, &changesetting.Activities{Farm: farm})
	activities.RegisterOwn(w, &requestwiki.Activities{Farm: farm})
	activities.RegisterOwn(w, &restorewiki.Activities{Farm: farm})
	activities.RegisterOwn(w, &inactivity.Activities{Farm: farm})
	activities.RegisterOwn(w, &extension.Activities{Farm: farm})
	activities.RegisterOwn(w, &renamewiki.Activities{Farm: farm})
}

// RegisterWorkflows registers every workflow, on a worker or a replayer;
// one list so that replay tests check exactly what the worker runs.
func RegisterWorkflows(w worker.WorkflowRegistry) {
	w.RegisterWorkflow(workflows.InspectWiki)
	w.RegisterWorkflow(createwiki.CreateWiki)
	w.RegisterWorkflow(deletewiki.DeleteWiki)
	w.RegisterWorkflow(changesetting.ChangeSetting)
	w.RegisterWorkflow(requestwiki.RequestWiki)
	w.RegisterWorkflow(restorewiki.RestoreWiki)
	w.RegisterWorkflow(inactivity.Inactivity)
	w.RegisterWorkflow(inactivity.Sweep)
	w.RegisterWorkflow(inactivity.Exempt)
	w.RegisterWorkflow(extension.ChangeExtension)
	w.RegisterWorkflow(renamewiki.RenameWiki)
	workflows.RegisterProcessWorkflow(w)
}

// Check is one dependency's health.
type Check struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// Ready checks that Temporal, the central database and the central wiki's
// API answer now.
func (d *Deps) Ready(ctx context.Context) []Check {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	check := func(name string, err error) Check {
		c := Check{Name: name, OK: err == nil}
		if err != nil {
			c.Error = err.Error()
		}
		return c
	}
	_, terr := d.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
	return []Check{
		check("temporal", terr),
		check("central-database", pingCentral(ctx, d.Central.DB)),
		check("requests-database", pingRequests(ctx, d.Central.Requests())),
		check("mediawiki", func() error { _, err := d.API.SiteInfo(ctx, d.Config.MediaWiki.CentralWiki); return err }()),
	}
}

// pingRequests proves CreateWiki's request tables are where the worker looks.
func pingRequests(ctx context.Context, db *sql.DB) error {
	var n int
	return db.QueryRowContext(ctx, "SELECT COUNT(*) FROM cw_requests WHERE cw_id = 0").Scan(&n)
}

// pingCentral also proves the CreateWiki tables are there, not just the server.
func pingCentral(ctx context.Context, db *sql.DB) error {
	var n int
	return db.QueryRowContext(ctx, "SELECT COUNT(*) FROM cw_wikis").Scan(&n)
}
