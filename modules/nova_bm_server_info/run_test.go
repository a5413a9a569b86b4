package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metalkit/baremetal/internal/ansible/ansibletest"
	"github.com/metalkit/baremetal/internal/server/fakecloud"
)

const recorded = "../../tests/fixtures/server/recorded"

func TestDocsMatchSpec(t *testing.T) {
	ansibletest.AssertDocsCurrent(t, spec, "../../collection/plugins/modules/nova_bm_server_info.yml")
}

func fake(t *testing.T) *fakecloud.Cloud {
	c := fakecloud.New(t, recorded)
	c.AddBasics()
	return c
}

func reasonsOf(t *testing.T, diag map[string]any, name string) []map[string]any {
	t.Helper()
	for _, e := range diag["nodes"].([]any) {
		n := e.(map[string]any)
		if n["name"] == name {
			var out []map[string]any
			for _, r := range n["reasons"].([]any) {
				out = append(out, r.(map[string]any))
			}
			return out
		}
	}
	t.Fatalf("no node %s in the diagnosis", name)
	return nil
}

func TestOnDemandDiagnosisChangesNothing(t *testing.T) {
	c := fake(t)
	c.Node("insp-38ca51-scale-002")["maintenance"] = true
	c.Node("insp-38ca51-scale-002")["maintenance_reason"] = "bad DIMM"
	for _, check := range []bool{false, true} {
		res := ansibletest.RunWithArgs(t, spec, map[string]any{"cloud": c.CloudConfig(), "flavor": "insp-scale", "_ansible_check_mode": check}, module)
		require.Equal(t, false, res["failed"], res["msg"])
		assert.Equal(t, false, res["changed"])
		assert.Empty(t, c.Writes, "an _info module writes nothing")
		assert.True(t, strings.HasPrefix(res["msg"].(string), `2 of 9 node(s) can host flavor "insp-scale"`), res["msg"])
		assert.False(t, strings.HasPrefix(res["msg"].(string), "check mode"), "an _info module's message is the same in check mode")
		diag := res["diagnosis"].(map[string]any)
		assert.Equal(t, "on_demand", diag["cause"])
		assert.Equal(t, []any{"insp-38ca51-scale-001", "insp-38ca51-scale-003"}, diag["eligible_nodes"])
		assert.Nil(t, res["server"])
		assert.NotContains(t, res, "actions", "only what it found")
		maint := reasonsOf(t, diag, "insp-38ca51-scale-002")[0]
		assert.Equal(t, "maintenance", maint["code"])
		assert.Contains(t, maint["message"], "in maintenance (bad DIMM)")
		assert.Contains(t, maint["message"], "metalkit.baremetal.ironic_node_action: node=insp-38ca51-scale-002 maintenance=false", "the hint names the task to run")
	}
}

func TestServerOfTheNameIsDiagnosed(t *testing.T) {
	c := fake(t)
	c.Servers = append(c.Servers, map[string]any{"id": "00000001-aaaa-4bbb-8ccc-000000000000", "name": "ocp-1", "status": "ERROR",
		"fault":  map[string]any{"code": 500, "message": "No valid host was found. There are not enough hosts available."},
		"flavor": map[string]any{"original_name": "baremetal"}, "image": map[string]any{"id": fakecloud.ImageID}, "addresses": map[string]any{}, "metadata": map[string]any{}})
	res := ansibletest.RunWithArgs(t, spec, map[string]any{"cloud": c.CloudConfig(), "name": "ocp-1", "flavor": "baremetal"}, module)
	require.Equal(t, false, res["failed"], res["msg"])
	assert.Equal(t, false, res["changed"])
	assert.Empty(t, c.Writes)
	assert.Equal(t, "ERROR", res["server"].(map[string]any)["status"])
	diag := res["diagnosis"].(map[string]any)
	assert.Equal(t, "no_valid_host", diag["cause"])
	assert.Contains(t, res["msg"], "2 manageable, needs provide (enr-bulk-034, enr-bulk-047)")
}

func TestBadInput(t *testing.T) {
	c := fake(t)
	cases := []struct {
		args map[string]any
		msg  string
	}{
		{map[string]any{}, "missing required arguments: flavor"},
		{map[string]any{"flavor": " "}, "flavor: must not be empty"},
		{map[string]any{"flavor": "insp-scale", "name": ""}, "name: must not be empty when given"},
		{map[string]any{"flavor": "insp-scale", "state": "present"}, "Unsupported parameters for (nova_bm_server_info) module: state"},
		{map[string]any{"flavor": "nope"}, "flavor: "},
	}
	for _, tc := range cases {
		args := map[string]any{"cloud": c.CloudConfig()}
		for k, v := range tc.args {
			args[k] = v
		}
		res := ansibletest.RunWithArgs(t, spec, args, module)
		assert.Equal(t, true, res["failed"], tc.msg)
		assert.Contains(t, res["msg"], tc.msg)
	}
	assert.Empty(t, c.Writes)
}
