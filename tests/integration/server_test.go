//go:build integration

package integration

// nova_bm_server against the real loopback stack (Keystone, Nova, Placement,
// Ironic with fake-hardware nodes, Glance, Neutron) through ansible-playbook.
// Every node, flavor, image and server made here is named srv-<run>-..., has
// a resource class of its own (so no other test's node is ever taken, and
// ours are never taken by others) and is removed at the end.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	bmports "github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metalkit/baremetal/internal/diagnose"
	"github.com/metalkit/baremetal/internal/openstack"
)

// srvBed sets up and tears down what the server tests need, with gophercloud.
type srvBed struct {
	t                                      testing.TB
	ctx                                    context.Context
	run                                    string // srv-<random>: prefix of everything made here
	bm, compute, image, placement, neutron *gophercloud.ServiceClient
	env                                    []string
}

func newSrvBed(t testing.TB) *srvBed {
	t.Helper()
	cloud := connectCloud(t, "local")
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	t.Cleanup(cancel)
	b := &srvBed{t: t, ctx: ctx, run: "srv-" + randHex(3), env: cloudsEnv()}
	var err error
	for _, c := range []struct {
		dst **gophercloud.ServiceClient
		get func(context.Context) (*gophercloud.ServiceClient, error)
	}{{&b.bm, cloud.Baremetal}, {&b.compute, cloud.Compute}, {&b.image, cloud.Image}, {&b.placement, cloud.Placement}, {&b.neutron, cloud.Network}} {
		*c.dst, err = c.get(ctx)
		require.NoError(t, err)
	}
	return b
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (b *srvBed) name(part string) string { return b.run + "-" + part }

// resourceClass is a class no other test uses: srv_<run>_<part>.
func (b *srvBed) resourceClass(part string) string {
	return strings.ReplaceAll(b.run+"_"+part, "-", "_")
}

// nodeSpec says how a test node should end up.
type nodeSpec struct {
	part          string
	resourceClass string
	capabilities  string
	state         string // available (default) or manageable
	maintenance   bool
}

// node enrolls a fake-hardware node with a port, brings it to its state and
// powers it off (Nova ignores fake nodes whose power state is unknown).
func (b *srvBed) node(spec nodeSpec) nodes.Node {
	t := b.t
	t.Helper()
	caps := spec.capabilities
	if caps == "" {
		caps = "profile:baremetal,boot_option:local"
	}
	n, err := nodes.Create(b.ctx, b.bm, nodes.CreateOpts{
		Name: b.name(spec.part), Driver: "fake-hardware", ResourceClass: spec.resourceClass,
		Properties: map[string]any{"cpus": 4, "memory_mb": 8192, "local_gb": 100, "cpu_arch": "x86_64", "capabilities": caps},
	}).Extract()
	require.NoError(t, err, "create node %s", spec.part)
	t.Cleanup(func() { b.deleteNode(n.UUID) })
	mac := "52:54:00:" + randHex(1) + ":" + randHex(1) + ":" + randHex(1)
	_, err = bmports.Create(b.ctx, b.bm, bmports.CreateOpts{NodeUUID: n.UUID, Address: mac}).Extract()
	require.NoError(t, err)
	b.provision(n.UUID, nodes.TargetManage, "manageable")
	if spec.state != "manageable" {
		b.provision(n.UUID, nodes.TargetProvide, "available")
	}
	require.NoError(t, nodes.ChangePowerState(b.ctx, b.bm, n.UUID, nodes.PowerStateOpts{Target: nodes.PowerOff}).ExtractErr())
	if spec.maintenance {
		require.NoError(t, nodes.SetMaintenance(b.ctx, b.bm, n.UUID, nodes.MaintenanceOpts{Reason: "srv test: bad DIMM"}).ExtractErr())
	}
	out, err := nodes.Get(b.ctx, b.bm, n.UUID).Extract()
	require.NoError(t, err)
	return *out
}

func (b *srvBed) provision(uuid string, target nodes.TargetProvisionState, want string) {
	b.t.Helper()
	require.NoError(b.t, nodes.ChangeProvisionState(b.ctx, b.bm, uuid, nodes.ProvisionStateOpts{Target: target}).ExtractErr())
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	_, err := openstack.WaitNodeProvisionState(ctx, b.bm, uuid, want, openstack.WithInterval(200*time.Millisecond))
	require.NoError(b.t, err)
}

func (b *srvBed) deleteNode(uuid string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := nodes.Get(ctx, b.bm, uuid).Extract()
	if err != nil {
		return
	}
	if n.InstanceUUID != "" {
		b.t.Logf("cleanup: node %s still has instance %s", n.Name, n.InstanceUUID)
		_ = servers.Delete(ctx, b.compute, n.InstanceUUID).ExtractErr()
		_ = openstack.WaitFor(ctx, time.Second, func(ctx context.Context) (bool, error) {
			n, err := nodes.Get(ctx, b.bm, uuid).Extract()
			return err != nil || (n.InstanceUUID == "" && n.ProvisionState == "available"), nil
		})
	}
	_ = nodes.SetMaintenance(ctx, b.bm, uuid, nodes.MaintenanceOpts{Reason: "srv test cleanup"}).ExtractErr()
	if err := nodes.Delete(ctx, b.bm, uuid).ExtractErr(); err != nil {
		b.t.Logf("cleanup: delete node %s: %v", n.Name, err)
	}
}

// flavor creates a flavor with these extra specs (1 vCPU, 1 GiB, 10 GiB nominal).
func (b *srvBed) flavor(part string, specs map[string]string) string {
	t := b.t
	t.Helper()
	// Small nominal sizes: Nova's quota counts a flavor's vcpus and ram even
	// when the extra specs zero them, and the test project's quota is shared.
	disk := 10
	f, err := flavors.Create(b.ctx, b.compute, flavors.CreateOpts{Name: b.name(part), RAM: 1024, VCPUs: 1, Disk: &disk}).Extract()
	require.NoError(t, err)
	t.Cleanup(func() { _ = flavors.Delete(context.Background(), b.compute, f.ID).ExtractErr() })
	// As the openstack CLI does (microversion 2.1): from 2.86 Nova rejects
	// capabilities:profile, the TripleO idiom, as an unknown extra spec.
	legacy := *b.compute
	legacy.Microversion = "2.1"
	_, err = flavors.CreateExtraSpecs(b.ctx, &legacy, f.ID, flavors.ExtraSpecsOpts(specs)).Extract()
	require.NoError(t, err)
	return f.Name
}

// bareMetalFlavor is the flavor a node of class rc matches: resources:CUSTOM_<RC>=1, standard resources zeroed.
func bareMetalFlavor(rc string) map[string]string {
	return map[string]string{"resources:" + diagnose.PlacementClass(rc): "1",
		"resources:VCPU": "0", "resources:MEMORY_MB": "0", "resources:DISK_GB": "0"}
}

// image uploads a small raw image (the fake deploy never reads it).
func (b *srvBed) imageNamed(part string) (name, id string) {
	t := b.t
	t.Helper()
	img, err := images.Create(b.ctx, b.image, images.CreateOpts{Name: b.name(part), DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	require.NoError(t, err)
	t.Cleanup(func() { _ = images.Delete(context.Background(), b.image, img.ID).ExtractErr() })
	require.NoError(t, imagedata.Upload(b.ctx, b.image, img.ID, bytes.NewReader(make([]byte, 1<<20))).ExtractErr())
	return img.Name, img.ID
}

// waitPlacement waits until Nova reported each node to Placement with its
// class; free nodes must also be schedulable (reserved 0). Nova's compute
// does this at its next resource update (update_resources_interval).
func (b *srvBed) waitPlacement(free []nodes.Node, reserved []nodes.Node) {
	t := b.t
	t.Helper()
	pc := *b.placement
	pc.Microversion = "1.22"
	start := time.Now()
	// Nova's compute walks every Ironic node at each resource update: with
	// hundreds of nodes from other tests on a busy machine that takes minutes.
	ctx, cancel := context.WithTimeout(b.ctx, 12*time.Minute)
	defer cancel()
	check := func(n nodes.Node, wantFree bool) func(context.Context) (bool, error) {
		return func(ctx context.Context) (bool, error) {
			var body struct {
				Inventories map[string]struct{ Total, Reserved int } `json:"inventories"`
			}
			_, err := pc.Get(ctx, pc.ServiceURL("resource_providers", n.UUID, "inventories"), &body, &gophercloud.RequestOpts{OkCodes: []int{200}})
			if err != nil {
				return false, nil
			}
			inv, ok := body.Inventories[diagnose.PlacementClass(n.ResourceClass)]
			return ok && (!wantFree || inv.Reserved == 0), nil
		}
	}
	for _, n := range free {
		require.NoError(t, openstack.WaitFor(ctx, time.Second, check(n, true)), "node %s schedulable in Placement", n.Name)
	}
	for _, n := range reserved {
		require.NoError(t, openstack.WaitFor(ctx, time.Second, check(n, false)), "node %s known to Placement", n.Name)
	}
	t.Logf("nodes in Placement after %.1f s", time.Since(start).Seconds())
}

// serversNamed lists the servers of that name (the cleanup safety net and the "nothing created" proof).
func (b *srvBed) serversNamed(name string) []servers.Server {
	pages, err := servers.List(b.compute, servers.ListOpts{Name: "^" + name + "$"}).AllPages(b.ctx)
	require.NoError(b.t, err)
	list, err := servers.ExtractServers(pages)
	require.NoError(b.t, err)
	return list
}

// cleanupServer deletes any server of that name left behind.
func (b *srvBed) cleanupServer(name string) {
	b.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		pages, err := servers.List(b.compute, servers.ListOpts{Name: "^" + name + "$"}).AllPages(ctx)
		if err != nil {
			return
		}
		list, _ := servers.ExtractServers(pages)
		for _, s := range list {
			_ = servers.Delete(ctx, b.compute, s.ID).ExtractErr()
			_ = openstack.WaitFor(ctx, 500*time.Millisecond, func(ctx context.Context) (bool, error) {
				_, err := servers.Get(ctx, b.compute, s.ID).Extract()
				return gophercloud.ResponseCodeIs(err, http.StatusNotFound), nil
			})
		}
	})
}

// bedInfo is tests/services' services.json, the part the tests branch on.
type bedInfo struct {
	NeutronKind string `json:"neutron_kind"`
	// Release is the OpenStack release the services run: zed or 2025.1.
	Release string `json:"release"`
}

func servicesInfo(t *testing.T) bedInfo {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "build", "services", "services.json"))
	require.NoError(t, err)
	var s bedInfo
	require.NoError(t, json.Unmarshal(raw, &s))
	return s
}

// neutronKind is what answers the Networking API on the test bed ("real" or "standin").
func neutronKind(t *testing.T) string {
	if k := servicesInfo(t).NeutronKind; k != "" {
		return k
	}
	return "unknown"
}

// release is the OpenStack release of the test bed; tests/services writes it.
func release(t *testing.T) string {
	t.Helper()
	r := servicesInfo(t).Release
	require.Contains(t, []string{"zed", "2025.1"}, r, "services.json names the release the services run")
	return r
}

func path(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func str(v any) string { s, _ := v.(string); return s }

// nodeReport finds a node's entry in a diagnosis.
func nodeReport(t *testing.T, diag map[string]any, name string) map[string]any {
	t.Helper()
	list, _ := diag["nodes"].([]any)
	for _, e := range list {
		if n, _ := e.(map[string]any); n != nil && n["name"] == name {
			return n
		}
	}
	t.Fatalf("diagnosis has no node %s", name)
	return nil
}

// assertTasksWithout checks a secret shows in none of these tasks' results.
func assertTasksWithout(t *testing.T, run *PlaybookRun, secret string, tasks ...string) {
	t.Helper()
	for _, name := range tasks {
		b, _ := json.Marshal(run.Task(t, name).Result)
		assert.NotContains(t, string(b), secret, "task %q shows the secret", name)
	}
	assert.NotContains(t, run.Stderr, secret)
}

func reasonCodes(n map[string]any) (blocking []string) {
	list, _ := n["reasons"].([]any)
	for _, e := range list {
		r, _ := e.(map[string]any)
		if b, _ := r["blocking"].(bool); b {
			blocking = append(blocking, str(r["code"]))
		}
	}
	return blocking
}

// The main proof: Ignition rendered by ignition_render, booted with a
// config drive on the real Nova, ACTIVE, unchanged on a second run, deleted
// with its node cleaned back to available. Check and diff mode on the way.
func TestServerBootIgnitionConfigDriveThroughNova(t *testing.T) {
	b := newSrvBed(t)
	kind := neutronKind(t)
	// The networks are resolved by name through the Networking API: the
	// subtest says whether that is the real neutron-server or the stand-in.
	t.Run("nics by name through neutron-"+kind, func(t *testing.T) {
		b.t = t
		rc := b.resourceClass("boot")
		node := b.node(nodeSpec{part: "boot", resourceClass: rc})
		flavor := b.flavor("boot", bareMetalFlavor(rc))
		image, imageID := b.imageNamed("rhcos")
		server := b.name("boot")
		b.cleanupServer(server)
		b.waitPlacement([]nodes.Node{node}, nil)

		dir := t.TempDir()
		ign := filepath.Join(dir, "node.ign")
		// A sentinel in the user data: it must never show in any output.
		const sentinel = "srv-SENTINEL-b0a7c3d1"
		play := fmt.Sprintf(`
- hosts: localhost
  gather_facts: false
  vars:
    srv: &srv
      cloud: local
      name: %[1]s
      image: %[2]s
      flavor: %[3]s
      nics:
        - net-name: ctlplane
      user_data_file: %[4]s
      metadata: {role: worker}
      timeout: 300
  tasks:
    - name: render
      metalkit.baremetal.ignition_render:
        users:
          - name: core
            ssh_authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ2b29rZW5kbm90YXJlYWxrZXlidXRzeW50YXhva2F5 core@%[5]s"]
        files:
          - path: /etc/%[5]s
            contents: "%[5]s"
        dest: %[4]s
    - name: check
      metalkit.baremetal.nova_bm_server: *srv
      check_mode: true
      diff: true
    - name: boot
      metalkit.baremetal.nova_bm_server: *srv
    - name: again
      metalkit.baremetal.nova_bm_server: *srv
`, server, image, flavor, ign, sentinel)
		start := time.Now()
		run := RunPlaybook(t, play, b.env)
		t.Logf("boot playbook took %.1f s", time.Since(start).Seconds())
		require.Equal(t, 0, run.ExitCode, "stdout: %s\nstderr: %s", run.Stdout, run.Stderr)
		// ignition_render shows the config it rendered; nova_bm_server never shows the user data.
		assertTasksWithout(t, run, sentinel, "check", "boot", "again")

		content, err := os.ReadFile(ign)
		require.NoError(t, err)
		require.Contains(t, string(content), sentinel)
		sum := sha256.Sum256(content)

		check := run.Task(t, "check")
		assert.True(t, check.Changed(), "check mode reports the create")
		assert.Equal(t, []any{"create"}, check.Result["actions"])
		assert.Equal(t, "ACTIVE", path(check.Result, "diff", "after", "status"))
		assert.Equal(t, imageID, path(check.Result, "diff", "after", "image"))

		boot := run.Task(t, "boot")
		require.True(t, boot.Changed(), boot.Msg())
		srv, _ := boot.Result["server"].(map[string]any)
		require.NotNil(t, srv)
		assert.Equal(t, "ACTIVE", srv["status"])
		assert.Equal(t, true, srv["config_drive"])
		assert.Equal(t, node.Name, path(srv, "node", "name"), "the Ironic node it landed on")
		assert.Equal(t, node.UUID, path(srv, "node", "uuid"))
		assert.Equal(t, "active", path(srv, "node", "provision_state"))
		assert.Equal(t, imageID, path(srv, "image", "id"))
		assert.Equal(t, flavor, path(srv, "flavor", "name"))
		assert.Equal(t, "worker", path(srv, "metadata", "role"))
		assert.NotEmpty(t, path(srv, "addresses", "ctlplane"), "an address on ctlplane, resolved by name through Neutron (%s)", kind)
		assert.Equal(t, float64(len(content)), path(boot.Result, "user_data", "size"))
		assert.Equal(t, hex.EncodeToString(sum[:]), path(boot.Result, "user_data", "sha256"))
		created, _ := path(boot.Result, "timings", "create").(float64)
		assert.Greater(t, created, 0.0)
		t.Logf("boot: %s (POST to ACTIVE %.2f s)", boot.Msg(), created)

		// Nova holds the config drive flag and the Ignition file byte for byte (admin view).
		var raw struct {
			Server map[string]any `json:"server"`
		}
		b.compute.Microversion = "2.3"
		_, err = b.compute.Get(b.ctx, b.compute.ServiceURL("servers", str(srv["id"])), &raw, &gophercloud.RequestOpts{OkCodes: []int{http.StatusOK}})
		require.NoError(t, err)
		assert.Equal(t, "True", raw.Server["config_drive"])
		assert.Equal(t, base64.StdEncoding.EncodeToString(content), raw.Server["OS-EXT-SRV-ATTR:user_data"])

		again := run.Task(t, "again")
		assert.False(t, again.Changed(), "second run: %s", again.Msg())
		assert.Equal(t, []any{}, again.Result["actions"])
		assert.Equal(t, []any{}, again.Result["mismatches"])
		assert.Equal(t, str(srv["id"]), path(again.Result, "server", "id"))

		del := fmt.Sprintf(`
- hosts: localhost
  gather_facts: false
  tasks:
    - name: delete check
      metalkit.baremetal.nova_bm_server: {cloud: local, name: %[1]s, state: absent}
      check_mode: true
    - name: delete
      metalkit.baremetal.nova_bm_server: {cloud: local, name: %[1]s, state: absent}
      diff: true
    - name: delete again
      metalkit.baremetal.nova_bm_server: {cloud: local, name: %[1]s, state: absent}
`, server)
		start = time.Now()
		run = RunPlaybook(t, del, b.env)
		t.Logf("delete playbook took %.1f s", time.Since(start).Seconds())
		require.Equal(t, 0, run.ExitCode, "stdout: %s\nstderr: %s", run.Stdout, run.Stderr)
		assert.True(t, run.Task(t, "delete check").Changed())
		gone := run.Task(t, "delete")
		assert.True(t, gone.Changed())
		assert.Equal(t, []any{str(srv["id"])}, gone.Result["deleted"])
		assert.Nil(t, gone.Result["server"], "no server after the delete")
		assert.Contains(t, gone.Msg(), "node "+node.Name+" is available again")
		t.Logf("delete: %s, timings %v", gone.Msg(), gone.Result["timings"])
		assert.NotNil(t, path(gone.Result, "timings", "node_available"))
		assert.Equal(t, str(srv["id"]), path(gone.Result, "diff", "before", "id"))
		assert.False(t, run.Task(t, "delete again").Changed())
		assert.Equal(t, 2, run.ChangedCount(), "delete check, delete")

		n, err := nodes.Get(b.ctx, b.bm, node.UUID).Extract()
		require.NoError(t, err)
		assert.Equal(t, "available", n.ProvisionState)
		assert.Empty(t, n.InstanceUUID)
	})
}

// Each "No valid host" cause of the issue, made real on Nova's scheduler:
// the module's diagnosis names it for the node, and in the summary. Then
// the maintenance case is fixed and recreate_on_error replaces the ERROR
// server, pinned to the node by name (availability_zone nova::<node>).
func TestServerDiagnosisNamesEachCauseOnRealNova(t *testing.T) {
	b := newSrvBed(t)
	image, _ := b.imageNamed("diag")
	type diagCase struct {
		part    string
		node    nodeSpec
		specs   map[string]string
		code    string
		summary string
	}
	rc := func(part string) string { return b.resourceClass(part) }
	cases := []diagCase{
		{part: "maint", node: nodeSpec{maintenance: true}, code: diagnose.CodeMaintenance, summary: "1 in maintenance"},
		{part: "rclass", node: nodeSpec{resourceClass: rc("gold")}, code: diagnose.CodeResourceClass,
			summary: "no node is of class " + diagnose.PlacementClass(rc("rclass"))},
		{part: "custom", node: nodeSpec{resourceClass: "CUSTOM_" + strings.ToUpper(rc("custom"))}, code: diagnose.CodeCustomCustom,
			summary: "becomes CUSTOM_CUSTOM_" + strings.ToUpper(rc("custom"))},
		{part: "caps", node: nodeSpec{capabilities: "profile:control,boot_option:local"}, specs: map[string]string{"capabilities:profile": "compute"},
			code: diagnose.CodeCapability, summary: "1 not matching capabilities:profile=compute [existing: profile=control x1]"},
		{part: "manage", node: nodeSpec{state: "manageable"}, code: diagnose.CodeNotAvailable, summary: "1 manageable, needs provide"},
		{part: "zero", specs: map[string]string{"resources:VCPU": "", "resources:MEMORY_MB": "", "resources:DISK_GB": ""},
			code: diagnose.CodeFlavorNotZeroed, summary: "the flavor does not zero the standard resources: Nova asks Placement for VCPU=1, MEMORY_MB=1024, DISK_GB=10"},
	}
	var free, reserved []nodes.Node
	nodeOf := map[string]nodes.Node{}
	flavorOf := map[string]string{}
	var tasks strings.Builder
	for _, c := range cases {
		spec := c.node
		spec.part = c.part
		flavorClass := rc(c.part)
		if spec.resourceClass == "" {
			spec.resourceClass = flavorClass
		}
		if c.part == "custom" {
			flavorClass = strings.TrimPrefix(spec.resourceClass, "CUSTOM_")
		}
		n := b.node(spec)
		nodeOf[c.part] = n
		if spec.maintenance || spec.state == "manageable" {
			reserved = append(reserved, n)
		} else {
			free = append(free, n)
		}
		specs := bareMetalFlavor(flavorClass)
		for k, v := range c.specs {
			if v == "" {
				delete(specs, k)
			} else {
				specs[k] = v
			}
		}
		flavorOf[c.part] = b.flavor(c.part, specs)
		b.cleanupServer(b.name(c.part))
		fmt.Fprintf(&tasks, `
    - name: case %[1]s
      metalkit.baremetal.nova_bm_server:
        cloud: local
        name: %[2]s
        image: %[3]s
        flavor: %[4]s
        network: ctlplane
        timeout: 180
      ignore_errors: true
`, c.part, b.name(c.part), image, flavorOf[c.part])
	}
	good := b.node(nodeSpec{part: "good", resourceClass: rc("good")})
	free = append(free, good)
	goodFlavor := b.flavor("good", bareMetalFlavor(rc("good")))
	b.waitPlacement(free, reserved)

	play := fmt.Sprintf(`
- hosts: localhost
  gather_facts: false
  tasks:%s
    - name: on demand
      metalkit.baremetal.nova_bm_server:
        cloud: local
        name: %s
        flavor: %s
        state: diagnose
`, tasks.String(), b.name("nothing"), goodFlavor)
	start := time.Now()
	run := RunPlaybook(t, play, b.env)
	t.Logf("%d failing boots + diagnoses in %.1f s", len(cases), time.Since(start).Seconds())
	require.Equal(t, 0, run.ExitCode, "stderr: %s", run.Stderr)

	for _, c := range cases {
		t.Run(c.part, func(t *testing.T) {
			res := run.Task(t, "case "+c.part)
			require.True(t, res.Failed(), "the boot must fail: %s", res.Msg())
			diag, _ := res.Result["diagnosis"].(map[string]any)
			require.NotNil(t, diag, "no diagnosis in %v", res.Result)
			assert.Equal(t, diagnose.CauseNoValidHost, diag["cause"])
			assert.Contains(t, str(path(diag, "fault", "message")), "No valid host was found")
			summary := str(diag["summary"])
			t.Logf("summary: %s", summary)
			assert.Contains(t, summary, c.summary)
			assert.Contains(t, res.Msg(), summary, "the task message carries the summary")
			if !strings.HasPrefix(c.code, "flavor_") && c.code != diagnose.CodeResourceClass {
				assert.Contains(t, summary, nodeOf[c.part].Name, "the summary names the node")
			}
			n := nodeReport(t, diag, nodeOf[c.part].Name)
			assert.Equal(t, false, n["eligible"])
			codes := reasonCodes(n)
			require.NotEmpty(t, codes)
			assert.Equal(t, c.code, codes[0], "first blocking reason of %s: %v", n["name"], n["reasons"])
			assert.Equal(t, "ERROR", path(res.Result, "server", "status"))
		})
	}

	demand := run.Task(t, "on demand")
	assert.False(t, demand.Changed())
	assert.False(t, demand.Failed(), demand.Msg())
	assert.Equal(t, diagnose.CauseOnDemand, path(demand.Result, "diagnosis", "cause"))
	assert.Contains(t, demand.Result["diagnosis"].(map[string]any)["eligible_nodes"], good.Name)
	assert.Contains(t, demand.Msg(), "1 of ")
	assert.Contains(t, demand.Msg(), "can host flavor \""+goodFlavor+"\"")
	assert.Empty(t, b.serversNamed(b.name("nothing")), "state=diagnose creates nothing")

	// Fix the maintenance node; the ERROR server blocks a plain rerun, recreate_on_error replaces it.
	maint := nodeOf["maint"]
	require.NoError(t, nodes.UnsetMaintenance(b.ctx, b.bm, maint.UUID).ExtractErr())
	maint.Maintenance = false
	b.waitPlacement([]nodes.Node{maint}, nil)
	rerun := fmt.Sprintf(`
- hosts: localhost
  gather_facts: false
  vars:
    srv: &srv
      cloud: local
      name: %s
      image: %s
      flavor: %s
      network: ctlplane
      availability_zone: "nova::%s"
      timeout: 180
  tasks:
    - name: blocked
      metalkit.baremetal.nova_bm_server: *srv
      ignore_errors: true
    - name: recreate
      metalkit.baremetal.nova_bm_server:
        <<: *srv
        recreate_on_error: true
      diff: true
`, b.name("maint"), image, flavorOf["maint"], maint.Name)
	run = RunPlaybook(t, rerun, b.env)
	require.Equal(t, 0, run.ExitCode, "stderr: %s", run.Stderr)
	blocked := run.Task(t, "blocked")
	require.True(t, blocked.Failed())
	assert.Contains(t, blocked.Msg(), "is in ERROR from an earlier run")
	assert.Contains(t, blocked.Msg(), "recreate_on_error")
	assert.NotNil(t, blocked.Result["diagnosis"])
	recreate := run.Task(t, "recreate")
	require.True(t, recreate.Changed(), recreate.Msg())
	assert.Equal(t, []any{"delete", "create"}, recreate.Result["actions"])
	assert.Equal(t, "ACTIVE", path(recreate.Result, "server", "status"))
	assert.Equal(t, maint.UUID, path(recreate.Result, "server", "node", "uuid"), "pinned by name to the node")
	assert.Len(t, recreate.Result["deleted"], 1)
	t.Logf("recreate: %s", recreate.Msg())
}

// Pre-flight: bad names or oversized user data fail clearly, naming the
// option, and create nothing (in check mode too).
func TestServerPreflightCreatesNothing(t *testing.T) {
	b := newSrvBed(t)
	image, _ := b.imageNamed("pre")
	flavor := b.flavor("pre", bareMetalFlavor(b.resourceClass("pre")))
	name := b.name("pre")
	b.cleanupServer(name)
	cases := []struct{ task, args, want string }{
		{"image", "image: " + b.name("no-image") + "\n        flavor: " + flavor, "image: Glance has no image with name or ID"},
		{"flavor", "image: " + image + "\n        flavor: " + b.name("no-flavor"), "flavor: Nova has no flavor with name or ID"},
		{"network", "image: " + image + "\n        flavor: " + flavor + "\n        nics: [{net-name: " + b.name("no-net") + "}]", "nics[0].net-name: Neutron has no network with name or ID"},
		{"port", "image: " + image + "\n        flavor: " + flavor + "\n        nics: [{port-id: 6f1e9a52-0000-4000-8000-000000000000}]", "nics[0].port-id: Neutron has no port"},
		{"key", "image: " + image + "\n        flavor: " + flavor + "\n        network: ctlplane\n        key_name: " + b.name("no-key"), "key_name: Nova has no key pair"},
		{"pin", "image: " + image + "\n        flavor: " + flavor + "\n        network: ctlplane\n        availability_zone: nova::" + b.name("no-node"), "availability_zone: Ironic has no node"},
		{"all at once", "image: " + b.name("no-image") + "\n        flavor: " + b.name("no-flavor") + "\n        network: " + b.name("no-net"), "image: Glance has no image"},
		{"user data too big", "image: " + image + "\n        flavor: " + flavor + "\n        network: ctlplane\n        user_data: \"{{ 'x' * 50000 }}\"", "Nova accepts at most 65535 bytes encoded"},
		{"nics both net and port", "image: " + image + "\n        flavor: " + flavor + "\n        nics: [{net-name: ctlplane, port-id: abc}]", "nics[0]: give only one of net-id, net-name, port-id"},
		{"nics unknown key", "image: " + image + "\n        flavor: " + flavor + "\n        nics: [{net-nam: ctlplane}]", "nics[0]: unknown key(s) net-nam"},
		{"check mode too", "image: " + b.name("no-image") + "\n        flavor: " + flavor + "\n      check_mode: true", "image: Glance has no image"},
	}
	var tasks strings.Builder
	for _, c := range cases {
		fmt.Fprintf(&tasks, `
    - name: %s
      metalkit.baremetal.nova_bm_server:
        cloud: local
        name: %s
        %s
      ignore_errors: true
`, c.task, name, c.args)
	}
	// A wrong password: the failure says so and never shows it.
	const password = "srv-PASSWORD-SENTINEL-4f1d"
	fmt.Fprintf(&tasks, `
    - name: bad password
      metalkit.baremetal.nova_bm_server:
        cloud: local
        auth: {password: %s}
        name: %s
        image: %s
        flavor: %s
      ignore_errors: true
`, password, name, image, flavor)
	cases = append(cases, struct{ task, args, want string }{task: "bad password", want: "authentication at http://127.0.0.1:5000/v3"})
	run := RunPlaybook(t, playbook(tasks.String()), b.env)
	require.Equal(t, 0, run.ExitCode, "stderr: %s", run.Stderr)
	AssertNoSecret(t, run, password)
	for _, c := range cases {
		res := run.Task(t, c.task)
		assert.True(t, res.Failed(), c.task)
		assert.False(t, res.Changed(), c.task)
		assert.Contains(t, res.Msg(), c.want, c.task)
	}
	all := run.Task(t, "all at once").Msg()
	for _, want := range []string{"nothing was created", "image:", "flavor:", "nics[0].net-name:"} {
		assert.Contains(t, all, want, "every problem is listed")
	}
	big := run.Task(t, "user data too big")
	assert.Equal(t, float64(50000), path(big.Result, "user_data", "size"))
	assert.NotContains(t, fmt.Sprint(big.Result), strings.Repeat("x", 100), "the user data is not echoed")
	assert.Empty(t, b.serversNamed(name), "no server was created")
}

// runModule runs the built module binary on an args file, as Ansible does,
// and returns its result and wall time (no ansible-playbook overhead).
func runModule(tb testing.TB, env []string, args map[string]any) (map[string]any, time.Duration) {
	tb.Helper()
	f := filepath.Join(tb.TempDir(), "args.json")
	raw, _ := json.Marshal(args)
	require.NoError(tb, os.WriteFile(f, raw, 0o600))
	cmd := exec.Command(filepath.Join(repoRoot, "build", "bin", "nova_bm_server"), f)
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	out, _ := cmd.Output()
	took := time.Since(start)
	var res map[string]any
	require.NoError(tb, json.Unmarshal(out, &res), "module output: %s", out)
	return res, took
}

// BenchmarkServerBootDelete measures, on the loopback stack, a boot to
// ACTIVE and a delete to the node back to available: by the module binary
// and by the openstack CLI (`server create --wait`, `server delete --wait`),
// plus an on-demand diagnosis over every Ironic node. Run by
// tests/bench/server.sh.
func BenchmarkServerBootDelete(bb *testing.B) {
	b := newSrvBed(bb)
	rc := b.resourceClass("bench")
	node := b.node(nodeSpec{part: "bench", resourceClass: rc})
	flavor := b.flavor("bench", bareMetalFlavor(rc))
	image, _ := b.imageNamed("bench")
	name := b.name("bench")
	b.cleanupServer(name)
	// SERVER_BENCH_NODES more nodes of the same class, left in enroll, for
	// the diagnosis to read (Ironic, Nova, Placement) at some scale.
	if extra, _ := strconv.Atoi(os.Getenv("SERVER_BENCH_NODES")); extra > 0 {
		var wg sync.WaitGroup
		slots := make(chan struct{}, 8)
		for i := 0; i < extra; i++ {
			wg.Add(1)
			slots <- struct{}{}
			go func() {
				defer func() { <-slots; wg.Done() }()
				n, err := nodes.Create(b.ctx, b.bm, nodes.CreateOpts{Name: b.name(fmt.Sprintf("bench-%03d", i)), Driver: "fake-hardware", ResourceClass: rc}).Extract()
				if err == nil {
					bb.Cleanup(func() { _ = nodes.Delete(context.Background(), b.bm, n.UUID).ExtractErr() })
				}
			}()
		}
		wg.Wait()
	}
	b.waitPlacement([]nodes.Node{node}, nil)
	ud := filepath.Join(bb.TempDir(), "user-data.ign")
	require.NoError(bb, os.WriteFile(ud, []byte(`{"ignition":{"version":"3.4.0"}}`), 0o600))
	present := map[string]any{"cloud": "local", "name": name, "image": image, "flavor": flavor, "network": "ctlplane",
		"user_data_file": ud, "timeout": 600}
	absent := map[string]any{"cloud": "local", "name": name, "state": "absent", "timeout": 600}
	var boot, del, diag, create time.Duration
	var diagNodes int
	bb.ResetTimer()
	for i := 0; i < bb.N; i++ {
		res, took := runModule(bb, b.env, present)
		require.Equal(bb, "ACTIVE", path(res, "server", "status"), "%v", res["msg"])
		boot += took
		c, _ := path(res, "timings", "create").(float64)
		create += time.Duration(c * float64(time.Second))
		res, took = runModule(bb, b.env, absent)
		require.Equal(bb, true, res["changed"], "%v", res["msg"])
		del += took
		b.waitPlacement([]nodes.Node{node}, nil)
		res, took = runModule(bb, b.env, map[string]any{"cloud": "local", "name": name, "flavor": flavor, "state": "diagnose"})
		diag += took
		list, _ := path(res, "diagnosis", "nodes").([]any)
		diagNodes = len(list)
	}
	bb.StopTimer()
	n := float64(bb.N)
	bb.ReportMetric(boot.Seconds()/n, "module_boot_s")
	bb.ReportMetric(create.Seconds()/n, "post_to_active_s")
	bb.ReportMetric(del.Seconds()/n, "module_delete_s")
	bb.ReportMetric(diag.Seconds()/n, "module_diagnose_s")
	bb.ReportMetric(float64(diagNodes), "nodes_diagnosed")

	// The peer: the openstack CLI, once.
	if _, err := exec.LookPath("openstack"); err != nil {
		return
	}
	netID := strings.TrimSpace(cli(bb, b.env, "network", "show", "ctlplane", "-f", "value", "-c", "id"))
	start := time.Now()
	cli(bb, b.env, "server", "create", "--flavor", flavor, "--image", image, "--nic", "net-id="+netID,
		"--config-drive", "true", "--user-data", ud, "--wait", name)
	bb.ReportMetric(time.Since(start).Seconds(), "cli_boot_s")
	start = time.Now()
	cli(bb, b.env, "server", "delete", "--wait", name)
	bb.ReportMetric(time.Since(start).Seconds(), "cli_delete_s")
}

// cli runs the openstack CLI; like an operator, it tries again (up to
// three times) when Nova answers HTTP 500.
func cli(tb testing.TB, env []string, args ...string) string {
	tb.Helper()
	for attempt := 1; ; attempt++ {
		cmd := exec.Command("openstack", append([]string{"--os-cloud", "local"}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil && attempt < 3 && strings.Contains(string(out), "HTTP 500") {
			tb.Logf("openstack %v: HTTP 500, again", args)
			continue
		}
		require.NoError(tb, err, "openstack %v: %s", args, out)
		return string(out)
	}
}

// Nova 26's ironic driver cannot build a config drive without networks: the
// module warns before booting, and the failed build is named in the diagnosis.
func TestServerConfigDriveWithoutNetworkIsNamed(t *testing.T) {
	b := newSrvBed(t)
	rc := b.resourceClass("nonet")
	node := b.node(nodeSpec{part: "nonet", resourceClass: rc})
	flavor := b.flavor("nonet", bareMetalFlavor(rc))
	image, _ := b.imageNamed("nonet")
	name := b.name("nonet")
	b.cleanupServer(name)
	b.waitPlacement([]nodes.Node{node}, nil)
	run := RunPlaybook(t, fmt.Sprintf(`
- hosts: localhost
  gather_facts: false
  tasks:
    - name: boot
      metalkit.baremetal.nova_bm_server:
        cloud: local
        name: %s
        image: %s
        flavor: %s
        nics: none
        config_drive: true
        user_data: '{"ignition":{"version":"3.4.0"}}'
        timeout: 300
      ignore_errors: true
`, name, image, flavor), b.env)
	require.Equal(t, 0, run.ExitCode, "stderr: %s", run.Stderr)
	res := run.Task(t, "boot")
	t.Logf("msg: %s", res.Msg())
	warnings := fmt.Sprint(res.Result["warnings"])
	assert.Contains(t, warnings, "config_drive with nics none fails in Nova 26")
	if !res.Failed() {
		t.Fatalf("this Nova builds a config drive without networks: the warning is outdated (%s)", res.Msg())
	}
	assert.Equal(t, diagnose.CauseBuildFailed, path(res.Result, "diagnosis", "cause"))
	assert.Contains(t, res.Msg(), "a config drive with nics none fails in Nova's ironic driver")
	t.Logf("fault: %v", path(res.Result, "diagnosis", "fault"))
}
