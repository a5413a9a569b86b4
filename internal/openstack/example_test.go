package openstack_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/metalkit/baremetal/internal/openstack"
)

// A module connects once, takes service clients, and reports failures with
// Describe so the user reads Ironic's own words, never a secret.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	cloud, err := openstack.Connect(ctx, openstack.Options{Cloud: "undercloud", Timeout: 30 * time.Minute})
	if err != nil {
		fmt.Println(err) // e.g. authentication at ...: The request you have made requires authentication. (HTTP 401)
		return
	}
	bm, err := cloud.Baremetal(ctx) // microversion negotiated, e.g. "1.82"
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := nodes.ChangeProvisionState(ctx, bm, "node-0", nodes.ProvisionStateOpts{Target: nodes.TargetManage}).ExtractErr(); err != nil {
		fmt.Println(openstack.Describe(err, "node node-0")) // node node-0: Node node-0 is locked ... (HTTP 409, after 12 attempts)
		return
	}
	// Stops at "enroll" (bad BMC credentials) with Ironic's last_error.
	n, err := openstack.WaitNodeProvisionState(ctx, bm, "node-0", "manageable", openstack.WithInterval(5*time.Second))
	if err != nil {
		fmt.Println(err) // node node-0: reached "enroll" while waiting for "manageable": ...
		return
	}
	fmt.Println(n.ProvisionState)
}
