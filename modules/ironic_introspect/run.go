package main

import (
	"context"
	"slices"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/inspect"
	"github.com/metalkit/baremetal/internal/task"
)

// Polling: fast at first (fake-hardware and virtual BMCs move in tens of
// milliseconds), backing off to a few seconds for real hardware.
const (
	pollFirst = 100 * time.Millisecond
	pollMax   = 5 * time.Second
)

func run(t *task.Task) (*ansible.Result, error) {
	m, ctx := t.Module, t.Ctx
	req, err := parse(t)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, req.engine.Timeout)
	defer cancel()
	cloud, err := t.Cloud()
	if err != nil {
		return nil, err
	}
	client, err := cloud.Baremetal(cctx)
	if err != nil {
		return nil, err
	}
	req.engine.Client = client
	if !m.CheckMode {
		// ironic-inspector where the cloud has one (opened only when needed:
		// data Ironic does not keep, an abort to see through); without it
		// the data is not reported and a retry does not wait for it.
		req.engine.Inspector = func() (*gophercloud.ServiceClient, error) { return cloud.Introspection(cctx) }
	}

	observed, err := inspect.Observe(cctx, client, req.selection, req.engine.Concurrency)
	if err != nil {
		return nil, err
	}
	for _, w := range observed.Warnings {
		m.Warn(w)
	}

	// Pre-flight: a node that cannot be handled fails the task, nothing changed.
	plans, refused := inspect.PlanAll(observed.Nodes, req.desired)
	if len(refused) > 0 {
		return nil, ansible.Failf(inspect.Report(refused, time.Since(start), false), "%s", inspect.RefusedMsg(refused, len(observed.Nodes)))
	}
	results := inspect.Predict(observed.Nodes, plans)
	if !m.CheckMode {
		results = req.engine.Apply(ctx, observed.Nodes, req.desired)
	}
	for _, r := range results {
		for _, w := range r.Warnings {
			m.Warn(w)
		}
	}

	elapsed := time.Since(start)
	values := inspect.Report(results, elapsed, m.Diff)
	if m.CheckMode && m.Diff {
		values["diff"] = inspect.Diff(results, plans)
	}
	sum := inspect.Summarize(results, elapsed)
	changed := slices.ContainsFunc(results, (*inspect.NodeResult).Changed)
	if sum.Failed > 0 || sum.NotStarted > 0 {
		values["changed"] = changed
		return nil, ansible.Failf(values, "%s", inspect.FailureMsg(results, sum))
	}
	res := &ansible.Result{Changed: changed, Msg: t.Say("%s", inspect.SuccessMsg(results, sum, m.CheckMode)), Values: values}
	if d, ok := values["diff"]; ok {
		delete(values, "diff")
		if changed {
			res.Diff = d
		}
	}
	return res, nil
}
