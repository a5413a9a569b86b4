package inspect

import (
	"fmt"
	"strings"
	"time"

	"github.com/metalkit/baremetal/internal/pool"
)

// Report is the result values: every node, the failed ones, the counts,
// and (diff mode, after apply) before/after of the changed nodes.
func Report(results []*NodeResult, elapsed time.Duration, withDiff bool) map[string]any {
	nodes := make([]any, 0, len(results))
	failures := []any{}
	// failed_nodes and passed_nodes are tripleo-ansible's: node UUIDs, so
	// that `failed_nodes | join(' ')` in existing playbooks keeps working.
	failed, passed := []any{}, []any{}
	for _, r := range results {
		nodes = append(nodes, nodeValue(r))
		if r.Status == StatusFailed || r.Status == StatusNotStarted {
			failures = append(failures, map[string]any{
				"name": r.Before.Label(), "uuid": r.Before.UUID, "provision_state": r.Node.ProvisionState,
				"step": string(r.FailedStep), "last_error": failureText(r),
			})
			failed = append(failed, r.Before.UUID)
		} else {
			passed = append(passed, r.Before.UUID)
		}
	}
	s := Summarize(results, elapsed)
	values := map[string]any{
		"nodes":        nodes,
		"failures":     failures,
		"failed_nodes": failed,
		"passed_nodes": passed,
		"summary": map[string]any{
			"total": s.Total, "changed": s.Changed, "unchanged": s.Unchanged, "failed": s.Failed,
			"not_started": s.NotStarted, "seconds": seconds(elapsed),
		},
	}
	if withDiff {
		values["diff"] = Diff(results, nil)
	}
	return values
}

func failureText(r *NodeResult) string {
	if r.Status == StatusNotStarted && r.Err != nil {
		return r.Err.Error()
	}
	return r.LastError()
}

func nodeValue(r *NodeResult) map[string]any {
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
		"failed":                 r.Status == StatusFailed || r.Status == StatusNotStarted,
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
	if r.Status == StatusFailed || r.Status == StatusNotStarted {
		v["msg"] = r.Err.Error()
	}
	if r.IntrospectionData != nil {
		v["introspection_data"] = r.IntrospectionData
	}
	return v
}

// Diff is before/after of the nodes that changed (or would change), keyed
// by node name: state, power, resource class and properties.
func Diff(results []*NodeResult, plans []Plan) map[string]any {
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

func snapshot(n Node) map[string]any {
	return map[string]any{
		"provision_state": n.ProvisionState,
		"power_state":     orNil(n.PowerState),
		"resource_class":  orNil(n.ResourceClass),
		"properties":      n.Properties,
	}
}

func SuccessMsg(results []*NodeResult, s Summary, check bool) string {
	if check {
		return fmt.Sprintf("%d of %d node(s) would change%s", s.Changed, s.Total, stepCounts(results))
	}
	return fmt.Sprintf("%d node(s): %d changed, %d unchanged%s in %.1f s", s.Total, s.Changed, s.Unchanged, stepCounts(results), s.Elapsed.Seconds())
}

// maxFailuresInMsg keeps msg readable when a whole rack fails: failures has them all.
const maxFailuresInMsg = 10

func FailureMsg(results []*NodeResult, s Summary) string {
	var parts []string
	for _, r := range results {
		if r.Status != StatusFailed {
			continue
		}
		if len(parts) == maxFailuresInMsg {
			parts = append(parts, fmt.Sprintf("and %d more (see failures)", s.Failed-maxFailuresInMsg))
			break
		}
		text := strings.TrimPrefix(r.Err.Error(), "node "+r.Before.Label()+": ")
		parts = append(parts, fmt.Sprintf("%s: %s", r.Before.Label(), text))
	}
	msg := pool.FailedMsg(s.Failed, s.Total, "nodes", "nodes", parts)
	if s.NotStarted > 0 {
		msg += fmt.Sprintf("; %d not started (failfast)", s.NotStarted)
	}
	return msg + fmt.Sprintf(". %d changed, %d unchanged%s", s.Changed, s.Unchanged, stepCounts(results))
}

// stepCounts says what was done: " (manage 3, inspect 3, provide 3)".
func stepCounts(results []*NodeResult) string {
	order := []Action{ActManage, ActInspect, ActUpdate, ActProvide, ActPowerOff}
	counts := map[Action]int{}
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
