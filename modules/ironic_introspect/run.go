package main

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/inspect"
	"github.com/metalkit/baremetal/internal/openstack"
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
	if req.engine.IntrospectionData && !m.CheckMode {
		req.engine.Inspector = inspectorClient(cctx, cloud)
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
		msgs := make([]string, len(refused))
		for i, r := range refused {
			msgs[i] = r.Err.Error()
		}
		return nil, ansible.Failf(inspect.Report(refused, time.Since(start), false), "%d of %d node(s) cannot be handled, nothing was changed: %s",
			len(refused), len(observed.Nodes), strings.Join(msgs, "; "))
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

// inspectorClient is ironic-inspector's API where the cloud has one; nil
// otherwise (standalone Ironic, or no inspector in the catalog): the
// introspection data is then simply not reported.
func inspectorClient(ctx context.Context, cloud *openstack.Cloud) *gophercloud.ServiceClient {
	sc, err := cloud.Introspection(ctx)
	if err != nil {
		return nil
	}
	return sc
}
