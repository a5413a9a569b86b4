package openstack

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/metalkit/baremetal/internal/poll"
)

// WaitFor calls cond at once and then every interval until it reports done,
// fails, or ctx ends. On ctx's end the error wraps ctx.Err().
func WaitFor(ctx context.Context, interval time.Duration, cond func(ctx context.Context) (bool, error)) error {
	if interval <= 0 {
		interval = time.Second
	}
	err := poll.Until(ctx, poll.Backoff{First: interval}, cond)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("timed out: %w", ctx.Err())
	}
	return err
}

// WaitOption tunes a waiter.
type WaitOption func(*waitConfig)

type waitConfig struct {
	interval   time.Duration
	failStates []string
	observe    func(state string)
}

// WithInterval sets the polling interval (default 2s).
func WithInterval(d time.Duration) WaitOption { return func(c *waitConfig) { c.interval = d } }

// WithFailStates adds states that end the wait as a failure.
func WithFailStates(states ...string) WaitOption {
	return func(c *waitConfig) { c.failStates = append(c.failStates, states...) }
}

// WithObserver is called with each state seen (for progress logs).
func WithObserver(f func(state string)) WaitOption { return func(c *waitConfig) { c.observe = f } }

func waitOptions(opts []WaitOption) waitConfig {
	c := waitConfig{interval: 2 * time.Second}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// NodeFailStates are Ironic provision states a node does not leave by
// itself: reaching one ends a wait as a failure.
var NodeFailStates = []string{
	"inspect failed", "clean failed", "deploy failed", "error",
	"rescue failed", "unrescue failed", "adopt failed", "service failed",
}

// StateError reports that a resource reached a failure state, or was still
// elsewhere when the wait ended. Its text is scrubbed.
type StateError struct {
	Kind   string // "node", "server"
	Name   string
	State  string // the state reached or last seen
	Target string
	// Detail is Ironic's last_error or the Nova fault message.
	Detail string
	// TimedOut tells the wait ended before any verdict.
	TimedOut bool
	cause    error
}

func (e *StateError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: ", e.Kind, e.Name)
	if e.TimedOut {
		fmt.Fprintf(&b, "timed out waiting for %q, still %q", e.Target, e.State)
	} else {
		fmt.Fprintf(&b, "reached %q while waiting for %q", e.State, e.Target)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	return b.String()
}

// Unwrap gives context.DeadlineExceeded (or Canceled) for a timeout.
func (e *StateError) Unwrap() error { return e.cause }

// WaitNodeProvisionState polls an Ironic node until its provision state is
// target. It stops early on a failure state (NodeFailStates; and "enroll"
// with nothing in progress when waiting for another state, which is where a
// failed "manage" leaves a node) with Ironic's last_error. node is a name or
// UUID.
func WaitNodeProvisionState(ctx context.Context, client *gophercloud.ServiceClient, node, target string, opts ...WaitOption) (*nodes.Node, error) {
	cfg := waitOptions(opts)
	fail := append(slices.Clone(NodeFailStates), cfg.failStates...)
	var last *nodes.Node
	err := WaitFor(ctx, cfg.interval, func(ctx context.Context) (bool, error) {
		n, err := nodes.Get(ctx, client, node).Extract()
		if err != nil {
			return false, Describe(err, "node "+node)
		}
		last = n
		if cfg.observe != nil {
			cfg.observe(n.ProvisionState)
		}
		switch {
		case n.ProvisionState == target:
			return true, nil
		case slices.Contains(fail, n.ProvisionState),
			n.ProvisionState == "enroll" && target != "enroll" && n.TargetProvisionState == "":
			return false, &StateError{Kind: "node", Name: nodeName(n, node), State: n.ProvisionState, Target: target, Detail: Scrub(n.LastError)}
		}
		return false, nil
	})
	var se *StateError
	if err == nil || errors.As(err, &se) || last == nil || ctx.Err() == nil {
		return last, err
	}
	return last, &StateError{Kind: "node", Name: nodeName(last, node), State: last.ProvisionState, Target: target,
		Detail: Scrub(last.LastError), TimedOut: true, cause: ctx.Err()}
}

func nodeName(n *nodes.Node, fallback string) string {
	if n != nil && n.Name != "" {
		return n.Name
	}
	return fallback
}
