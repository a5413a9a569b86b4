//go:build integration

package integration

// The diagnosis's remedies on the real loopback stack: nova_bm_server_info
// explains, ironic_node_action fixes, nova_bm_server boots. Every node,
// flavor, image and server made here is named rmd-<run>-..., has a resource
// class of its own, and is removed at the end.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/limits"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metalkit/baremetal/internal/diagnose"
	"github.com/metalkit/baremetal/internal/openstack"
)

func newRemedyBed(t *testing.T) *srvBed {
	b := newSrvBed(t)
	b.run = "rmd-" + randHex(3)
	return b
}

// waitInstanceQuota waits until the shared test project may create one more
// server: other tests (the fleet benchmark boots 10) can hold its whole
// instance quota for a while, and Nova then refuses the boot (403).
func waitInstanceQuota(b *srvBed) {
	t := b.t
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Minute)
	defer cancel()
	start := time.Now()
	var used, quota int
	err := openstack.WaitFor(ctx, 2*time.Second, func(ctx context.Context) (bool, error) {
		l, err := limits.Get(ctx, b.compute, nil).Extract()
		if err != nil {
			return false, err
		}
		used, quota = l.Absolute.TotalInstancesUsed, l.Absolute.MaxTotalInstances
		return quota < 0 || used < quota, nil
	})
	require.NoError(t, err, "instance quota of the test project: %d of %d used by other servers for 5 min", used, quota)
	if waited := time.Since(start); waited > 3*time.Second {
		t.Logf("waited %.0f s for the instance quota (other tests' servers)", waited.Seconds())
	}
}

func deprecationsOf(r TaskResult) string {
	var msgs []string
	list, _ := r.Result["deprecations"].([]any)
	for _, d := range list {
		if m, ok := d.(map[string]any); ok {
			msgs = append(msgs, fmt.Sprintf("%v (%v)", m["msg"], m["version"]))
		}
	}
	return strings.Join(msgs, "; ")
}

// The acceptance proof: a node in maintenance is diagnosed (by the _info
// module and by the deprecated state=diagnose), the hint's task takes it
// out of maintenance, and then a server boots ACTIVE on it.
func TestRemedyMaintenanceUnsetLetsDiagnosedServerBoot(t *testing.T) {
	b := newRemedyBed(t)
	image, _ := b.imageNamed("img")
	rc := b.resourceClass("maint")
	node := b.node(nodeSpec{part: "maint", resourceClass: rc, maintenance: true})
	flavor := b.flavor("maint", bareMetalFlavor(rc))
	server := b.name("srv")
	b.cleanupServer(server)
	b.waitPlacement(nil, []nodes.Node{node})

	play := fmt.Sprintf(`
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/metalkit.baremetal.openstack:
      cloud: local
  tasks:
    - name: info
      metalkit.baremetal.nova_bm_server_info:
        flavor: %[1]s
        name: %[2]s
    - name: deprecated diagnose
      metalkit.baremetal.nova_bm_server:
        name: %[2]s
        flavor: %[1]s
        state: diagnose
    - name: fix in check mode
      metalkit.baremetal.ironic_node_action:
        node: %[3]s
        maintenance: false
      check_mode: true
      diff: true
`, flavor, server, node.Name)
	run := RunPlaybook(t, play, b.env)
	require.Equal(t, 0, run.ExitCode, "stderr: %s", run.Output())

	info := run.Task(t, "info")
	assert.False(t, info.Changed())
	diag, _ := info.Result["diagnosis"].(map[string]any)
	require.NotNil(t, diag, "%v", info.Result)
	assert.Equal(t, diagnose.CauseOnDemand, diag["cause"])
	assert.Empty(t, diag["eligible_nodes"])
	assert.Nil(t, info.Result["server"], "no server of the name yet")
	assert.Contains(t, info.Msg(), "1 in maintenance ("+node.Name+") [fix: metalkit.baremetal.ironic_node_action maintenance=false]", "the summary names the fix")
	n := nodeReport(t, diag, node.Name)
	assert.Equal(t, []string{diagnose.CodeMaintenance}, reasonCodes(n)[:1])
	hint := "metalkit.baremetal.ironic_node_action: node=" + node.Name + " maintenance=false"
	assert.Contains(t, str(n["reasons"].([]any)[0].(map[string]any)["message"]), hint, "the reason names the task to run")

	old := run.Task(t, "deprecated diagnose")
	assert.False(t, old.Changed())
	assert.Equal(t, diag["summary"], path(old.Result, "diagnosis", "summary"), "state=diagnose gives the same diagnosis")
	assert.Contains(t, deprecationsOf(old), "state=diagnose is deprecated: use metalkit.baremetal.nova_bm_server_info")
	assert.Contains(t, deprecationsOf(old), "2.0.0")

	check := run.Task(t, "fix in check mode")
	assert.True(t, check.Changed())
	assert.Equal(t, "check mode, nothing changed: node "+node.Name+": would unset maintenance", check.Msg())
	after, err := nodes.Get(b.ctx, b.bm, node.UUID).Extract()
	require.NoError(t, err)
	assert.True(t, after.Maintenance, "check mode changed nothing")

	// The remedy as the hint words it (Ansible's k=v form), then again: unchanged.
	play = fmt.Sprintf(`
- hosts: localhost
  gather_facts: false
  tasks:
    - name: fix
      %[1]s cloud=local
      diff: true
    - name: fix again
      %[1]s cloud=local
`, hint)
	run = RunPlaybook(t, play, b.env)
	require.Equal(t, 0, run.ExitCode, "stderr: %s", run.Output())
	fix := run.Task(t, "fix")
	assert.True(t, fix.Changed(), fix.Msg())
	assert.Equal(t, "node "+node.Name+": unset maintenance", fix.Msg())
	assert.Equal(t, []any{"unset_maintenance"}, fix.Result["actions"])
	assert.Equal(t, false, path(fix.Result, "node", "maintenance"))
	again := run.Task(t, "fix again")
	assert.False(t, again.Changed(), again.Msg())
	after, err = nodes.Get(b.ctx, b.bm, node.UUID).Extract()
	require.NoError(t, err)
	assert.False(t, after.Maintenance)
	assert.Empty(t, after.MaintenanceReason)

	// Nova sees it at its next resource update; then the server boots there.
	node.Maintenance = false
	b.waitPlacement([]nodes.Node{node}, nil)
	waitInstanceQuota(b)
	play = fmt.Sprintf(`
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/metalkit.baremetal.openstack:
      cloud: local
  tasks:
    - name: info now
      metalkit.baremetal.nova_bm_server_info:
        flavor: %[1]s
    - name: boot
      metalkit.baremetal.nova_bm_server:
        name: %[2]s
        image: %[3]s
        flavor: %[1]s
        network: ctlplane
        timeout: 300
    - name: delete
      metalkit.baremetal.nova_bm_server:
        name: %[2]s
        state: absent
        wait: false
`, flavor, server, image)
	start := time.Now()
	run = RunPlaybook(t, play, b.env)
	require.Equal(t, 0, run.ExitCode, "stderr: %s", run.Output())
	t.Logf("boot after the remedy: %.1f s", time.Since(start).Seconds())
	now := run.Task(t, "info now")
	assert.Equal(t, []any{node.Name}, path(now.Result, "diagnosis", "eligible_nodes"), now.Msg())
	boot := run.Task(t, "boot")
	assert.True(t, boot.Changed())
	assert.Equal(t, "ACTIVE", path(boot.Result, "server", "status"), boot.Msg())
	assert.Equal(t, node.UUID, path(boot.Result, "server", "node", "uuid"), "the server is on the node taken out of maintenance")
	assert.True(t, run.Task(t, "delete").Changed())
}

// Power off/on a fake-hardware node, set resource class, capabilities and
// traits, read them back from Ironic; second runs unchanged; check mode
// writes nothing.
func TestRemedyPowerAndPropertiesOnRealIronic(t *testing.T) {
	b := newRemedyBed(t)
	rc := b.resourceClass("props")
	node := b.node(nodeSpec{part: "props", resourceClass: rc, state: "manageable"})
	newRC := b.resourceClass("gold")
	trait := "CUSTOM_" + strings.ToUpper(b.resourceClass("t"))

	play := fmt.Sprintf(`
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/metalkit.baremetal.openstack:
      cloud: local
  vars:
    props: &props
      node: %[1]s
      resource_class: %[2]s
      capabilities: {profile: compute, cpu_vt: "true"}
      traits: [%[3]s]
  tasks:
    - name: power on
      metalkit.baremetal.ironic_node_action: {node: %[1]s, power: "on"}
    - name: power on again
      metalkit.baremetal.ironic_node_action: {node: %[1]s, power: "on"}
    - name: power off (YAML boolean)
      metalkit.baremetal.ironic_node_action: {node: %[1]s, power: off}
    - name: props check
      metalkit.baremetal.ironic_node_action: *props
      check_mode: true
      diff: true
    - name: props
      metalkit.baremetal.ironic_node_action: *props
      diff: true
    - name: props again
      metalkit.baremetal.ironic_node_action: *props
    - name: maintenance with a reason
      metalkit.baremetal.ironic_node_action: {uuid: %[4]s, maintenance: true, maintenance_reason: "rmd: PSU swap"}
    - name: unknown node
      metalkit.baremetal.ironic_node_action: {node: %[5]s, power: "on"}
      ignore_errors: true
    - name: bad trait
      metalkit.baremetal.ironic_node_action: {node: %[1]s, traits: [lower_case]}
      ignore_errors: true
`, node.Name, newRC, trait, node.UUID, b.name("nope"))
	start := time.Now()
	run := RunPlaybook(t, play, b.env)
	t.Logf("%d tasks in %.1f s", len(run.Tasks), time.Since(start).Seconds())
	require.Equal(t, 0, run.ExitCode, "stderr: %s", run.Output())

	on := run.Task(t, "power on")
	assert.True(t, on.Changed(), on.Msg())
	assert.Equal(t, "node "+node.Name+": power on", on.Msg())
	assert.Equal(t, "power on", path(on.Result, "node", "power_state"), "waited until Ironic reports it")
	assert.NotNil(t, path(on.Result, "timings", "power"))
	assert.False(t, run.Task(t, "power on again").Changed())
	off := run.Task(t, "power off (YAML boolean)")
	assert.True(t, off.Changed(), off.Msg())
	assert.Equal(t, "power off", path(off.Result, "node", "power_state"))

	check := run.Task(t, "props check")
	assert.True(t, check.Changed())
	assert.Contains(t, check.Msg(), "check mode, nothing changed: node "+node.Name+": would set resource_class "+newRC+", then set capabilities ")
	assert.Equal(t, rc, path(check.Result, "diff", "before", "resource_class"))
	assert.Equal(t, newRC, path(check.Result, "diff", "after", "resource_class"))

	props := run.Task(t, "props")
	assert.True(t, props.Changed(), props.Msg())
	assert.Equal(t, []any{"set_resource_class", "set_capabilities", "set_traits"}, props.Result["actions"])
	assert.Equal(t, []any{trait}, path(props.Result, "node", "traits"))
	again := run.Task(t, "props again")
	assert.False(t, again.Changed(), again.Msg())
	assert.Equal(t, "node "+node.Name+" unchanged", again.Msg())

	maint := run.Task(t, "maintenance with a reason")
	assert.True(t, maint.Changed(), maint.Msg())
	assert.Equal(t, "rmd: PSU swap", path(maint.Result, "node", "maintenance_reason"))

	unknown := run.Task(t, "unknown node")
	assert.True(t, unknown.Failed())
	assert.Equal(t, "node: Ironic has no node named "+b.name("nope")+" or with that UUID", unknown.Msg())
	bad := run.Task(t, "bad trait")
	assert.True(t, bad.Failed())
	assert.Contains(t, bad.Msg(), `traits[0]: "lower_case" is not a trait name`)

	// What Ironic holds.
	got, err := nodes.Get(b.ctx, b.bm, node.UUID).Extract()
	require.NoError(t, err)
	assert.Equal(t, "power off", got.PowerState)
	assert.Equal(t, newRC, got.ResourceClass)
	assert.Equal(t, "profile:compute,boot_option:local,cpu_vt:true", got.Properties["capabilities"], "merged key by key, the node's other keys kept")
	assert.Equal(t, []string{trait}, got.Traits)
	assert.True(t, got.Maintenance)
	assert.Equal(t, "rmd: PSU swap", got.MaintenanceReason)
}
