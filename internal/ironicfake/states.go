package ironicfake

import (
	"net/http"
	"strings"
	"time"
)

const (
	stateEnroll      = "enroll"
	stateVerifying   = "verifying"
	stateManageable  = "manageable"
	stateInspecting  = "inspecting"
	stateInspectWait = "inspect wait"
	stateInspectFail = "inspect failed"
	stateCleaning    = "cleaning"
	stateCleanFail   = "clean failed"
	stateAvailable   = "available"
)

// transition is a provision state change in progress.
type transition struct {
	due      time.Time
	state    string // where it ends
	lastErr  string
	inspects bool // an inspection: properties are discovered when it ends in manageable
	hang     bool // never ends by itself (abort ends it)
}

// failureTargets are the targets Ironic leaves on its failure states.
var failureTargets = map[string]any{stateInspectFail: stateManageable, stateCleanFail: stateAvailable}

// settle puts the node in a state it stays in, as Ironic's state machine
// does: a stable state has no target, a failure state keeps the target of
// the operation that failed (inspect failed -> manageable, clean failed ->
// available).
func settle(n *Node, state string) {
	n.body["provision_state"] = state
	n.body["target_provision_state"] = failureTargets[state]
}

// advance completes every transition due by now, and releases expired locks.
func (s *Server) advance(now time.Time) {
	for _, n := range s.nodes {
		p := n.pending
		if p == nil || p.hang || now.Before(p.due) {
			continue
		}
		n.pending = nil
		settle(n, p.state)
		n.body["provision_updated_at"] = p.due.Format(time.RFC3339Nano)
		n.lastDone = p.due
		if p.lastErr != "" {
			n.body["last_error"] = p.lastErr
		}
		if p.inspects && p.state == stateManageable {
			n.body["inspection_finished_at"] = p.due.Format(time.RFC3339Nano)
			n.body["inspection_started_at"] = nil
			props := n.body["properties"].(map[string]any)
			for k, v := range n.discovered {
				props[k] = v
			}
		}
	}
	for _, n := range s.nodes {
		if n.powerTo != "" && !now.Before(n.powerDue) {
			if n.powerError != "" {
				n.body["last_error"] = n.powerError
			} else {
				n.body["power_state"] = n.powerTo
			}
			n.body["target_power_state"] = nil
			n.powerTo = ""
			n.lastDone = n.powerDue
		}
	}
	for _, n := range s.nodes {
		if !n.lockedUntil.IsZero() && now.After(n.lockedUntil) {
			n.lockedUntil = time.Time{}
			n.body["reservation"] = nil
		}
	}
}

// bmcError is why the node's BMC refuses manage's verification, or "": the
// ManageError option, else a *password in driver_info equal to BadPassword.
func (n *Node) bmcError() string {
	if n.manageError != "" {
		return n.manageError
	}
	if n.manageFailures > 0 {
		n.manageFailures--
		return n.manageFailMsg
	}
	di, _ := n.body["driver_info"].(map[string]any)
	for k, v := range di {
		if strings.HasSuffix(k, "password") && v == BadPassword {
			return "Failed to get power state for node " + n.UUID() + ". Error: IPMI call failed: power status."
		}
	}
	return ""
}

// provision answers PUT /v1/nodes/{node}/states/provision.
func (s *Server) provision(w http.ResponseWriter, n *Node, target string, now time.Time) {
	state, _ := n.body["provision_state"].(string)
	start := func(transitional, to string, p transition) {
		n.body["provision_state"] = transitional
		n.body["target_provision_state"] = to
		n.body["last_error"] = nil
		n.body["provision_updated_at"] = now.Format(time.RFC3339Nano)
		p.due = now.Add(s.StepTime)
		if p.state == "" {
			p.state = to
		}
		n.pending = &p
		w.WriteHeader(http.StatusAccepted)
	}
	switch {
	case target == "manage" && (state == stateEnroll || state == stateCleanFail || state == stateInspectFail || state == stateAvailable):
		if state != stateEnroll {
			settle(n, stateManageable)
			n.body["last_error"] = nil
			n.lastDone = now
			w.WriteHeader(http.StatusAccepted)
			return
		}
		p := transition{}
		if msg := n.bmcError(); msg != "" {
			p.state, p.lastErr = stateEnroll, msg
		}
		start(stateVerifying, stateManageable, p)
	case target == "inspect" && n.refuseInspect != "":
		ironicError(w, http.StatusBadRequest, "%s", n.refuseInspect)
	case target == "inspect" && (state == stateManageable || state == stateInspectFail):
		n.body["inspection_started_at"] = now.Format(time.RFC3339Nano)
		n.body["inspection_finished_at"] = nil
		p := transition{inspects: true}
		switch {
		case n.inspectHangs > 0:
			n.inspectHangs--
			p.hang = true
			start(stateInspectWait, stateManageable, p)
			return
		case n.inspectFailures > 0:
			n.inspectFailures--
			p.state, p.lastErr = stateInspectFail, "inspection failed: fake BMC did not boot the ramdisk"
		}
		start(stateInspecting, stateManageable, p)
	case target == "provide" && state == stateManageable:
		start(stateCleaning, stateAvailable, transition{})
	case target == "abort" && state == stateInspectWait:
		n.pending = nil
		settle(n, stateInspectFail)
		n.body["last_error"] = "inspection aborted by the operator"
		n.body["inspection_started_at"] = nil
		w.WriteHeader(http.StatusAccepted)
	default:
		ironicError(w, http.StatusBadRequest, "The requested action \"%s\" can not be performed on node \"%s\" while it is in state \"%s\".", target, n.UUID(), state)
	}
}

// powerResults is the power state each power target ends in.
var powerResults = map[string]string{
	"power on": "power on", "power off": "power off", "rebooting": "power on",
	"soft power off": "power off", "soft rebooting": "power on",
}

// power answers PUT /v1/nodes/{node}/states/power: the change takes
// StepTime, target_power_state showing meanwhile, as a conductor does it.
func (s *Server) power(w http.ResponseWriter, n *Node, target string, now time.Time) {
	to, ok := powerResults[target]
	if !ok {
		ironicError(w, http.StatusBadRequest, "Invalid power target %q.", target)
		return
	}
	if n.powerTo != "" {
		ironicError(w, http.StatusConflict, "Node %s is locked by host fake-conductor, please retry after the current operation is completed.", n.UUID())
		return
	}
	n.body["target_power_state"] = to
	n.body["last_error"] = nil
	n.powerTo, n.powerDue = to, now.Add(s.StepTime)
	w.WriteHeader(http.StatusAccepted)
}
