//go:build integration

// ironic_introspect against the real loopback Ironic (Keystone auth, cloud
// "local") through ansible-playbook. Every node made here is named
// insp-<run>-..., and deleted at the end of its test.
package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
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
}

// newInspBed works on cloud local (Keystone, watched by Nova).
func newInspBed(t *testing.T) *inspBed { return newInspBedOn(t, "local") }

// newInspBedOn works on the named cloud of build/services/clouds.yaml; bulk
// tests use local-standalone, which Nova does not watch.
func newInspBedOn(t *testing.T, cloudName string) *inspBed {
	t.Helper()
	t.Setenv("OS_CLIENT_CONFIG_FILE", filepath.Join(repoRoot, "build", "services", "clouds.yaml"))
	ctx := context.Background()
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cloud, err := openstack.Connect(cctx, openstack.Options{Cloud: cloudName})
	require.NoError(t, err, "the loopback services must be up (tests/services/up.sh ironic)")
	c, err := cloud.Baremetal(cctx)
	require.NoError(t, err)
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	bed := &inspBed{t: t, ctx: ctx, client: c, prefix: "insp-" + hex.EncodeToString(b) + "-", cloud: cloudName}
	t.Cleanup(bed.cleanup)
	return bed
}

func inspEnv() []string {
	return []string{"OS_CLIENT_CONFIG_FILE=" + filepath.Join(repoRoot, "build", "services", "clouds.yaml")}
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
func (b *inspBed) cleanup() {
	pages, err := nodes.ListDetail(b.client, nodes.ListOpts{}).AllPages(b.ctx)
	if err != nil {
		b.t.Logf("cleanup: list nodes: %v", err)
		return
	}
	all, _ := nodes.ExtractNodes(pages)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, n := range all {
		if !strings.HasPrefix(n.Name, b.prefix) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var err error
			for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
				if err = nodes.Delete(b.ctx, b.client, n.UUID).ExtractErr(); err == nil || gophercloud.ResponseCodeIs(err, 404) {
					return
				}
				if strings.Contains(err.Error(), "Valid provision states to perform deletion") {
					// inspect failed, clean failed...: Ironic deletes those in maintenance.
					_ = nodes.SetMaintenance(b.ctx, b.client, n.UUID, nodes.MaintenanceOpts{Reason: "test cleanup"}).ExtractErr()
				}
			}
			b.t.Logf("cleanup: delete %s: %v", n.Name, err)
		}()
	}
	wg.Wait()
}

func inspPlay(tasks string) string {
	return "- hosts: localhost\n  gather_facts: false\n  tasks:\n" + tasks
}

// inspTask is one ironic_introspect task on cloud local, args in YAML flow style.
func inspTask(name string, args map[string]any, extra string) string {
	return inspTaskOn("local", name, args, extra)
}

func inspTaskOn(cloud, name string, args map[string]any, extra string) string {
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "    - name: %s\n      metalkit.baremetal.ironic_introspect:\n        cloud: %s\n", name, cloud)
	for _, k := range keys {
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
	play := inspPlay(inspTask("introspect", args, ""))

	check := RunPlaybook(t, play, inspEnv(), "--check", "--diff")
	r := check.Task(t, "introspect")
	require.False(t, r.Failed(), r.Msg())
	assert.True(t, r.Changed())
	assert.Equal(t, "check mode: 3 of 3 node(s) would change (manage 3, inspect 3, update 3, provide 3, power off 3), nothing was changed", r.Msg())
	for _, name := range names {
		n := b.node(name)
		assert.Equal(t, "enroll", n.ProvisionState, "check mode moved %s", name)
		assert.Empty(t, n.ResourceClass, name)
	}
	diffAfter := r.Result["diff"].(map[string]any)["after"].(map[string]any)["nodes"].(map[string]any)
	assert.Equal(t, "available", diffAfter[names[0]].(map[string]any)["provision_state"])

	first := RunPlaybook(t, play, inspEnv(), "--diff")
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

	second := RunPlaybook(t, play, inspEnv())
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
	play := inspPlay(inspTask("introspect", map[string]any{"nodes": all, "retries": 1, "capabilities": "profile:baremetal"}, "      ignore_errors: true\n"))

	run := RunPlaybook(t, play, inspEnv())
	AssertNoSecret(t, run, inspSentinel)
	r := run.Task(t, "introspect")
	require.True(t, r.Failed(), "a failed node fails the task: %s", r.Msg())
	assert.True(t, r.Changed(), "the good nodes moved")
	msg := r.Msg()
	assert.True(t, strings.HasPrefix(msg, "2 of 4 node(s) failed: "), msg)

	failed := map[string]map[string]any{}
	for _, f := range r.Result["failed_nodes"].([]any) {
		m := f.(map[string]any)
		failed[m["name"].(string)] = m
	}
	require.Len(t, failed, 2, "failed_nodes: %v", r.Result["failed_nodes"])
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

	play := inspPlay(inspTask("introspect", map[string]any{"nodes": []string{name}, "retries": 0, "timeout": 300, "capabilities": "profile:baremetal"}, ""))
	run := RunPlaybook(t, play, inspEnv())
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
	play := inspPlay(inspTaskOn(b.cloud, "introspect 100", args, ""))

	start := time.Now()
	first := RunPlaybook(t, play, inspEnv())
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
	second := RunPlaybook(t, play, inspEnv())
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
	run := RunPlaybook(t, inspPlay(tasks.String()), inspEnv())
	for _, tt := range tests {
		r := run.Task(t, tt.name)
		assert.True(t, r.Failed(), tt.name)
		assert.False(t, r.Changed(), tt.name)
		assert.Contains(t, r.Msg(), tt.msg, tt.name)
	}
	assert.Equal(t, "enroll", b.node(name).ProvisionState, "nothing moved")
}
