package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/ansible/ansibletest"
	"github.com/metalkit/baremetal/internal/ironicfake"
)

const sentinel = "S3ntinel-BMC-pw-7781"

func TestDocsCurrent(t *testing.T) {
	ansibletest.AssertDocsCurrent(t, spec, filepath.Join("..", "..", "collection", "plugins", "modules", "ironic_enroll.yml"))
}

func args(fake *ironicfake.Server, extra map[string]any) map[string]any {
	a := map[string]any{"auth_type": "none", "auth": map[string]any{"endpoint": fake.URL}}
	for k, v := range extra {
		a[k] = v
	}
	return a
}

func nodes() []any {
	return []any{
		map[string]any{"name": "mod-1", "pm_type": "pxe_ipmitool", "pm_addr": "127.0.0.1", "pm_port": 6230, "pm_user": "admin",
			"pm_password": sentinel, "mac": []any{"52:54:00:a0:00:01"}, "cpu": "2", "memory": "4096", "disk": "40", "arch": "x86_64"},
		map[string]any{"name": "mod-2", "pm_type": "fake-hardware", "ports": []any{map[string]any{"address": "52:54:00:a0:00:02"}},
			"capabilities": "profile:baremetal"},
	}
}

func text(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestEnrollCheckDiffRunRerun(t *testing.T) {
	fake := ironicfake.New(t)

	check := ansibletest.RunWithArgs(t, spec, args(fake, map[string]any{"nodes": nodes(), "_ansible_check_mode": true, "_ansible_diff": true}), module)
	assert.Equal(t, true, check["changed"])
	assert.Zero(t, fake.Writes(), "check mode: no write call at all")
	assert.Contains(t, check["msg"], "check mode, nothing changed: 2 nodes: 2 to create")
	diff := check["diff"].([]any)
	require.Len(t, diff, 2)
	after := diff[0].(map[string]any)["after"].(map[string]any)
	assert.Equal(t, "********", after["driver_info"].(map[string]any)["ipmi_password"])
	assert.NotContains(t, text(check), sentinel)

	first := ansibletest.RunWithArgs(t, spec, args(fake, map[string]any{"nodes": nodes(), "_ansible_diff": true}), module)
	assert.Equal(t, true, first["changed"])
	assert.Equal(t, "2 nodes: 2 created", first["msg"])
	list := first["nodes"].([]any)
	n0 := list[0].(map[string]any)
	assert.Equal(t, "mod-1", n0["name"])
	assert.Equal(t, "manageable", n0["provision_state"])
	assert.NotEmpty(t, n0["uuid"])
	assert.Equal(t, "52:54:00:a0:00:01", n0["ports"].([]any)[0].(map[string]any)["address"])
	assert.Contains(t, first["warnings"].([]any)[0], `pm_type "pxe_ipmitool" is a classic driver name`)
	assert.Equal(t, "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER",
		first["invocation"].(map[string]any)["module_args"].(map[string]any)["nodes"].([]any)[0].(map[string]any)["pm_password"])
	assert.NotContains(t, text(first), sentinel)
	assert.Equal(t, sentinel, fake.Node("mod-1")["driver_info"].(map[string]any)["ipmi_password"])

	writes := fake.Writes()
	second := ansibletest.RunWithArgs(t, spec, args(fake, map[string]any{"nodes": nodes(), "_ansible_diff": true}), module)
	assert.Equal(t, false, second["changed"])
	assert.Equal(t, "2 nodes: 2 unchanged", second["msg"])
	assert.Nil(t, second["diff"])
	assert.Equal(t, writes, fake.Writes())
}

func TestInvalidNodesFailWithEveryProblemAndChangeNothing(t *testing.T) {
	fake := ironicfake.New(t)
	bad := nodes()
	bad[0].(map[string]any)["mac"] = []any{"52:54:00:a0:00:zz"}
	bad[1].(map[string]any)["memory"] = "lots"
	bad[1].(map[string]any)["pm_pasword"] = sentinel
	res := ansibletest.RunWithArgs(t, spec, args(fake, map[string]any{"nodes": bad}), module)
	assert.Equal(t, true, res["failed"])
	msg := res["msg"].(string)
	assert.Contains(t, msg, "2 of 2 node definitions are invalid, nothing was changed")
	assert.Contains(t, msg, `nodes[0] (mod-1): mac[0] "52:54:00:a0:00:zz" is not a MAC address`)
	assert.Contains(t, msg, "nodes[1] (mod-2): memory must be a size in MiB")
	assert.Contains(t, msg, "unknown field pm_pasword")
	invalid := res["invalid_nodes"].([]any)
	require.Len(t, invalid, 2)
	assert.Zero(t, fake.Writes())
	assert.Zero(t, len(fake.Requests), "validation fails before any API call")
	assert.NotContains(t, text(res), sentinel)
}

func TestNodeFailureKeepsOthersResults(t *testing.T) {
	fake := ironicfake.New(t)
	ns := nodes()
	ns[0].(map[string]any)["pm_password"] = ironicfake.BadPassword
	res := ansibletest.RunWithArgs(t, spec, args(fake, map[string]any{"nodes": ns}), module)
	assert.Equal(t, true, res["failed"])
	assert.Equal(t, true, res["changed"], "nodes were created")
	assert.Contains(t, res["msg"], "1 of 2 nodes failed (every outcome is in nodes): nodes[0] (mod-1): BMC validation failed")
	list := res["nodes"].([]any)
	assert.Equal(t, "failed", list[0].(map[string]any)["action"])
	assert.Contains(t, list[0].(map[string]any)["last_error"], "IPMI call failed")
	assert.Equal(t, "create", list[1].(map[string]any)["action"])
	assert.Equal(t, "manageable", list[1].(map[string]any)["provision_state"])
}

func TestNodesFileSecretsScrubbed(t *testing.T) {
	fake := ironicfake.New(t)
	path := filepath.Join(t.TempDir(), "instackenv.json")
	doc := map[string]any{"nodes": []any{map[string]any{"name": "file-1", "pm_type": "ipmi", "pm_addr": "127.0.0.1",
		"pm_password": sentinel, "ipmi_bogus_password": sentinel + "2", "mac": []any{"52:54:00:a0:00:09"}, "bogus": 1}}}
	b, _ := json.Marshal(doc)
	require.NoError(t, os.WriteFile(path, b, 0o600))
	res := ansibletest.RunWithArgs(t, spec, args(fake, map[string]any{"nodes_file": path, "_ansible_diff": true}), module)
	assert.Equal(t, true, res["failed"], "bogus field")
	assert.NotContains(t, text(res), sentinel)

	delete(doc["nodes"].([]any)[0].(map[string]any), "bogus")
	b, _ = json.Marshal(doc)
	require.NoError(t, os.WriteFile(path, b, 0o600))
	fake.FailCreate = 400 // the API echoes the body, passwords included
	res = ansibletest.RunWithArgs(t, spec, args(fake, map[string]any{"nodes_file": path, "_ansible_diff": true}), module)
	assert.Equal(t, true, res["failed"])
	assert.Contains(t, res["msg"], "Invalid node")
	assert.NotContains(t, text(res), sentinel)
}

// TestSpecMasksNodesSecretsBeforeRun: a bad value of another option fails
// in argument validation, before run() registers the nodes' passwords; the
// invocation echoes the nodes, and the spec (NoLogKey on nodes) must have
// made their credentials no_log values already. The run function fails the
// test if reached.
func TestSpecMasksNodesSecretsBeforeRun(t *testing.T) {
	ns := nodes()
	ns[0].(map[string]any)["ipmi_bogus_password"] = sentinel + "-2"
	ns[1].(map[string]any)["pm_password"] = 778123 // a number: masked by its text
	raw, _ := json.Marshal(map[string]any{"nodes": ns, "concurrency": "many", "cloud": "x"})
	path := filepath.Join(t.TempDir(), "args")
	require.NoError(t, os.WriteFile(path, raw, 0o600))
	var out bytes.Buffer
	code := ansible.Execute(spec, path, &out, func(*ansible.Module) (*ansible.Result, error) {
		t.Fatal("run reached: validation should have failed")
		return nil, nil
	})
	assert.Equal(t, 1, code)
	assert.NotContains(t, out.String(), sentinel)
	assert.NotContains(t, out.String(), "778123")
	var res map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &res))
	assert.Equal(t, true, res["failed"])
	assert.Contains(t, res["msg"], "concurrency")
	echoed := res["invocation"].(map[string]any)["module_args"].(map[string]any)["nodes"].([]any)
	n0, n1 := echoed[0].(map[string]any), echoed[1].(map[string]any)
	assert.Equal(t, "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", n0["pm_password"])
	assert.Equal(t, "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", n0["ipmi_bogus_password"])
	assert.Equal(t, "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", n1["pm_password"])
	assert.Equal(t, "admin", n0["pm_user"], "only credentials are masked")
}

func TestConcurrencyMustBePositive(t *testing.T) {
	fake := ironicfake.New(t)
	res := ansibletest.RunWithArgs(t, spec, args(fake, map[string]any{"nodes": nodes(), "concurrency": 0}), module)
	assert.Equal(t, true, res["failed"])
	assert.Equal(t, "concurrency: expected 1 or more, got 0", res["msg"])
	assert.Zero(t, len(fake.Requests))
}

// TestMatchedByAndRenamedReimport: a re-run whose names and MACs changed
// finds the nodes by BMC (and the BMC-less one by MAC), says so in
// matched_by, and creates nothing.
func TestMatchedByAndRenamedReimport(t *testing.T) {
	fake := ironicfake.New(t)
	first := ansibletest.RunWithArgs(t, spec, args(fake, map[string]any{"nodes": nodes()}), module)
	for _, n := range first["nodes"].([]any) {
		assert.Equal(t, "none", n.(map[string]any)["matched_by"], "created: nothing matched")
	}
	renamed := nodes()
	renamed[0].(map[string]any)["name"] = "mod-1-renamed"
	renamed[0].(map[string]any)["mac"] = []any{"52:54:00:a0:00:11"}
	renamed[1].(map[string]any)["name"] = "mod-2-renamed"
	second := ansibletest.RunWithArgs(t, spec, args(fake, map[string]any{"nodes": renamed}), module)
	list := second["nodes"].([]any)
	assert.Equal(t, "bmc", list[0].(map[string]any)["matched_by"])
	assert.Equal(t, "update", list[0].(map[string]any)["action"])
	assert.Equal(t, "mac", list[1].(map[string]any)["matched_by"])
	assert.Equal(t, 2, fake.Count(), "no node duplicated")
	assert.NotNil(t, fake.Node("mod-1-renamed"))
	assert.Equal(t, []string{"52:54:00:a0:00:11"}, fake.PortsOf("mod-1-renamed"))
	assert.NotContains(t, text(second), sentinel)
}

// TestURLCredentialsInPmAddrNeverShown: a password written into a Redfish
// URL is refused and scrubbed from everything the module returns, the
// invocation's module_args included.
func TestURLCredentialsInPmAddrNeverShown(t *testing.T) {
	fake := ironicfake.New(t)
	node := map[string]any{"name": "mod-url", "pm_type": "redfish", "pm_system_id": "/redfish/v1/Systems/1",
		"pm_addr": "https://admin:" + sentinel + "@127.0.0.1:8000/redfish/v1"}
	res := ansibletest.RunWithArgs(t, spec, args(fake, map[string]any{"nodes": []any{node}}), module)
	assert.Equal(t, true, res["failed"])
	assert.Contains(t, res["msg"], "pm_addr: a URL carrying credentials (user:password@) is refused")
	assert.Zero(t, len(fake.Requests))
	assert.NotContains(t, text(res), sentinel)
}
