package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metalkit/baremetal/internal/ansible/ansibletest"
	"github.com/metalkit/baremetal/internal/server/fakecloud"
)

const recorded = "../../tests/fixtures/server/recorded"

func TestDocsMatchSpec(t *testing.T) {
	ansibletest.AssertDocsCurrent(t, spec, "../../collection/plugins/modules/nova_bm_server.yml")
}

func fake(t *testing.T) *fakecloud.Cloud {
	c := fakecloud.New(t, recorded)
	c.AddBasics()
	return c
}

func args(c *fakecloud.Cloud, kv ...any) map[string]any {
	a := map[string]any{"cloud": c.CloudConfig(), "name": "ocp-1", "image": "rhcos", "flavor": "insp-scale", "network": "ctlplane", "timeout": 60}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(a, kv[i].(string))
		} else {
			a[kv[i].(string)] = kv[i+1]
		}
	}
	return a
}

func text(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestBootCheckDiffIdempotenceAndDelete(t *testing.T) {
	c := fake(t)
	c.Boot = func(s map[string]any) { c.Land(s, fakecloud.GoodNode) }
	const sentinel = `{"ignition":{"version":"3.4.0"},"passwd":{"users":[{"name":"core","passwordHash":"SENTINEL-hash"}]}}`
	boot := args(c, "user_data", sentinel, "metadata", map[string]any{"role": "worker", "rack": 7})

	check := ansibletest.RunWithArgs(t, spec, with(with(boot, "_ansible_check_mode", true), "_ansible_diff", true), module)
	require.Equal(t, false, check["failed"], check["msg"])
	assert.Equal(t, true, check["changed"])
	assert.Equal(t, []any{"create"}, check["actions"])
	assert.Empty(t, c.Writes, "check mode writes nothing")
	assert.Equal(t, "ACTIVE", check["diff"].(map[string]any)["after"].(map[string]any)["status"])
	assert.Equal(t, "check mode, nothing changed: server ocp-1: would create", check["msg"])

	res := ansibletest.RunWithArgs(t, spec, boot, module)
	require.Equal(t, false, res["failed"], res["msg"])
	assert.Equal(t, true, res["changed"])
	srv := res["server"].(map[string]any)
	assert.Equal(t, "ACTIVE", srv["status"])
	assert.Equal(t, fakecloud.GoodNode, srv["node"].(map[string]any)["name"])
	assert.Equal(t, map[string]any{"role": "worker", "rack": "7"}, srv["metadata"])
	assert.Equal(t, float64(len(sentinel)), res["user_data"].(map[string]any)["size"])
	assert.Contains(t, res["msg"], "server ocp-1 created: ACTIVE on node "+fakecloud.GoodNode)
	assert.NotContains(t, text(res), "SENTINEL", "user data never shows (no_log)")

	checkAgain := ansibletest.RunWithArgs(t, spec, with(boot, "_ansible_check_mode", true), module)
	assert.Equal(t, false, checkAgain["changed"], checkAgain["msg"])
	assert.Equal(t, fakecloud.GoodNode, checkAgain["server"].(map[string]any)["node"].(map[string]any)["name"], "check mode shows the node too")

	again := ansibletest.RunWithArgs(t, spec, boot, module)
	assert.Equal(t, false, again["changed"], again["msg"])
	assert.Equal(t, "server ocp-1 unchanged: ACTIVE on node "+fakecloud.GoodNode, again["msg"])

	gone := ansibletest.RunWithArgs(t, spec, with(with(args(c, "image", nil, "flavor", nil, "network", nil), "state", "absent"), "_ansible_diff", true), module)
	require.Equal(t, false, gone["failed"], gone["msg"])
	assert.Equal(t, true, gone["changed"])
	assert.Nil(t, gone["server"])
	assert.Equal(t, "server ocp-1 deleted; node "+fakecloud.GoodNode+" is available again", gone["msg"])
	assert.Equal(t, map[string]any{}, gone["diff"].(map[string]any)["after"])

	again = ansibletest.RunWithArgs(t, spec, with(args(c, "image", nil, "flavor", nil, "network", nil), "state", "absent"), module)
	assert.Equal(t, false, again["changed"])
	assert.Equal(t, "server ocp-1 is absent", again["msg"])
}

func TestNoValidHostResultCarriesTheDiagnosis(t *testing.T) {
	c := fake(t)
	c.Boot = func(s map[string]any) {
		s["status"] = "ERROR"
		s["fault"] = map[string]any{"code": 500, "message": "No valid host was found. There are not enough hosts available."}
	}
	res := ansibletest.RunWithArgs(t, spec, args(c, "flavor", "baremetal"), module)
	assert.Equal(t, true, res["failed"])
	assert.Equal(t, true, res["changed"], "a server was created (and is in ERROR)")
	diag := res["diagnosis"].(map[string]any)
	assert.Equal(t, "no_valid_host", diag["cause"])
	assert.Contains(t, res["msg"], diag["summary"])
	assert.Contains(t, diag["summary"], "2 manageable, needs provide (enr-bulk-034, enr-bulk-047)")
	assert.Equal(t, "ERROR", res["server"].(map[string]any)["status"])
	nodes := diag["nodes"].([]any)
	assert.Len(t, nodes, 9)
	first := nodes[0].(map[string]any)
	assert.Equal(t, "enr-bulk-034", first["name"])
	reason := first["reasons"].([]any)[0].(map[string]any)
	assert.Equal(t, "not_available", reason["code"])
	assert.Equal(t, true, reason["blocking"])

	// A plain rerun is blocked, with the diagnosis again.
	rerun := ansibletest.RunWithArgs(t, spec, args(c, "flavor", "baremetal"), module)
	assert.Equal(t, true, rerun["failed"])
	assert.Equal(t, false, rerun["changed"])
	assert.Contains(t, rerun["msg"], "set recreate_on_error: true")
	assert.NotNil(t, rerun["diagnosis"])
}

func TestDiagnoseOnDemandCreatesNothing(t *testing.T) {
	c := fake(t)
	res := ansibletest.RunWithArgs(t, spec, map[string]any{"cloud": c.CloudConfig(), "name": "ocp-9", "flavor": "insp-scale", "state": "diagnose"}, module)
	require.Equal(t, false, res["failed"], res["msg"])
	assert.Equal(t, false, res["changed"])
	assert.Empty(t, c.Writes)
	assert.True(t, strings.HasPrefix(res["msg"].(string), `3 of 9 node(s) can host flavor "insp-scale"`), res["msg"])
	assert.Equal(t, []any{"insp-38ca51-scale-001", "insp-38ca51-scale-002", "insp-38ca51-scale-003"}, res["diagnosis"].(map[string]any)["eligible_nodes"])
}

// Bad input fails naming the option, before any cloud is contacted.
func TestBadInput(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.ign")
	require.NoError(t, os.WriteFile(big, []byte(strings.Repeat("x", 70000)), 0o600))
	nowhere := map[string]any{"auth_type": "none", "compute_endpoint_override": "http://127.0.0.1:9/compute"}
	cases := []struct {
		name string
		args map[string]any
		msg  string
	}{
		{"present needs image and flavor", map[string]any{"name": "a"}, "state is present but all of the following are missing: image, flavor"},
		{"diagnose needs a flavor", map[string]any{"name": "a", "state": "diagnose"}, "state is diagnose but all of the following are missing: flavor"},
		{"user_data and user_data_file", map[string]any{"name": "a", "image": "i", "flavor": "f", "user_data": "#cloud-config long enough", "user_data_file": "/x"}, "parameters are mutually exclusive: user_data|user_data_file"},
		{"nics and network", map[string]any{"name": "a", "image": "i", "flavor": "f", "nics": "none", "network": "n"}, "parameters are mutually exclusive: nics|network"},
		{"bad nics", map[string]any{"name": "a", "image": "i", "flavor": "f", "nics": []any{map[string]any{"net-id": "x", "port-id": "y"}}}, "nics[0]: give only one of net-id, net-name, port-id"},
		{"empty name", map[string]any{"name": " ", "image": "i", "flavor": "f"}, "name: must not be empty"},
		{"missing user_data_file", map[string]any{"name": "a", "image": "i", "flavor": "f", "user_data_file": "/nonexistent/x.ign"}, "user_data_file: open /nonexistent/x.ign"},
		{"oversized user_data_file", map[string]any{"name": "a", "image": "i", "flavor": "f", "user_data_file": big}, big + " is 70000 bytes, 93336 bytes once base64-encoded"},
		{"bad state", map[string]any{"name": "a", "state": "gone"}, "value of state must be one of: present, absent, diagnose, got: gone"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.args["cloud"] = nowhere
			res := ansibletest.RunWithArgs(t, spec, tc.args, module)
			assert.Equal(t, true, res["failed"])
			assert.Equal(t, false, res["changed"])
			assert.Contains(t, res["msg"], tc.msg)
			assert.NotContains(t, text(res), strings.Repeat("x", 64), "user data never echoed")
		})
	}
}

func with(a map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for key, val := range a {
		out[key] = val
	}
	out[k] = v
	return out
}

// openstack.cloud's userdata is user_data: the same bytes reach Nova, and
// neither spelling is echoed.
func TestUserdataAliasIsUserData(t *testing.T) {
	c := fake(t)
	c.Boot = func(s map[string]any) { c.Land(s, fakecloud.GoodNode) }
	const sentinel = `{"ignition":{"version":"3.4.0"},"passwd":{"users":[{"name":"core","passwordHash":"SENTINEL-alias-hash"}]}}`
	res := ansibletest.RunWithArgs(t, spec, args(c, "userdata", sentinel), module)
	require.Equal(t, false, res["failed"], res["msg"])
	assert.EqualValues(t, len(sentinel), res["user_data"].(map[string]any)["size"])
	assert.NotContains(t, text(res), "SENTINEL-alias-hash")
	assert.NotContains(t, text(res), base64.StdEncoding.EncodeToString([]byte(sentinel)))
	res = ansibletest.RunWithArgs(t, spec, args(c, "userdata", sentinel, "user_data", sentinel), module)
	assert.Contains(t, text(res["warnings"]), "Both option user_data and its alias userdata are set.", "both spellings at once: Ansible's warning")
	assert.NotContains(t, text(res), "SENTINEL-alias-hash")
}

// A fleet: four servers in one task on a flavor Placement offers on three
// nodes. Three are created, the fourth fails with its diagnosis and is
// never sent to Nova; a second run leaves the three alone; absent for the
// list deletes them.
func TestFleetCreatesEachAndFailsWhatPlacementCannotHost(t *testing.T) {
	c := fake(t)
	c.Boot = func(s map[string]any) { c.Land(s, fakecloud.GoodNode) }
	fleet := args(c, "name", nil, "concurrency", 2, "servers", []any{
		map[string]any{"name": "ocp-cp-0", "user_data": `{"ignition":{"version":"3.4.0"},"passwd":{"users":[{"name":"core","passwordHash":"SENTINEL-cp-hash"}]}}`},
		map[string]any{"name": "ocp-cp-1", "metadata": map[string]any{"role": "master"}},
		map[string]any{"name": "ocp-w-0"},
		map[string]any{"name": "ocp-w-1"},
	})

	check := ansibletest.RunWithArgs(t, spec, with(fleet, "_ansible_check_mode", true), module)
	assert.Empty(t, c.Writes, "check mode writes nothing")
	assert.Equal(t, true, check["failed"], "check mode says the fourth would fail: %v", check["msg"])

	res := ansibletest.RunWithArgs(t, spec, fleet, module)
	require.Equal(t, true, res["failed"])
	assert.Equal(t, true, res["changed"])
	assert.Contains(t, res["msg"], "1 of 4 servers failed (every outcome is in servers): ocp-w-1: not created: Placement offers flavor insp-scale on 3 node(s) for 4 server(s)")
	list := res["servers"].([]any)
	require.Len(t, list, 4)
	for i, name := range []string{"ocp-cp-0", "ocp-cp-1", "ocp-w-0"} {
		s := list[i].(map[string]any)
		assert.Equal(t, name, s["name"])
		assert.Equal(t, false, s["failed"], "%s: %v", name, s["msg"])
		assert.Equal(t, "ACTIVE", s["server"].(map[string]any)["status"], name)
	}
	last := list[3].(map[string]any)
	assert.Equal(t, true, last["failed"])
	assert.NotNil(t, last["diagnosis"])
	assert.NotContains(t, text(res), "SENTINEL-cp-hash")
	creates := 0
	for _, w := range c.Writes {
		if strings.HasPrefix(w, "POST ") && strings.HasSuffix(w, "/servers") {
			creates++
		}
	}
	assert.Equal(t, 3, creates, "the server Placement cannot host is never sent to Nova: %v", c.Writes)
	capa := res["capacity"].([]any)[0].(map[string]any)
	assert.Equal(t, "insp-scale", capa["flavor"])
	assert.EqualValues(t, 4, capa["needed"])
	assert.EqualValues(t, 3, capa["available"])

	three := args(c, "name", nil, "servers", fleet["servers"].([]any)[:3])
	again := ansibletest.RunWithArgs(t, spec, three, module)
	require.Equal(t, false, again["failed"], again["msg"])
	assert.Equal(t, false, again["changed"])
	assert.Equal(t, "3 servers: 3 unchanged", again["msg"])

	gone := ansibletest.RunWithArgs(t, spec, with(three, "state", "absent"), module)
	require.Equal(t, false, gone["failed"], gone["msg"])
	assert.Equal(t, true, gone["changed"])
	assert.Equal(t, "3 servers: 3 deleted", gone["msg"])
	for _, s := range c.Servers {
		assert.Equal(t, "DELETED", s["status"])
	}
}

// The fleet's pre-flight: one item naming an image Glance lacks fails the
// whole task before any write, naming the item.
func TestFleetPreflightCreatesNothing(t *testing.T) {
	c := fake(t)
	res := ansibletest.RunWithArgs(t, spec, args(c, "name", nil, "servers", []any{
		map[string]any{"name": "ocp-cp-0"},
		map[string]any{"name": "ocp-cp-1", "image": "no-such-image"},
	}), module)
	assert.Equal(t, true, res["failed"])
	assert.Contains(t, res["msg"], "pre-flight check failed, nothing was created: servers[1] (ocp-cp-1): image:")
	assert.Empty(t, c.Writes)

	res = ansibletest.RunWithArgs(t, spec, args(c, "name", nil, "servers", []any{map[string]any{"name": "a"}, map[string]any{"name": "a"}}), module)
	assert.Contains(t, res["msg"], `servers[1]: name "a" is also servers[0]'s`)
	res = ansibletest.RunWithArgs(t, spec, args(c, "servers", []any{map[string]any{"name": "a"}}), module)
	assert.Contains(t, res["msg"], "parameters are mutually exclusive: name|servers")
}
