package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/metalkit/baremetal/internal/ansible/ansibletest"
	"github.com/metalkit/baremetal/internal/ironicfake"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// standalone points the module at a fake Ironic, with no clouds.yaml or OS_* around.
func standalone(t *testing.T, f *ironicfake.Server, args map[string]any) map[string]any {
	t.Helper()
	for _, k := range []string{"OS_CLOUD", "OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_AUTH_TYPE", "OS_ENDPOINT"} {
		t.Setenv(k, "")
	}
	t.Setenv("OS_CLIENT_CONFIG_FILE", filepath.Join(t.TempDir(), "none.yaml"))
	out := map[string]any{"auth_type": "none", "auth": map[string]any{"endpoint": f.Srv.URL}}
	for k, v := range args {
		out[k] = v
	}
	return out
}

func nodesByName(t *testing.T, res map[string]any) map[string]map[string]any {
	t.Helper()
	list, ok := res["nodes"].([]any)
	require.True(t, ok, "nodes in result: %v", res)
	out := map[string]map[string]any{}
	for _, n := range list {
		m := n.(map[string]any)
		out[m["name"].(string)] = m
	}
	return out
}

func TestBadInputFailsBeforeAnyCall(t *testing.T) {
	f := ironicfake.New(t)
	tests := []struct {
		name string
		args map[string]any
		msg  string
	}{
		{name: "no selection", args: map[string]any{}, msg: "one of the following is required: nodes, all_in_state"},
		{name: "both selections", args: map[string]any{"nodes": []any{"a"}, "all_in_state": "enroll"}, msg: "parameters are mutually exclusive: nodes|all_in_state"},
		{name: "bad state", args: map[string]any{"all_in_state": "active"}, msg: "value of all_in_state must be one of: enroll, manageable, available, inspect failed, clean failed, got: active"},
		{name: "empty nodes", args: map[string]any{"nodes": []any{}}, msg: "nodes: the list is empty"},
		{name: "concurrency", args: map[string]any{"nodes": []any{"a"}, "concurrency": 0}, msg: "concurrency: expected 1 or more, got 0"},
		{name: "retries", args: map[string]any{"nodes": []any{"a"}, "retries": -1}, msg: "retries: expected 0 or more, got -1"},
		{name: "timeout", args: map[string]any{"nodes": []any{"a"}, "timeout": 0}, msg: "timeout: expected a whole number of seconds from 1 to 604800, got 0"},
		{name: "capabilities", args: map[string]any{"nodes": []any{"a"}, "capabilities": "profile"}, msg: `capabilities: capability "profile" is not key:value`},
		{name: "wait false with provide", args: map[string]any{"nodes": []any{"a"}, "wait": false, "provide": true, "capabilities": "a:b"},
			msg: "wait: false returns before inspection finishes, but provide, capabilities can only be applied after it"},
		{name: "unknown option", args: map[string]any{"nodes": []any{"a"}, "profile": "x"}, msg: "Unsupported parameters for (ironic_introspect) module: profile."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ansibletest.RunWithArgs(t, spec, standalone(t, f, tt.args), module)
			assert.Equal(t, true, res["failed"])
			assert.Contains(t, res["msg"], tt.msg)
			assert.Equal(t, false, res["changed"])
		})
	}
	assert.Empty(t, f.Calls(), "no API call for bad input")
}

func TestIntrospectProvideTagThenUnchanged(t *testing.T) {
	f := ironicfake.New(t)
	f.Add("insp-a", "enroll")
	f.Add("insp-b", "manageable")
	args := map[string]any{"nodes": []any{"insp-a", "insp-b"}, "provide": true,
		"capabilities": "profile:baremetal,boot_option:local", "resource_class": "CUSTOM_BAREMETAL", "_ansible_diff": true}

	res := ansibletest.RunWithArgs(t, spec, standalone(t, f, args), module)
	require.Equal(t, false, res["failed"], res["msg"])
	assert.Equal(t, true, res["changed"])
	assert.Regexp(t, `^2 node\(s\): 2 changed, 0 unchanged \(manage 1, inspect 2, update 2, provide 2, power off 2\) in [0-9.]+ s$`, res["msg"])
	assert.Contains(t, res["warnings"], `resource_class "CUSTOM_BAREMETAL": Nova adds the CUSTOM_ prefix itself and would look for CUSTOM_CUSTOM_BAREMETAL; using "baremetal" (the flavor asks for resources:CUSTOM_BAREMETAL=1).`)
	nodes := nodesByName(t, res)
	for _, name := range []string{"insp-a", "insp-b"} {
		n := nodes[name]
		assert.Equal(t, "available", n["provision_state"], name)
		assert.Equal(t, "power off", n["power_state"], name)
		assert.Equal(t, "baremetal", n["resource_class"], name)
		assert.Equal(t, map[string]any{"boot_mode": "uefi", "cpu_vt": "true", "profile": "baremetal", "boot_option": "local"}, n["capabilities"], name)
		assert.EqualValues(t, 16384, n["properties"].(map[string]any)["memory_mb"], name)
		assert.NotNil(t, n["inspection_started_at"], name)
		assert.NotNil(t, n["inspection_finished_at"], name)
		assert.Nil(t, n["last_error"], name)
		assert.NotContains(t, n, "introspection_data", "%s: none stored: absent", name)
		assert.NotEmpty(t, n["timeline"], name)
	}
	assert.Equal(t, []any{"manage (enroll -> manageable)", "inspect (manageable)", "update resource_class, properties/capabilities",
		"provide (manageable -> available)", "power off (available)"}, nodes["insp-a"]["steps"])
	assert.Equal(t, []any{}, res["failures"])
	d := res["diff"].(map[string]any)
	assert.Equal(t, "enroll", d["before"].(map[string]any)["nodes"].(map[string]any)["insp-a"].(map[string]any)["provision_state"])
	assert.Equal(t, "available", d["after"].(map[string]any)["nodes"].(map[string]any)["insp-a"].(map[string]any)["provision_state"])

	writes := len(f.Writes())
	again := ansibletest.RunWithArgs(t, spec, standalone(t, f, args), module)
	require.Equal(t, false, again["failed"], again["msg"])
	assert.Equal(t, false, again["changed"])
	assert.NotContains(t, again, "diff")
	assert.Len(t, f.Writes(), writes, "second run: no write")
	for name, n := range nodesByName(t, again) {
		assert.Equal(t, "unchanged", n["status"], name)
		assert.Equal(t, []any{}, n["steps"], name)
	}
}

func TestCheckModeMovesNothing(t *testing.T) {
	f := ironicfake.New(t)
	f.Add("insp-a", "enroll")
	f.Add("insp-done", "available", ironicfake.Field("inspection_finished_at", "2024-05-01T10:00:00+00:00"), ironicfake.Field("power_state", "power off"))
	res := ansibletest.RunWithArgs(t, spec, standalone(t, f, map[string]any{
		"nodes": []any{"insp-a", "insp-done"}, "provide": true, "_ansible_check_mode": true, "_ansible_diff": true}), module)
	require.Equal(t, false, res["failed"], res["msg"])
	assert.Equal(t, true, res["changed"])
	assert.Equal(t, "check mode, nothing changed: 1 of 2 node(s) would change (manage 1, inspect 1, provide 1, power off 1)", res["msg"])
	nodes := nodesByName(t, res)
	assert.Equal(t, "changed", nodes["insp-a"]["status"])
	assert.Equal(t, "enroll", nodes["insp-a"]["provision_state"], "still where it was")
	assert.Equal(t, "unchanged", nodes["insp-done"]["status"])
	d := res["diff"].(map[string]any)
	assert.Equal(t, "available", d["after"].(map[string]any)["nodes"].(map[string]any)["insp-a"].(map[string]any)["provision_state"])
	assert.NotContains(t, d["after"].(map[string]any)["nodes"], "insp-done")
	assert.Empty(t, f.Writes(), "check mode: no write call")
	assert.Equal(t, "enroll", f.Node("insp-a")["provision_state"])
}

func TestFailedNodeIsListedOthersReported(t *testing.T) {
	f := ironicfake.New(t)
	const ironicErr = "Failed to get power state for node 00000000: IPMI call failed: power status."
	f.Add("insp-bad", "enroll", ironicfake.ManageError(ironicErr))
	f.Add("insp-ok", "enroll")
	res := ansibletest.RunWithArgs(t, spec, standalone(t, f, map[string]any{"nodes": []any{"insp-bad", "insp-ok"}, "retries": 0}), module)
	assert.Equal(t, true, res["failed"])
	assert.Equal(t, true, res["changed"], "insp-ok moved")
	assert.Contains(t, res["msg"], `1 of 2 nodes failed (every outcome is in nodes): insp-bad: manage failed: node went to "enroll" instead of "manageable": `+ironicErr)
	assert.Equal(t, []any{map[string]any{"name": "insp-bad", "uuid": "00000000-0000-4000-8000-000000000001",
		"provision_state": "enroll", "step": "manage", "last_error": ironicErr}}, res["failures"])
	// tripleo-ansible's shape: UUID lists, so `failed_nodes | join(' ')` works.
	assert.Equal(t, []any{"00000000-0000-4000-8000-000000000001"}, res["failed_nodes"])
	assert.Equal(t, []any{"00000000-0000-4000-8000-000000000002"}, res["passed_nodes"])
	nodes := nodesByName(t, res)
	assert.Equal(t, "failed", nodes["insp-bad"]["status"])
	assert.Equal(t, ironicErr, nodes["insp-bad"]["last_error"])
	assert.Equal(t, "changed", nodes["insp-ok"]["status"])
	assert.Equal(t, "manageable", nodes["insp-ok"]["provision_state"])
	sum := res["summary"].(map[string]any)
	assert.EqualValues(t, 1, sum["failed"])
	assert.EqualValues(t, 1, sum["changed"])
}

// A task whose only node fails after it was already managed still changed
// that node: Ansible's changed flag must say so, as the node entry does.
func TestFailureAfterAStepReportsChanged(t *testing.T) {
	f := ironicfake.New(t)
	f.Add("insp-late", "enroll", ironicfake.InspectFailures(1))
	res := ansibletest.RunWithArgs(t, spec, standalone(t, f, map[string]any{"nodes": []any{"insp-late"}, "retries": 0}), module)
	assert.Equal(t, true, res["failed"])
	assert.Equal(t, true, res["changed"], "the node was moved to manageable before inspection failed")
	assert.Equal(t, true, nodesByName(t, res)["insp-late"]["changed"])
}

func TestNodesThatCannotBeHandledChangeNothing(t *testing.T) {
	f := ironicfake.New(t)
	f.Add("insp-ok", "enroll")
	f.Add("insp-deployed", "active", ironicfake.Field("instance_uuid", "4f0f7a4e-1c41-4c8b-9a53-2f1ea0d3b0c2"))
	f.Add("insp-maint", "manageable", ironicfake.Maintenance("fan replaced"))

	t.Run("unknown names", func(t *testing.T) {
		res := ansibletest.RunWithArgs(t, spec, standalone(t, f, map[string]any{"nodes": []any{"insp-ok", "insp-typo", "insp-gone"}}), module)
		assert.Equal(t, true, res["failed"])
		assert.Equal(t, "nodes: not found in Ironic: insp-typo, insp-gone", res["msg"])
	})
	t.Run("deployed and maintenance", func(t *testing.T) {
		res := ansibletest.RunWithArgs(t, spec, standalone(t, f, map[string]any{"nodes": []any{"insp-ok", "insp-deployed", "insp-maint"}}), module)
		assert.Equal(t, true, res["failed"])
		msg := res["msg"].(string)
		assert.True(t, strings.HasPrefix(msg, "2 of 3 node(s) cannot be handled, nothing was changed: "), msg)
		assert.Contains(t, msg, `node insp-deployed: provision state "active": only enroll, manageable, available, inspect failed and clean failed nodes are inspected (it hosts instance 4f0f7a4e-1c41-4c8b-9a53-2f1ea0d3b0c2)`)
		assert.Contains(t, msg, "node insp-maint: in maintenance (fan replaced): Ironic refuses to inspect or provide it; unset maintenance first")
		assert.Len(t, res["failures"], 2)
	})
	assert.Empty(t, f.Writes())
	assert.Equal(t, "enroll", f.Node("insp-ok")["provision_state"])
}

func TestAllInState(t *testing.T) {
	f := ironicfake.New(t)
	f.Add("insp-2", "manageable")
	f.Add("insp-1", "manageable")
	f.Add("insp-enroll", "enroll")
	f.Add("insp-m", "manageable", ironicfake.Maintenance(""))
	res := ansibletest.RunWithArgs(t, spec, standalone(t, f, map[string]any{"all_in_state": "manageable"}), module)
	require.Equal(t, false, res["failed"], res["msg"])
	var names []string
	for _, n := range res["nodes"].([]any) {
		names = append(names, n.(map[string]any)["name"].(string))
	}
	assert.Equal(t, []string{"insp-1", "insp-2"}, names)
	assert.Contains(t, res["warnings"], `all_in_state "manageable": skipped 1 node(s) in maintenance: insp-m`)
	assert.Equal(t, "enroll", f.Node("insp-enroll")["provision_state"])
}

func TestFailfastReportsNodesNotStarted(t *testing.T) {
	f := ironicfake.New(t)
	f.Add("insp-f0", "enroll", ironicfake.ManageError("IPMI call failed"))
	f.Add("insp-f1", "enroll")
	res := ansibletest.RunWithArgs(t, spec, standalone(t, f, map[string]any{
		"nodes": []any{"insp-f0", "insp-f1"}, "failfast": true, "concurrency": 1, "retries": 0}), module)
	assert.Equal(t, true, res["failed"])
	assert.Contains(t, res["msg"], "; 1 not started (failfast)")
	nodes := nodesByName(t, res)
	assert.Equal(t, "not started", nodes["insp-f1"]["status"])
	assert.Len(t, res["failures"], 2)
}

func TestWaitFalseRequestsInspectionAndReturns(t *testing.T) {
	f := ironicfake.New(t)
	f.StepTime = time.Hour
	f.Add("insp-nw", "manageable")
	res := ansibletest.RunWithArgs(t, spec, standalone(t, f, map[string]any{"nodes": []any{"insp-nw"}, "wait": false}), module)
	require.Equal(t, false, res["failed"], res["msg"])
	assert.Equal(t, true, res["changed"])
	assert.Equal(t, "inspecting", f.Node("insp-nw")["provision_state"])
}

func TestDocsAreCurrent(t *testing.T) {
	path := filepath.Join("..", "..", "collection", "plugins", "modules", "ironic_introspect.yml")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s: %v (run `make docs`)", path, err)
	}
	ansibletest.AssertDocsCurrent(t, spec, path)
}

func TestFailureMessageStaysShortForManyFailures(t *testing.T) {
	f := ironicfake.New(t)
	var names []any
	for i := 0; i < 15; i++ {
		name := fmt.Sprintf("insp-m%02d", i)
		f.Add(name, "enroll", ironicfake.ManageError("IPMI call failed: power status."))
		names = append(names, name)
	}
	res := ansibletest.RunWithArgs(t, spec, standalone(t, f, map[string]any{"nodes": names, "retries": 0}), module)
	assert.Equal(t, true, res["failed"])
	msg := res["msg"].(string)
	assert.Contains(t, msg, "insp-m09: manage failed")
	assert.NotContains(t, msg, "insp-m10: ")
	assert.Contains(t, msg, " | and 5 more (see failures). 0 changed, 0 unchanged (manage 15)")
	assert.Len(t, res["failures"], 15)
}

func TestDeletedNodeIsNotRetried(t *testing.T) {
	f := ironicfake.New(t)
	f.Add("insp-gone", "enroll")
	f.StepTime = 200 * time.Millisecond
	go func() {
		time.Sleep(50 * time.Millisecond)
		f.Delete("insp-gone")
	}()
	res := ansibletest.RunWithArgs(t, spec, standalone(t, f, map[string]any{"nodes": []any{"insp-gone"}, "retries": 3}), module)
	assert.Equal(t, true, res["failed"])
	assert.Regexp(t, `^1 of 1 nodes failed \(every outcome is in nodes\): insp-gone: (manage failed: )?Node 00000000-0000-4000-8000-000000000001 could not be found\. \(HTTP 404\)\. `, res["msg"])
	assert.EqualValues(t, 0, nodesByName(t, res)["insp-gone"]["retries"])
}

// A playbook written for tripleo-ansible's introspection module runs as is:
// node_uuids, max_retries, node_timeout and quiet are taken, and mean
// what they mean there.
func TestTripleoAnsibleNamesAreEquivalent(t *testing.T) {
	f := ironicfake.New(t)
	a := f.Add("insp-t1", "manageable")
	b := f.Add("insp-t2", "manageable")
	tripleo := ansibletest.RunWithArgs(t, spec, standalone(t, f, map[string]any{
		"node_uuids": []any{a.UUID(), b.UUID()}, "max_retries": 0, "node_timeout": 60, "quiet": true, "force": true}), module)
	require.Equal(t, false, tripleo["failed"], tripleo["msg"])
	ours := ansibletest.RunWithArgs(t, spec, standalone(t, f, map[string]any{
		"nodes": []any{a.UUID(), b.UUID()}, "retries": 0, "timeout": 60, "introspection_data": false, "force": true}), module)
	require.Equal(t, false, ours["failed"], ours["msg"])
	for _, res := range []map[string]any{tripleo, ours} {
		assert.ElementsMatch(t, []any{a.UUID(), b.UUID()}, res["passed_nodes"])
		assert.Equal(t, []any{}, res["failed_nodes"])
		assert.Equal(t, true, res["changed"], "force inspects again")
	}
	inv := tripleo["invocation"].(map[string]any)["module_args"].(map[string]any)
	assert.EqualValues(t, 0, inv["retries"], "max_retries is retries")
	assert.EqualValues(t, 60, inv["timeout"], "node_timeout is timeout")
	assert.Equal(t, []any{a.UUID(), b.UUID()}, inv["nodes"], "node_uuids is nodes")
}
