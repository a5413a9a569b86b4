//go:build integration

// ironic_introspect against the real loopback Ironic (Keystone auth, cloud
// "local") through ansible-playbook. Every node made here is named
// insp-<run>-..., and deleted at the end of its test.
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	gcopenstack "github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	bmports "github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetalintrospection/v1/introspection"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metalkit/baremetal/internal/openstack"
)

// inspSentinel is the (wrong) BMC password of the IPMI failure test: it
// must never show in anything ansible-playbook prints.
const inspSentinel = "S3ntinel-Introspect-5e81d0"

// inspBed is one test's view of Ironic: a client and the nodes it made.
type inspBed struct {
	t      *testing.T
	ctx    context.Context
	client *gophercloud.ServiceClient
	prefix string
	cloud  string
	conn   *openstack.Cloud // the test's own login, for its checks
}

// newInspBed works on cloud local (Keystone, watched by Nova).
func newInspBed(t *testing.T) *inspBed { return newInspBedOn(t, "local") }

// newInspBedOn works on the named cloud of build/services/clouds.yaml; bulk
// tests use local-standalone, which Nova does not watch.
func newInspBedOn(t *testing.T, cloudName string) *inspBed {
	t.Helper()
	ctx := context.Background()
	cloud := connectCloud(t, cloudName)
	c, err := cloud.Baremetal(ctx)
	require.NoError(t, err)
	bed := &inspBed{t: t, ctx: ctx, client: c, prefix: "insp-" + randHex(3) + "-", cloud: cloudName, conn: cloud}
	t.Cleanup(bed.cleanup)
	return bed
}

// create makes count nodes named prefix+part-NNN, 8 at a time.
func (b *inspBed) create(part string, count int, opts func(i int, o *nodes.CreateOpts)) []string {
	b.t.Helper()
	names := make([]string, count)
	errs := make([]error, count)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := 0; i < count; i++ {
		names[i] = fmt.Sprintf("%s%s-%03d", b.prefix, part, i)
		o := nodes.CreateOpts{Name: names[i], Driver: "fake-hardware"}
		if opts != nil {
			opts(i, &o)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			_, errs[i] = nodes.Create(b.ctx, b.client, o).Extract()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(b.t, err, "create %s", names[i])
	}
	return names
}

func (b *inspBed) node(name string) *nodes.Node {
	b.t.Helper()
	n, err := nodes.Get(b.ctx, b.client, name).Extract()
	require.NoError(b.t, err, name)
	return n
}

// cleanup deletes every node of the test, waiting for nodes still busy.
func (b *inspBed) cleanup() { deleteNodesNamed(b.t, b.client, b.prefix) }

// inspTask is one ironic_introspect task on cloud local, args in YAML flow style.
func inspTask(name string, args map[string]any, extra string) string {
	return inspTaskOn("local", name, args, extra)
}

func inspTaskOn(cloud, name string, args map[string]any, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "    - name: %s\n      metalkit.baremetal.ironic_introspect:\n        cloud: %s\n", name, cloud)
	for _, k := range slices.Sorted(maps.Keys(args)) {
		v, _ := json.Marshal(args[k])
		fmt.Fprintf(&b, "        %s: %s\n", k, v)
	}
	b.WriteString(extra)
	return b.String()
}

func inspNodes(r TaskResult) map[string]map[string]any {
	out := map[string]map[string]any{}
	list, _ := r.Result["nodes"].([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		name, _ := m["name"].(string)
		out[name] = m
	}
	return out
}

func inspCaps(n *nodes.Node) map[string]string {
	out := map[string]string{}
	s, _ := n.Properties["capabilities"].(string)
	for _, kv := range strings.Split(s, ",") {
		if k, v, ok := strings.Cut(kv, ":"); ok {
			out[k] = v
		}
	}
	return out
}

// TestIntrospectFakeHardwareToAvailable: fake-hardware nodes go enroll ->
// manageable -> inspected -> available, the flavor's capabilities merged
// into what the nodes had, resource class baremetal, powered off for Nova;
// check mode before moves nothing; a second run is unchanged.
func TestIntrospectFakeHardwareToAvailable(t *testing.T) {
	b := newInspBed(t)
	names := b.create("flavor", 3, func(i int, o *nodes.CreateOpts) {
		// What an earlier inspection found: it must survive the merge.
		o.Properties = map[string]any{"cpus": 8, "memory_mb": 16384, "local_gb": 100, "cpu_arch": "x86_64", "capabilities": "boot_mode:uefi,cpu_vt:true"}
	})
	args := map[string]any{"nodes": names, "provide": true, "capabilities": "profile:baremetal,boot_option:local", "resource_class": "baremetal"}
	play := playbook(inspTask("introspect", args, ""))

	check := RunPlaybook(t, play, cloudsEnv(), "--check", "--diff")
	r := check.Task(t, "introspect")
	require.False(t, r.Failed(), r.Msg())
	assert.True(t, r.Changed())
	assert.Equal(t, "check mode, nothing changed: 3 of 3 node(s) would change (manage 3, inspect 3, update 3, provide 3, power off 3)", r.Msg())
	for _, name := range names {
		n := b.node(name)
		assert.Equal(t, "enroll", n.ProvisionState, "check mode moved %s", name)
		assert.Empty(t, n.ResourceClass, name)
	}
	diffAfter := r.Result["diff"].(map[string]any)["after"].(map[string]any)["nodes"].(map[string]any)
	assert.Equal(t, "available", diffAfter[names[0]].(map[string]any)["provision_state"])

	first := RunPlaybook(t, play, cloudsEnv(), "--diff")
	r = first.Task(t, "introspect")
	require.False(t, r.Failed(), r.Msg())
	assert.True(t, r.Changed())
	assert.Regexp(t, `^3 node\(s\): 3 changed, 0 unchanged \(manage 3, inspect 3, update 3, provide 3, power off 3\) in [0-9.]+ s$`, r.Msg())
	reported := inspNodes(r)
	for _, name := range names {
		// Ironic itself, not the module's report.
		n := b.node(name)
		assert.Equal(t, "available", n.ProvisionState, name)
		assert.Equal(t, "power off", n.PowerState, name)
		assert.Equal(t, "baremetal", n.ResourceClass, name)
		assert.NotNil(t, n.InspectionFinishedAt, name)
		assert.Equal(t, map[string]string{"boot_mode": "uefi", "cpu_vt": "true", "profile": "baremetal", "boot_option": "local"}, inspCaps(n), name)
		assert.EqualValues(t, 16384, n.Properties["memory_mb"], name)

		got := reported[name]
		require.NotNil(t, got, "%s reported", name)
		assert.Equal(t, "changed", got["status"])
		assert.Equal(t, "available", got["provision_state"])
		assert.Equal(t, []any{"manage (enroll -> manageable)", "inspect (manageable)", "update resource_class, properties/capabilities",
			"provide (manageable -> available)", "power off (available)"}, got["steps"])
		assert.NotNil(t, got["inspection_started_at"])
		assert.Equal(t, n.InspectionFinishedAt.UTC().Format("2006-01-02T15:04:05.000Z"), got["inspection_finished_at"])
		assert.Nil(t, got["last_error"])
		assert.EqualValues(t, 0, got["retries"])
		assert.NotContains(t, got, "introspection_data", "fake inspection stores no inventory: absent, without error")
		assert.NotEmpty(t, got["timeline"])
	}
	assert.Empty(t, r.Result["warnings"])
	diff := r.Result["diff"].(map[string]any)
	assert.Equal(t, "enroll", diff["before"].(map[string]any)["nodes"].(map[string]any)[names[1]].(map[string]any)["provision_state"])

	second := RunPlaybook(t, play, cloudsEnv())
	r = second.Task(t, "introspect")
	require.False(t, r.Failed(), r.Msg())
	assert.False(t, r.Changed(), r.Msg())
	assert.Regexp(t, `^3 node\(s\): 0 changed, 3 unchanged in [0-9.]+ s$`, r.Msg())
	assert.Equal(t, 0, second.ChangedCount())
}

// TestIntrospectIPMIFailureReported: ipmi nodes whose BMC refuses the
// password, or where no BMC listens, fail manage with Ironic's last_error
// (after the retry); fake-hardware nodes in the same task are inspected and
// reported; the BMC password never shows.
func TestIntrospectIPMIFailureReported(t *testing.T) {
	b := newInspBed(t)
	// A UDP port nobody listens on: bound then released.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	deadPort := pc.LocalAddr().(*net.UDPAddr).Port
	require.NoError(t, pc.Close())

	good := b.create("good", 2, nil)
	badPassword := b.create("wrongpw", 1, func(_ int, o *nodes.CreateOpts) {
		o.Driver = "ipmi"
		o.DriverInfo = map[string]any{"ipmi_address": "127.0.0.1", "ipmi_port": 6230, "ipmi_username": "admin", "ipmi_password": inspSentinel}
	})
	noBMC := b.create("nobmc", 1, func(_ int, o *nodes.CreateOpts) {
		o.Driver = "ipmi"
		o.DriverInfo = map[string]any{"ipmi_address": "127.0.0.1", "ipmi_port": deadPort, "ipmi_username": "admin", "ipmi_password": inspSentinel}
	})
	all := append(append(append([]string{}, good...), badPassword...), noBMC...)
	// tripleo-ansible's names (max_retries, node_timeout) on the real Ironic.
	play := playbook(inspTask("introspect", map[string]any{"nodes": all, "max_retries": 1, "node_timeout": 300, "capabilities": "profile:baremetal"}, "      ignore_errors: true\n"))

	run := RunPlaybook(t, play, cloudsEnv())
	AssertNoSecret(t, run, inspSentinel)
	r := run.Task(t, "introspect")
	require.True(t, r.Failed(), "a failed node fails the task: %s", r.Msg())
	assert.True(t, r.Changed(), "the good nodes moved")
	msg := r.Msg()
	assert.True(t, strings.HasPrefix(msg, "2 of 4 nodes failed (every outcome is in nodes): "), msg)

	failed := map[string]map[string]any{}
	for _, f := range r.Result["failures"].([]any) {
		m := f.(map[string]any)
		failed[m["name"].(string)] = m
	}
	require.Len(t, failed, 2, "failures: %v", r.Result["failures"])
	// tripleo-ansible's shape: failed_nodes and passed_nodes are UUID lists.
	var wantFailed, wantPassed []any
	for _, name := range []string{badPassword[0], noBMC[0]} {
		wantFailed = append(wantFailed, b.node(name).UUID)
	}
	for _, name := range good {
		wantPassed = append(wantPassed, b.node(name).UUID)
	}
	assert.ElementsMatch(t, wantFailed, r.Result["failed_nodes"])
	assert.ElementsMatch(t, wantPassed, r.Result["passed_nodes"])
	for _, name := range []string{badPassword[0], noBMC[0]} {
		f := failed[name]
		require.NotNil(t, f, name)
		assert.Equal(t, "manage", f["step"], name)
		assert.Equal(t, "enroll", f["provision_state"], name)
		// Ironic's own words, as the API shows them now.
		ironic := b.node(name)
		require.NotEmpty(t, ironic.LastError, name)
		assert.Equal(t, ironic.LastError, f["last_error"], name)
		assert.Contains(t, msg, name+": manage failed: ")
		assert.Contains(t, msg, ironic.LastError)
		assert.EqualValues(t, 1, inspNodes(r)[name]["retries"], "%s: retried once", name)
		t.Logf("%s: last_error %q", name, ironic.LastError)
	}
	for _, name := range good {
		n := b.node(name)
		assert.Equal(t, "manageable", n.ProvisionState, name)
		assert.NotNil(t, n.InspectionFinishedAt, name)
		assert.Equal(t, "baremetal", inspCaps(n)["profile"], name)
		assert.Equal(t, "changed", inspNodes(r)[name]["status"], name)
	}
}

// TestIntrospectWaitsForLockedNode: a node locked by another operation (a
// power action against a BMC that never answers holds the node's lock for
// Ironic's IPMI retry window) is waited for and inspected, not failed.
func TestIntrospectWaitsForLockedNode(t *testing.T) {
	b := newInspBed(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	deadPort := pc.LocalAddr().(*net.UDPAddr).Port
	require.NoError(t, pc.Close())

	name := b.create("locked", 1, nil)[0]
	require.NoError(t, nodes.ChangeProvisionState(b.ctx, b.client, name, nodes.ProvisionStateOpts{Target: nodes.TargetManage}).ExtractErr())
	_, err = openstack.WaitNodeProvisionState(b.ctx, b.client, name, "manageable", openstack.WithInterval(200*time.Millisecond))
	require.NoError(t, err)
	// fake-hardware takes any enabled interface: IPMI power, towards a dead port.
	_, err = nodes.Update(b.ctx, b.client, name, nodes.UpdateOpts{
		nodes.UpdateOperation{Op: nodes.ReplaceOp, Path: "/power_interface", Value: "ipmitool"},
		nodes.UpdateOperation{Op: nodes.AddOp, Path: "/driver_info/ipmi_address", Value: "127.0.0.1"},
		nodes.UpdateOperation{Op: nodes.AddOp, Path: "/driver_info/ipmi_port", Value: deadPort},
		nodes.UpdateOperation{Op: nodes.AddOp, Path: "/driver_info/ipmi_username", Value: "admin"},
		nodes.UpdateOperation{Op: nodes.AddOp, Path: "/driver_info/ipmi_password", Value: inspSentinel},
	}).Extract()
	require.NoError(t, err)
	t.Cleanup(func() {
		// Back to fake power before the delete, so no IPMI call is attempted.
		_, _ = nodes.Update(context.Background(), b.client, name, nodes.UpdateOpts{
			nodes.UpdateOperation{Op: nodes.ReplaceOp, Path: "/power_interface", Value: "fake"}}).Extract()
	})
	require.NoError(t, nodes.ChangePowerState(b.ctx, b.client, name, nodes.PowerStateOpts{Target: nodes.PowerOff}).ExtractErr())
	require.NotEmpty(t, b.node(name).Reservation, "the power action holds the node's lock")

	play := playbook(inspTask("introspect", map[string]any{"nodes": []string{name}, "retries": 0, "timeout": 300, "capabilities": "profile:baremetal"}, ""))
	run := RunPlaybook(t, play, cloudsEnv())
	AssertNoSecret(t, run, inspSentinel)
	r := run.Task(t, "introspect")
	require.False(t, r.Failed(), r.Msg())
	got := inspNodes(r)[name]
	require.NotNil(t, got)
	assert.Equal(t, "changed", got["status"])
	assert.EqualValues(t, 0, got["retries"], "a lock is waited for, not retried")
	assert.GreaterOrEqual(t, got["lock_waits"], 1.0)
	var events []string
	for _, e := range got["timeline"].([]any) {
		events = append(events, e.(map[string]any)["event"].(string))
	}
	assert.Contains(t, strings.Join(events, "\n"), "node locked by metalkit-conductor, waiting for the lock to clear")
	n := b.node(name)
	assert.Equal(t, "manageable", n.ProvisionState)
	assert.NotNil(t, n.InspectionFinishedAt)
	assert.Equal(t, "baremetal", inspCaps(n)["profile"])
	t.Logf("timeline: %s", strings.Join(events, " | "))
}

// TestIntrospect100Nodes: 100 fake-hardware nodes in one task with
// concurrency 8 reach available; never more than 8 are worked on at once
// (from the module's own timelines); a second run is unchanged. On the
// standalone Ironic (auth_type none), as tests/services asks of bulk tests:
// Nova walks every node of the main Ironic.
func TestIntrospect100Nodes(t *testing.T) {
	b := newInspBedOn(t, "local-standalone")
	const count = 100
	names := b.create("scale", count, nil)
	args := map[string]any{"nodes": names, "provide": true, "concurrency": 8, "resource_class": "baremetal",
		"capabilities": "profile:baremetal,boot_option:local"}
	play := playbook(inspTaskOn(b.cloud, "introspect 100", args, ""))

	start := time.Now()
	first := RunPlaybook(t, play, cloudsEnv())
	took := time.Since(start)
	r := first.Task(t, "introspect 100")
	require.False(t, r.Failed(), r.Msg())
	assert.Regexp(t, `^100 node\(s\): 100 changed, 0 unchanged \(manage 100, inspect 100, update 100, provide 100, power off 100\)`, r.Msg())
	sum := r.Result["summary"].(map[string]any)
	assert.EqualValues(t, count, sum["changed"])

	type span struct{ from, to time.Time }
	var spans []span
	for name, n := range inspNodes(r) {
		assert.Equal(t, "available", n["provision_state"], name)
		tl := n["timeline"].([]any)
		from, _ := time.Parse(time.RFC3339Nano, tl[0].(map[string]any)["at"].(string))
		to, _ := time.Parse(time.RFC3339Nano, tl[len(tl)-1].(map[string]any)["at"].(string))
		spans = append(spans, span{from, to})
	}
	require.Len(t, spans, count)
	busy := 0
	for _, s := range spans {
		at := 0
		for _, o := range spans {
			if !o.from.After(s.from) && o.to.After(s.from) {
				at++
			}
		}
		busy = max(busy, at)
	}
	assert.LessOrEqual(t, busy, 8, "nodes worked on at once")
	assert.GreaterOrEqual(t, busy, 4, "the pool runs in parallel")

	avail := 0
	pages, err := nodes.ListDetail(b.client, nodes.ListOpts{}).AllPages(b.ctx)
	require.NoError(t, err)
	all, err := nodes.ExtractNodes(pages)
	require.NoError(t, err)
	for _, n := range all {
		if strings.HasPrefix(n.Name, b.prefix) && n.ProvisionState == "available" && n.ResourceClass == "baremetal" {
			avail++
		}
	}
	assert.Equal(t, count, avail, "available in Ironic")

	start = time.Now()
	second := RunPlaybook(t, play, cloudsEnv())
	again := time.Since(start)
	r = second.Task(t, "introspect 100")
	require.False(t, r.Failed(), r.Msg())
	assert.False(t, r.Changed(), r.Msg())
	t.Logf("100 nodes enroll -> available with concurrency 8: %v (max %d at once); unchanged re-run: %v (ansible-playbook wall time)", took, busy, again)
}

// TestIntrospectBadInput: a wrong option or an unknown node fails with a
// clear message, and nothing moves.
func TestIntrospectBadInput(t *testing.T) {
	b := newInspBed(t)
	name := b.create("bad", 1, nil)[0]
	tests := []struct {
		name string
		args map[string]any
		msg  string
	}{
		{name: "unknown node", args: map[string]any{"nodes": []string{name, b.prefix + "typo"}}, msg: "nodes: not found in Ironic: " + b.prefix + "typo"},
		{name: "bad capabilities", args: map[string]any{"nodes": []string{name}, "capabilities": "profile"}, msg: `capabilities: capability "profile" is not key:value`},
		{name: "no selection", args: map[string]any{"provide": true}, msg: "one of the following is required: nodes, all_in_state"},
		{name: "provide without wait", args: map[string]any{"nodes": []string{name}, "provide": true, "wait": false}, msg: "wait: false returns before inspection finishes, but provide can only be applied after it"},
	}
	var tasks strings.Builder
	for _, tt := range tests {
		tasks.WriteString(inspTask(tt.name, tt.args, "      ignore_errors: true\n"))
	}
	run := RunPlaybook(t, playbook(tasks.String()), cloudsEnv())
	for _, tt := range tests {
		r := run.Task(t, tt.name)
		assert.True(t, r.Failed(), tt.name)
		assert.False(t, r.Changed(), tt.name)
		assert.Contains(t, r.Msg(), tt.msg, tt.name)
	}
	assert.Equal(t, "enroll", b.node(name).ProvisionState, "nothing moved")
}

// The ironic-inspector of tests/services (inspector.sh): Ironic's inspector
// inspect interface hands it the node, and the test plays the ramdisk.
const inspectorURL = "http://127.0.0.1:5050"

// ironicURL is the main Ironic, where the 2025.1 ramdisk calls back.
const ironicURL = "http://127.0.0.1:6385"

// ramdisk is how inspection meets the ramdisk the tests play, by release.
// Zed: Ironic's inspector interface hands the node to ironic-inspector,
// and the ramdisk posts to inspector's /v1/continue. 2025.1: ironic-inspector
// is gone; Ironic's agent interface waits for the data at Ironic's own
// /v1/continue_inspection and keeps it (GET /v1/nodes/{node}/inventory).
type ramdisk struct {
	release string
	inspect string // the node's inspect_interface
	url     string // where the ramdisk posts its data
	source  string // the introspection_data.source the module reports
}

func (b *inspBed) ramdisk() ramdisk {
	if r := release(b.t); r != "zed" {
		return ramdisk{release: r, inspect: "agent", url: ironicURL + "/v1/continue_inspection", source: "ironic"}
	}
	return ramdisk{release: "zed", inspect: "inspector", url: inspectorURL + "/v1/continue", source: "ironic-inspector"}
}

func (r ramdisk) zed() bool { return r.release == "zed" }

// inspectorClient is ironic-inspector's API from the Keystone catalog
// (type baremetal-introspection), for the test's own checks.
func (b *inspBed) inspectorClient() *gophercloud.ServiceClient {
	b.t.Helper()
	sc, err := gcopenstack.NewBareMetalIntrospectionV1(b.conn.Provider, gophercloud.EndpointOpts{Region: b.conn.Region()})
	require.NoError(b.t, err, "the catalog lists baremetal-introspection (tests/services/keystone-setup.py)")
	sc.ResourceBase = strings.TrimSuffix(sc.Endpoint, "/") + "/v1/"
	return sc
}

// createInspectorNode makes one fake-hardware node with the release's
// ramdisk inspect interface and one port with a random MAC (the node is
// found by it when the ramdisk calls back). Extra properties are set as given.
func (b *inspBed) createInspectorNode(part string, props map[string]any) (name, mac string) {
	b.t.Helper()
	iface := b.ramdisk().inspect
	name = b.create(part, 1, func(_ int, o *nodes.CreateOpts) {
		o.InspectInterface = iface
		o.Properties = props
	})[0]
	mac = "52:54:01:" + randHex(1) + ":" + randHex(1) + ":" + randHex(1)
	n := b.node(name)
	_, err := bmports.Create(b.ctx, b.client, bmports.CreateOpts{NodeUUID: n.UUID, Address: mac}).Extract()
	require.NoError(b.t, err)
	b.t.Cleanup(func() { b.releaseInspectorNode(name) })
	return name, mac
}

// releaseInspectorNode makes the node deletable by the bed's cleanup: an
// inspection still waiting for its ramdisk (a failed test) is aborted, so
// inspector forgets it, and a node in "inspect failed" goes to maintenance
// (Ironic deletes those only there).
func (b *inspBed) releaseInspectorNode(name string) {
	ctx := context.Background()
	cur, err := nodes.Get(ctx, b.client, name).Extract()
	if err != nil {
		return
	}
	if cur.ProvisionState == "inspect wait" {
		_ = nodes.ChangeProvisionState(ctx, b.client, cur.UUID, nodes.ProvisionStateOpts{Target: nodes.TargetAbort}).ExtractErr()
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline) && cur.ProvisionState == "inspect wait"; time.Sleep(300 * time.Millisecond) {
			if cur, err = nodes.Get(ctx, b.client, name).Extract(); err != nil {
				return
			}
		}
	}
	if cur.ProvisionState == "inspect failed" {
		_ = nodes.SetMaintenance(ctx, b.client, cur.UUID, nodes.MaintenanceOpts{Reason: "test cleanup"}).ExtractErr()
	}
}

// waitRamdiskAwaited waits until the node's ramdisk can call back: Ironic's
// inspect wait, and on Zed inspector's "waiting", which comes a moment later
// (lookup attributes, boot device, reboot): a ramdisk calling back before
// that is not found.
func (b *inspBed) waitRamdiskAwaited(name string) {
	b.t.Helper()
	n := b.waitProvisionState(name, "inspect wait", 2*time.Minute)
	if b.ramdisk().zed() {
		st := b.waitInspectorWaiting(b.inspectorClient(), n.UUID)
		assert.False(b.t, st.Finished, "Ironic handed the node to inspector, which waits for the ramdisk")
	}
}

// waitInspectorWaiting polls inspector until it waits for the node's ramdisk.
func (b *inspBed) waitInspectorWaiting(inspector *gophercloud.ServiceClient, uuid string) *introspection.Introspection {
	b.t.Helper()
	var st *introspection.Introspection
	var err error
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		st, err = introspection.GetIntrospectionStatus(b.ctx, inspector, uuid).Extract()
		if err == nil && st.State == "waiting" {
			return st
		}
	}
	b.t.Fatalf("inspector: introspection of %s not waiting after 1 min: %+v, %v", uuid, st, err)
	return nil
}

// waitProvisionState polls Ironic until the node is in state (inspect wait
// keeps a target state, manageable: only the state counts).
func (b *inspBed) waitProvisionState(name, state string, within time.Duration) *nodes.Node {
	b.t.Helper()
	var n *nodes.Node
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		n = b.node(name)
		if n.ProvisionState == state {
			return n
		}
	}
	b.t.Fatalf("%s: still %q (target %q) after %v, want %q; last_error %q", name, n.ProvisionState, n.TargetProvisionState, within, state, n.LastError)
	return nil
}

// ramdiskInventory is what ironic-python-agent posts to inspector's
// /v1/continue for a small virtual machine: one NIC (the port's MAC, the
// one it PXE-booted from), cpus, memory, one disk of diskGiB, no BMC.
func ramdiskInventory(mac string, cpus, memoryMiB, diskGiB int) map[string]any {
	disk := map[string]any{
		"name": "/dev/sda", "model": "QEMU HARDDISK", "size": diskGiB << 30, "rotational": true,
		"wwn": nil, "serial": "QM00001", "vendor": "ATA", "hctl": "0:0:0:0", "by_path": "/dev/disk/by-path/pci-0000:00:01.1-ata-1",
	}
	return map[string]any{
		"inventory": map[string]any{
			"interfaces": []any{map[string]any{
				"name": "eth0", "mac_address": mac, "ipv4_address": "192.168.24.51", "ipv6_address": "fe80::5054:1ff:fe00:1%eth0",
				"has_carrier": true, "lldp": nil, "vendor": "0x1af4", "product": "0x0001", "client_id": nil, "biosdevname": nil, "speed_mbps": nil,
			}},
			"cpu": map[string]any{"model_name": "Intel Xeon Processor (Icelake)", "frequency": "2593.906", "count": cpus,
				"architecture": "x86_64", "flags": []any{"fpu", "vmx", "aes", "pae"}, "socket_count": 1},
			"memory":        map[string]any{"total": int64(memoryMiB-256) << 20, "physical_mb": memoryMiB},
			"disks":         []any{disk},
			"bmc_address":   "0.0.0.0",
			"bmc_v6address": "::/0",
			"bmc_mac":       nil,
			"boot":          map[string]any{"current_boot_mode": "uefi", "pxe_interface": mac},
			"system_vendor": map[string]any{"product_name": "Standard PC (Q35 + ICH9, 2009)", "serial_number": "", "manufacturer": "QEMU"},
			"hostname":      "localhost.localdomain",
		},
		"root_disk":      disk,
		"boot_interface": mac,
		"configuration":  map[string]any{"collectors": []any{"default", "logs"}, "managers": []any{}},
	}
}

// postRamdiskData does what the ramdisk does at the end of inspection: POST
// its data to the release's callback, unauthenticated (the ramdisk has no
// token; the endpoint is public). To Ironic it sends the microversion
// ironic-python-agent 10 sends (1.84, the one that answers with the node).
// Returns the status and the body.
func postRamdiskData(t *testing.T, r ramdisk, data map[string]any) (int, string) {
	t.Helper()
	body, err := json.Marshal(data)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, r.url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if !r.zed() {
		req.Header.Set("X-OpenStack-Ironic-API-Version", "1.84")
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	require.NoError(t, err, "the ramdisk callback %s must be up (tests/services/up.sh ironic)", r.url)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// asyncPlay is an ansible-playbook run in the background: the test plays
// the ramdisk while the module waits for the inspection.
type asyncPlay struct {
	done chan *PlaybookRun
	run  *PlaybookRun
	got  bool
}

// runPlaybookAsync starts the run. If the test ends before the run did (a
// failed assertion), the cleanup calls unblock (abort what the module
// waits for) and waits for ansible-playbook, so no goroutine outlives the test.
func runPlaybookAsync(t *testing.T, play string, unblock func()) *asyncPlay {
	t.Helper()
	// Not t.TempDir: its cleanup would run before this one and remove the
	// playbook under a still running ansible-playbook.
	dir, err := os.MkdirTemp("", "insp-play-")
	require.NoError(t, err)
	file := filepath.Join(dir, "play.yml")
	require.NoError(t, os.WriteFile(file, []byte(play), 0o644))
	a := &asyncPlay{done: make(chan *PlaybookRun, 1)}
	go func() {
		// RunPlaybookFile ends its goroutine (t.Fatalf) when ansible-playbook
		// cannot run at all: the deferred send reports that as a nil run.
		var run *PlaybookRun
		defer func() { a.done <- run }()
		run = RunPlaybookFile(t, file, cloudsEnv())
	}()
	t.Cleanup(func() {
		defer os.RemoveAll(dir)
		if a.got {
			return
		}
		unblock()
		select {
		case <-a.done:
		case <-time.After(5 * time.Minute):
			t.Logf("ansible-playbook still running 5 min after the test ended")
		}
	})
	return a
}

func (a *asyncPlay) wait(t *testing.T, within time.Duration) *PlaybookRun {
	t.Helper()
	select {
	case a.run = <-a.done:
		a.got = true
		require.NotNil(t, a.run, "ansible-playbook did not run (see the log above)")
		return a.run
	case <-time.After(within):
		t.Fatalf("ansible-playbook still running after %v", within)
		return nil
	}
}

// TestIntrospectThroughRamdisk: the TripleO introspection path for real, on
// the release's own inspection. A fake-hardware node with the ramdisk
// inspect interface goes manage -> inspect and waits for its ramdisk; the
// test posts an ironic-python-agent inventory to the callback; the hooks
// write the node's properties, Ironic finishes the inspection, and the
// module returns the stored data. Zed: ironic-inspector inspects and keeps
// the data (GET /v1/introspection/<uuid>/data: Ironic keeps no copy here, as
// OSP 17's Ironic). 2025.1: Ironic's agent interface inspects and keeps the
// inventory itself (GET /v1/nodes/<node>/inventory). A second run is
// unchanged and still returns the data.
func TestIntrospectThroughRamdisk(t *testing.T) {
	start := time.Now()
	b := newInspBed(t)
	rd := b.ramdisk()
	name, mac := b.createInspectorNode("ramdisk", nil)
	uuid := b.node(name).UUID
	play := playbook(inspTask("introspect", map[string]any{
		"nodes": []string{name}, "introspection_data": true, "capabilities": "profile:baremetal", "retries": 0, "timeout": 300,
	}, ""))

	bg := runPlaybookAsync(t, play, func() { b.releaseInspectorNode(name) })
	b.waitRamdiskAwaited(name)
	assert.Equal(t, "power on", b.node(name).PowerState, "the node was (re)booted through Ironic for its ramdisk")
	waited := time.Since(start)

	code, body := postRamdiskData(t, rd, ramdiskInventory(mac, 6, 12288, 120))
	if rd.zed() {
		require.Equal(t, 200, code, body)
		assert.JSONEq(t, fmt.Sprintf(`{"uuid": %q}`, uuid), body, "inspector found the node by its MAC")
	} else {
		require.Equal(t, 202, code, body)
		var found struct {
			Node struct {
				UUID string `json:"uuid"`
			} `json:"node"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &found), body)
		assert.Equal(t, uuid, found.Node.UUID, "Ironic found the node by its MAC")
	}

	run := bg.wait(t, 3*time.Minute)
	r := run.Task(t, "introspect")
	require.False(t, r.Failed(), r.Msg())
	assert.True(t, r.Changed())
	assert.Regexp(t, `^1 node\(s\): 1 changed, 0 unchanged \(manage 1, inspect 1, update 1\) in [0-9.]+ s$`, r.Msg())

	// Ironic itself: what the hooks wrote, from our inventory.
	n := b.node(name)
	assert.Equal(t, "manageable", n.ProvisionState)
	assert.Empty(t, n.LastError)
	assert.NotNil(t, n.InspectionFinishedAt)
	assert.Equal(t, "power off", n.PowerState, "the node is powered off after processing")
	if rd.zed() {
		assert.EqualValues(t, "6", fmt.Sprint(n.Properties["cpus"]))
	} else {
		assert.NotContains(t, n.Properties, "cpus", "no hook of Ironic 29 sets cpus (tests/services/ironic.sh)")
	}
	assert.EqualValues(t, "12288", fmt.Sprint(n.Properties["memory_mb"]))
	assert.EqualValues(t, "119", fmt.Sprint(n.Properties["local_gb"]), "120 GiB root disk, less the 1 GiB partitioning spacing")
	assert.Equal(t, "x86_64", n.Properties["cpu_arch"])
	caps := inspCaps(n)
	assert.Equal(t, "true", caps["cpu_vt"], "the capabilities hook (vmx flag)")
	assert.Equal(t, "true", caps["cpu_aes"], "the capabilities hook (aes flag)")
	assert.Equal(t, "baremetal", caps["profile"], "the module's tag, merged into the hooks' capabilities")
	if rd.zed() {
		status, err := introspection.GetIntrospectionStatus(b.ctx, b.inspectorClient(), uuid).Extract()
		require.NoError(t, err)
		assert.True(t, status.Finished)
		assert.Empty(t, status.Error)
	}

	// The module's report: the stored data, the inventory posted above.
	got := inspNodes(r)[name]
	require.NotNil(t, got)
	assert.Equal(t, "changed", got["status"])
	assert.Equal(t, []any{"manage (enroll -> manageable)", "inspect (manageable)", "update properties/capabilities"}, got["steps"])
	assert.EqualValues(t, "12288", fmt.Sprint(got["properties"].(map[string]any)["memory_mb"]))
	data, ok := got["introspection_data"].(map[string]any)
	require.True(t, ok, "introspection_data missing from the result: %v (warnings: %v)", got, r.Result["warnings"])
	assert.Equal(t, rd.source, data["source"])
	var inventory, processed map[string]any
	if rd.zed() {
		processed, _ = data["data"].(map[string]any)
		require.NotNil(t, processed, "introspection_data.data: %v", data)
		inventory, _ = processed["inventory"].(map[string]any)
		assert.EqualValues(t, 119, processed["local_gb"], "processed data: what inspector computed")
		assert.Equal(t, []any{mac}, processed["macs"], "processed data: the MACs inspector validated")
	} else {
		inventory, _ = data["inventory"].(map[string]any)
		processed, _ = data["plugin_data"].(map[string]any)
		require.NotNil(t, processed, "introspection_data.plugin_data: %v", data)
		assert.Contains(t, processed, "valid_interfaces", "plugin data: the interfaces Ironic validated")
	}
	require.NotNil(t, inventory, "the inventory in introspection_data: %v", data)
	assert.EqualValues(t, 12288, path(inventory, "memory", "physical_mb"))
	assert.EqualValues(t, 6, path(inventory, "cpu", "count"))
	ifaces, _ := path(inventory, "interfaces").([]any)
	require.Len(t, ifaces, 1)
	assert.Equal(t, mac, path(ifaces[0].(map[string]any), "mac_address"))
	assert.Equal(t, "/dev/sda", path(processed, "root_disk", "name"))
	assert.Empty(t, r.Result["warnings"])

	second := RunPlaybook(t, play, cloudsEnv())
	r = second.Task(t, "introspect")
	require.False(t, r.Failed(), r.Msg())
	assert.False(t, r.Changed(), "already inspected, capability present: %s", r.Msg())
	assert.Equal(t, "manageable", b.node(name).ProvisionState)
	again := inspNodes(r)[name]
	require.NotNil(t, again)
	assert.Equal(t, "unchanged", again["status"])
	assert.Equal(t, rd.source, path(again, "introspection_data", "source"), "an unchanged node still reports its data")
	t.Logf("%s: inspect wait reached after %v; whole test %v", rd.release, waited, time.Since(start))
}

// TestIntrospectRamdiskFailureReported: the inspection fails while the data
// is processed (root device hints that no disk of the posted inventory
// satisfies, a classic of real introspection); the node ends in "inspect
// failed" and the task fails naming Ironic's last_error, which carries the
// processing's words. Zed's inspector answers the ramdisk with the error;
// 2025.1's Ironic takes the data (202) and fails it in the conductor.
func TestIntrospectRamdiskFailureReported(t *testing.T) {
	b := newInspBed(t)
	rd := b.ramdisk()
	name, mac := b.createInspectorNode("inspfail", map[string]any{"root_device": map[string]any{"name": "/dev/nvme9n1"}})
	play := playbook(inspTask("introspect", map[string]any{"nodes": []string{name}, "retries": 0, "timeout": 300}, "      ignore_errors: true\n"))

	bg := runPlaybookAsync(t, play, func() { b.releaseInspectorNode(name) })
	b.waitRamdiskAwaited(name)
	code, body := postRamdiskData(t, rd, ramdiskInventory(mac, 2, 4096, 40))
	wantError := "ironic-inspector inspection failed: No disks satisfied root device hints"
	if rd.zed() {
		assert.Equal(t, 400, code, "inspector answers the ramdisk with its processing error: %s", body)
		assert.Contains(t, body, "No disks satisfied root device hints")
	} else {
		assert.Equal(t, 202, code, "Ironic takes the data and processes it in the conductor: %s", body)
		wantError = "Failed to finish inspection: Failed to inspect hardware. Reason: failed to run inspection hooks: No disks satisfied root device hints for node " + b.node(name).UUID
	}

	run := bg.wait(t, 3*time.Minute)
	r := run.Task(t, "introspect")
	require.True(t, r.Failed(), r.Msg())
	got := inspNodes(r)[name]
	require.NotNil(t, got)
	assert.Equal(t, true, got["changed"], "the node was managed and inspected")
	assert.Equal(t, []any{"manage (enroll -> manageable)", "inspect (manageable)"}, got["steps"])
	n := b.node(name)
	assert.Equal(t, "inspect failed", n.ProvisionState)
	assert.Contains(t, n.LastError, wantError)
	msg := r.Msg()
	assert.Contains(t, msg, name+": inspect failed: ")
	assert.Contains(t, msg, n.LastError)
	failed, _ := r.Result["failures"].([]any)
	require.Len(t, failed, 1)
	f := failed[0].(map[string]any)
	assert.Equal(t, "inspect", f["step"])
	assert.Equal(t, "inspect failed", f["provision_state"])
	assert.Equal(t, n.LastError, f["last_error"])
	t.Logf("%s msg: %s", rd.release, msg)
}

// TestIntrospectRamdiskSilentIsAbortedAndRetried: the first ramdisk never
// calls back. When the attempt outlasts its timeout the module aborts the
// inspection (Ironic, and on Zed ironic-inspector through it), waits for the
// node to settle and inspects again; the second ramdisk calls back and the
// node ends inspected, with one retry reported.
func TestIntrospectRamdiskSilentIsAbortedAndRetried(t *testing.T) {
	b := newInspBed(t)
	rd := b.ramdisk()
	name, mac := b.createInspectorNode("silent", nil)
	play := playbook(inspTask("introspect", map[string]any{"nodes": []string{name}, "retries": 1, "timeout": 10}, ""))

	bg := runPlaybookAsync(t, play, func() { b.releaseInspectorNode(name) })
	b.waitRamdiskAwaited(name)
	first := b.node(name).InspectionStartedAt
	require.NotNil(t, first)
	// The retry's inspection: a new inspection_started_at, waiting again.
	var n *nodes.Node
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		n = b.node(name)
		if n.InspectionStartedAt != nil && !n.InspectionStartedAt.Equal(*first) && n.ProvisionState == "inspect wait" {
			break
		}
	}
	require.Equal(t, "inspect wait", n.ProvisionState, "the module inspects again after the abort")
	require.False(t, n.InspectionStartedAt.Equal(*first), "a second inspection started")
	b.waitRamdiskAwaited(name)
	code, body := postRamdiskData(t, rd, ramdiskInventory(mac, 2, 4096, 40))
	require.Contains(t, []int{200, 202}, code, body)

	run := bg.wait(t, 2*time.Minute)
	r := run.Task(t, "introspect")
	require.False(t, r.Failed(), r.Msg())
	got := inspNodes(r)[name]
	require.NotNil(t, got)
	assert.EqualValues(t, 1, got["retries"], "the silent attempt was retried once")
	assert.Equal(t, "manageable", b.node(name).ProvisionState)
	assert.EqualValues(t, "4096", fmt.Sprint(b.node(name).Properties["memory_mb"]), "the second ramdisk's data was processed")
	assert.Contains(t, fmt.Sprint(got["timeline"]), "abort", "the silent inspection was aborted")
	t.Logf("%s: %s; timeline %v", rd.release, r.Msg(), got["timeline"])
}
