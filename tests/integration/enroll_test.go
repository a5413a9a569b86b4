//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/ports"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metalkit/baremetal/internal/openstack"
)

// enrSentinel is the BMC password of every enroll test: it must never show
// in anything ansible-playbook prints.
const enrSentinel = "S3nt-Enroll-9c2f41" // IPMI passwords are at most 20 bytes

// enrIronic is a client on a test Ironic ("local": Keystone auth, watched
// by Nova; "local-standalone": noauth, for bulk tests), to check what the
// module did independently of its own report.
func enrIronic(t *testing.T, cloudName string) *gophercloud.ServiceClient {
	t.Helper()
	c, err := connectCloud(t, cloudName).Baremetal(context.Background())
	require.NoError(t, err)
	return c
}

func enrPortsOf(t *testing.T, c *gophercloud.ServiceClient, uuid string) []string {
	t.Helper()
	pages, err := ports.ListDetail(c, ports.ListOpts{NodeUUID: uuid}).AllPages(context.Background())
	require.NoError(t, err)
	ps, err := ports.ExtractPorts(pages)
	require.NoError(t, err)
	var out []string
	for _, p := range ps {
		out = append(out, p.Address)
	}
	return out
}

// enrCleanup deletes the test's nodes (ports go with them) whatever the test did.
func enrCleanup(t *testing.T, c *gophercloud.ServiceClient, prefix string) {
	t.Cleanup(func() { deleteNodesNamed(t, c, prefix) })
}

// enrBMC starts a private IPMI BMC emulator (tests/services/bmc-emulator.py,
// Debian's pyghmi) on loopback UDP ports, with the sentinel password, and
// stops it (by PID) at the end of the test.
func enrBMC(t *testing.T, count int) []int {
	t.Helper()
	if _, err := exec.LookPath("ipmitool"); err != nil {
		t.Fatal("ipmitool is needed (make deps installs it)")
	}
	lastLog := ""
	for base := 6240; base < 6300; base += count {
		var portArgs []string
		var ps []int
		for i := 0; i < count; i++ {
			ps = append(ps, base+i)
			portArgs = append(portArgs, fmt.Sprint(base+i))
		}
		dir := t.TempDir()
		cmd := exec.Command("/usr/bin/python3", append([]string{filepath.Join(repoRoot, "tests", "services", "bmc-emulator.py"), dir}, portArgs...)...)
		cmd.Env = append(os.Environ(), "BMC_USER=admin", "BMC_PASSWORD="+enrSentinel)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		log, _ := os.Create(filepath.Join(dir, "bmc.log"))
		cmd.Stdout, cmd.Stderr = log, log
		require.NoError(t, cmd.Start())
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		up, died := false, false
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && !up && !died; {
			select {
			case <-exited:
				died = true // a port is taken: try the next ones
				continue
			case <-time.After(300 * time.Millisecond):
			}
			probe := exec.Command("ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p", fmt.Sprint(ps[len(ps)-1]), "-U", "admin", "-E", "power", "status")
			probe.Env = append(os.Environ(), "IPMI_PASSWORD="+enrSentinel)
			up = probe.Run() == nil
		}
		if up {
			t.Cleanup(func() {
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
				<-exited
			})
			return ps
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		out, _ := os.ReadFile(filepath.Join(dir, "bmc.log"))
		lastLog = string(out)
		if !died {
			t.Fatalf("BMC emulator on udp %v does not answer ipmitool; its log:\n%s", ps, lastLog)
		}
	}
	t.Fatalf("could not start a BMC emulator on udp 127.0.0.1:6240-6299; the last one's log:\n%s", lastLog)
	return nil
}

func enrNodesOf(r TaskResult) []map[string]any {
	var out []map[string]any
	list, _ := r.Result["nodes"].([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		out = append(out, m)
	}
	return out
}

func enrWarnings(r TaskResult) string {
	var ws []string
	list, _ := r.Result["warnings"].([]any)
	for _, w := range list {
		ws = append(ws, fmt.Sprint(w))
	}
	return strings.Join(ws, "\n")
}

// TestEnrollWorkflowExampleIPMI: the instackenv example of WORKFLOW.md, its
// BMC on a loopback IPMI emulator, reaches manageable through real IPMI;
// check mode and a second run change nothing; a wrong password is reported
// per node with Ironic's last_error; state absent removes the nodes.
func TestEnrollWorkflowExampleIPMI(t *testing.T) {
	c := enrIronic(t, "local")
	enrCleanup(t, c, "enr-ipmi-")
	bmc := enrBMC(t, 3)
	dir := t.TempDir()
	// WORKFLOW.md's node; name and MAC made unique to this test (the Ironic
	// is shared), BMC on loopback.
	file := filepath.Join(dir, "nodes.json")
	require.NoError(t, os.WriteFile(file, []byte(fmt.Sprintf(`{
  "nodes": [
    {
      "name": "enr-ipmi-blade-ocp-node-1",
      "pm_type": "pxe_ipmitool",
      "pm_addr": "127.0.0.1",
      "pm_port": "%d",
      "pm_user": "admin",
      "pm_password": "%s",
      "mac": ["18:DB:F2:8C:E5:FA"],
      "arch": "x86_64",
      "cpu": "2",
      "memory": "4096",
      "disk": "40"
    }
  ]
}`, bmc[0], enrSentinel)), 0o600))
	play := playbook(fmt.Sprintf(`    - name: enroll
      metalkit.baremetal.ironic_enroll:
        cloud: local
        nodes_file: %s
`, file))

	check := RunPlaybook(t, play, cloudsEnv(), "--check", "--diff")
	AssertNoSecret(t, check, enrSentinel)
	r := check.Task(t, "enroll")
	require.False(t, r.Failed(), r.Msg())
	assert.True(t, r.Changed())
	assert.Contains(t, check.Stdout, `"ipmi_password": "********"`, "the diff shows the password masked")
	assert.Empty(t, nodesNamed(t, c, "enr-ipmi-"), "check mode created nothing")

	start := time.Now()
	first := RunPlaybook(t, play, cloudsEnv())
	t.Logf("first run (create + port + manage through IPMI): %v", time.Since(start))
	AssertNoSecret(t, first, enrSentinel)
	r = first.Task(t, "enroll")
	require.False(t, r.Failed(), r.Msg())
	assert.True(t, r.Changed())
	assert.Contains(t, enrWarnings(r), `pm_type "pxe_ipmitool" is a classic driver name`)
	got := enrNodesOf(r)
	require.Len(t, got, 1)
	assert.Equal(t, "manageable", got[0]["provision_state"])

	n := nodesNamed(t, c, "enr-ipmi-")["enr-ipmi-blade-ocp-node-1"]
	assert.Equal(t, "manageable", n.ProvisionState)
	assert.Equal(t, "ipmi", n.Driver)
	assert.Equal(t, "pxe", n.BootInterface)
	assert.Equal(t, "direct", n.DeployInterface)
	assert.Equal(t, "baremetal", n.ResourceClass)
	assert.Equal(t, "127.0.0.1", n.DriverInfo["ipmi_address"])
	assert.EqualValues(t, bmc[0], n.DriverInfo["ipmi_port"])
	assert.Equal(t, "admin", n.DriverInfo["ipmi_username"])
	assert.EqualValues(t, 2, n.Properties["cpus"])
	assert.EqualValues(t, 4096, n.Properties["memory_mb"])
	assert.EqualValues(t, 40, n.Properties["local_gb"])
	assert.Equal(t, "x86_64", n.Properties["cpu_arch"])
	assert.Equal(t, []string{"18:db:f2:8c:e5:fa"}, enrPortsOf(t, c, n.UUID))
	assert.Empty(t, n.CleanStep, "never cleaned")
	assert.NotEqual(t, "", n.PowerState, "Ironic read the power state from the emulated BMC")

	second := RunPlaybook(t, play, cloudsEnv(), "--diff")
	AssertNoSecret(t, second, enrSentinel)
	r = second.Task(t, "enroll")
	require.False(t, r.Failed(), r.Msg())
	assert.False(t, r.Changed(), "second run: %s", r.Msg())
	assert.Equal(t, 0, second.ChangedCount())

	const wrongPassword = "Wr0ng-pw-e1e2"
	// A wrong password: that node fails with Ironic's last_error, the other enrolls.
	// Each has a BMC of its own: one on bmc[0] would be blade-ocp-node-1, found by its BMC.
	bad := playbook(fmt.Sprintf(`    - name: enroll two
      metalkit.baremetal.ironic_enroll:
        cloud: local
        nodes:
          - {name: enr-ipmi-good, pm_type: ipmi, pm_addr: 127.0.0.1, pm_port: %d, pm_user: admin, pm_password: "%s", mac: ["52:54:00:e1:00:01"]}
          - {name: enr-ipmi-badpw, pm_type: ipmi, pm_addr: 127.0.0.1, pm_port: %d, pm_user: admin, pm_password: "%s", mac: ["52:54:00:e1:00:02"]}
`, bmc[1], enrSentinel, bmc[2], wrongPassword))
	badRun := RunPlaybook(t, bad, cloudsEnv())
	AssertNoSecret(t, badRun, enrSentinel, wrongPassword)
	r = badRun.Task(t, "enroll two")
	assert.True(t, r.Failed())
	assert.Contains(t, r.Msg(), "1 of 2 nodes failed")
	assert.Contains(t, r.Msg(), "nodes[1] (enr-ipmi-badpw): BMC validation failed, the node stays in enroll:")
	got = enrNodesOf(r)
	require.Len(t, got, 2)
	assert.Equal(t, "manageable", got[0]["provision_state"])
	assert.Equal(t, "enroll", got[1]["provision_state"])
	assert.NotEmpty(t, got[1]["last_error"])
	t.Logf("Ironic's last_error for the wrong password: %v", got[1]["last_error"])

	absent := playbook(`    - name: remove
      metalkit.baremetal.ironic_enroll:
        cloud: local
        state: absent
        nodes:
          - name: enr-ipmi-blade-ocp-node-1
          - name: enr-ipmi-good
          - name: enr-ipmi-badpw
          - name: enr-ipmi-never-existed
`)
	gone := RunPlaybook(t, absent, cloudsEnv())
	r = gone.Task(t, "remove")
	require.False(t, r.Failed(), r.Msg())
	assert.Equal(t, "4 nodes: 1 already absent, 3 deleted", r.Msg())
	assert.Empty(t, nodesNamed(t, c, "enr-ipmi-"))
	again := RunPlaybook(t, absent, cloudsEnv())
	assert.False(t, again.Task(t, "remove").Changed())
}

// TestEnroll200FakeNodes: 200 fake-hardware nodes in one task reach
// manageable; the second run reports all unchanged.
func TestEnroll200FakeNodes(t *testing.T) {
	c := enrIronic(t, "local-standalone") // Nova does not watch it: bulk tests belong there
	enrCleanup(t, c, "enr-bulk-")
	const count = 200
	var list []map[string]any
	for i := 0; i < count; i++ {
		list = append(list, map[string]any{
			"name": fmt.Sprintf("enr-bulk-%03d", i), "pm_type": "fake-hardware",
			"mac": []string{fmt.Sprintf("52:54:00:e2:%02x:%02x", i/256, i%256)},
			"cpu": "2", "memory": "4096", "disk": "40", "arch": "x86_64",
			"capabilities": "profile:baremetal,boot_option:local",
		})
	}
	vars, _ := json.Marshal(map[string]any{"bulk_nodes": list})
	varsFile := filepath.Join(t.TempDir(), "vars.json")
	require.NoError(t, os.WriteFile(varsFile, vars, 0o600))
	play := playbook(`    - name: enroll 200
      metalkit.baremetal.ironic_enroll:
        cloud: local-standalone
        nodes: "{{ bulk_nodes }}"
        concurrency: 16
`)
	start := time.Now()
	first := RunPlaybook(t, play, cloudsEnv(), "-e", "@"+varsFile)
	took := time.Since(start)
	r := first.Task(t, "enroll 200")
	require.False(t, r.Failed(), r.Msg())
	assert.Equal(t, "200 nodes: 200 created", r.Msg())
	for _, n := range enrNodesOf(r) {
		assert.Equal(t, "manageable", n["provision_state"], n["name"])
	}
	inIronic := nodesNamed(t, c, "enr-bulk-")
	assert.Len(t, inIronic, count)
	for _, n := range inIronic {
		assert.Equal(t, "manageable", n.ProvisionState, n.Name)
	}

	start = time.Now()
	second := RunPlaybook(t, play, cloudsEnv(), "-e", "@"+varsFile)
	again := time.Since(start)
	r = second.Task(t, "enroll 200")
	require.False(t, r.Failed(), r.Msg())
	assert.False(t, r.Changed())
	assert.Equal(t, "200 nodes: 200 unchanged", r.Msg())
	t.Logf("200 fake-hardware nodes to manageable in one task: %v; idempotent re-run: %v (ansible-playbook wall time)", took, again)
}

// TestEnrollKeepsIntrospectedProperties: a node inspected since enrollment
// keeps what inspection found when a re-run adds a capability.
func TestEnrollKeepsIntrospectedProperties(t *testing.T) {
	c := enrIronic(t, "local")
	enrCleanup(t, c, "enr-insp-")
	task := func(caps string) string {
		return playbook(fmt.Sprintf(`    - name: enroll
      metalkit.baremetal.ironic_enroll:
        cloud: local
        nodes:
          - name: enr-insp-1
            pm_type: fake-hardware
            pm_password: %s
            mac: ["52:54:00:e3:00:01"]
            cpu: "2"
            memory: "4096"
            disk: "40"
            arch: x86_64
            capabilities: "%s"
`, enrSentinel, caps))
	}
	first := RunPlaybook(t, task("profile:baremetal"), cloudsEnv())
	AssertNoSecret(t, first, enrSentinel)
	require.False(t, first.Task(t, "enroll").Failed(), first.Task(t, "enroll").Msg())
	uuid := nodesNamed(t, c, "enr-insp-")["enr-insp-1"].UUID

	// Inspect (fake inspect interface), then write what an inspector reports.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, nodes.ChangeProvisionState(ctx, c, uuid, nodes.ProvisionStateOpts{Target: nodes.TargetInspect}).ExtractErr())
	_, err := openstack.WaitNodeProvisionState(ctx, c, uuid, "manageable", openstack.WithInterval(300*time.Millisecond))
	require.NoError(t, err)
	_, err = nodes.Update(ctx, c, uuid, nodes.UpdateOpts{
		nodes.UpdateOperation{Op: nodes.ReplaceOp, Path: "/properties/cpus", Value: 32},
		nodes.UpdateOperation{Op: nodes.ReplaceOp, Path: "/properties/memory_mb", Value: 262144},
		nodes.UpdateOperation{Op: nodes.ReplaceOp, Path: "/properties/local_gb", Value: 446},
		nodes.UpdateOperation{Op: nodes.ReplaceOp, Path: "/properties/capabilities", Value: "boot_mode:uefi,cpu_vt:true,profile:baremetal"},
		nodes.UpdateOperation{Op: nodes.AddOp, Path: "/properties/vendor", Value: "acme"},
	}).Extract()
	require.NoError(t, err)

	rerun := RunPlaybook(t, task("profile:baremetal,boot_option:local"), cloudsEnv(), "--diff")
	AssertNoSecret(t, rerun, enrSentinel)
	r := rerun.Task(t, "enroll")
	require.False(t, r.Failed(), r.Msg())
	assert.True(t, r.Changed(), "the capability was added")
	assert.Contains(t, enrWarnings(r), "nodes[0] (enr-insp-1) was inspected: keeping the inspected")
	got, err := nodes.Get(ctx, c, uuid).Extract()
	require.NoError(t, err)
	assert.EqualValues(t, 32, got.Properties["cpus"])
	assert.EqualValues(t, 262144, got.Properties["memory_mb"])
	assert.EqualValues(t, 446, got.Properties["local_gb"])
	assert.Equal(t, "acme", got.Properties["vendor"])
	assert.Equal(t, "boot_mode:uefi,cpu_vt:true,profile:baremetal,boot_option:local", got.Properties["capabilities"])
	assert.NotNil(t, got.InspectionFinishedAt)

	third := RunPlaybook(t, task("profile:baremetal,boot_option:local"), cloudsEnv())
	assert.False(t, third.Task(t, "enroll").Changed())
}

// TestEnrollBadInputs: each kind of bad input fails with a message naming
// the node and the field, and nothing is created.
func TestEnrollBadInputs(t *testing.T) {
	c := enrIronic(t, "local")
	enrCleanup(t, c, "enr-bad-")
	node := func(extra string) string {
		return flowMap(fmt.Sprintf(`name: enr-bad-1, pm_type: ipmi, pm_addr: 127.0.0.1, pm_user: admin, pm_password: "%s", mac: ["52:54:00:e4:00:01"]`, enrSentinel), extra)
	}
	other := func(extra string) string {
		return flowMap(fmt.Sprintf(`name: enr-bad-2, pm_type: fake-hardware, pm_password: "%s", mac: ["52:54:00:e4:00:02"]`, enrSentinel), extra)
	}
	cases := []struct {
		name  string
		nodes string
		want  []string
	}{
		{"bad MAC", `[` + node(`, mac: ["52:54:00:e4:00:zz"]`) + `]`, []string{"nodes[0] (enr-bad-1)", `mac[0] "52:54:00:e4:00:zz" is not a MAC address`}},
		{"multicast MAC", `[` + node(`, mac: ["01:00:5e:00:00:01"]`) + `]`, []string{"nodes[0] (enr-bad-1)", "mac[0]", "multicast"}},
		{"MAC on two nodes", `[` + node("") + `, ` + other(`, mac: ["52:54:00:E4:00:01"]`) + `]`, []string{"nodes[1] (enr-bad-2)", "MAC 52:54:00:e4:00:01 is also a port of nodes[0] (enr-bad-1)"}},
		{"BMC on two nodes", `[` + node("") + `, ` + node(`, name: enr-bad-3, mac: ["52:54:00:e4:00:03"]`) + `]`, []string{"nodes[1] (enr-bad-3)", "BMC 127.0.0.1:623 is also the BMC of nodes[0] (enr-bad-1)"}},
		{"name twice", `[` + other("") + `, ` + other(`, mac: ["52:54:00:e4:00:04"]`) + `]`, []string{"nodes[1] (enr-bad-2)", `name "enr-bad-2" is also the name of nodes[0]`}},
		{"name with a space", `[` + node(`, name: "enr bad"`) + `]`, []string{"nodes[0]", `name "enr bad" may only hold letters`}},
		{"pm_type missing", `[{name: enr-bad-1, mac: ["52:54:00:e4:00:01"]}]`, []string{"nodes[0] (enr-bad-1)", "pm_type is required"}},
		{"pm_type unknown", `[` + node(`, pm_type: pxe_magic`) + `]`, []string{"nodes[0] (enr-bad-1)", `pm_type "pxe_magic" is not a supported driver`}},
		{"ipmi without pm_addr", `[{name: enr-bad-1, pm_type: ipmi, pm_password: "` + enrSentinel + `", mac: ["52:54:00:e4:00:01"]}]`, []string{"nodes[0] (enr-bad-1)", "pm_addr is required by pm_type ipmi"}},
		{"redfish without pm_system_id", `[` + node(`, pm_type: redfish`) + `]`, []string{"nodes[0] (enr-bad-1)", "pm_system_id is required by pm_type redfish"}},
		{"unknown field", `[` + node(`, cpus: 4`) + `]`, []string{"nodes[0] (enr-bad-1)", "unknown field cpus"}},
		{"memory not a number", `[` + node(`, memory: "4 GiB"`) + `]`, []string{"nodes[0] (enr-bad-1)", "memory must be a size in MiB"}},
		{"pm_port out of range", `[` + node(`, pm_port: 99999`) + `]`, []string{"nodes[0] (enr-bad-1)", "pm_port must be a port number between 1 and 65535"}},
		{"password YAML boolean", `[{name: enr-bad-1, pm_type: ipmi, pm_addr: 127.0.0.1, pm_password: yes, mac: ["52:54:00:e4:00:01"]}]`, []string{"nodes[0] (enr-bad-1)", "pm_password: got a boolean", "quote the password"}},
		{"IPMI password over 20 bytes", `[` + node(`, pm_password: "`+enrSentinel+`-too-long-for-ipmi"`) + `]`, []string{"nodes[0] (enr-bad-1)", "pm_password is longer than 20 bytes"}},
		{"resources idiom malformed", `[` + other(`, resources: "BAREMETAL:2"`) + `]`, []string{"nodes[0] (enr-bad-2)", "resources must be one CUSTOM_<CLASS>:1 entry"}},
		{"capabilities malformed", `[` + other(`, capabilities: "profile"`) + `]`, []string{"nodes[0] (enr-bad-2)", `capabilities: capability "profile" is not key:value`}},
		{"port without address", `[` + other(`, ports: [{physical_network: ctlplane}]`) + `]`, []string{"nodes[0] (enr-bad-2)", "ports[0].address is required"}},
		{"name looks like a UUID", `[` + other(`, name: 0b0e3e5a-1c2d-4e5f-8a9b-0c1d2e3f4a5b`) + `]`, []string{"nodes[0]", "looks like a UUID"}},
		{"one valid node and one invalid", `[` + other("") + `, ` + node(`, disk: -1`) + `]`, []string{"1 of 2 node definitions are invalid, nothing was changed", "nodes[1] (enr-bad-1)", "disk must be a size in GiB"}},
	}
	require.GreaterOrEqual(t, len(cases), 15)
	var tasks strings.Builder
	for _, tc := range cases {
		fmt.Fprintf(&tasks, "    - name: %s\n      metalkit.baremetal.ironic_enroll:\n        cloud: local\n        nodes: %s\n      ignore_errors: true\n", tc.name, tc.nodes)
	}
	fmt.Fprintf(&tasks, "    - name: missing nodes_file\n      metalkit.baremetal.ironic_enroll:\n        cloud: local\n        nodes_file: /nonexistent/instackenv.json\n      ignore_errors: true\n")
	run := RunPlaybook(t, playbook(tasks.String()), cloudsEnv())
	AssertNoSecret(t, run, enrSentinel)
	for _, tc := range cases {
		r := run.Task(t, tc.name)
		if assert.True(t, r.Failed(), "%s: %s", tc.name, r.Msg()) {
			assert.Contains(t, r.Msg(), "nothing was changed", tc.name)
			for _, w := range tc.want {
				assert.Contains(t, r.Msg(), w, tc.name)
			}
		}
		assert.False(t, r.Changed(), tc.name)
	}
	r := run.Task(t, "missing nodes_file")
	assert.True(t, r.Failed())
	assert.Contains(t, r.Msg(), "nodes_file: open /nonexistent/instackenv.json")
	assert.Empty(t, nodesNamed(t, c, "enr-bad-"), "no bad input created a node")
}

// flowMap writes a YAML flow mapping of base's fields with extra's fields
// (", key: value" each) replacing those of the same key. A duplicate key
// would do the same in YAML, but ansible-core 2.19 warns about it and quotes
// the source line, which holds the sentinel password.
func flowMap(base, extra string) string {
	fields := splitFlow(base)
	for _, f := range splitFlow(strings.TrimPrefix(extra, ", ")) {
		key, _, _ := strings.Cut(f, ":")
		replaced := false
		for i, g := range fields {
			if k, _, _ := strings.Cut(g, ":"); k == key {
				fields[i], replaced = f, true
			}
		}
		if !replaced {
			fields = append(fields, f)
		}
	}
	return "{" + strings.Join(fields, ", ") + "}"
}

// splitFlow splits "a: 1, b: [x, y], c: \"d, e\"" at the commas outside
// brackets and quotes.
func splitFlow(s string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case quoted:
		case r == '[' || r == '{':
			depth++
		case r == ']' || r == '}':
			depth--
		case r == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	if rest := strings.TrimSpace(s[start:]); rest != "" {
		out = append(out, rest)
	}
	return out
}

// TestEnrollSecretsMaskedWhenValidationFails: Ansible's argument checks fail
// before the module reads its nodes (a bad concurrency, nodes with
// nodes_file, an unknown option). The credentials inside the free-form node
// dicts (pm_password, a nested driver_info password, an int password) must
// still be masked in the result and its invocation.
func TestEnrollSecretsMaskedWhenValidationFails(t *testing.T) {
	const nested, number = "S3nt-Nested-77ab01", "918273645"
	node := fmt.Sprintf(`
          - name: enr-mask-1
            pm_type: ipmi
            pm_addr: 127.0.0.1
            pm_user: admin
            pm_password: %s
            driver_info:
              redfish_password: %s
          - name: enr-mask-2
            pm_type: ipmi
            pm_addr: 127.0.0.1
            pm_user: admin
            pm_password: %s
`, enrSentinel, nested, number)
	tasks := ""
	for _, bad := range []struct{ name, extra string }{
		{"bad concurrency", "        concurrency: lots\n"},
		{"nodes and nodes_file", "        nodes_file: /nonexistent/instackenv.json\n"},
		{"unknown option", "        colour: blue\n"},
	} {
		tasks += fmt.Sprintf("    - name: %s\n      metalkit.baremetal.ironic_enroll:\n        nodes:%s%s      ignore_errors: true\n", bad.name, node, bad.extra)
	}
	run := RunPlaybook(t, playbook(tasks), cloudsEnv())
	for _, name := range []string{"bad concurrency", "nodes and nodes_file", "unknown option"} {
		res := run.Task(t, name)
		require.True(t, res.Failed(), "%s must fail validation", name)
		inv, _ := json.Marshal(res.Result["invocation"])
		assert.Contains(t, string(inv), "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", "%s: the passwords are masked in invocation", name)
		assert.Contains(t, string(inv), "enr-mask-1", "%s: the rest of the nodes is shown", name)
	}
	assert.Contains(t, run.Task(t, "bad concurrency").Msg(), "concurrency")
	assert.Contains(t, run.Task(t, "nodes and nodes_file").Msg(), "mutually exclusive")
	assert.Contains(t, run.Task(t, "unknown option").Msg(), "colour")
	AssertNoSecret(t, run, enrSentinel, nested, number)
}
