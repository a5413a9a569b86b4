package main

import (
	"context"
	"fmt"
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

	// Pre-flight: every node is planned before anything is done, so a node
	// that cannot be handled fails the task with nothing changed.
	plans := make([]inspect.Plan, len(observed.Nodes))
	var refused []*inspect.NodeResult
	for i, n := range observed.Nodes {
		p, err := inspect.NewPlan(n, req.desired, false)
		if err != nil {
			refused = append(refused, &inspect.NodeResult{Before: n, Node: n, Status: inspect.StatusFailed, Err: err})
			continue
		}
		plans[i] = p
	}
	if len(refused) > 0 {
		values := report(refused, time.Since(start), false)
		msgs := make([]string, len(refused))
		for i, r := range refused {
			msgs[i] = r.Err.Error()
		}
		return nil, ansible.Failf(values, "%d of %d node(s) cannot be handled, nothing was changed: %s",
			len(refused), len(observed.Nodes), strings.Join(msgs, "; "))
	}

	var results []*inspect.NodeResult
	if m.CheckMode {
		for i, n := range observed.Nodes {
			r := &inspect.NodeResult{Before: n, Node: n, Status: inspect.StatusUnchanged, Steps: plans[i].Steps}
			if plans[i].Changed() {
				r.Status = inspect.StatusChanged
			}
			results = append(results, r)
		}
	} else {
		results = req.engine.Apply(ctx, observed.Nodes, req.desired)
	}
	for _, r := range results {
		for _, w := range r.Warnings {
			m.Warn(w)
		}
	}

	elapsed := time.Since(start)
	values := report(results, elapsed, m.Diff)
	if m.CheckMode && m.Diff {
		values["diff"] = diff(results, plans)
	}
	sum := inspect.Summarize(results, elapsed)
	changed := slices.ContainsFunc(results, (*inspect.NodeResult).Changed)
	if sum.Failed > 0 || sum.NotStarted > 0 {
		values["changed"] = changed
		return nil, ansible.Failf(values, "%s", failureMessage(results, sum))
	}
	res := &ansible.Result{Changed: changed, Msg: successMessage(results, sum, m.CheckMode), Values: values}
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

// report is the result values: every node, the failed ones, the counts,
// and (diff mode, after apply) before/after of the changed nodes.
func report(results []*inspect.NodeResult, elapsed time.Duration, withDiff bool) map[string]any {
	nodes := make([]any, 0, len(results))
	failed := []any{}
	for _, r := range results {
		nodes = append(nodes, nodeValue(r))
		if r.Status == inspect.StatusFailed || r.Status == inspect.StatusNotStarted {
			failed = append(failed, map[string]any{
				"name": r.Before.Label(), "uuid": r.Before.UUID, "provision_state": r.Node.ProvisionState,
				"step": string(r.FailedStep), "last_error": failureText(r),
			})
		}
	}
	s := inspect.Summarize(results, elapsed)
	values := map[string]any{
		"nodes":        nodes,
		"failed_nodes": failed,
		"summary": map[string]any{
			"total": s.Total, "changed": s.Changed, "unchanged": s.Unchanged, "failed": s.Failed,
			"not_started": s.NotStarted, "seconds": seconds(elapsed),
		},
	}
	if withDiff {
		values["diff"] = diff(results, nil)
	}
	return values
}

func failureText(r *inspect.NodeResult) string {
	if r.Status == inspect.StatusNotStarted && r.Err != nil {
		return r.Err.Error()
	}
	return r.LastError()
}

func nodeValue(r *inspect.NodeResult) map[string]any {
	n := r.Node
	steps := make([]any, len(r.Steps))
	for i, s := range r.Steps {
		steps[i] = s.String()
	}
	timeline := make([]any, len(r.Timeline))
	for i, e := range r.Timeline {
		timeline[i] = map[string]any{"at": stamp(&e.At), "state": e.State, "event": e.Event}
	}
	started := n.InspectionStartedAt
	if r.InspectionStartedAt != nil {
		started = r.InspectionStartedAt
	}
	v := map[string]any{
		"name":                   n.Name,
		"uuid":                   n.UUID,
		"status":                 string(r.Status),
		"changed":                r.Changed(),
		"failed":                 r.Status == inspect.StatusFailed || r.Status == inspect.StatusNotStarted,
		"provision_state":        n.ProvisionState,
		"power_state":            orNil(n.PowerState),
		"resource_class":         orNil(n.ResourceClass),
		"maintenance":            n.Maintenance,
		"properties":             n.Properties,
		"capabilities":           n.Capabilities().Map(),
		"inspection_started_at":  stamp(started),
		"inspection_finished_at": stamp(n.InspectionFinishedAt),
		"steps":                  steps,
		"retries":                r.Retries,
		"lock_waits":             r.LockWaits,
		"last_error":             orNil(failureText(r)),
		"timeline":               timeline,
		"seconds":                seconds(r.Elapsed),
	}
	if r.Status == inspect.StatusFailed || r.Status == inspect.StatusNotStarted {
		v["msg"] = r.Err.Error()
	}
	if r.IntrospectionData != nil {
		v["introspection_data"] = r.IntrospectionData
	}
	return v
}

// diff is before/after of the nodes that changed (or would change), keyed
// by node name: state, power, resource class and properties.
func diff(results []*inspect.NodeResult, plans []inspect.Plan) map[string]any {
	before, after := map[string]any{}, map[string]any{}
	for i, r := range results {
		if !r.Changed() {
			continue
		}
		end := r.Node
		if plans != nil {
			end = plans[i].After
		}
		before[r.Before.Label()] = snapshot(r.Before)
		after[r.Before.Label()] = snapshot(end)
	}
	return map[string]any{"before": map[string]any{"nodes": before}, "after": map[string]any{"nodes": after}}
}

func snapshot(n inspect.Node) map[string]any {
	return map[string]any{
		"provision_state": n.ProvisionState,
		"power_state":     orNil(n.PowerState),
		"resource_class":  orNil(n.ResourceClass),
		"properties":      n.Properties,
	}
}

func successMessage(results []*inspect.NodeResult, s inspect.Summary, check bool) string {
	if check {
		return fmt.Sprintf("check mode: %d of %d node(s) would change%s, nothing was changed", s.Changed, s.Total, stepCounts(results))
	}
	return fmt.Sprintf("%d node(s): %d changed, %d unchanged%s in %.1f s", s.Total, s.Changed, s.Unchanged, stepCounts(results), s.Elapsed.Seconds())
}

// maxFailuresInMsg keeps msg readable when a whole rack fails: failed_nodes has them all.
const maxFailuresInMsg = 10

func failureMessage(results []*inspect.NodeResult, s inspect.Summary) string {
	var parts []string
	for _, r := range results {
		if r.Status != inspect.StatusFailed {
			continue
		}
		if len(parts) == maxFailuresInMsg {
			parts = append(parts, fmt.Sprintf("and %d more (see failed_nodes)", s.Failed-maxFailuresInMsg))
			break
		}
		text := strings.TrimPrefix(r.Err.Error(), "node "+r.Before.Label()+": ")
		parts = append(parts, fmt.Sprintf("%s: %s", r.Before.Label(), text))
	}
	msg := fmt.Sprintf("%d of %d node(s) failed: %s", s.Failed, s.Total, strings.Join(parts, "; "))
	if s.NotStarted > 0 {
		msg += fmt.Sprintf("; %d not started (failfast)", s.NotStarted)
	}
	return msg + fmt.Sprintf(". %d changed, %d unchanged%s", s.Changed, s.Unchanged, stepCounts(results))
}

// stepCounts says what was done: " (manage 3, inspect 3, provide 3)".
func stepCounts(results []*inspect.NodeResult) string {
	order := []inspect.Action{inspect.ActManage, inspect.ActInspect, inspect.ActUpdate, inspect.ActProvide, inspect.ActPowerOff}
	counts := map[inspect.Action]int{}
	for _, r := range results {
		for _, s := range r.Steps {
			counts[s.Action]++
		}
	}
	var parts []string
	for _, a := range order {
		if counts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", a, counts[a]))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func stamp(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func seconds(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }

func orNil(s string) any {
	if s == "" || s == "None" {
		return nil
	}
	return s
}
