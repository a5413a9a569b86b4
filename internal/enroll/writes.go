package enroll

import (
	"context"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/ports"
	"github.com/metalkit/baremetal/internal/openstack"
	"github.com/metalkit/baremetal/internal/poll"
)

// The connection layer retries what is safe to repeat blindly. A POST or
// PATCH whose connection broke after it was sent may or may not have been
// acted on: these helpers look at Ironic before trying again, so a busy or
// restarting API never leaves a node half made or made twice.

const writeAttempts = 4

func pause(ctx context.Context, attempt int) error {
	return poll.Sleep(ctx, time.Duration(attempt)*500*time.Millisecond)
}

// sendWrite sends write, and again (up to writeAttempts in all, after a
// pause) while its connection breaks. Before a repeat, look (if any) asks
// Ironic whether the broken one did act: it returns what to adopt as the
// result, or stop to give up with the write's own failure, or neither to
// send again.
func sendWrite[T any](ctx context.Context, write func() (*T, error), look func() (found *T, stop bool)) (*T, error) {
	for attempt := 1; ; attempt++ {
		out, err := write()
		if err == nil || !openstack.ConnectionLost(err) || attempt == writeAttempts {
			return out, err
		}
		if err := pause(ctx, attempt); err != nil {
			return nil, err
		}
		if look == nil {
			continue
		}
		if found, stop := look(); found != nil {
			return found, nil
		} else if stop {
			return nil, err
		}
	}
}

// createNode POSTs the node; after a broken connection it looks the node up
// by name (or by the uuid the input gave) and adopts it when the first POST
// did create it. A node with neither cannot be looked up: it is sent once.
func createNode(ctx context.Context, client *gophercloud.ServiceClient, body map[string]any) (*nodes.Node, error) {
	write := func() (*nodes.Node, error) { return nodes.Create(ctx, client, createOpts(body)).Extract() }
	ident, _ := body["name"].(string)
	if ident == "" {
		ident, _ = body["uuid"].(string) // a nameless node is found again by the uuid it was given
	}
	seg, err := openstack.PathSegment(ident)
	if ident == "" || err != nil {
		// Neither (or none usable in a URL): it cannot be looked up.
		return write()
	}
	return sendWrite(ctx, write, func() (*nodes.Node, bool) {
		found, err := nodes.Get(ctx, client, seg).Extract()
		if err != nil {
			return nil, !gophercloud.ResponseCodeIs(err, 404)
		}
		return found, false
	})
}

// createPort POSTs a port; after a broken connection it looks the MAC up and
// adopts the port when it is on this node.
func createPort(ctx context.Context, client *gophercloud.ServiceClient, opts ports.CreateOpts) (*ports.Port, error) {
	write := func() (*ports.Port, error) { return ports.Create(ctx, client, opts).Extract() }
	return sendWrite(ctx, write, func() (*ports.Port, bool) {
		pages, err := ports.List(client, ports.ListOpts{Address: opts.Address, Fields: []string{"uuid", "address", "node_uuid"}}).AllPages(ctx)
		if err != nil {
			return nil, true
		}
		found, err := ports.ExtractPorts(pages)
		if err != nil {
			return nil, true
		}
		for _, p := range found {
			if strings.EqualFold(p.Address, opts.Address) && p.NodeUUID == opts.NodeUUID {
				return &p, false
			}
		}
		// On another node: let the caller report the original failure.
		return nil, len(found) > 0
	})
}

// updateNode PATCHes the node; the same patch applied twice gives the same
// node, so a broken connection is simply retried.
func updateNode(ctx context.Context, client *gophercloud.ServiceClient, id string, ops []PatchOp) (*nodes.Node, error) {
	return sendWrite(ctx, func() (*nodes.Node, error) { return nodes.Update(ctx, client, id, nodeOps(ops)).Extract() }, nil)
}

// manage asks for enroll -> manageable. A refusal because the node is
// already verifying or manageable means an earlier, retried request won.
func manage(ctx context.Context, client *gophercloud.ServiceClient, id string) error {
	err := nodes.ChangeProvisionState(ctx, client, id, nodes.ProvisionStateOpts{Target: nodes.TargetManage}).ExtractErr()
	if err == nil {
		return nil
	}
	if n, gerr := nodes.Get(ctx, client, id).Extract(); gerr == nil &&
		(n.ProvisionState == stateVerifying || (n.ProvisionState == StateManageable && n.TargetProvisionState == "")) {
		return nil
	}
	return err
}
