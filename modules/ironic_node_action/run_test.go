package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metalkit/baremetal/internal/ansible/ansibletest"
	"github.com/metalkit/baremetal/internal/ironicfake"
)

func TestDocsMatchSpec(t *testing.T) {
	ansibletest.AssertDocsCurrent(t, spec, "../../collection/plugins/modules/ironic_node_action.yml")
}

// standalone points the module at a fake Ironic, with no clouds.yaml or OS_* around.
func standalone(t *testing.T, f *ironicfake.Server, kv ...any) map[string]any {
	t.Helper()
	for _, k := range []string{"OS_CLOUD", "OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_AUTH_TYPE", "OS_ENDPOINT"} {
		t.Setenv(k, "")
	}
	t.Setenv("OS_CLIENT_CONFIG_FILE", filepath.Join(t.TempDir(), "none.yaml"))
	out := map[string]any{"auth_type": "none", "auth": map[string]any{"endpoint": f.Srv.URL}, "node": "blade-3"}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func with(args map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range args {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func TestRemediesCheckDiffIdempotence(t *testing.T) {
	f := ironicfake.New(t)
	f.Add("blade-3", "available", ironicfake.Maintenance("bad DIMM"), ironicfake.Field("power_state", nil),
		ironicfake.Field("resource_class", "silver"), ironicfake.Field("properties", map[string]any{"capabilities": "boot_mode:uefi"}),
		ironicfake.Field("traits", []any{"CUSTOM_OLD"}))
	fix := standalone(t, f, "maintenance", false, "power", false, "resource_class", "baremetal",
		"capabilities", map[string]any{"profile": "baremetal"}, "traits", []any{"CUSTOM_RHCOS"})

	check := ansibletest.RunWithArgs(t, spec, with(fix, "_ansible_check_mode", true, "_ansible_diff", true), module)
	require.Equal(t, false, check["failed"], check["msg"])
	assert.Equal(t, true, check["changed"])
	assert.Empty(t, f.Writes(), "check mode writes nothing")
	assert.Equal(t, "check mode, nothing changed: node blade-3: would set resource_class baremetal, then set capabilities boot_mode:uefi,profile:baremetal, then set traits [CUSTOM_OLD, CUSTOM_RHCOS], then power off, then unset maintenance", check["msg"])
	assert.Equal(t, []any{"set_resource_class", "set_capabilities", "set_traits", "power_off", "unset_maintenance"}, check["actions"])
	diff := check["diff"].(map[string]any)
	assert.Equal(t, true, diff["before"].(map[string]any)["maintenance"])
	assert.Equal(t, false, diff["after"].(map[string]any)["maintenance"])
	assert.Equal(t, "power off", diff["after"].(map[string]any)["power_state"])
	assert.Equal(t, "node blade-3", diff["before_header"])

	res := ansibletest.RunWithArgs(t, spec, with(fix, "_ansible_diff", true), module)
	require.Equal(t, false, res["failed"], res["msg"])
	assert.Equal(t, true, res["changed"])
	node := res["node"].(map[string]any)
	assert.Equal(t, false, node["maintenance"])
	assert.Equal(t, "power off", node["power_state"])
	assert.Equal(t, "baremetal", node["resource_class"])
	assert.Equal(t, map[string]any{"boot_mode": "uefi", "profile": "baremetal"}, node["capabilities"])
	assert.Equal(t, []any{"CUSTOM_OLD", "CUSTOM_RHCOS"}, node["traits"])
	assert.Contains(t, res["timings"], "power")
	assert.Equal(t, node, res["diff"].(map[string]any)["after"], "the diff's after is what Ironic shows")
	stored := f.Node("blade-3")
	assert.Equal(t, false, stored["maintenance"])
	assert.Equal(t, "power off", stored["power_state"])

	writes := len(f.Writes())
	again := ansibletest.RunWithArgs(t, spec, fix, module)
	require.Equal(t, false, again["failed"], again["msg"])
	assert.Equal(t, false, again["changed"], again["msg"])
	assert.Equal(t, "node blade-3 unchanged", again["msg"])
	assert.Equal(t, []any{}, again["actions"])
	assert.Len(t, f.Writes(), writes, "a second run writes nothing")

	// Back into maintenance with a reason, by UUID and openstack.cloud's names.
	uuid := stored["uuid"].(string)
	maint := standalone(t, f, "id", uuid, "maintenance", true, "maintenance_reason", "PSU swap", "power", "absent")
	delete(maint, "node")
	res = ansibletest.RunWithArgs(t, spec, maint, module)
	require.Equal(t, false, res["failed"], res["msg"])
	assert.Equal(t, true, res["changed"])
	assert.Equal(t, "node blade-3: set maintenance (PSU swap)", res["msg"], "power absent (off) is already so")
	assert.Equal(t, "PSU swap", f.Node("blade-3")["maintenance_reason"])
}

func TestPowerWaitFailsWithLastError(t *testing.T) {
	f := ironicfake.New(t)
	f.Add("blade-3", "available", ironicfake.Field("power_state", "power off"), ironicfake.PowerError("IPMI call failed: power on."))
	res := ansibletest.RunWithArgs(t, spec, standalone(t, f, "power", "on"), module)
	assert.Equal(t, true, res["failed"])
	assert.Equal(t, true, res["changed"], "the request was made")
	assert.Equal(t, `node blade-3: power_on failed: the power state is "power off": IPMI call failed: power on.`, res["msg"])
	assert.Equal(t, []any{"power_on"}, res["actions"])
}

func TestPowerWaitBoundedByTimeout(t *testing.T) {
	f := ironicfake.New(t)
	f.StepTime = time.Hour
	f.Add("blade-3", "available", ironicfake.Field("power_state", "power on"))
	start := time.Now()
	res := ansibletest.RunWithArgs(t, spec, standalone(t, f, "power", "off", "timeout", 1), module)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, true, res["failed"])
	assert.Contains(t, res["msg"], "timeout: 1 s passed before the task finished (raise timeout)")
	assert.Contains(t, res["msg"], `still "power on" (target "power off")`)
}

// Bad input fails naming the option, before Ironic is contacted.
func TestBadInput(t *testing.T) {
	f := ironicfake.New(t)
	cases := []struct {
		name string
		kv   []any
		msg  string
	}{
		{"nothing to do", nil, "nothing to do: give at least one of maintenance, power, resource_class, capabilities, traits"},
		{"bad power", []any{"power", "sideways"}, "power: expected one of on, off, reboot, soft_off, soft_reboot, present, absent, got sideways"},
		{"bad power type", []any{"power", 3}, "power: expected one of"},
		{"reason without maintenance", []any{"maintenance_reason", "x"}, "missing parameter(s) required by 'maintenance_reason': maintenance"},
		{"reason leaving maintenance", []any{"maintenance", false, "maintenance_reason", "x"}, "maintenance_reason: only with maintenance: true"},
		{"bad capabilities", []any{"capabilities", "profile"}, `capabilities: capability "profile" is not key:value`},
		{"capabilities list", []any{"capabilities", []any{"a"}}, "capabilities: capabilities must be a string"},
		{"empty capabilities", []any{"capabilities", ""}, "capabilities: empty"},
		{"bad trait", []any{"traits", []any{"CUSTOM_OK", "has space"}}, `traits[1]: "has space" is not a trait name`},
		{"purge without traits", []any{"purge_traits", true, "power", "on"}, "purge_traits: needs traits"},
		{"empty resource class", []any{"resource_class", ""}, "resource_class: must not be empty"},
		{"empty node", []any{"node", " ", "power", "on"}, "node: must not be empty"},
		{"timeout", []any{"power", "on", "timeout", 0}, "timeout: expected a whole number of seconds from 1 to 604800, got 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := ansibletest.RunWithArgs(t, spec, standalone(t, f, tc.kv...), module)
			assert.Equal(t, true, res["failed"])
			assert.Contains(t, res["msg"], tc.msg)
			assert.Equal(t, false, res["changed"])
		})
	}
	assert.Empty(t, f.Calls(), "no call to Ironic for bad input")

	res := ansibletest.RunWithArgs(t, spec, standalone(t, f, "node", "nope", "power", "on"), module)
	assert.Equal(t, true, res["failed"])
	assert.Equal(t, "node: Ironic has no node named nope or with that UUID", res["msg"])
}
