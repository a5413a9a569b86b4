package enroll

import (
	"context"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/ports"
	"github.com/metalkit/baremetal/internal/openstack"
)

// The connection layer retries what is safe to repeat blindly. A POST or
// PATCH whose connection broke after it was sent may or may not have been
// acted on: these helpers look at Ironic before trying again, so a busy or
// restarting API never leaves a node half made or made twice.

const writeAttempts = 4

func pause(ctx context.Context, attempt int) error {
	t := time.NewTimer(time.Duration(attempt) * 500 * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// createNode POSTs the node; after a broken connection it looks the node up
// by name and adopts it when the first POST did create it.
func createNode(ctx context.Context, client *gophercloud.ServiceClient, body map[string]any) (*nodes.Node, error) {
	name, _ := body["name"].(string)
	for attempt := 1; ; attempt++ {
		created, err := nodes.Create(ctx, client, createOpts(body)).Extract()
		if err == nil || !openstack.ConnectionLost(err) || name == "" || attempt == writeAttempts {
			return created, err
		}
		if err := pause(ctx, attempt); err != nil {
			return nil, err
		}
		found, gerr := nodes.Get(ctx, client, name).Extract()
		switch {
		case gerr == nil:
			return found, nil
		case !gophercloud.ResponseCodeIs(gerr, 404):
			return nil, err
		}
	}
}

// createPort POSTs a port; after a broken connection it looks the MAC up and
// adopts the port when it is on this node.
func createPort(ctx context.Context, client *gophercloud.ServiceClient, opts ports.CreateOpts) (*ports.Port, error) {
	for attempt := 1; ; attempt++ {
		created, err := ports.Create(ctx, client, opts).Extract()
		if err == nil || !openstack.ConnectionLost(err) || attempt == writeAttempts {
			return created, err
		}
		if err := pause(ctx, attempt); err != nil {
			return nil, err
		}
		pages, lerr := ports.List(client, ports.ListOpts{Address: opts.Address, Fields: []string{"uuid", "address", "node_uuid"}}).AllPages(ctx)
		if lerr != nil {
			return nil, err
		}
		found, lerr := ports.ExtractPorts(pages)
		if lerr != nil {
			return nil, err
		}
		for _, p := range found {
			if strings.EqualFold(p.Address, opts.Address) && p.NodeUUID == opts.NodeUUID {
				return &p, nil
			}
		}
		if len(found) > 0 {
			return nil, err // on another node: let the caller report the original failure
		}
	}
}

// updateNode PATCHes the node; the same patch applied twice gives the same
// node, so a broken connection is simply retried.
func updateNode(ctx context.Context, client *gophercloud.ServiceClient, id string, ops []PatchOp) (*nodes.Node, error) {
	for attempt := 1; ; attempt++ {
		updated, err := nodes.Update(ctx, client, id, nodeOps(ops)).Extract()
		if err == nil || !openstack.ConnectionLost(err) || attempt == writeAttempts {
			return updated, err
		}
		if err := pause(ctx, attempt); err != nil {
			return nil, err
		}
	}
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
