package service

import (
	"context"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	wfclient "github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/process"
)

// openStates are the states a process can be in while it is open.
var openStates = func() []process.State {
	var open []process.State
	for _, s := range process.States {
		if !process.Ended(s) {
			open = append(open, s)
		}
	}
	return open
}()

// approvalPageSize and maxApprovalPages bound the listing that finds the
// oldest waiting approval: visibility stores without ORDER BY list newest
// first, so every page is read.
const (
	approvalPageSize = 1000
	maxApprovalPages = 100
)

// RunGauges refreshes the gauges of open processes and waiting approvals
// (process.MetricOpenProcesses, MetricApprovalsWaiting, MetricOldestApproval)
// now and then every interval, until ctx ends. A failed refresh is logged
// and counted (MetricGaugeRefreshFailures); the gauges keep their values.
// Every worker counts the whole namespace: across workers, take max().
func (d *Deps) RunGauges(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := d.RefreshGauges(ctx); err != nil && ctx.Err() == nil {
			d.Metrics.Handler.Counter(process.MetricGaugeRefreshFailures).Inc(1)
			d.Logger.Warn("refreshing the process gauges failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RefreshGauges counts the open processes of every kind in every open
// state, and finds the oldest process waiting for an approval of each
// kind, with visibility queries built by client.ListQuery from the closed
// sets of kinds and states.
func (d *Deps) RefreshGauges(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	type gauge struct {
		tags  map[string]string
		name  string
		value float64
	}
	var gauges []gauge
	for _, kind := range wfclient.Kinds {
		for _, state := range openStates {
			f := wfclient.ListFilter{Kind: kind, State: string(state), Open: true}
			n, err := d.countProcesses(ctx, f)
			if err != nil {
				return err
			}
			gauges = append(gauges, gauge{map[string]string{process.MetricKindTag: kind, process.MetricStateTag: string(state)},
				process.MetricOpenProcesses, float64(n)})
			if state != process.StateWaitingApproval {
				continue
			}
			age := 0.0
			if n > 0 {
				oldest, err := d.oldestStart(ctx, f)
				if err != nil {
					return err
				}
				if !oldest.IsZero() {
					age = max(0, time.Since(oldest).Seconds())
				}
			}
			kindTag := map[string]string{process.MetricKindTag: kind}
			gauges = append(gauges, gauge{kindTag, process.MetricApprovalsWaiting, float64(n)},
				gauge{kindTag, process.MetricOldestApproval, age})
		}
	}
	// All or nothing: a failed refresh leaves every gauge as it was.
	for _, g := range gauges {
		d.Metrics.Handler.WithTags(g.tags).Gauge(g.name).Update(g.value)
	}
	return nil
}

func (d *Deps) countProcesses(ctx context.Context, f wfclient.ListFilter) (int64, error) {
	q, err := wfclient.ListQuery(f)
	if err != nil {
		return 0, err
	}
	resp, err := d.Temporal.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
		Namespace: d.Config.Temporal.Namespace, Query: q,
	})
	if err != nil {
		return 0, err
	}
	return resp.GetCount(), nil
}

// oldestStart is the earliest start among the processes f matches (at
// most maxApprovalPages pages of them); zero when there is none.
func (d *Deps) oldestStart(ctx context.Context, f wfclient.ListFilter) (time.Time, error) {
	q, err := wfclient.ListQuery(f)
	if err != nil {
		return time.Time{}, err
	}
	var oldest time.Time
	var token []byte
	for range maxApprovalPages {
		resp, err := d.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: d.Config.Temporal.Namespace, Query: q, PageSize: approvalPageSize, NextPageToken: token,
		})
		if err != nil {
			return time.Time{}, err
		}
		for _, e := range resp.GetExecutions() {
			if s := e.GetStartTime().AsTime(); oldest.IsZero() || s.Before(oldest) {
				oldest = s
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	return oldest, nil
}
