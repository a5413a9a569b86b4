package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/diagnose"
	"github.com/metalkit/baremetal/internal/server"
	"github.com/metalkit/baremetal/internal/task"
)

func run(t *task.Task) (*ansible.Result, error) {
	m, ctx := t.Module, t.Ctx
	d, err := desired(t)
	if err != nil {
		return nil, err
	}
	c, err := connect(t, d.State)
	if err != nil {
		return nil, err
	}
	if d.State == server.StateDiagnose {
		return diagnoseOnly(ctx, c, d)
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
		"actions":    actionNames(plan.Actions),
		"mismatches": nonNil(plan.Mismatches),
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
		res.Msg = t.Say("%s", checkMessage(d, plan))
		return res, nil
	}

	out, err := server.Apply(ctx, c, d, obs, plan)
	values["server"] = server.View(out.Server, out.Node)
	values["deleted"] = nonNil(out.Deleted)
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
	res.Msg = doneMessage(d, plan, out)
	return res, nil
}

// connect opens the cloud and the clients the state needs; only Nova is
// required, the others are read where reachable.
func connect(t *task.Task, state string) (server.Clients, error) {
	var c server.Clients
	ctx := t.Ctx
	cloud, err := t.Cloud()
	if err != nil {
		return c, err
	}
	if c.Compute, err = cloud.Compute(ctx); err != nil {
		return c, err
	}
	if state == server.StatePresent {
		c.Image, c.ImageErr = cloud.Image(ctx)
		c.Network, c.NetworkErr = cloud.Network(ctx)
	}
	c.Baremetal, c.BaremetalErr = cloud.Baremetal(ctx)
	if state != server.StateAbsent {
		c.Placement, c.PlacementErr = cloud.Placement(ctx)
	}
	return c, nil
}

// diagnoseOnly answers state=diagnose: nothing is created.
func diagnoseOnly(ctx context.Context, c server.Clients, d server.Desired) (*ansible.Result, error) {
	flavor, err := server.ResolveFlavor(ctx, c.Compute, d.Flavor)
	if err != nil {
		return nil, fmt.Errorf("flavor: %w", err)
	}
	obs := server.Observed{Flavor: flavor, Pin: server.ParseAvailabilityZone(d.AvailabilityZone)}
	list, err := server.FindServers(ctx, c.Compute, d.Name)
	if err != nil {
		return nil, err
	}
	values := map[string]any{"server": nil, "actions": []string{}, "mismatches": []string{}, "deleted": []string{}}
	var diag diagnose.Diagnosis
	if len(list) == 1 {
		values["server"] = server.View(&list[0], nil)
		diag = server.Diagnose(ctx, c, d, obs, &list[0])
	} else {
		diag = server.Diagnose(ctx, c, d, obs, nil)
	}
	values["diagnosis"] = diag
	return &ansible.Result{Msg: diag.Summary, Values: values}, nil
}

func explain(err error) string {
	var f *server.Failed
	if errors.As(err, &f) {
		return f.Msg
	}
	return err.Error()
}

func checkMessage(d server.Desired, p server.Plan) string {
	if !p.Changes() {
		return fmt.Sprintf("server %s: nothing to change", d.Name)
	}
	return fmt.Sprintf("server %s: would %s", d.Name, strings.Join(actionNames(p.Actions), ", then "))
}

func doneMessage(d server.Desired, p server.Plan, out *server.Outcome) string {
	switch {
	case d.State == server.StateAbsent && len(out.Deleted) == 0:
		return fmt.Sprintf("server %s is absent", d.Name)
	case d.State == server.StateAbsent:
		msg := fmt.Sprintf("server %s deleted", d.Name)
		if out.Node != nil {
			msg += fmt.Sprintf("; node %s is %s again", nodeLabel(out), out.Node.ProvisionState)
		}
		return msg
	case out.Server == nil:
		return fmt.Sprintf("server %s", d.Name)
	}
	verb := "unchanged"
	switch {
	case p.Has(server.ActionCreate) && p.Has(server.ActionDelete):
		verb = "recreated"
	case p.Has(server.ActionCreate):
		verb = "created"
	case p.Has(server.ActionUpdateMetadata):
		verb = "metadata updated"
	}
	msg := fmt.Sprintf("server %s %s: %s", d.Name, verb, out.Server.Status)
	if out.Node != nil {
		msg += " on node " + nodeLabel(out)
	}
	if t, ok := out.Timings["create"]; ok {
		msg += fmt.Sprintf(" after %.1f s", t)
	}
	return msg
}

func nodeLabel(out *server.Outcome) string {
	if out.Node.Name != "" {
		return out.Node.Name
	}
	return out.Node.UUID
}

func actionNames(actions []server.Action) []string {
	out := []string{}
	for _, a := range actions {
		out = append(out, string(a))
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
