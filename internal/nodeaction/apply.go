package nodeaction

import (
	"context"
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"

	"github.com/metalkit/baremetal/internal/openstack"
	"github.com/metalkit/baremetal/internal/poll"
)

// PowerPoll is how often a power change is looked at: fast at first
// (fake-hardware and virtual BMCs answer in tens of milliseconds), backing
// off to a few seconds for a real BMC.
var PowerPoll = poll.Backoff{First: 100 * time.Millisecond, Max: 3 * time.Second, Growth: 1.5, WaitFirst: true}

// Outcome is what Apply did.
type Outcome struct {
	// Node is the node read after the last step (the observed one when nothing ran).
	Node *nodes.Node
	// Done are the actions carried out, in order.
	Done []Action
	// PowerSeconds is how long the power change took to end (when waited for).
	PowerSeconds float64
}

// Failed is a failure after some actions (Outcome.Done) were carried out.
type Failed struct{ Msg string }

func (f *Failed) Error() string { return f.Msg }

// Apply runs the plan on node n in its order; with wait, a power change is
// waited for until the node's power state is the one asked (bounded by ctx).
func Apply(ctx context.Context, client *gophercloud.ServiceClient, n *nodes.Node, p Plan, wait bool) (*Outcome, error) {
	out := &Outcome{Node: n}
	label := nodeLabel(n)
	fail := func(a Action, err error) (*Outcome, error) {
		return out, &Failed{Msg: fmt.Sprintf("node %s: %s failed: %v", label, a, openstack.Describe(err, ""))}
	}
	patched := false
	for _, a := range p.Actions {
		var err error
		switch a {
		case ActionSetMaintenance:
			err = nodes.SetMaintenance(ctx, client, n.UUID, nodes.MaintenanceOpts{Reason: p.After.MaintenanceReason}).ExtractErr()
		case ActionUnsetMaintenance:
			err = nodes.UnsetMaintenance(ctx, client, n.UUID).ExtractErr()
		case ActionSetResourceClass, ActionSetCapabilities:
			if patched {
				out.Done = append(out.Done, a)
				continue
			}
			patched = true
			_, err = nodes.Update(ctx, client, n.UUID, p.Patch).Extract()
		case ActionSetTraits:
			err = setTraits(ctx, client, n.UUID, p.Traits)
		default:
			err = nodes.ChangePowerState(ctx, client, n.UUID, nodes.PowerStateOpts{Target: p.PowerTarget}).ExtractErr()
			if err == nil && wait {
				out.Done = append(out.Done, a)
				start := time.Now()
				if err := waitPower(ctx, client, n.UUID, label, a, p.PowerEnds); err != nil {
					return out, err
				}
				out.PowerSeconds = time.Since(start).Seconds()
				continue
			}
		}
		if err != nil {
			return fail(a, err)
		}
		out.Done = append(out.Done, a)
	}
	if len(out.Done) > 0 {
		final, err := nodes.Get(ctx, client, n.UUID).Extract()
		if err != nil {
			return out, &Failed{Msg: fmt.Sprintf("node %s: read after the changes: %v", label, openstack.Describe(err, ""))}
		}
		out.Node = final
	}
	return out, nil
}

// setTraits replaces the node's traits (PUT /v1/nodes/{node}/traits, API
// 1.37): gophercloud v2 reads traits but has no call to set them.
func setTraits(ctx context.Context, client *gophercloud.ServiceClient, uuid string, traits []string) error {
	url := client.ServiceURL("nodes", uuid, "traits")
	_, err := client.Put(ctx, url, map[string]any{"traits": orEmpty(traits)}, nil, &gophercloud.RequestOpts{OkCodes: []int{204}})
	return err
}

// waitPower waits until the node's power change ended in ends; a change
// that ends elsewhere fails with Ironic's last_error.
func waitPower(ctx context.Context, client *gophercloud.ServiceClient, uuid, label string, a Action, ends string) error {
	var last *nodes.Node
	err := poll.Until(ctx, PowerPoll, func(ctx context.Context) (bool, error) {
		n, err := nodes.Get(ctx, client, uuid).Extract()
		if err != nil {
			return false, openstack.Describe(err, "")
		}
		last = n
		if n.TargetPowerState != "" {
			return false, nil
		}
		if n.PowerState == ends {
			return true, nil
		}
		if n.LastError != "" {
			return false, fmt.Errorf("the power state is %q: %s", n.PowerState, openstack.Scrub(n.LastError))
		}
		return false, nil
	})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		still := "unknown"
		if last != nil {
			still = fmt.Sprintf("%q", last.PowerState)
			if last.TargetPowerState != "" {
				still += fmt.Sprintf(" (target %q)", last.TargetPowerState)
			}
		}
		return &Failed{Msg: fmt.Sprintf("node %s: %s requested, but the power state is still %s (%v)", label, a, still, err)}
	}
	return &Failed{Msg: fmt.Sprintf("node %s: %s failed: %v", label, a, err)}
}
