package inspect

import (
	"fmt"
	"strings"
)

// PlanAll plans every node before anything is done, so that a node that
// cannot be handled fails the task with nothing changed: refused holds
// those nodes' results (empty when every node has a plan).
func PlanAll(observed []Node, d Desired) (plans []Plan, refused []*NodeResult) {
	plans = make([]Plan, len(observed))
	for i, n := range observed {
		p, err := NewPlan(n, d, false)
		if err != nil {
			refused = append(refused, &NodeResult{Before: n, Node: n, Status: StatusFailed, Err: err})
			continue
		}
		plans[i] = p
	}
	return plans, refused
}

// Predict is check mode's outcome: each node as its plan would leave it.
func Predict(observed []Node, plans []Plan) []*NodeResult {
	results := make([]*NodeResult, len(observed))
	for i, n := range observed {
		r := &NodeResult{Before: n, Node: n, Status: StatusUnchanged, Steps: plans[i].Steps}
		if plans[i].Changed() {
			r.Status = StatusChanged
		}
		results[i] = r
	}
	return results
}

// RefusedMsg words a pre-flight failure: the nodes that cannot be handled.
func RefusedMsg(refused []*NodeResult, total int) string {
	msgs := make([]string, len(refused))
	for i, r := range refused {
		msgs[i] = r.Err.Error()
	}
	return fmt.Sprintf("%d of %d node(s) cannot be handled, nothing was changed: %s", len(refused), total, strings.Join(msgs, "; "))
}
