package enroll

import (
	"fmt"
	"sort"
	"strings"
)

// Report is what the module returns for a set of outcomes.
type Report struct {
	Changed bool
	// Nodes are the per-node results, in input order.
	Nodes []any
	// Summary counts the nodes by action.
	Summary map[string]int
	// Failures are "node: error" lines, one per failed node.
	Failures []string
}

// MakeReport turns outcomes into per-node results and counts.
func MakeReport(outcomes []*Outcome) Report {
	r := Report{Nodes: make([]any, len(outcomes)), Summary: map[string]int{}}
	for i, o := range outcomes {
		r.Changed = r.Changed || o.Changed
		r.Summary[string(o.Action)]++
		r.Nodes[i] = nodeResult(o)
		if o.Failed() {
			r.Failures = append(r.Failures, o.Plan.Node.Label()+": "+o.Error)
		}
	}
	return r
}

// Msg words the counts: "3 nodes: 2 created, 1 unchanged" ("to create"
// in check mode).
func (r Report) Msg(check bool) string {
	keys := make([]string, 0, len(r.Summary))
	total := 0
	for k, n := range r.Summary {
		keys = append(keys, k)
		total += n
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
		parts[i] = fmt.Sprintf("%d %s", r.Summary[k], word)
	}
	return fmt.Sprintf("%d nodes: %s", total, strings.Join(parts, ", "))
}

var (
	pastTense = map[string]string{"create": "created", "update": "updated", "unchanged": "unchanged",
		"delete": "deleted", "absent": "already absent", "failed": "failed", "skipped": "skipped"}
	conditional = map[string]string{"create": "to create", "update": "to update", "delete": "to delete"}
)

// KeptWarnings are the warnings for nodes whose inspected values win over
// the input's.
func KeptWarnings(plans []*Plan) []string {
	var out []string
	for _, p := range plans {
		if len(p.Kept) > 0 {
			out = append(out, fmt.Sprintf("%s was inspected: keeping the inspected %s; the input's values are not applied (update the node definition to silence this warning).",
				p.Node.Label(), strings.Join(p.Kept, ", ")))
		}
	}
	return out
}

// nodeResult is one entry of the nodes list.
func nodeResult(o *Outcome) any {
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
func changesOf(p *Plan) []any {
	var out []any
	switch p.Action {
	case ActionCreate:
		out = append(out, "create node")
	case ActionDelete:
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
