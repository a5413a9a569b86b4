package inspect

import (
	"fmt"
	"sync"
	"time"
)

// Status is the outcome of one node.
type Status string

const (
	StatusChanged    Status = "changed"
	StatusUnchanged  Status = "unchanged"
	StatusFailed     Status = "failed"
	StatusNotStarted Status = "not started"
)

// Event is one line of a node's timeline: a state seen or an action taken.
type Event struct {
	At    time.Time
	State string
	Event string
}

// NodeResult is everything the task reports about one node.
type NodeResult struct {
	// Before is the node as first observed; Node as last observed.
	Before Node
	Node   Node
	Status Status
	// Steps are the steps carried out (or, in check mode, planned).
	Steps []Step
	// Retries counts restarts after a failed or timed-out step; LockWaits
	// counts waits for a lock held by another operation.
	Retries   int
	LockWaits int
	// FailedStep and Err say what failed, when Status is failed.
	FailedStep Action
	Err        error
	// InspectionStartedAt is when this task started the inspection (Ironic
	// clears its own inspection_started_at when inspection ends).
	InspectionStartedAt *time.Time
	// IntrospectionData is what the deployment stored about the hardware
	// (Ironic's inventory API, or ironic-inspector), nil where it exposes none.
	IntrospectionData map[string]any
	// Warnings are per-node remarks, such as introspection data that could not be read.
	Warnings []string
	Timeline []Event
	Elapsed  time.Duration

	mu       sync.Mutex
	lastSeen string
}

// LastError is the error to show for the node: Ironic's last_error for a
// failure state, else the failure's own text.
func (r *NodeResult) LastError() string {
	if r.Status != StatusFailed {
		return r.Node.LastError
	}
	var se *StepError
	if asStepError(r.Err, &se) && se.LastError != "" {
		return se.LastError
	}
	if r.Err != nil {
		return r.Err.Error()
	}
	return r.Node.LastError
}

// event appends a timeline entry, keeping the first entries and the most
// recent ones when a long retry loop would make it long.
func (r *NodeResult) event(at time.Time, state, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Timeline = append(r.Timeline, Event{At: at, State: state, Event: fmt.Sprintf(format, args...)})
	if len(r.Timeline) > maxTimelineLength {
		const keepFirst = 5
		trimmed := append([]Event{}, r.Timeline[:keepFirst]...)
		trimmed = append(trimmed, Event{At: r.Timeline[keepFirst].At, State: r.Timeline[keepFirst].State, Event: "(earlier events omitted)"})
		trimmed = append(trimmed, r.Timeline[len(r.Timeline)-(maxTimelineLength-keepFirst-1):]...)
		r.Timeline = trimmed
	}
}

// seen records a node observation in the timeline when its state moved.
func (r *NodeResult) seen(at time.Time, n Node) {
	state := n.ProvisionState
	if n.TargetProvisionState != "" {
		state += " -> " + n.TargetProvisionState
	}
	key := state + "|" + n.PowerState + "|" + n.Reservation
	r.mu.Lock()
	changed := key != r.lastSeen
	r.lastSeen = key
	r.mu.Unlock()
	r.Node = n
	if !changed {
		return
	}
	what := "observed"
	if n.Reservation != "" {
		what = "observed, locked by " + n.Reservation
	}
	if n.PowerState != "" && n.PowerState != "None" {
		what += ", " + n.PowerState
	}
	r.event(at, state, "%s", what)
}

// Changed says whether the node was changed: it succeeded with steps, or
// failed after some step already acted on it (a task that fails can still
// have changed things, and Ansible's changed flag says so).
func (r *NodeResult) Changed() bool {
	return r.Status == StatusChanged || (r.Status == StatusFailed && len(r.Steps) > 0)
}

// Summary counts the outcomes of a task.
type Summary struct {
	Total, Changed, Unchanged, Failed, NotStarted int
	Elapsed                                       time.Duration
}

// Summarize counts results by status.
func Summarize(results []*NodeResult, elapsed time.Duration) Summary {
	s := Summary{Total: len(results), Elapsed: elapsed}
	for _, r := range results {
		switch r.Status {
		case StatusChanged:
			s.Changed++
		case StatusUnchanged:
			s.Unchanged++
		case StatusFailed:
			s.Failed++
		case StatusNotStarted:
			s.NotStarted++
		}
	}
	return s
}
