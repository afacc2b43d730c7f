package service

import (
	"io"
	"log/slog"
	"net/http"
	"time"
	"unicode"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// Metrics is what the worker serves on /metrics: the Temporal SDK's own
// metrics (task latencies, activity failures, sticky cache, pollers), the
// farm's (process.Metric...), and the Go runtime's and the process's
// (memory, goroutines, resident set size). Everything is emitted through
// Handler, a tally scope reported into a Prometheus registry once a second.
type Metrics struct {
	// Handler is the client's MetricsHandler: workflows and activities reach
	// it through workflow.GetMetricsHandler and activity.GetMetricsHandler,
	// the worker's own code (gauges, the hook) directly.
	Handler client.MetricsHandler
	http    http.Handler
	closer  io.Closer
}

// StepBuckets are the histogram buckets of every timer, in seconds: from a
// workflow task's few milliseconds to a step of ten minutes.
var StepBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}

// metricsReportInterval is how often the scope hands its values to the
// Prometheus registry: a value is on /metrics at most this late.
const metricsReportInterval = time.Second

// NewMetrics makes a fresh registry and the handler that fills it; a
// metric that cannot be registered (the same name with other labels) is
// logged and dropped, never fatal.
func NewMetrics(logger *slog.Logger) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer:              reg,
		DefaultTimerType:        tallyprom.HistogramTimerType,
		DefaultHistogramBuckets: StepBuckets,
		OnRegisterError: func(err error) {
			logger.Warn("metric not registered", "error", err)
		},
	})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sanitize,
	}, metricsReportInterval)
	return &Metrics{
		Handler: sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope)),
		http:    reporter.HTTPHandler(),
		closer:  closer,
	}
}

// sanitize keeps names and label keys to what Prometheus accepts and label
// values as they are ("create-wiki", "GET /v1/processes"): the SDK's
// PrometheusSanitizeOptions would turn every '-' of a value into '_'.
var sanitize = tally.SanitizeOptions{
	NameCharacters:       tally.ValidCharacters{Ranges: tally.AlphanumericRange, Characters: []rune{'_'}},
	KeyCharacters:        tally.ValidCharacters{Ranges: tally.AlphanumericRange, Characters: []rune{'_'}},
	ValueCharacters:      tally.ValidCharacters{Ranges: []tally.SanitizeRange{{' ', unicode.MaxRune}}},
	ReplacementCharacter: tally.DefaultReplacementCharacter,
}

// ServeHTTP answers in Prometheus's text format.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.http.ServeHTTP(w, r) }

// Close stops the reporting.
func (m *Metrics) Close() error { return m.closer.Close() }
