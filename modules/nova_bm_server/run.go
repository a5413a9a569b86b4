package main

import (
	"errors"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/server"
	"github.com/metalkit/baremetal/internal/task"
)

func run(t *task.Task) (*ansible.Result, error) {
	m, ctx := t.Module, t.Ctx
	d, err := desired(t)
	if err != nil {
		return nil, err
	}
	cloud, err := t.Cloud()
	if err != nil {
		return nil, err
	}
	c, err := server.Connect(ctx, cloud, d.State)
	if err != nil {
		return nil, err
	}
	if d.State == server.StateDiagnose {
		t.Deprecate("state=diagnose is deprecated: use metalkit.baremetal.nova_bm_server_info (same flavor, name and availability_zone, same diagnosis)", "2.0.0")
		values, msg, err := server.DiagnoseOnly(ctx, c, d)
		if err != nil {
			return nil, err
		}
		return &ansible.Result{Msg: msg, Values: values}, nil
	}

	obs, err := server.Observe(ctx, c, d)
	if err != nil {
		return nil, err
	}
	plan := server.MakePlan(d, obs)
	for _, w := range plan.Warnings {
		m.Warn(w)
	}
	values := map[string]any{
		"actions":    server.ActionNames(plan.Actions),
		"mismatches": server.OrEmpty(plan.Mismatches),
		"deleted":    []string{},
		"server":     nil,
	}
	if d.UserData != nil {
		values["user_data"] = d.UserData.Report()
	}
	if len(plan.Existing) == 1 && (m.CheckMode || plan.Failure != "") {
		// Where the server runs, for the results that return before Apply
		// (check mode, a plan failure); Apply reports it otherwise, and
		// reads the node itself.
		var node *nodes.Node
		if c.Baremetal != nil && plan.Existing[0].Status != "ERROR" {
			node, _ = server.NodeOf(ctx, c, &plan.Existing[0])
		}
		values["server"] = server.View(&plan.Existing[0], node)
	}
	if plan.Failure != "" {
		if len(plan.Existing) == 1 && plan.Existing[0].Status == "ERROR" {
			// The homework for a server an earlier run left in ERROR.
			diag := server.Diagnose(ctx, c, d, obs, &plan.Existing[0])
			values["diagnosis"] = diag
			return nil, ansible.Failf(values, "%s. %s", plan.Failure, diag.Summary)
		}
		return nil, ansible.Failf(values, "%s", plan.Failure)
	}

	res := &ansible.Result{Changed: plan.Changes(), Values: values}
	if m.Diff && res.Changed {
		before, after := server.DiffView(d, obs, plan)
		res.Diff = map[string]any{"before": before, "after": after, "before_header": "server " + d.Name, "after_header": "server " + d.Name}
	}
	if m.CheckMode {
		res.Msg = t.Say("%s", server.CheckMessage(d, plan))
		return res, nil
	}

	out, err := server.Apply(ctx, c, d, obs, plan)
	values["server"] = server.View(out.Server, out.Node)
	values["deleted"] = server.OrEmpty(out.Deleted)
	if len(out.Timings) > 0 {
		values["timings"] = out.Timings
	}
	if out.Diagnosis != nil {
		values["diagnosis"] = out.Diagnosis
	}
	res.Changed = out.Changed
	if err != nil {
		values["changed"] = out.Changed
		return nil, ansible.Failf(values, "%s", explain(err))
	}
	res.Msg = server.DoneMessage(d, plan, out)
	return res, nil
}

func explain(err error) string {
	var f *server.Failed
	if errors.As(err, &f) {
		return f.Msg
	}
	return err.Error()
}
