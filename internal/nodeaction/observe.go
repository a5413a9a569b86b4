package nodeaction

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"

	"github.com/metalkit/baremetal/internal/openstack"
)

// Observe reads the node by name or UUID.
func Observe(ctx context.Context, client *gophercloud.ServiceClient, ident string) (*nodes.Node, error) {
	seg, err := openstack.PathSegment(ident)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	n, err := nodes.Get(ctx, client, seg).Extract()
	if gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		return nil, fmt.Errorf("node: Ironic has no node named %s or with that UUID", ident)
	}
	if err != nil {
		return nil, openstack.Describe(err, "node "+ident)
	}
	return n, nil
}
