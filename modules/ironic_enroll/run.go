package main

import (
	"errors"
	"fmt"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/cloudopts"
	"github.com/metalkit/baremetal/internal/enroll"
	"github.com/metalkit/baremetal/internal/openstack"
	"github.com/metalkit/baremetal/internal/pool"
	"github.com/metalkit/baremetal/internal/task"
)

func run(t *task.Task) (*ansible.Result, error) {
	absent := t.Str("state") == "absent"
	items := t.List("nodes")
	if t.IsSet("nodes_file") {
		var err error
		if items, err = enroll.LoadFile(t.Str("nodes_file")); err != nil {
			return nil, err
		}
	}
	in, err := enroll.Parse(items, absent)
	for _, w := range in.Warnings {
		t.Warn(w)
	}
	var invalid *enroll.InvalidError
	if errors.As(err, &invalid) {
		return nil, ansible.Failf(map[string]any{"invalid_nodes": invalid.Nodes}, "%s", invalid.Error())
	} else if err != nil {
		return nil, err
	}
	opts := enroll.Options{
		Absent:         absent,
		InitialState:   t.Str("initial_state"),
		UpdatePassword: t.Str("update_password"),
		Concurrency:    t.Int("concurrency"),
		Failfast:       t.Bool("failfast"),
		Wait:           cloudopts.Wait(t.Params),
	}
	if opts.Concurrency < 1 {
		return nil, fmt.Errorf("concurrency: expected 1 or more, got %d", opts.Concurrency)
	}

	cloud, err := t.Cloud()
	if err != nil {
		return nil, err
	}
	client, err := cloud.Baremetal(t.Ctx)
	if err != nil {
		return nil, err
	}
	observed, err := enroll.Observe(t.Ctx, client)
	if err != nil {
		return nil, openstack.Describe(err, "")
	}
	plans := enroll.PlanAll(in.Nodes, observed, opts)
	for _, w := range enroll.KeptWarnings(plans) {
		t.Warn(w)
	}
	outcomes := enroll.Predict(plans)
	if !t.CheckMode {
		outcomes = enroll.Apply(t.Ctx, client, plans, opts)
	}

	rep := enroll.MakeReport(outcomes)
	res := &ansible.Result{Changed: rep.Changed, Values: map[string]any{"nodes": rep.Nodes, "summary": rep.Summary}}
	if diffs := enroll.Diffs(plans); t.Diff && len(diffs) > 0 {
		res.Diff = diffs
	}
	if len(rep.Failures) > 0 {
		return nil, task.Failed(res, pool.FailedMsg(len(rep.Failures), len(outcomes), "nodes", "nodes", rep.Failures))
	}
	res.Msg = t.Say("%s", rep.Msg(t.CheckMode))
	return res, nil
}
