package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
)

// Member is one server of a task (a fleet of one when the task names one
// server): what is asked, what was found, the plan, and how it ended.
type Member struct {
	Desired  Desired
	Observed Observed
	Plan     Plan
	Outcome  *Outcome
	// Values are the server's result: server, actions, mismatches,
	// deleted, user_data, timings, diagnosis.
	Values  map[string]any
	Changed bool
	Failed  bool
	Msg     string
}

// Settle ends a member without applying it: the result of check mode, or
// of a plan that fails (for a server an earlier run left in ERROR, with
// the diagnosis). It reports whether the member is settled.
func (m *Member) Settle(ctx context.Context, c Clients, check bool) bool {
	d, p := m.Desired, m.Plan
	m.Values = map[string]any{
		"name":       d.Name,
		"actions":    ActionNames(p.Actions),
		"mismatches": OrEmpty(p.Mismatches),
		"deleted":    []string{},
		"server":     nil,
	}
	if d.UserData != nil {
		m.Values["user_data"] = d.UserData.Report()
	}
	m.Changed = p.Changes()
	if len(p.Existing) == 1 && (check || p.Failure != "") {
		// Where the server runs, for the results that return before Apply;
		// Apply reports it otherwise, and reads the node itself.
		var node *nodes.Node
		if c.Baremetal != nil && p.Existing[0].Status != "ERROR" {
			node, _ = NodeOf(ctx, c, &p.Existing[0])
		}
		m.Values["server"] = View(&p.Existing[0], node)
	}
	switch {
	case p.Failure != "" && len(p.Existing) == 1 && p.Existing[0].Status == "ERROR":
		// The homework for a server an earlier run left in ERROR.
		diag := Diagnose(ctx, c, d, m.Observed, &p.Existing[0])
		m.Values["diagnosis"] = diag
		m.fail(fmt.Sprintf("%s. %s", p.Failure, diag.Summary))
	case p.Failure != "":
		m.fail(p.Failure)
	case check:
		m.Msg = CheckMessage(d, p)
	default:
		return false
	}
	return true
}

// Apply runs the member's plan and records its outcome.
func (m *Member) Apply(ctx context.Context, c Clients) {
	out, err := Apply(ctx, c, m.Desired, m.Observed, m.Plan)
	m.Outcome = out
	m.Values["server"] = View(out.Server, out.Node)
	m.Values["deleted"] = OrEmpty(out.Deleted)
	if len(out.Timings) > 0 {
		m.Values["timings"] = out.Timings
	}
	if out.Diagnosis != nil {
		m.Values["diagnosis"] = out.Diagnosis
	}
	m.Changed = out.Changed
	if err != nil {
		var f *Failed
		if errors.As(err, &f) {
			m.fail(f.Msg)
		} else {
			m.fail(err.Error())
		}
		return
	}
	m.Msg = DoneMessage(m.Desired, m.Plan, out)
}

func (m *Member) fail(msg string) {
	m.Failed = true
	m.Msg = msg
}

// Diff is the member's before/after, for diff mode.
func (m *Member) Diff() map[string]any {
	before, after := DiffView(m.Desired, m.Observed, m.Plan)
	header := "server " + m.Desired.Name
	return map[string]any{"before": before, "after": after, "before_header": header, "after_header": header}
}
