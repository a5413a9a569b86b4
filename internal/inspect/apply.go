package inspect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/metalkit/baremetal/internal/openstack"
	"github.com/metalkit/baremetal/internal/poll"
	"github.com/metalkit/baremetal/internal/pool"
)

// Engine carries out plans against Ironic.
type Engine struct {
	// Client is Ironic's API, with a microversion set (1.6 or later: inspection).
	Client *gophercloud.ServiceClient
	// Inspector opens ironic-inspector's API (nil: the deployment has none).
	// It is called once, and only when inspector is needed (data Ironic does
	// not keep, an abort to see through): a catalog may still list an
	// inspector that is gone (an upgrade to 2024.1 or later), and opening it
	// costs the connection's retries.
	Inspector func() (*gophercloud.ServiceClient, error)
	inspector struct {
		once   sync.Once
		client *gophercloud.ServiceClient
	}

	// Concurrency is how many nodes are worked on at once (at least 1).
	Concurrency int
	// Retries is how many times a node is restarted after a failed or
	// timed-out step: abort what is in progress, wait for the lock to clear, go again.
	Retries int
	// Timeout bounds one attempt of one node (every wait of it included).
	Timeout time.Duration
	// NoWait returns as soon as inspection has been requested: no waiting
	// for it to finish (and so nothing done after it).
	NoWait bool
	// Failfast starts no new node once one has failed.
	Failfast bool
	// IntrospectionData fetches the stored introspection data of inspected nodes.
	IntrospectionData bool
	// Poll is the first polling interval; it grows to PollMax during long waits.
	Poll, PollMax time.Duration

	// Now is the clock (tests replace it).
	Now func() time.Time
	Log *slog.Logger
}

// StepError is a step that left the node somewhere other than planned:
// Ironic refused it, the node reached a failure state, or the wait timed out.
type StepError struct {
	Node      string
	Action    Action
	State     string // provision state reached or last seen
	Want      string // the state the step should have reached
	LastError string // Ironic's last_error, scrubbed
	TimedOut  bool
	// Permanent is true when retrying cannot help (Ironic rejected the request itself).
	Permanent bool
	cause     error
}

func (e *StepError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s failed", e.Action)
	switch {
	case e.TimedOut:
		fmt.Fprintf(&b, ": timed out waiting for %q, node still %q", e.Want, e.State)
	case e.cause != nil:
		fmt.Fprintf(&b, ": %v", e.cause)
	case e.State != "":
		fmt.Fprintf(&b, ": node went to %q instead of %q", e.State, e.Want)
	}
	if e.LastError != "" {
		fmt.Fprintf(&b, ": %s", e.LastError)
	}
	return b.String()
}

func (e *StepError) Unwrap() error { return e.cause }

func asStepError(err error, target **StepError) bool { return errors.As(err, target) }

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now().UTC()
}

func (e *Engine) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.Default()
}

// Apply brings every node to the desired state, Concurrency at a time, and
// returns one result per node in the order given. It never fails as a
// whole: each node's failure is in its result.
func (e *Engine) Apply(ctx context.Context, observed []Node, d Desired) []*NodeResult {
	results := make([]*NodeResult, len(observed))
	for i, n := range observed {
		results[i] = &NodeResult{Before: n, Node: n, Status: StatusNotStarted}
	}
	all := make([]int, len(observed))
	for i := range all {
		all[i] = i
	}
	pool.Run(all, e.Concurrency, e.Failfast, false, func(i int) bool {
		e.runNode(ctx, results[i], d)
		return results[i].Status == StatusFailed
	}, func(i int) {
		results[i].Err = errors.New("not started: failfast is set and another node failed")
	})
	return results
}

// runNode is one node's whole story: attempts, and between them the
// recovery (abort, wait for the lock) that makes a retry possible.
func (e *Engine) runNode(ctx context.Context, r *NodeResult, d Desired) {
	start := e.now()
	defer func() { r.Elapsed = e.now().Sub(start) }()
	inspected := false
	for {
		actx, cancel := context.WithTimeout(ctx, e.Timeout)
		err := e.attempt(actx, r, d, &inspected)
		cancel()
		if err == nil {
			r.Status = StatusUnchanged
			if len(r.Steps) > 0 {
				r.Status = StatusChanged
			}
			if e.IntrospectionData && !e.NoWait && r.Node.Inspected() {
				e.fetchIntrospectionData(ctx, r)
			}
			return
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			// Interrupted (a signal): take back the inspection this run
			// left waiting, so that no node stays in inspect wait.
			e.fail(r, fmt.Errorf("%w; %s", err, e.withdraw(ctx, r)))
			return
		}
		var se *StepError
		retryable := ctx.Err() == nil && !(errors.As(err, &se) && se.Permanent)
		var pe *PlanError
		if errors.As(err, &pe) || isNotFound(err) {
			// The node cannot be handled (any more), or it was deleted: no retry changes that.
			retryable = false
		}
		if !retryable || r.Retries >= e.Retries {
			e.fail(r, err)
			return
		}
		r.Retries++
		r.event(e.now(), r.Node.ProvisionState, "retry %d of %d after: %v", r.Retries, e.Retries, err)
		e.log().Info("inspect: retrying node", "node", r.Node.Label(), "retry", r.Retries, "error", err)
		if rerr := e.recover(ctx, r); rerr != nil {
			e.fail(r, fmt.Errorf("%w (then, preparing retry %d: %v)", err, r.Retries, rerr))
			return
		}
	}
}

func (e *Engine) fail(r *NodeResult, err error) {
	r.Status = StatusFailed
	r.Err = err
	var se *StepError
	if errors.As(err, &se) {
		r.FailedStep = se.Action
	}
	r.event(e.now(), r.Node.ProvisionState, "failed: %v", err)
}

// attempt observes, plans and carries out the first step, until the plan is empty.
func (e *Engine) attempt(ctx context.Context, r *NodeResult, d Desired, inspected *bool) error {
	// A node needs at most six steps; a bound keeps a confused Ironic from looping us forever.
	for i := 0; i < 20; i++ {
		n := r.Node
		if i == 0 {
			// Later rounds start from the node a wait or write ended with.
			var err error
			if n, err = e.get(ctx, r); err != nil {
				return err
			}
		}
		plan, err := NewPlan(n, d, *inspected)
		if err != nil {
			return err
		}
		if len(plan.Steps) == 0 {
			return nil
		}
		step := plan.Steps[0]
		if step.Action == ActWait {
			if e.NoWait {
				r.event(e.now(), n.ProvisionState, "in progress towards %s: not waited for (wait: false)", n.TargetProvisionState)
				return nil
			}
			r.event(e.now(), n.ProvisionState, "waiting for the operation in progress to reach %s", n.TargetProvisionState)
			final, err := e.waitStable(ctx, r, step)
			if err != nil {
				return err
			}
			if isInspection(n.ProvisionState) && final.ProvisionState == StateManageable && final.Inspected() {
				*inspected = true
			}
			continue
		}
		if n.Reservation != "" {
			if err := e.waitUnlocked(ctx, r, step.Action); err != nil {
				return err
			}
		}
		if err := e.do(ctx, r, step); err != nil {
			return err
		}
		if step.Action == ActInspect {
			*inspected = true
			if e.NoWait {
				return nil
			}
		}
	}
	return &StepError{Node: r.Node.Label(), Action: ActWait, State: r.Node.ProvisionState, Permanent: true,
		cause: errors.New("the node did not settle after 20 steps")}
}

// do carries out one step and checks where it left the node.
func (e *Engine) do(ctx context.Context, r *NodeResult, step Step) error {
	label := r.Node.Label()
	r.event(e.now(), step.From, "%s requested", step)
	switch step.Action {
	case ActManage, ActInspect, ActProvide:
		target := map[Action]nodes.TargetProvisionState{
			ActManage: nodes.TargetManage, ActInspect: nodes.TargetInspect, ActProvide: nodes.TargetProvide,
		}[step.Action]
		err := e.withLock(ctx, r, step.Action, func() error {
			return nodes.ChangeProvisionState(ctx, e.Client, r.Node.UUID, nodes.ProvisionStateOpts{Target: target}).ExtractErr()
		})
		if err != nil {
			return e.requestError(ctx, r, step, err)
		}
		r.Steps = append(r.Steps, step)
		if step.Action == ActInspect {
			at := e.now()
			r.InspectionStartedAt = &at
			if e.NoWait {
				return nil
			}
		}
		final, err := e.waitStable(ctx, r, step)
		if err != nil {
			return err
		}
		if final.ProvisionState != step.To {
			return &StepError{Node: label, Action: step.Action, State: final.ProvisionState, Want: step.To,
				LastError: openstack.Scrub(final.LastError)}
		}
		r.event(e.now(), final.ProvisionState, "%s done", step.Action)
		return nil

	case ActUpdate:
		ops := make(nodes.UpdateOpts, 0, len(step.Changes))
		for _, c := range step.Changes {
			switch {
			case c.Remove:
				ops = append(ops, nodes.UpdateOperation{Op: nodes.RemoveOp, Path: "/" + c.Path})
			case c.Path == "resource_class":
				ops = append(ops, nodes.UpdateOperation{Op: nodes.ReplaceOp, Path: "/" + c.Path, Value: c.After})
			default:
				ops = append(ops, nodes.UpdateOperation{Op: nodes.AddOp, Path: "/" + c.Path, Value: c.After})
			}
		}
		var updated *nodes.Node
		err := e.withLock(ctx, r, step.Action, func() error {
			var err error
			updated, err = nodes.Update(ctx, e.Client, r.Node.UUID, ops).Extract()
			return err
		})
		if err != nil {
			return e.requestError(ctx, r, step, err)
		}
		r.Steps = append(r.Steps, step)
		after := FromIronic(updated)
		r.seen(e.now(), after)
		if after.Reservation != "" {
			// The update's own lock, still held as Ironic answered: not another operation.
			if _, err := e.poll(ctx, r, func(n Node) bool { return n.Reservation == "" }); err != nil {
				return e.timeoutError(ctx, r, step, "lock released", err)
			}
		}
		return nil

	case ActPowerOff:
		err := e.withLock(ctx, r, step.Action, func() error {
			return nodes.ChangePowerState(ctx, e.Client, r.Node.UUID, nodes.PowerStateOpts{Target: nodes.PowerOff}).ExtractErr()
		})
		if err != nil {
			return e.requestError(ctx, r, step, err)
		}
		r.Steps = append(r.Steps, step)
		final, err := e.poll(ctx, r, func(n Node) bool { return n.TargetPowerState == "" && n.Reservation == "" })
		if err != nil {
			return e.timeoutError(ctx, r, step, PowerOff, err)
		}
		if final.PowerState != PowerOff {
			return &StepError{Node: label, Action: step.Action, State: final.PowerState, Want: PowerOff,
				LastError: openstack.Scrub(final.LastError)}
		}
		r.event(e.now(), final.ProvisionState, "%s done", step.Action)
		return nil
	}
	return fmt.Errorf("step %s: not a step Apply carries out", step.Action)
}

// requestError classifies a refused request: a 4xx other than a lock or a
// conflict is Ironic saying no (wrong state, driver cannot inspect, ...),
// which no retry changes.
func (e *Engine) requestError(ctx context.Context, r *NodeResult, step Step, err error) error {
	described := openstack.Describe(err, "")
	se := &StepError{Node: r.Node.Label(), Action: step.Action, State: r.Node.ProvisionState, Want: step.To, cause: described}
	var apiErr *openstack.APIError
	if errors.As(described, &apiErr) && apiErr.StatusCode >= 400 && apiErr.StatusCode < 500 && apiErr.StatusCode != http.StatusConflict {
		se.Permanent = true
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		se.TimedOut, se.cause = true, nil
	}
	return se
}

// withLock runs a write call, and when Ironic answers that the node is
// locked (409 NodeLocked: another operation holds it), waits for the lock
// to clear and calls again.
func (e *Engine) withLock(ctx context.Context, r *NodeResult, action Action, call func() error) error {
	for {
		err := call()
		if err == nil || !isLocked(err) || ctx.Err() != nil {
			return err
		}
		if werr := e.waitUnlocked(ctx, r, action); werr != nil {
			return err
		}
	}
}

func isLocked(err error) bool {
	var code gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &code) || code.Actual != http.StatusConflict {
		return false
	}
	msg := strings.ToLower(openstack.ServiceMessage(code.Body, code.Actual))
	return strings.Contains(msg, "locked") || strings.Contains(msg, "retry after")
}

// waitUnlocked waits until no conductor holds the node's lock.
func (e *Engine) waitUnlocked(ctx context.Context, r *NodeResult, action Action) error {
	r.LockWaits++
	holder := r.Node.Reservation
	if holder == "" {
		holder = "another operation"
	}
	r.event(e.now(), r.Node.ProvisionState, "%s: node locked by %s, waiting for the lock to clear", action, holder)
	_, err := e.poll(ctx, r, func(n Node) bool { return n.Reservation == "" })
	if err != nil {
		return &StepError{Node: r.Node.Label(), Action: action, State: r.Node.ProvisionState, TimedOut: true,
			Want: "lock released by " + holder}
	}
	return nil
}

// waitStable waits until Ironic has finished moving the node (no target
// state, or a failed state) and released it.
func (e *Engine) waitStable(ctx context.Context, r *NodeResult, step Step) (Node, error) {
	final, err := e.poll(ctx, r, func(n Node) bool { return !n.Busy() })
	if err != nil {
		return final, e.timeoutError(ctx, r, step, step.To, err)
	}
	return final, nil
}

func (e *Engine) timeoutError(ctx context.Context, r *NodeResult, step Step, want string, err error) error {
	if ctx.Err() != nil {
		return &StepError{Node: r.Node.Label(), Action: step.Action, State: r.Node.ProvisionState, Want: want,
			TimedOut: true, LastError: openstack.Scrub(r.Node.LastError)}
	}
	return err
}

// poll reads the node until done says so, backing off from Poll to PollMax.
// It waits before the first read: a poll always follows a write or a read
// that showed the node busy, and every read is work for Ironic's API.
func (e *Engine) poll(ctx context.Context, r *NodeResult, done func(Node) bool) (Node, error) {
	first := e.Poll
	if first <= 0 {
		first = 200 * time.Millisecond
	}
	pace := poll.Backoff{First: first, Max: max(e.PollMax, first), Growth: 1.5, WaitFirst: true}
	n := r.Node
	err := poll.Until(ctx, pace, func(ctx context.Context) (bool, error) {
		got, err := e.get(ctx, r)
		if err != nil {
			return false, err
		}
		n = got
		return done(n), nil
	})
	return n, err
}

// get reads the node and records it in the timeline.
func (e *Engine) get(ctx context.Context, r *NodeResult) (Node, error) {
	raw, err := nodes.Get(ctx, e.Client, r.Node.UUID).Extract()
	if err != nil {
		if ctx.Err() != nil {
			return r.Node, ctx.Err()
		}
		return r.Node, openstack.Describe(err, "")
	}
	n := FromIronic(raw)
	r.seen(e.now(), n)
	return n, nil
}

// withdrawBudget bounds the clean-up after an interruption: Ansible (or
// the operator) is waiting for the module to exit.
const withdrawBudget = 30 * time.Second

// withdraw aborts an inspection (or cleaning) waiting on the node, with a
// context of its own (the task's is cancelled), and says what it did.
func (e *Engine) withdraw(ctx context.Context, r *NodeResult) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), withdrawBudget)
	defer cancel()
	n, err := e.get(ctx, r)
	if err != nil {
		return fmt.Sprintf("the node could not be read to abort its inspection: %v", err)
	}
	if n.ProvisionState != StateInspectWait && n.ProvisionState != StateCleanWait {
		return "node left in " + n.ProvisionState
	}
	err = nodes.ChangeProvisionState(ctx, e.Client, n.UUID, nodes.ProvisionStateOpts{Target: nodes.TargetAbort}).ExtractErr()
	if err != nil {
		return fmt.Sprintf("aborting its %s failed: %v", n.ProvisionState, openstack.Describe(err, "abort"))
	}
	r.event(e.now(), n.ProvisionState, "abort requested (interrupted)")
	return "its " + n.ProvisionState + " was aborted"
}

// recover prepares a retry: an operation still waiting on the node (inspect
// wait, clean wait) is aborted, then the node must settle and be unlocked.
func (e *Engine) recover(ctx context.Context, r *NodeResult) error {
	ctx, cancel := context.WithTimeout(ctx, e.Timeout)
	defer cancel()
	n, err := e.get(ctx, r)
	if err != nil {
		return err
	}
	aborted := n.ProvisionState == StateInspectWait
	if n.ProvisionState == StateInspectWait || n.ProvisionState == StateCleanWait {
		r.event(e.now(), n.ProvisionState, "abort requested")
		err := e.withLock(ctx, r, ActAbort, func() error {
			return nodes.ChangeProvisionState(ctx, e.Client, n.UUID, nodes.ProvisionStateOpts{Target: nodes.TargetAbort}).ExtractErr()
		})
		if err != nil {
			return openstack.Describe(err, "abort")
		}
	}
	if _, err := e.waitStable(ctx, r, Step{Action: ActAbort, To: "a stable state"}); err != nil {
		return err
	}
	if aborted {
		return e.waitInspectorAborted(ctx, r, n.UUID)
	}
	return nil
}

// waitInspectorAborted waits, after an inspection was aborted, until
// ironic-inspector (where the deployment has one and it knows the node) has
// finished its side: Ironic is back in "inspect failed" at once, but
// inspector stays "aborting" for a moment and refuses a new introspection
// then (400, no transition from aborting on start), which would spend the
// retry. Where inspector cannot be read, the retry goes ahead.
func (e *Engine) waitInspectorAborted(ctx context.Context, r *NodeResult, uuid string) error {
	inspector := e.inspectorClient()
	if inspector == nil {
		return nil
	}
	waited := false
	err := poll.Until(ctx, poll.Backoff{First: e.Poll, Max: e.PollMax, Growth: 1.5}, func(ctx context.Context) (bool, error) {
		var status struct {
			Finished bool `json:"finished"`
		}
		if err := inspectorGet(ctx, inspector, &status, "introspection", uuid); err != nil || status.Finished {
			return true, nil
		}
		if !waited {
			r.event(e.now(), StateInspectFail, "waiting for ironic-inspector to finish the abort")
			waited = true
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("ironic-inspector did not finish aborting the inspection: %w", err)
	}
	return nil
}

// fetchIntrospectionData reads what inspection stored, where the
// deployment exposes it: Ironic's inventory API (microversion 1.81, Ironic
// 2023.1 and later), else ironic-inspector. Absent is not an error.
func (e *Engine) fetchIntrospectionData(ctx context.Context, r *NodeResult) {
	if microversionAtLeast(e.Client.Microversion, 1, 81) {
		res := nodes.GetInventory(ctx, e.Client, r.Node.UUID)
		switch {
		case res.Err == nil:
			if body, ok := res.Body.(map[string]any); ok {
				r.IntrospectionData = map[string]any{"source": "ironic", "inventory": body["inventory"], "plugin_data": body["plugin_data"]}
				return
			}
		case !isNotFound(res.Err):
			r.Warnings = append(r.Warnings, fmt.Sprintf("node %s: introspection data not read from Ironic: %v",
				r.Node.Label(), openstack.Describe(res.Err, "inventory")))
		}
	}
	inspector := e.inspectorClient()
	if inspector == nil {
		return
	}
	var body map[string]any
	err := inspectorGet(ctx, inspector, &body, "introspection", r.Node.UUID, "data")
	switch {
	case err == nil && body != nil:
		r.IntrospectionData = map[string]any{"source": "ironic-inspector", "data": body}
	case err != nil && !isNotFound(err):
		r.Warnings = append(r.Warnings, fmt.Sprintf("node %s: introspection data not read from ironic-inspector: %v",
			r.Node.Label(), openstack.Describe(err, "introspection data")))
	}
}

// inspectorClient opens ironic-inspector once for all nodes; nil when the
// deployment has none (or it cannot be opened: the data is then not reported).
func (e *Engine) inspectorClient() *gophercloud.ServiceClient {
	e.inspector.once.Do(func() {
		if e.Inspector != nil {
			e.inspector.client, _ = e.Inspector()
		}
	})
	return e.inspector.client
}

// inspectorGet reads ironic-inspector's resource at path into out.
func inspectorGet(ctx context.Context, inspector *gophercloud.ServiceClient, out any, path ...string) error {
	resp, err := inspector.Get(ctx, inspector.ServiceURL(path...), out, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	return err
}

// microversionAtLeast compares a "1.81" microversion to major.minor.
func microversionAtLeast(v string, major, minor int) bool {
	var ma, mi int
	if _, err := fmt.Sscanf(v, "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}
