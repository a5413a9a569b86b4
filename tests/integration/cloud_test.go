//go:build integration

package integration

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/metalkit/baremetal/internal/openstack"
	"github.com/stretchr/testify/require"
)

// connectCloud logs in to the named cloud of the test services'
// clouds.yaml ("local": Keystone, watched by Nova; "local-standalone":
// noauth Ironic) for the test's own checks, and points the test's
// OS_CLIENT_CONFIG_FILE there.
func connectCloud(t testing.TB, name string) *openstack.Cloud {
	t.Helper()
	if _, err := os.Stat(cloudsYAML); err != nil {
		t.Fatalf("no %s: start the services with make services-up", cloudsYAML)
	}
	t.Setenv("OS_CLIENT_CONFIG_FILE", cloudsYAML)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := openstack.Connect(ctx, openstack.Options{Cloud: name})
	require.NoError(t, err, "connect to cloud %s (are the services up? make services-up)", name)
	return c
}

// nodesNamed lists the Ironic nodes whose name starts with prefix.
func nodesNamed(t testing.TB, c *gophercloud.ServiceClient, prefix string) map[string]nodes.Node {
	t.Helper()
	pages, err := nodes.ListDetail(c, nodes.ListOpts{}).AllPages(context.Background())
	require.NoError(t, err)
	all, err := nodes.ExtractNodes(pages)
	require.NoError(t, err)
	out := map[string]nodes.Node{}
	for _, n := range all {
		if strings.HasPrefix(n.Name, prefix) {
			out[n.Name] = n
		}
	}
	return out
}

// deleteNodesNamed deletes every node whose name starts with prefix (its
// ports go with it), 8 at a time. A node Ironic will not delete in its
// state (inspect failed, clean failed...) is put in maintenance, where it
// can be, and tried again for up to two minutes.
func deleteNodesNamed(t testing.TB, c *gophercloud.ServiceClient, prefix string) {
	ctx := context.Background()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, n := range nodesNamed(t, c, prefix) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var err error
			for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
				if err = nodes.Delete(ctx, c, n.UUID).ExtractErr(); err == nil || gophercloud.ResponseCodeIs(err, 404) {
					return
				}
				if strings.Contains(err.Error(), "Valid provision states to perform deletion") {
					_ = nodes.SetMaintenance(ctx, c, n.UUID, nodes.MaintenanceOpts{Reason: "test cleanup"}).ExtractErr()
				}
			}
			t.Logf("cleanup: delete %s: %v", n.Name, err)
		}()
	}
	wg.Wait()
}
