package main

import (
	"errors"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/nodeaction"
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
	client, err := cloud.Baremetal(ctx)
	if err != nil {
		return nil, err
	}
	node, err := nodeaction.Observe(ctx, client, d.Node)
	if err != nil {
		return nil, err
	}
	plan, err := nodeaction.MakePlan(d, node)
	if err != nil {
		return nil, err
	}
	for _, w := range plan.Warnings {
		m.Warn(w)
	}
	label := plan.Before.Name
	if label == "" {
		label = plan.Before.UUID
	}
	values := map[string]any{"actions": nodeaction.ActionNames(plan.Actions), "node": plan.Before}
	res := &ansible.Result{Changed: plan.Changes(), Values: values}
	if m.Diff && res.Changed {
		res.Diff = map[string]any{"before": plan.Before, "after": plan.After, "before_header": "node " + label, "after_header": "node " + label}
	}
	switch {
	case !plan.Changes():
		res.Msg = t.Say("node %s unchanged", label)
		return res, nil
	case m.CheckMode:
		values["node"] = plan.After
		res.Msg = t.Say("node %s: would %s", label, plan.Describe())
		return res, nil
	}

	out, err := nodeaction.Apply(ctx, client, node, plan, d.Wait)
	values["actions"] = nodeaction.ActionNames(out.Done)
	values["node"] = nodeaction.ViewOf(out.Node)
	if out.PowerSeconds > 0 {
		values["timings"] = map[string]any{"power": out.PowerSeconds}
	}
	if err != nil {
		values["changed"] = len(out.Done) > 0
		var f *nodeaction.Failed
		if errors.As(err, &f) {
			return nil, ansible.Failf(values, "%s", f.Msg)
		}
		return nil, ansible.Failf(values, "%v", err)
	}
	if res.Diff != nil {
		res.Diff.(map[string]any)["after"] = values["node"] // what Ironic shows now
	}
	res.Msg = "node " + label + ": " + plan.Describe()
	if !d.Wait && plan.PowerTarget != "" {
		res.Msg += " (requested, not waited for: wait is false)"
	}
	return res, nil
}
