package enroll

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sentinel = "S3ntinel-BMC-pw-7781"

// workflowNode is the instackenv example of WORKFLOW.md, on loopback.
func workflowNode() map[string]any {
	return map[string]any{
		"name":        "blade-ocp-node-1",
		"pm_type":     "pxe_ipmitool",
		"pm_addr":     "127.0.0.1",
		"pm_user":     "root",
		"pm_password": sentinel,
		"mac":         []any{"18:DB:F2:8C:D5:FA"},
		"arch":        "x86_64",
		"cpu":         "2",
		"memory":      "4096",
		"disk":        "40",
	}
}

func fakeNode(name, mac string) map[string]any {
	return map[string]any{"name": name, "pm_type": "fake-hardware", "mac": []any{mac}}
}

func TestParseWorkflowExample(t *testing.T) {
	in, err := Parse([]any{workflowNode()}, false)
	require.NoError(t, err)
	require.Len(t, in.Nodes, 1)
	n := in.Nodes[0]
	assert.Equal(t, "blade-ocp-node-1", n.Name)
	assert.Equal(t, "ipmi", n.Driver.HardwareType)
	assert.Equal(t, map[string]any{"ipmi_address": "127.0.0.1", "ipmi_username": "root", "ipmi_password": sentinel}, n.DriverInfo)
	assert.Equal(t, map[string]any{"cpus": int64(2), "memory_mb": int64(4096), "local_gb": int64(40), "cpu_arch": "x86_64"}, n.Properties)
	assert.Equal(t, []Port{{Address: "18:db:f2:8c:d5:fa"}}, n.Ports, "MACs are normalised to lower case")
	assert.True(t, n.PortsGiven)
	assert.Equal(t, map[string]any{"boot_interface": "pxe", "deploy_interface": "direct"}, n.Fields, "a classic name keeps what it meant for the interfaces")
	assert.Equal(t, "127.0.0.1:623", n.BMC)
	assert.Contains(t, in.Secrets, sentinel)
	require.Len(t, in.Warnings, 1)
	assert.Contains(t, in.Warnings[0], `pm_type "pxe_ipmitool" is a classic driver name`)
	assert.Contains(t, in.Warnings[0], "pm_type: ipmi")
	assert.NotContains(t, strings.Join(in.Warnings, " "), sentinel)
}

func TestParseNumbersAsNumbersOrStrings(t *testing.T) {
	for _, v := range []any{"4096", 4096, int64(4096), float64(4096), json.Number("4096"), " 4096 "} {
		node := fakeNode("n1", "52:54:00:00:00:01")
		node["memory"] = v
		in, err := Parse([]any{node}, false)
		require.NoError(t, err, "memory %#v", v)
		assert.Equal(t, int64(4096), in.Nodes[0].Properties["memory_mb"], "memory %#v", v)
	}
}

func TestParseDrivers(t *testing.T) {
	tests := []struct {
		name       string
		node       map[string]any
		driver     string
		driverInfo map[string]any
		fields     map[string]any
		bmc        string
	}{
		{"ipmi with port and passthrough", map[string]any{"pm_type": "ipmi", "pm_addr": "127.0.0.1", "pm_port": "6230", "pm_user": "admin", "pm_password": "pw", "ipmi_priv_level": "OPERATOR"},
			"ipmi", map[string]any{"ipmi_address": "127.0.0.1", "ipmi_port": int64(6230), "ipmi_username": "admin", "ipmi_password": "pw", "ipmi_priv_level": "OPERATOR"}, map[string]any{}, "127.0.0.1:6230"},
		{"agent_ipmitool", map[string]any{"pm_type": "agent_ipmitool", "pm_addr": "127.0.0.1"},
			"ipmi", map[string]any{"ipmi_address": "127.0.0.1"}, map[string]any{"boot_interface": "pxe", "deploy_interface": "direct"}, "127.0.0.1:623"},
		{"redfish", map[string]any{"pm_type": "redfish", "pm_addr": "https://127.0.0.1:8000/", "pm_user": "u", "pm_password": "p", "pm_system_id": "/redfish/v1/Systems/1", "redfish_verify_ca": false},
			"redfish", map[string]any{"redfish_address": "https://127.0.0.1:8000/", "redfish_username": "u", "redfish_password": "p", "redfish_system_id": "/redfish/v1/Systems/1", "redfish_verify_ca": false}, map[string]any{}, "127.0.0.1:8000/redfish/v1/Systems/1"},
		{"idrac", map[string]any{"pm_type": "pxe_drac", "pm_addr": "127.0.0.2", "pm_user": "root", "pm_password": "calvin"},
			"idrac", map[string]any{"drac_address": "127.0.0.2", "drac_username": "root", "drac_password": "calvin",
				"redfish_address": "127.0.0.2", "redfish_username": "root", "redfish_password": "calvin"},
			map[string]any{"boot_interface": "pxe", "deploy_interface": "direct"}, "127.0.0.2:443"},
		// tripleo-common test_register_ironic_node_idrac, on loopback: both key sets, pm_system_id is redfish_system_id.
		{"idrac fills drac and redfish", map[string]any{"pm_type": "idrac", "pm_addr": "127.0.0.2", "pm_user": "root", "pm_password": "calvin", "pm_system_id": "/redfish/v1/Systems/1", "pm_port": "6230"},
			"idrac", map[string]any{"drac_address": "127.0.0.2", "drac_username": "root", "drac_password": "calvin", "drac_port": int64(6230),
				"redfish_address": "127.0.0.2:6230", "redfish_username": "root", "redfish_password": "calvin", "redfish_system_id": "/redfish/v1/Systems/1"},
			map[string]any{}, "127.0.0.2:6230"},
		{"idrac with a Redfish URL", map[string]any{"pm_type": "idrac", "pm_addr": "https://127.0.0.2/redfish/v1", "pm_user": "root", "pm_password": "calvin"},
			"idrac", map[string]any{"drac_address": "127.0.0.2", "drac_username": "root", "drac_password": "calvin",
				"redfish_address": "https://127.0.0.2/redfish/v1", "redfish_username": "root", "redfish_password": "calvin"},
			map[string]any{}, "127.0.0.2:443"},
		{"idrac URL with its own port keeps it, pm_port is WS-Man's", map[string]any{"pm_type": "idrac", "pm_addr": "https://LocalHost:8443/", "pm_port": 6230, "pm_user": "root", "pm_password": "calvin"},
			"idrac", map[string]any{"drac_address": "localhost", "drac_port": int64(6230), "drac_username": "root", "drac_password": "calvin",
				"redfish_address": "https://LocalHost:8443/", "redfish_username": "root", "redfish_password": "calvin"},
			map[string]any{}, "localhost:6230"},
		{"idrac URL without a port gets pm_port", map[string]any{"pm_type": "idrac", "pm_addr": "http://127.0.0.2/", "pm_port": 6230, "pm_user": "root", "pm_password": "calvin"},
			"idrac", map[string]any{"drac_address": "127.0.0.2", "drac_port": int64(6230), "drac_username": "root", "drac_password": "calvin",
				"redfish_address": "http://127.0.0.2:6230/", "redfish_username": "root", "redfish_password": "calvin"},
			map[string]any{}, "127.0.0.2:6230"},
		{"idrac IPv6 loopback", map[string]any{"pm_type": "idrac", "pm_addr": "::1", "pm_port": 6230, "pm_user": "root", "pm_password": "calvin"},
			"idrac", map[string]any{"drac_address": "::1", "drac_port": int64(6230), "drac_username": "root", "drac_password": "calvin",
				"redfish_address": "[::1]:6230", "redfish_username": "root", "redfish_password": "calvin"},
			map[string]any{}, "::1:6230"},
		{"idrac explicit redfish key wins over the derived one", map[string]any{"pm_type": "idrac", "pm_addr": "127.0.0.2", "pm_user": "root", "pm_password": "calvin", "redfish_address": "https://127.0.0.2:8443", "redfish_verify_ca": false},
			"idrac", map[string]any{"drac_address": "127.0.0.2", "drac_username": "root", "drac_password": "calvin",
				"redfish_address": "https://127.0.0.2:8443", "redfish_username": "root", "redfish_password": "calvin", "redfish_verify_ca": false},
			map[string]any{}, "127.0.0.2:443"},
		// tripleo-common test_register_ironic_node_redfish_without_credentials.
		{"redfish without credentials", map[string]any{"pm_type": "redfish", "pm_addr": "127.0.0.1:8000", "pm_system_id": "/redfish/v1/Systems/1"},
			"redfish", map[string]any{"redfish_address": "127.0.0.1:8000", "redfish_system_id": "/redfish/v1/Systems/1"}, map[string]any{}, "127.0.0.1:8000/redfish/v1/Systems/1"},
		{"redfish root URL", map[string]any{"pm_type": "redfish", "pm_addr": "https://127.0.0.1/redfish/v1", "pm_system_id": "Systems/1"},
			"redfish", map[string]any{"redfish_address": "https://127.0.0.1/redfish/v1", "redfish_system_id": "Systems/1"}, map[string]any{}, "127.0.0.1/redfish/v1/Systems/1"},
		{"ilo", map[string]any{"pm_type": "ilo", "pm_addr": "127.0.0.3", "pm_user": "a", "pm_password": "b"},
			"ilo", map[string]any{"ilo_address": "127.0.0.3", "ilo_username": "a", "ilo_password": "b"}, map[string]any{}, "127.0.0.3"},
		{"irmc", map[string]any{"pm_type": "irmc", "pm_addr": "127.0.0.4", "pm_user": "a", "pm_password": "b", "pm_port": 443},
			"irmc", map[string]any{"irmc_address": "127.0.0.4", "irmc_username": "a", "irmc_password": "b", "irmc_port": int64(443)}, map[string]any{}, "127.0.0.4:443"},
		{"fake-hardware", map[string]any{"pm_type": "fake-hardware"}, "fake-hardware", map[string]any{}, map[string]any{}, ""},
		{"fake", map[string]any{"pm_type": "fake"}, "fake-hardware", map[string]any{}, map[string]any{}, ""},
		{"explicit interface wins over the classic one", map[string]any{"pm_type": "pxe_ipmitool", "pm_addr": "127.0.0.1", "deploy_interface": "fake"},
			"ipmi", map[string]any{"ipmi_address": "127.0.0.1"}, map[string]any{"boot_interface": "pxe", "deploy_interface": "fake"}, "127.0.0.1:623"},
		{"kernel and ramdisk", map[string]any{"pm_type": "fake-hardware", "kernel_id": "k1", "ramdisk_id": "r1"},
			"fake-hardware", map[string]any{"deploy_kernel": "k1", "deploy_ramdisk": "r1"}, map[string]any{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.node["name"] = "n1"
			in, err := Parse([]any{tt.node}, false)
			require.NoError(t, err)
			n := in.Nodes[0]
			assert.Equal(t, tt.driver, n.Driver.HardwareType)
			assert.Equal(t, tt.driverInfo, n.DriverInfo)
			assert.Equal(t, tt.fields, n.Fields)
			assert.Equal(t, tt.bmc, n.BMC)
		})
	}
}

func TestParseFakeHardwareIgnoresBMCFieldsWithOneWarning(t *testing.T) {
	var items []any
	for i := 0; i < 3; i++ {
		n := fakeNode("f"+string(rune('a'+i)), "52:54:00:00:01:0"+string(rune('1'+i)))
		n["pm_addr"], n["pm_password"] = "127.0.0.1", sentinel
		items = append(items, n)
	}
	in, err := Parse(items, false)
	require.NoError(t, err)
	assert.Empty(t, in.Nodes[0].DriverInfo)
	require.Len(t, in.Warnings, 1)
	assert.Equal(t, "ignored on fake-hardware/manual-management nodes, which have no BMC: pm_addr (3 nodes), pm_password (3 nodes)", in.Warnings[0])
	assert.Contains(t, in.Secrets, sentinel, "an ignored password is still a secret")
}

func TestParseCapabilitiesProfileResourceClass(t *testing.T) {
	tests := []struct {
		name    string
		set     map[string]any
		caps    string
		rc      string
		props   map[string]any
		warning string
	}{
		{"string capabilities", map[string]any{"capabilities": "profile:baremetal,boot_option:local"}, "profile:baremetal,boot_option:local", "", map[string]any{}, ""},
		{"dict capabilities sorted", map[string]any{"capabilities": map[string]any{"boot_option": "local", "cpu_vt": true}}, "boot_option:local,cpu_vt:true", "", map[string]any{}, ""},
		{"profile becomes a capability", map[string]any{"profile": "compute", "capabilities": "boot_option:local"}, "boot_option:local,profile:compute", "", map[string]any{}, ""},
		{"resource_class kept", map[string]any{"resource_class": "baremetal-gold"}, "", "baremetal-gold", map[string]any{}, ""},
		{"CUSTOM_ trap stripped", map[string]any{"resource_class": "CUSTOM_BAREMETAL"}, "", "baremetal", map[string]any{}, "would look for CUSTOM_CUSTOM_BAREMETAL"},
		{"resources idiom", map[string]any{"resources": "CUSTOM_BAREMETAL:1"}, "", "baremetal", map[string]any{}, "old way to match a flavor"},
		{"properties/resources idiom", map[string]any{"properties": map[string]any{"resources": map[string]any{"CUSTOM_GOLD": 1}, "vendor": "acme"}}, "", "gold", map[string]any{"vendor": "acme"}, "resource_class \"gold\""},
		{"root device hints", map[string]any{"root_device": map[string]any{"serial": "S1"}}, "", "", map[string]any{"root_device": map[string]any{"serial": "S1"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			node := fakeNode("n1", "52:54:00:00:00:01")
			for k, v := range tt.set {
				node[k] = v
			}
			in, err := Parse([]any{node}, false)
			require.NoError(t, err)
			n := in.Nodes[0]
			assert.Equal(t, tt.caps, n.Capabilities.String())
			assert.Equal(t, tt.rc, n.ResourceClass)
			assert.Equal(t, tt.props, n.Properties)
			if tt.warning == "" {
				assert.Empty(t, in.Warnings)
			} else {
				require.Len(t, in.Warnings, 1)
				assert.Contains(t, in.Warnings[0], tt.warning)
			}
		})
	}
}

func TestParsePorts(t *testing.T) {
	node := fakeNode("n1", "52:54:00:00:00:01")
	node["ports"] = []any{
		map[string]any{"address": "52-54-00-00-00-02", "physical_network": "ctlplane", "local_link_connection": map[string]any{"switch_id": "aa:bb:cc:dd:ee:ff", "port_id": "Eth1/1"}, "pxe_enabled": false},
	}
	in, err := Parse([]any{node}, false)
	require.NoError(t, err)
	ports := in.Nodes[0].Ports
	require.Len(t, ports, 2)
	assert.Equal(t, "52:54:00:00:00:01", ports[0].Address)
	assert.Equal(t, "52:54:00:00:00:02", ports[1].Address)
	assert.Equal(t, "ctlplane", *ports[1].PhysicalNetwork)
	assert.False(t, *ports[1].PXEEnabled)
	assert.Equal(t, "Eth1/1", ports[1].LocalLinkConnection["port_id"])
}

// TestParseBadInputs: each kind of bad input fails with a message naming the
// node and the field, and nothing else is needed to know what to fix.
func TestParseBadInputs(t *testing.T) {
	ok := func() map[string]any {
		return map[string]any{"name": "bad-1", "pm_type": "ipmi", "pm_addr": "127.0.0.1", "pm_user": "admin", "pm_password": sentinel, "mac": []any{"52:54:00:00:00:aa"}}
	}
	with := func(k string, v any) map[string]any { n := ok(); n[k] = v; return n }
	without := func(k string) map[string]any { n := ok(); delete(n, k); return n }
	tests := []struct {
		name  string
		nodes []any
		want  []string // substrings of the error, node label included
	}{
		{"bad MAC syntax", []any{with("mac", []any{"52:54:00:zz:00:01"})}, []string{"nodes[0] (bad-1)", `mac[0] "52:54:00:zz:00:01" is not a MAC address`}},
		{"MAC of 8 bytes", []any{with("mac", []any{"52:54:00:00:00:00:00:01"})}, []string{"nodes[0] (bad-1)", "is not a MAC address (6 bytes"}},
		{"multicast MAC", []any{with("mac", []any{"01:00:5e:00:00:01"})}, []string{"mac[0]", "multicast"}},
		{"mac not a list", []any{with("mac", 42)}, []string{"mac must be a list of MAC addresses"}},
		{"same MAC twice in a node", []any{with("mac", []any{"52:54:00:00:00:aa", "52:54:00:00:00:AA"})}, []string{"MAC 52:54:00:00:00:aa is listed twice"}},
		{"same MAC on two nodes", []any{ok(), func() map[string]any { n := ok(); n["name"], n["pm_addr"] = "bad-2", "127.0.0.2"; return n }()},
			[]string{"nodes[1] (bad-2)", "MAC 52:54:00:00:00:aa is also a port of nodes[0] (bad-1)"}},
		{"same BMC on two nodes", []any{ok(), func() map[string]any { n := ok(); n["name"], n["mac"] = "bad-2", []any{"52:54:00:00:00:bb"}; return n }()},
			[]string{"nodes[1] (bad-2)", "BMC 127.0.0.1:623 is also the BMC of nodes[0] (bad-1)"}},
		{"same name twice", []any{ok(), func() map[string]any {
			n := ok()
			n["pm_addr"], n["mac"] = "127.0.0.2", []any{"52:54:00:00:00:bb"}
			return n
		}()},
			[]string{"nodes[1] (bad-1)", `name "bad-1" is also the name of nodes[0] (bad-1)`}},
		{"name with a space", []any{with("name", "bad one")}, []string{"nodes[0]", `name "bad one" may only hold letters`}},
		{"name that is a dot segment", []any{with("name", "..")}, []string{"nodes[0]", `name ".." cannot be a node name (a URL path dot segment)`}},
		{"name that is a single dot", []any{with("name", ".")}, []string{"nodes[0]", `name "." cannot be a node name (a URL path dot segment)`}},
		{"name with a slash", []any{with("name", "../ports")}, []string{"nodes[0]", `name "../ports" may only hold letters`}},
		{"name with a query", []any{with("name", "n?x=1")}, []string{"nodes[0]", `name "n?x=1" may only hold letters`}},
		{"name that is a UUID", []any{with("name", "8c1f8a3e-3b0c-4a8e-9a55-000000000001")}, []string{"looks like a UUID"}},
		{"pm_type missing", []any{without("pm_type")}, []string{"nodes[0] (bad-1)", "pm_type is required"}},
		{"pm_type unknown", []any{with("pm_type", "pxe_magic")}, []string{`pm_type "pxe_magic" is not a supported driver`}},
		{"ipmi without pm_addr", []any{without("pm_addr")}, []string{"nodes[0] (bad-1)", "pm_addr is required by pm_type ipmi"}},
		{"redfish without system id", []any{func() map[string]any { n := ok(); n["pm_type"] = "redfish"; return n }()}, []string{"pm_system_id is required by pm_type redfish"}},
		{"redfish with pm_port", []any{func() map[string]any {
			n := ok()
			n["pm_type"], n["pm_system_id"], n["pm_port"] = "redfish", "/redfish/v1/Systems/1", 8000
			return n
		}()},
			[]string{"pm_port is not used by pm_type redfish (put the port in pm_addr: https://host:port)"}},
		{"redfish URL of another scheme", []any{func() map[string]any {
			n := ok()
			n["pm_type"], n["pm_system_id"], n["pm_addr"] = "redfish", "/redfish/v1/Systems/1", "ftp://127.0.0.1"
			return n
		}()}, []string{`pm_addr "ftp://127.0.0.1": the URL scheme must be http or https`}},
		{"redfish URL with credentials", []any{func() map[string]any {
			n := ok()
			n["pm_type"], n["pm_system_id"], n["pm_addr"] = "redfish", "/redfish/v1/Systems/1", "https://admin:"+sentinel+"@127.0.0.1:8000/redfish/v1"
			return n
		}()}, []string{"pm_addr: a URL carrying credentials (user:password@) is refused"}},
		{"idrac URL without a host", []any{func() map[string]any {
			n := ok()
			n["pm_type"], n["pm_addr"] = "idrac", "https:///redfish/v1"
			return n
		}()},
			[]string{`pm_addr "https:///redfish/v1": it is neither a host name`}},
		{"redfish with credentials but no address", []any{func() map[string]any {
			n := without("pm_addr")
			n["pm_type"], n["pm_system_id"] = "redfish", "/redfish/v1/Systems/1"
			return n
		}()}, []string{"pm_addr is required by pm_type redfish"}},
		{"same redfish system written two ways", []any{
			func() map[string]any {
				n := ok()
				n["pm_type"], n["pm_addr"], n["pm_system_id"] = "redfish", "127.0.0.1:8000", "/redfish/v1/Systems/1"
				return n
			}(),
			func() map[string]any {
				n := ok()
				n["name"], n["mac"] = "bad-2", []any{"52:54:00:00:00:bb"}
				n["pm_type"], n["pm_addr"], n["pm_system_id"] = "redfish", "https://127.0.0.1:8000/", "redfish/v1/Systems/1"
				return n
			}(),
		}, []string{"nodes[1] (bad-2)", "BMC 127.0.0.1:8000/redfish/v1/Systems/1 is also the BMC of nodes[0] (bad-1)"}},
		{"idrac without credentials", []any{func() map[string]any {
			n := ok()
			n["pm_type"] = "idrac"
			delete(n, "pm_user")
			delete(n, "pm_password")
			return n
		}()}, []string{"pm_user, pm_password are required by pm_type idrac"}},
		{"unknown field", []any{with("cpus", 4)}, []string{"nodes[0] (bad-1)", "unknown field cpus"}},
		{"misspelt pm field", []any{with("pm_pasword", "x")}, []string{"unknown field pm_pasword", "pm_password"}},
		{"driver_info key of another driver", []any{with("redfish_verify_ca", false)}, []string{"unknown field redfish_verify_ca", "start with ipmi_"}},
		{"pm_system_id on ipmi", []any{with("pm_system_id", "/redfish/v1/Systems/1")}, []string{"pm_system_id is not used by pm_type ipmi"}},
		{"memory not a number", []any{with("memory", "4 GiB")}, []string{"memory must be a size in MiB", `"4 GiB"`}},
		{"cpu zero", []any{with("cpu", 0)}, []string{"cpu must be a CPU count"}},
		{"disk fractional", []any{with("disk", 40.5)}, []string{"disk must be a size in GiB"}},
		{"port out of range", []any{with("pm_port", 70000)}, []string{"pm_port must be a port number between 1 and 65535"}},
		{"password as a YAML boolean", []any{with("pm_password", true)}, []string{"pm_password: got a boolean", "quote the password"}},
		{"empty password", []any{with("pm_password", "")}, []string{"pm_password must not be empty"}},
		{"IPMI password over 20 bytes", []any{with("pm_password", sentinel+"-and-more")}, []string{"pm_password is longer than 20 bytes"}},
		{"pm_addr with a scheme for ipmi", []any{with("pm_addr", "https://127.0.0.1")}, []string{"must be a host name or IP address for pm_type ipmi"}},
		{"bad capabilities", []any{with("capabilities", "profile")}, []string{`capabilities: capability "profile" is not key:value`}},
		{"profile disagrees with capabilities", []any{func() map[string]any { n := ok(); n["capabilities"], n["profile"] = "profile:a", "b"; return n }()}, []string{`profile "b" and capabilities profile:a disagree`}},
		{"resources idiom malformed", []any{with("resources", "BAREMETAL:2")}, []string{"resources must be one CUSTOM_<CLASS>:1 entry"}},
		{"resource class with spaces", []any{with("resource_class", "bare metal")}, []string{`resource_class "bare metal" may only hold`}},
		{"port without address", []any{with("ports", []any{map[string]any{"physical_network": "ctlplane"}})}, []string{"ports[0].address is required"}},
		{"port with unknown field", []any{with("ports", []any{map[string]any{"address": "52:54:00:00:00:bb", "vlan": 4}})}, []string{"ports[0]: unknown field vlan"}},
		{"node not a dict", []any{"blade-1"}, []string{"nodes[0]", "must be a dict"}},
		{"no name, no MAC, no BMC", []any{map[string]any{"pm_type": "fake-hardware", "cpu": 2}}, []string{"needs a name, a uuid, a MAC or a BMC address"}},
		{"uuid not a UUID", []any{with("uuid", "abcdef")}, []string{`uuid "abcdef" is not a UUID`}},
		{"same uuid twice", []any{with("uuid", "8C1F8A3E-3B0C-4A8E-9A55-000000000001"), func() map[string]any {
			n := ok()
			n["name"], n["pm_addr"], n["mac"], n["uuid"] = "bad-2", "127.0.0.2", []any{"52:54:00:00:00:bb"}, "8c1f8a3e-3b0c-4a8e-9a55-000000000001"
			return n
		}()}, []string{"nodes[1] (bad-2)", "uuid 8c1f8a3e-3b0c-4a8e-9a55-000000000001 is also the uuid of nodes[0] (bad-1)"}},
		{"root_device not a dict", []any{with("root_device", "/dev/sda")}, []string{"root_device must be a dict of root device hints"}},
		{"interface not a string", []any{with("boot_interface", []any{"pxe"})}, []string{"boot_interface must be a string"}},
	}
	require.GreaterOrEqual(t, len(tests), 15)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := Parse(tt.nodes, false)
			require.Error(t, err)
			var invalid *InvalidError
			require.True(t, errors.As(err, &invalid))
			msg := err.Error()
			assert.Contains(t, msg, "nothing was changed")
			for _, w := range tt.want {
				assert.Contains(t, msg, w)
			}
			assert.NotContains(t, msg, sentinel, "a password never appears in an error")
			assert.NotNil(t, in, "secrets are returned even when validation fails")
		})
	}
}

func TestParseListsEveryProblemOfEveryNode(t *testing.T) {
	_, err := Parse([]any{
		map[string]any{"name": "a", "pm_type": "ipmi", "mac": []any{"xx"}, "memory": "lots"},
		fakeNode("b", "52:54:00:00:00:01"),
		map[string]any{"name": "c", "pm_type": "redfish", "bogus": 1},
	}, false)
	var invalid *InvalidError
	require.True(t, errors.As(err, &invalid))
	require.Len(t, invalid.Nodes, 2)
	assert.Equal(t, 0, invalid.Nodes[0].Index)
	assert.Len(t, invalid.Nodes[0].Problems, 3, "%v", invalid.Nodes[0].Problems) // pm_addr, mac, memory
	assert.Equal(t, 2, invalid.Nodes[1].Index)
	assert.Len(t, invalid.Nodes[1].Problems, 2, "%v", invalid.Nodes[1].Problems) // required fields, bogus
	assert.True(t, strings.HasPrefix(err.Error(), "2 of 3 node definitions are invalid, nothing was changed:"))
}

// TestParseIgnoresUnderscoreKeys: tripleo-common's validate_nodes drops
// "_comment"; every "_" key is a comment here, set nowhere.
func TestParseURLCredentialsAreSecrets(t *testing.T) {
	n := map[string]any{"name": "n1", "pm_type": "redfish", "pm_system_id": "/redfish/v1/Systems/1",
		"pm_addr": "https://admin:p%40ss-" + sentinel + "@127.0.0.1:8000/redfish/v1"}
	in, err := Parse([]any{n}, false)
	require.Error(t, err)
	assert.Contains(t, in.Secrets, "p%40ss-"+sentinel)
	assert.Contains(t, in.Secrets, "p@ss-"+sentinel, "the unescaped form too")
	assert.NotContains(t, in.Secrets, "admin", "a user name is no secret")
	assert.NotContains(t, err.Error(), sentinel)
}

func TestParseNamelessNodeFoundByBMC(t *testing.T) {
	in, err := Parse([]any{map[string]any{"pm_type": "ipmi", "pm_addr": "127.0.0.1", "pm_port": 6230}}, false)
	require.NoError(t, err, "a BMC is enough to find the node again, as in tripleo-common")
	assert.Equal(t, "127.0.0.1:6230", in.Nodes[0].BMC)
	assert.Equal(t, "nodes[0] (BMC 127.0.0.1:6230)", in.Nodes[0].Label())
}

func TestParseIgnoresUnderscoreKeys(t *testing.T) {
	node := fakeNode("n1", "52:54:00:00:00:01")
	node["_comment"] = "rack 4, slot 2"
	node["_owner"] = map[string]any{"team": "infra"}
	in, err := Parse([]any{node}, false)
	require.NoError(t, err)
	n := in.Nodes[0]
	assert.Empty(t, n.DriverInfo)
	assert.Empty(t, n.Properties)
	assert.Empty(t, n.Fields)
	assert.Empty(t, in.Warnings)

	delete(node, "_owner")
	node["comment"] = "no underscore"
	_, err = Parse([]any{node}, false)
	assert.ErrorContains(t, err, "unknown field comment", "only a leading underscore makes a comment")
}

// TestBMCIdentity: the identity of an input node and of a node Ironic
// reports, computed from driver_info alike (tripleo-common's
// unique_id_from_fields / unique_id_from_node tests, on loopback).
func TestBMCIdentity(t *testing.T) {
	tests := []struct {
		name   string
		driver string
		info   map[string]any
		want   string
	}{
		{"redfish host", "redfish", map[string]any{"redfish_address": "localhost", "redfish_system_id": "/redfish/v1/Systems/1"}, "localhost/redfish/v1/Systems/1"},
		{"redfish http URL", "redfish", map[string]any{"redfish_address": "http://localhost/", "redfish_system_id": "/redfish/v1/Systems/1"}, "localhost/redfish/v1/Systems/1"},
		{"redfish https URL", "redfish", map[string]any{"redfish_address": "HTTPS://LocalHost/", "redfish_system_id": "/redfish/v1/Systems/1"}, "localhost/redfish/v1/Systems/1"},
		{"redfish without system id", "redfish", map[string]any{"redfish_address": "localhost"}, ""},
		{"ipmi default port", "ipmi", map[string]any{"ipmi_address": "127.0.0.1"}, "127.0.0.1:623"},
		{"ipmi port as JSON reads it", "ipmi", map[string]any{"ipmi_address": "127.0.0.1", "ipmi_port": float64(6230)}, "127.0.0.1:6230"},
		{"ipmi port as a string", "ipmi", map[string]any{"ipmi_address": "127.0.0.1", "ipmi_port": "6230"}, "127.0.0.1:6230"},
		{"ipmi without address", "ipmi", map[string]any{"ipmi_port": 6230}, ""},
		{"ilo without port", "ilo", map[string]any{"ilo_address": "127.0.0.3"}, "127.0.0.3"},
		{"idrac drac keys", "idrac", map[string]any{"drac_address": "127.0.0.2", "drac_port": float64(6230)}, "127.0.0.2:6230"},
		{"idrac default port", "idrac", map[string]any{"drac_address": "127.0.0.2"}, "127.0.0.2:443"},
		{"idrac enrolled for Redfish only", "idrac", map[string]any{"redfish_address": "https://127.0.0.2:8443/redfish/v1"}, "127.0.0.2:443"},
		{"fake-hardware", "fake-hardware", map[string]any{"ipmi_address": "127.0.0.1"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, drivers[tt.driver].Identity(tt.info))
		})
	}
	var unknown *Driver
	assert.Equal(t, "", unknown.Identity(map[string]any{"ipmi_address": "127.0.0.1"}), "a node of a driver we do not know has no identity")

	// test_unique_id_from_fields_with_https: the URL's port is not the drac port.
	n := parseOne(t, map[string]any{"name": "n1", "pm_type": "idrac", "pm_addr": "https://localhost:8080/", "pm_user": "u", "pm_password": "p", "pm_port": 6230})
	assert.Equal(t, "localhost:6230", n.BMC)
	// the same node as Ironic shows it once enrolled: the identity agrees
	assert.Equal(t, n.BMC, drivers["idrac"].Identity(n.DriverInfo))
}

func TestParseForDeleteNeedsNoBMC(t *testing.T) {
	in, err := Parse([]any{map[string]any{"name": "gone-1"}, map[string]any{"mac": []any{"52:54:00:00:00:01"}}}, true)
	require.NoError(t, err)
	assert.Len(t, in.Nodes, 2)
	_, err = Parse([]any{map[string]any{"name": "gone-1"}}, false)
	assert.ErrorContains(t, err, "pm_type is required")
}

func TestCapabilitiesMerge(t *testing.T) {
	have, err := ParseCapabilities("boot_mode:uefi,cpu_vt:true,profile:old")
	require.NoError(t, err)
	want, err := ParseCapabilities("profile:baremetal,boot_option:local")
	require.NoError(t, err)
	assert.False(t, have.Covers(want))
	merged := have.Merge(want)
	assert.Equal(t, "boot_mode:uefi,cpu_vt:true,profile:baremetal,boot_option:local", merged.String())
	assert.True(t, merged.Covers(want))
}
