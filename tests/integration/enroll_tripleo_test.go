//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tripleo tests enroll nodes whose BMC identity (address and port,
// Redfish address and system id) is theirs alone: the module now matches
// by BMC, and the Ironic is shared with other tests. Nodes stay in enroll:
// no BMC is contacted.

// trpBMCPort is a loopback port no other test's BMC uses (none listens).
func trpBMCPort() int { return 40000 + rand.Intn(20000) }

// trpEnroll runs ironic_enroll on an instackenv file and returns the task.
func trpEnroll(t *testing.T, cloud string, nodeList []map[string]any) TaskResult {
	t.Helper()
	b, err := json.Marshal(map[string]any{"nodes": nodeList})
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "instackenv.json")
	require.NoError(t, os.WriteFile(file, b, 0o600))
	run := RunPlaybook(t, playbook(fmt.Sprintf(`    - name: import
      metalkit.baremetal.ironic_enroll:
        cloud: %s
        nodes_file: %s
        initial_state: enroll
`, cloud, file)), cloudsEnv())
	AssertNoSecret(t, run, enrSentinel)
	return run.Task(t, "import")
}

func trpValidate(t *testing.T, c *gophercloud.ServiceClient, uuid string) *nodes.NodeValidation {
	t.Helper()
	v, err := nodes.Validate(context.Background(), c, uuid).Extract()
	require.NoError(t, err)
	return v
}

// TestEnrollTripleoReimportRenamed: an instackenv re-imported with every
// name and MAC changed updates the same Ironic nodes, found by their BMC
// (tripleo-common's _get_node_id), and duplicates none; "_comment" keys
// are accepted; a name of one node with the BMC of another fails naming
// both and changes nothing.
func TestEnrollTripleoReimportRenamed(t *testing.T) {
	const prefix = "trp-re-"
	c := enrIronic(t, "local-standalone")
	deleteNodesNamed(t, c, prefix) // a crashed earlier run's nodes would match by BMC
	enrCleanup(t, c, prefix)
	ipmiPort, rfPort := trpBMCPort(), trpBMCPort()
	system := fmt.Sprintf("/redfish/v1/Systems/trp-%d", rand.Int63())
	instackenv := func(names [2]string, macs [2]string) []map[string]any {
		return []map[string]any{
			{"_comment": "rack 4, slot 1", "name": names[0], "pm_type": "ipmi", "pm_addr": "127.0.0.1", "pm_port": ipmiPort,
				"pm_user": "admin", "pm_password": enrSentinel, "ports": []map[string]any{{"address": macs[0]}}},
			{"_comment": "credential-less Redfish", "name": names[1], "pm_type": "redfish",
				"pm_addr": fmt.Sprintf("https://127.0.0.1:%d/", rfPort), "pm_system_id": system, "ports": []map[string]any{{"address": macs[1]}}},
		}
	}
	first := instackenv([2]string{prefix + "ctl-0", prefix + "cmp-0"}, [2]string{"52:54:00:7e:00:01", "52:54:00:7e:00:02"})
	r := trpEnroll(t, "local-standalone", first)
	require.False(t, r.Failed(), r.Msg())
	assert.Equal(t, "2 nodes: 2 created", r.Msg())
	for _, n := range enrNodesOf(r) {
		assert.Equal(t, "none", n["matched_by"])
	}
	before := nodesNamed(t, c, prefix)
	require.Len(t, before, 2)
	uuids := map[string]bool{before[prefix+"ctl-0"].UUID: true, before[prefix+"cmp-0"].UUID: true}

	// The operator renumbered the nodes and replaced the NICs; same BMCs.
	second := instackenv([2]string{prefix + "overcloud-controller-0", prefix + "overcloud-novacompute-0"}, [2]string{"52:54:00:7e:00:11", "52:54:00:7e:00:12"})
	r = trpEnroll(t, "local-standalone", second)
	require.False(t, r.Failed(), r.Msg())
	assert.Equal(t, "2 nodes: 2 updated", r.Msg())
	for _, n := range enrNodesOf(r) {
		assert.Equal(t, "bmc", n["matched_by"], n["name"])
		assert.Equal(t, "update", n["action"], n["name"])
		assert.True(t, uuids[n["uuid"].(string)], "%v is one of the nodes enrolled first", n["uuid"])
	}
	after := nodesNamed(t, c, prefix)
	require.Len(t, after, 2, "nothing duplicated: %v", after)
	ctl, cmp := after[prefix+"overcloud-controller-0"], after[prefix+"overcloud-novacompute-0"]
	assert.Equal(t, before[prefix+"ctl-0"].UUID, ctl.UUID)
	assert.Equal(t, before[prefix+"cmp-0"].UUID, cmp.UUID)
	assert.Equal(t, []string{"52:54:00:7e:00:11"}, enrPortsOf(t, c, ctl.UUID))
	assert.Equal(t, []string{"52:54:00:7e:00:12"}, enrPortsOf(t, c, cmp.UUID))
	assert.NotContains(t, cmp.DriverInfo, "redfish_username", "credential-less Redfish stays so")

	r = trpEnroll(t, "local-standalone", second)
	require.False(t, r.Failed(), r.Msg())
	assert.Equal(t, "2 nodes: 2 unchanged", r.Msg())
	for _, n := range enrNodesOf(r) {
		assert.Equal(t, "name", n["matched_by"], n["name"])
	}

	// The controller's name with the compute's BMC: an error naming both, nothing written.
	conflict := []map[string]any{{"name": prefix + "overcloud-controller-0", "pm_type": "redfish",
		"pm_addr": fmt.Sprintf("127.0.0.1:%d", rfPort), "pm_system_id": system}}
	r = trpEnroll(t, "local-standalone", conflict)
	assert.True(t, r.Failed())
	assert.Contains(t, r.Msg(), fmt.Sprintf(`its name "%sovercloud-controller-0" matches Ironic node %sovercloud-controller-0 (%s) but its BMC 127.0.0.1:%d%s matches Ironic node %sovercloud-novacompute-0 (%s)`,
		prefix, prefix, ctl.UUID, rfPort, system, prefix, cmp.UUID))
	now := nodesNamed(t, c, prefix)
	assert.Len(t, now, 2)
	assert.Equal(t, "redfish", now[prefix+"overcloud-novacompute-0"].Driver)
	assert.Equal(t, "ipmi", now[prefix+"overcloud-controller-0"].Driver, "the conflicting node was not touched")
}

// TestEnrollTripleoUUID: a node whose definition has a uuid is created with
// it, and a re-import that renamed it finds it by that uuid (tripleo-common's
// register_ironic_node / _get_node_id).
func TestEnrollTripleoUUID(t *testing.T) {
	const prefix = "trp-uuid-"
	c := enrIronic(t, "local-standalone")
	deleteNodesNamed(t, c, prefix)
	enrCleanup(t, c, prefix)
	id := fmt.Sprintf("7e1d0c2a-5b3f-4c6d-8e9f-%012x", rand.Int63n(1<<48))
	r := trpEnroll(t, "local-standalone", []map[string]any{{"uuid": strings.ToUpper(id), "name": prefix + "a", "pm_type": "fake-hardware"}})
	require.False(t, r.Failed(), r.Msg())
	got := nodesNamed(t, c, prefix)
	require.Len(t, got, 1)
	assert.Equal(t, id, got[prefix+"a"].UUID)

	r = trpEnroll(t, "local-standalone", []map[string]any{{"uuid": id, "name": prefix + "b", "pm_type": "fake-hardware"}})
	require.False(t, r.Failed(), r.Msg())
	n := enrNodesOf(r)[0]
	assert.Equal(t, "uuid", n["matched_by"])
	assert.Equal(t, "update", n["action"])
	got = nodesNamed(t, c, prefix)
	require.Len(t, got, 1, "renamed, not duplicated")
	assert.Equal(t, id, got[prefix+"b"].UUID)
}

// trpEnrollAndValidate enrolls the nodes (all new) and asserts the real
// Ironic's validate passes power and management for each: Ironic parses
// driver_info there and contacts no BMC. It returns the nodes by name.
func trpEnrollAndValidate(t *testing.T, c *gophercloud.ServiceClient, prefix string, list []map[string]any) map[string]nodes.Node {
	t.Helper()
	r := trpEnroll(t, "local", list)
	require.False(t, r.Failed(), r.Msg())
	assert.Equal(t, fmt.Sprintf("%d nodes: %d created", len(list), len(list)), r.Msg())
	got := nodesNamed(t, c, prefix)
	require.Len(t, got, len(list))
	for name, n := range got {
		v := trpValidate(t, c, n.UUID)
		assert.True(t, v.Power.Result, "%s: power validation: %s", name, v.Power.Reason)
		assert.True(t, v.Management.Result, "%s: management validation: %s", name, v.Management.Reason)
		assert.Equal(t, "enroll", n.ProvisionState, name)
	}
	return got
}

// TestEnrollTripleoRedfishValidate: redfish nodes from instackenv, with and
// without credentials (tripleo-common's RedfishDriverInfo makes only
// pm_addr and pm_system_id mandatory), host:port or URL pm_addr, pass the
// real Ironic's validate for power and management.
func TestEnrollTripleoRedfishValidate(t *testing.T) {
	const prefix = "trp-rf-"
	c := enrIronic(t, "local")
	deleteNodesNamed(t, c, prefix)
	enrCleanup(t, c, prefix)
	port := trpBMCPort()
	sys := fmt.Sprintf("/redfish/v1/Systems/trp-%d", rand.Int63())
	got := trpEnrollAndValidate(t, c, prefix, []map[string]any{
		{"name": prefix + "creds", "pm_type": "redfish", "pm_addr": fmt.Sprintf("127.0.0.1:%d", port), "pm_system_id": sys + "a",
			"pm_user": "admin", "pm_password": enrSentinel, "redfish_verify_ca": false},
		{"name": prefix + "nocreds", "pm_type": "redfish", "pm_addr": fmt.Sprintf("https://127.0.0.1:%d/redfish/v1", port), "pm_system_id": sys + "b"},
	})
	assert.Equal(t, "admin", got[prefix+"creds"].DriverInfo["redfish_username"])
	nocreds := got[prefix+"nocreds"].DriverInfo
	assert.Equal(t, map[string]any{"redfish_address": fmt.Sprintf("https://127.0.0.1:%d/redfish/v1", port), "redfish_system_id": sys + "b"}, nocreds)

	// Control: validate does judge driver_info (no redfish_address, no power).
	ctrl, err := nodes.Create(context.Background(), c, nodes.CreateOpts{Name: prefix + "control", Driver: "redfish",
		DriverInfo: map[string]any{"redfish_system_id": sys + "c"}}).Extract()
	require.NoError(t, err)
	v := trpValidate(t, c, ctrl.UUID)
	assert.False(t, v.Power.Result)
	assert.Contains(t, v.Power.Reason, "redfish_address")
}

// TestEnrollTripleoIdracValidate: idrac nodes from instackenv hold both
// key sets (tripleo-common's iDRACDriverInfo) and pass the real Ironic's
// validate for power and management with Zed's default WS-Man interfaces
// (drac_*) and with the Redfish ones, all current Ironic's idrac type has
// (redfish_*). The control is a node with drac_* only, as the module wrote
// before: its Redfish power validation fails. Needs the idrac hardware type
// enabled (tests/services/ironic.sh).
func TestEnrollTripleoIdracValidate(t *testing.T) {
	const prefix = "trp-idrac-"
	c := enrIronic(t, "local")
	deleteNodesNamed(t, c, prefix)
	enrCleanup(t, c, prefix)
	wsmanPort, urlPort := trpBMCPort(), trpBMCPort()
	got := trpEnrollAndValidate(t, c, prefix, []map[string]any{
		{"name": prefix + "wsman", "pm_type": "idrac", "pm_addr": "127.0.0.1", "pm_port": wsmanPort,
			"pm_user": "root", "pm_password": enrSentinel, "pm_system_id": "/redfish/v1/Systems/System.Embedded.1"},
		{"name": prefix + "redfish", "pm_type": "idrac", "pm_addr": fmt.Sprintf("https://127.0.0.1:%d/redfish/v1", urlPort),
			"pm_user": "root", "pm_password": enrSentinel, "power_interface": "idrac-redfish", "management_interface": "idrac-redfish"},
	})
	wsman := got[prefix+"wsman"]
	assert.Equal(t, "idrac", wsman.Driver)
	if release(t) == "zed" {
		assert.Equal(t, "idrac-wsman", wsman.PowerInterface, "Zed's default for idrac")
	} else {
		// Ironic 29 has no WS-Man: the same instackenv entry lands on Redfish, and validates (above)
		// because the module writes redfish_* beside drac_*.
		assert.Equal(t, "idrac-redfish", wsman.PowerInterface, "Ironic 29's default for idrac")
	}
	assert.Equal(t, "127.0.0.1", wsman.DriverInfo["drac_address"])
	assert.EqualValues(t, wsmanPort, wsman.DriverInfo["drac_port"])
	assert.Equal(t, "root", wsman.DriverInfo["drac_username"])
	assert.Equal(t, fmt.Sprintf("127.0.0.1:%d", wsmanPort), wsman.DriverInfo["redfish_address"])
	assert.Equal(t, "root", wsman.DriverInfo["redfish_username"])
	assert.Equal(t, "/redfish/v1/Systems/System.Embedded.1", wsman.DriverInfo["redfish_system_id"])
	rf := got[prefix+"redfish"]
	assert.Equal(t, "idrac-redfish", rf.PowerInterface)
	assert.Equal(t, "127.0.0.1", rf.DriverInfo["drac_address"])
	assert.Equal(t, fmt.Sprintf("https://127.0.0.1:%d/redfish/v1", urlPort), rf.DriverInfo["redfish_address"])

	ctrl, err := nodes.Create(context.Background(), c, nodes.CreateOpts{
		Name: prefix + "control", Driver: "idrac", PowerInterface: "idrac-redfish", ManagementInterface: "idrac-redfish",
		DriverInfo: map[string]any{"drac_address": "127.0.0.1", "drac_port": trpBMCPort(), "drac_username": "root", "drac_password": "not-a-secret-ctl"},
	}).Extract()
	require.NoError(t, err)
	v := trpValidate(t, c, ctrl.UUID)
	assert.False(t, v.Power.Result, "drac_* alone does not satisfy Redfish power")
	assert.Contains(t, v.Power.Reason, "redfish_address")
}
