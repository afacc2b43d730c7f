// Command worker is the WikiFlow worker service: it runs the farm's
// workflows and activities and serves health checks and metrics. It stops
// gracefully on SIGTERM or SIGINT, letting running activities finish.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/service"
	"github.com/wikiflow/wikiflow/workflows/inactivity"
)

func main() {
	os.Exit(run())
}

func run() int {
	flags := pflag.NewFlagSet("worker", pflag.ContinueOnError)
	file := flags.String("config", "", "YAML config file (default: ./"+config.DefaultFile+" if present)")
	config.AddFlags(flags)
	if err := flags.Parse(os.Args[1:]); err != nil {
		return 2
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg, err := config.Load(config.Options{File: *file, Flags: flags})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	deps, err := service.Open(ctx, cfg, logger)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer deps.Close()

	ln, err := net.Listen("tcp", cfg.Worker.HealthAddress)
	if err != nil {
		fmt.Fprintf(os.Stderr, "worker.health_address: %v\n", err)
		return 1
	}
	health := &http.Server{Handler: deps.HealthHandler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := health.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("health endpoint stopped", "error", err)
		}
	}()

	if cfg.Hook.Address != "" {
		h, err := deps.HookHandler(&client.Client{Temporal: deps.Temporal, Config: cfg})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		hln, err := net.Listen("tcp", cfg.Hook.Address)
		if err != nil {
			fmt.Fprintf(os.Stderr, "hook.address: %v\n", err)
			return 1
		}
		hookSrv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second}
		go func() {
			if err := hookSrv.Serve(hln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("hook endpoint stopped", "error", err)
			}
		}()
		defer hookSrv.Close()
		logger.Info("hook endpoint serving", "address", "http://"+hln.Addr().String())
	}
	w, err := deps.NewWorker(ctx, cfg.Temporal.TaskQueue)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The inactivity policy's daily sweep, as the configuration says now.
	// Not a reason to stop: the processes run without it, and a second
	// worker updating it at the same moment is one that did.
	if err := (&client.Client{Temporal: deps.Temporal, Config: cfg}).EnsureInactivitySchedule(ctx); err != nil {
		logger.Error("could not create or update the inactivity schedule", "schedule", inactivity.ScheduleID, "error", err)
	}
	// The gauges of open processes and waiting approvals on /metrics.
	go deps.RunGauges(ctx, cfg.Worker.MetricsInterval)
	// The event outbox's publishers (events.*): one worker of the farm
	// publishes to each sink, the others stand by. They stop with ctx.
	sinksCtx, stopSinks := context.WithCancel(ctx)
	sinksStopped := deps.StartEventSinks(sinksCtx)
	defer func() { stopSinks(); sinksStopped() }()
	logger.Info("worker starting", "task_queue", cfg.Temporal.TaskQueue, "health", "http://"+ln.Addr().String()+"/readyz",
		"metrics", "http://"+ln.Addr().String()+"/metrics")
	// worker.Run returns when ctx's channel closes; Stop waits up to
	// WorkerStopTimeout for running activities.
	err = w.Run(ctxDone(ctx))
	shutdown, cancel := context.WithTimeout(context.Background(), cfg.Worker.ShutdownTimeout)
	defer cancel()
	_ = health.Shutdown(shutdown)
	if err != nil {
		logger.Error("worker stopped with an error", "error", err)
		return 1
	}
	logger.Info("worker stopped")
	return 0
}

// ctxDone adapts a context to the interrupt channel worker.Run expects.
func ctxDone(ctx context.Context) <-chan interface{} {
	ch := make(chan interface{})
	go func() { <-ctx.Done(); close(ch) }()
	return ch
}
