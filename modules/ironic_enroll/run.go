package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/cloudopts"
	"github.com/metalkit/baremetal/internal/enroll"
	"github.com/metalkit/baremetal/internal/openstack"
)

func run(m *ansible.Module) (*ansible.Result, error) {
	absent := m.Str("state") == "absent"
	items := m.List("nodes")
	if m.IsSet("nodes_file") {
		var err error
		if items, err = enroll.LoadFile(m.Str("nodes_file")); err != nil {
			return nil, err
		}
	}
	in, err := enroll.Parse(items, absent)
	for _, s := range in.Secrets {
		m.AddSecret(s)
		openstack.RegisterSecret(s)
	}
	for _, w := range in.Warnings {
		m.Warn(w)
	}
	if err != nil {
		var invalid *enroll.InvalidError
		if errors.As(err, &invalid) {
			return nil, ansible.Failf(map[string]any{"invalid_nodes": invalid.Nodes}, "%s", invalid.Error())
		}
		return nil, err
	}
	opts := enroll.Options{
		Absent:         absent,
		InitialState:   m.Str("initial_state"),
		UpdatePassword: m.Str("update_password"),
		Concurrency:    m.Int("concurrency"),
		Failfast:       m.Bool("failfast"),
		Wait:           cloudopts.Wait(m.Params),
	}
	if opts.Concurrency < 1 {
		return nil, fmt.Errorf("concurrency must be at least 1, got %d", opts.Concurrency)
	}

	ctx := context.Background()
	if t := m.Int("timeout"); t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(t)*time.Second)
		defer cancel()
	}
	cloud, err := openstack.Connect(ctx, cloudopts.FromParams(m.Params))
	if err != nil {
		return nil, err
	}
	client, err := cloud.Baremetal(ctx)
	if err != nil {
		return nil, err
	}
	observed, err := enroll.Observe(ctx, client)
	if err != nil {
		return nil, openstack.Describe(err, "")
	}
	plans := enroll.PlanAll(in.Nodes, observed, opts)
	for _, p := range plans {
		if len(p.Kept) > 0 {
			m.Warn(fmt.Sprintf("%s was inspected: keeping the inspected %s; the input's values are not applied (update the node definition to silence this warning).",
				p.Node.Label(), strings.Join(p.Kept, ", ")))
		}
	}

	var outcomes []*enroll.Outcome
	if m.CheckMode {
		outcomes = enroll.Predict(plans)
	} else {
		outcomes = enroll.Apply(ctx, client, plans, opts)
	}

	res := &ansible.Result{Values: map[string]any{}}
	var failures []string
	counts := map[string]int{}
	list := make([]any, len(outcomes))
	for i, o := range outcomes {
		res.Changed = res.Changed || o.Changed
		counts[string(o.Action)]++
		list[i] = nodeResult(o)
		if o.Failed() {
			failures = append(failures, o.Plan.Node.Label()+": "+o.Error)
		}
	}
	res.Values["nodes"] = list
	res.Values["summary"] = counts
	if m.Diff {
		if diffs := enroll.Diffs(plans); len(diffs) > 0 {
			res.Diff = diffs
		}
	}
	if len(failures) > 0 {
		res.Values["changed"] = res.Changed
		if res.Diff != nil {
			res.Values["diff"] = res.Diff
		}
		return nil, ansible.Failf(res.Values, "%d of %d nodes failed (every node's outcome is in nodes): %s",
			len(failures), len(outcomes), strings.Join(failures, " | "))
	}
	res.Msg = summary(counts, len(outcomes), m.CheckMode)
	return res, nil
}

// nodeResult is one entry of the nodes list.
func nodeResult(o *enroll.Outcome) any {
	ports := make([]any, len(o.Ports))
	for i, p := range o.Ports {
		ports[i] = map[string]any{"uuid": p.UUID, "address": p.Address}
	}
	r := map[string]any{
		"name":            o.Name,
		"uuid":            o.UUID,
		"provision_state": o.ProvisionState,
		"changed":         o.Changed,
		"action":          string(o.Action),
		"matched_by":      o.Plan.MatchedBy,
		"ports":           ports,
	}
	if changes := changesOf(o.Plan); len(changes) > 0 && (o.Changed || o.Plan.Changed()) {
		r["changes"] = changes
	}
	if o.Error != "" {
		r["error"] = o.Error
	}
	if o.LastError != "" {
		r["last_error"] = o.LastError
	}
	return r
}

// changesOf lists a plan's writes in words, credentials masked.
func changesOf(p *enroll.Plan) []any {
	var out []any
	switch p.Action {
	case enroll.ActionCreate:
		out = append(out, "create node")
	case enroll.ActionDelete:
		return []any{"delete node"}
	}
	for _, op := range p.Patch {
		out = append(out, op.String())
	}
	for _, d := range p.PortDeletes {
		out = append(out, "remove port "+d.Address)
	}
	for _, pp := range p.PortPatches {
		for _, op := range pp.Ops {
			out = append(out, "port "+pp.Address+": "+op.String())
		}
	}
	for _, c := range p.PortCreates {
		out = append(out, "add port "+c.Address)
	}
	if p.Manage {
		out = append(out, "manage (enroll -> manageable)")
	}
	return out
}

func summary(counts map[string]int, total int, check bool) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		word := pastTense[k]
		if check && conditional[k] != "" {
			word = conditional[k]
		}
		if word == "" {
			word = k
		}
		parts[i] = fmt.Sprintf("%d %s", counts[k], word)
	}
	prefix := ""
	if check {
		prefix = "check mode, nothing changed: "
	}
	return fmt.Sprintf("%s%d nodes: %s", prefix, total, strings.Join(parts, ", "))
}

var (
	pastTense = map[string]string{"create": "created", "update": "updated", "unchanged": "unchanged",
		"delete": "deleted", "absent": "already absent", "failed": "failed", "skipped": "skipped"}
	conditional = map[string]string{"create": "to create", "update": "to update", "delete": "to delete"}
)
