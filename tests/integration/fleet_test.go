//go:build integration

package integration

// nova_bm_server fleets on the real loopback Nova: a cluster's servers in
// one task, the capacity wait right after the nodes are provided, one
// impossible server failing with its diagnosis while the others boot, and
// absent for the list freeing every node.

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServerFleetOnRealNova(t *testing.T) {
	b := newSrvBed(t)
	rc := b.resourceClass("fleet")
	var fleetNodes []nodes.Node
	for i := range 5 {
		fleetNodes = append(fleetNodes, b.node(nodeSpec{part: fmt.Sprintf("fleet-%d", i), resourceClass: rc}))
	}
	flavor := b.flavor("fleet", bareMetalFlavor(rc))
	// Placement offers the class, but no node has this capability: Nova's
	// scheduler answers "No valid host" for it.
	specs := bareMetalFlavor(rc)
	specs["capabilities:profile"] = "nomatch"
	impossible := b.flavor("fleet-nomatch", specs)
	image, _ := b.imageNamed("fleet-rhcos")
	var names []string
	for _, role := range []string{"cp-0", "cp-1", "cp-2", "w-0", "w-1"} {
		names = append(names, b.name(role))
		b.cleanupServer(b.name(role))
	}
	items := func(list []string, extra string) string {
		var s strings.Builder
		for _, n := range list {
			fmt.Fprintf(&s, "\n        - name: %s", n)
			if strings.Contains(n, "-w-") {
				s.WriteString("\n          metadata: {role: worker}")
			} else {
				s.WriteString("\n          metadata: {role: master}")
			}
		}
		return s.String() + extra
	}
	play := func(state string, list []string, extra string, wait bool) string {
		return fmt.Sprintf(`
- hosts: localhost
  gather_facts: false
  tasks:
    - name: fleet
      metalkit.baremetal.nova_bm_server:
        cloud: local
        image: %s
        flavor: %s
        network: ctlplane
        state: %s
        wait_for_capacity: %v
        timeout: 420
        servers:%s
`, image, flavor, state, wait, items(list, extra))
	}

	// Right after the nodes were provided: Nova has not reported them to
	// Placement yet; the task waits for the capacity, then boots all five.
	start := time.Now()
	run := RunPlaybook(t, play("present", names, "", true), b.env)
	require.Equal(t, 0, run.ExitCode, run.Why())
	boot := run.Task(t, "fleet")
	t.Logf("5 servers in one task: %.1f s (%s); capacity %v", time.Since(start).Seconds(), boot.Msg(), boot.Result["capacity"])
	assert.True(t, boot.Changed())
	assert.Equal(t, "5 servers: 5 created", boot.Msg())
	capa := boot.Result["capacity"].([]any)[0].(map[string]any)
	assert.Equal(t, flavor, capa["flavor"])
	assert.EqualValues(t, 5, capa["needed"])
	assert.GreaterOrEqual(t, capa["available"], 5.0)
	landed := map[string]bool{}
	for i, s := range boot.Result["servers"].([]any) {
		srv := s.(map[string]any)
		assert.Equal(t, names[i], srv["name"])
		assert.Equal(t, "ACTIVE", path(srv, "server", "status"), names[i])
		landed[str(path(srv, "server", "node", "uuid"))] = true
	}
	assert.Len(t, landed, 5, "five servers on five nodes")

	again := RunPlaybook(t, play("present", names, "", false), b.env)
	require.Equal(t, 0, again.ExitCode, again.Why())
	assert.False(t, again.Task(t, "fleet").Changed(), again.Task(t, "fleet").Msg())
	assert.Equal(t, "5 servers: 5 unchanged", again.Task(t, "fleet").Msg())

	gone := RunPlaybook(t, play("absent", names, "", false), b.env)
	require.Equal(t, 0, gone.ExitCode, gone.Why())
	assert.Equal(t, "5 servers: 5 deleted", gone.Task(t, "fleet").Msg())
	for _, n := range fleetNodes {
		got, err := nodes.Get(b.ctx, b.bm, n.UUID).Extract()
		require.NoError(t, err)
		assert.Equal(t, "available", got.ProvisionState, "absent for the list frees %s", n.Name)
		assert.Empty(t, got.InstanceUUID)
	}

	// Four good servers and one no node can host: the four boot, the fifth
	// fails with its diagnosis, and the task fails naming it.
	b.waitPlacement(fleetNodes, nil)
	bad := b.name("w-nomatch")
	b.cleanupServer(bad)
	mixed := RunPlaybook(t, play("present", names[:4], fmt.Sprintf("\n        - name: %s\n          flavor: %s", bad, impossible), false), b.env)
	res := mixed.Task(t, "fleet")
	require.True(t, res.Failed(), res.Msg())
	assert.Contains(t, res.Msg(), "1 of 5 servers failed (every outcome is in servers): "+bad+": ")
	list := res.Result["servers"].([]any)
	for i := range 4 {
		assert.Equal(t, "ACTIVE", path(list[i].(map[string]any), "server", "status"), names[i])
	}
	last := list[4].(map[string]any)
	assert.Equal(t, true, last["failed"])
	diag := last["diagnosis"].(map[string]any)
	assert.NotEmpty(t, diag["summary"])
	t.Logf("impossible server: %s", last["msg"])
	RunPlaybook(t, play("absent", append(names[:4:4], bad), "", false), b.env)
}

// BenchmarkServerFleet boots FLEET_BENCH_N (default 10) servers on as many
// fake-hardware nodes three ways, same services, one run each: one task
// with servers (the fleet), a loop of the one-server task, and the
// openstack CLI loop (`server create --wait` per server); and one server
// alone, the yardstick of the fleet's target (within 2x of it). Each way
// ends with the fleet's absent, untimed. Run by tests/bench/fleet.sh.
func BenchmarkServerFleet(bb *testing.B) {
	b := newSrvBed(bb)
	n := 10
	if v, _ := strconv.Atoi(os.Getenv("FLEET_BENCH_N")); v > 0 {
		n = v
	}
	rc := b.resourceClass("fbench")
	var all []nodes.Node
	for i := range n {
		all = append(all, b.node(nodeSpec{part: fmt.Sprintf("fbench-%02d", i), resourceClass: rc}))
	}
	flavor := b.flavor("fbench", bareMetalFlavor(rc))
	image, _ := b.imageNamed("fbench")
	ud := filepath.Join(bb.TempDir(), "user-data.ign")
	require.NoError(bb, os.WriteFile(ud, []byte(`{"ignition":{"version":"3.4.0"}}`), 0o600))
	var names, items []any
	for i := range n {
		name := b.name(fmt.Sprintf("fb-%02d", i))
		b.cleanupServer(name)
		names = append(names, name)
		items = append(items, map[string]any{"name": name})
	}
	// The module's default concurrency (10) unless FLEET_BENCH_CONCURRENCY says otherwise.
	concurrency := 10
	if v, _ := strconv.Atoi(os.Getenv("FLEET_BENCH_CONCURRENCY")); v > 0 {
		concurrency = v
	}
	common := map[string]any{"cloud": "local", "image": image, "flavor": flavor, "network": "ctlplane",
		"user_data_file": ud, "timeout": 900, "concurrency": concurrency}
	with := func(extra map[string]any) map[string]any {
		out := maps.Clone(common)
		maps.Copy(out, extra)
		return out
	}
	clear := func() {
		res, _ := runModule(bb, b.env, with(map[string]any{"servers": items, "state": "absent"}))
		require.Equal(bb, false, res["failed"], "%v", res["msg"])
		b.waitPlacement(all, nil)
	}
	b.waitPlacement(all, nil)
	bb.ResetTimer()
	for range bb.N {
		bb.StopTimer()
		res, one := runModule(bb, b.env, with(map[string]any{"name": names[0]}))
		require.Equal(bb, "ACTIVE", path(res, "server", "status"), "%v", res["msg"])
		bb.ReportMetric(one.Seconds(), "one_server_s")
		clear()

		res, fleet := runModule(bb, b.env, with(map[string]any{"servers": items}))
		require.Equal(bb, false, res["failed"], "%v", res["msg"])
		bb.ReportMetric(fleet.Seconds(), "fleet_task_s")
		clear()

		start := time.Now()
		for _, name := range names {
			res, _ := runModule(bb, b.env, with(map[string]any{"name": name}))
			require.Equal(bb, "ACTIVE", path(res, "server", "status"), "%v", res["msg"])
		}
		bb.ReportMetric(time.Since(start).Seconds(), "module_loop_s")
		clear()

		if _, err := exec.LookPath("openstack"); err == nil {
			netID := strings.TrimSpace(cli(bb, b.env, "network", "show", "ctlplane", "-f", "value", "-c", "id"))
			start = time.Now()
			for _, name := range names {
				cli(bb, b.env, "server", "create", "--flavor", flavor, "--image", image, "--nic", "net-id="+netID,
					"--config-drive", "true", "--user-data", ud, "--wait", name.(string))
			}
			bb.ReportMetric(time.Since(start).Seconds(), "cli_loop_s")
			clear()
		}
		bb.ReportMetric(float64(n), "servers")
	}
}
