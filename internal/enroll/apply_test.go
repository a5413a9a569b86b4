package enroll_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metalkit/baremetal/internal/enroll"
	"github.com/metalkit/baremetal/internal/ironicfake"
	"github.com/metalkit/baremetal/internal/secret"
)

const sentinel = "S3ntinel-BMC-pw-7781"

var opts = enroll.Options{InitialState: enroll.StateManageable, UpdatePassword: enroll.PasswordOnCreate,
	Concurrency: 4, Wait: true, PollInterval: 20 * time.Millisecond}

// enrollOnce parses, observes, plans and applies, as the module does.
func enrollOnce(t *testing.T, fake *ironicfake.Server, items []any, o enroll.Options) []*enroll.Outcome {
	t.Helper()
	secret.Reset() // a module run starts with only its own secrets
	in, err := enroll.Parse(items, o.Absent)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := fake.Client()
	obs, err := enroll.Observe(ctx, c)
	require.NoError(t, err)
	return enroll.Apply(ctx, c, enroll.PlanAll(in.Nodes, obs, o), o)
}

func fakeNodes(n int, prefix string) []any {
	var items []any
	for i := 0; i < n; i++ {
		items = append(items, map[string]any{"name": fmt.Sprintf("%s-%03d", prefix, i), "pm_type": "fake-hardware",
			"mac": []any{fmt.Sprintf("52:54:00:ab:%02x:%02x", i/256, i%256)}, "cpu": "2", "memory": 4096, "disk": "40", "arch": "x86_64"})
	}
	return items
}

func TestApplyCreatesManagesAndIsIdempotent(t *testing.T) {
	fake := ironicfake.New(t)
	fake.StepTime = 3 * opts.PollInterval // verifying lasts several rounds of the wait
	out := enrollOnce(t, fake, fakeNodes(30, "unit"), opts)
	require.Len(t, out, 30)
	for _, o := range out {
		assert.Empty(t, o.Error)
		assert.Equal(t, enroll.ActionCreate, o.Action)
		assert.True(t, o.Changed)
		assert.Equal(t, "manageable", o.ProvisionState, o.Name)
		require.Len(t, o.Ports, 1)
		assert.NotEmpty(t, o.Ports[0].UUID)
	}
	assert.Equal(t, 30, fake.Count())
	n := fake.Node("unit-007")
	assert.Equal(t, "baremetal", n["resource_class"])
	assert.Equal(t, map[string]any{"cpus": float64(2), "memory_mb": float64(4096), "local_gb": float64(40), "cpu_arch": "x86_64"}, n["properties"])
	assert.Equal(t, []string{"52:54:00:ab:00:07"}, fake.PortsOf("unit-007"))
	// The wait lists nodes once per round for all of them, not once per node.
	assert.Less(t, fake.Requests["GET /v1/nodes"], 15, "%v", fake.Requests)
	assert.Zero(t, fake.Requests["GET /v1/nodes/ID"], "no per-node polling")

	writes := fake.Writes()
	again := enrollOnce(t, fake, fakeNodes(30, "unit"), opts)
	for _, o := range again {
		assert.Equal(t, enroll.ActionUnchanged, o.Action, o.Name)
		assert.False(t, o.Changed)
	}
	assert.Equal(t, writes, fake.Writes(), "a second run writes nothing")
}

func TestApplyReportsBMCValidationFailurePerNode(t *testing.T) {
	fake := ironicfake.New(t)
	items := []any{
		map[string]any{"name": "bmc-good", "pm_type": "ipmi", "pm_addr": "127.0.0.1", "pm_port": 6230, "pm_user": "admin", "pm_password": sentinel, "mac": []any{"52:54:00:bb:00:01"}},
		map[string]any{"name": "bmc-bad", "pm_type": "ipmi", "pm_addr": "127.0.0.1", "pm_port": 6231, "pm_user": "admin", "pm_password": ironicfake.BadPassword, "mac": []any{"52:54:00:bb:00:02"}},
	}
	out := enrollOnce(t, fake, items, opts)
	assert.Empty(t, out[0].Error)
	assert.Equal(t, "manageable", out[0].ProvisionState)
	assert.Equal(t, enroll.ActionFailed, out[1].Action)
	assert.True(t, out[1].Changed, "the node was created before its BMC failed")
	assert.Equal(t, "enroll", out[1].ProvisionState)
	assert.Contains(t, out[1].Error, "BMC validation failed, the node stays in enroll: Failed to get power state")
	assert.Contains(t, out[1].LastError, "IPMI call failed")
	assert.Equal(t, sentinel, fake.Node("bmc-good")["driver_info"].(map[string]any)["ipmi_password"], "the password reached Ironic")
}

func TestApplyFailureDoesNotHideOthersAndFailfastSkips(t *testing.T) {
	fake := ironicfake.New(t)
	fake.Add("owner", "manageable", ironicfake.Field("resource_class", "baremetal"), ironicfake.Ports("52:54:00:cc:00:99"))
	// nodes[0] finds "owner" by name; ff-clash finds the same node by its
	// MAC: a conflict only Ironic's state shows, reported on ff-clash alone.
	items := append([]any{map[string]any{"name": "owner", "pm_type": "fake-hardware"}}, fakeNodes(3, "ff")...)
	items = append(items, map[string]any{"name": "ff-clash", "pm_type": "fake-hardware", "mac": []any{"52:54:00:cc:00:99", "52:54:00:cc:00:98"}})

	out := enrollOnce(t, fake, items, opts)
	require.Len(t, out, 5)
	assert.Equal(t, enroll.ActionUnchanged, out[0].Action)
	for _, o := range out[1:4] {
		assert.Equal(t, enroll.ActionCreate, o.Action, o.Name)
	}
	assert.Equal(t, enroll.ActionFailed, out[4].Action)
	assert.Contains(t, out[4].Error, "resolves to Ironic node owner")

	fake2 := ironicfake.New(t)
	fake2.Add("owner", "manageable", ironicfake.Field("resource_class", "baremetal"), ironicfake.Ports("52:54:00:cc:00:99"))
	o := opts
	o.Failfast = true
	out = enrollOnce(t, fake2, items, o)
	assert.Equal(t, enroll.ActionFailed, out[4].Action)
	for _, x := range out[1:4] {
		assert.Equal(t, enroll.ActionSkipped, x.Action, x.Name)
		assert.Contains(t, x.Error, "failfast")
	}
	assert.Equal(t, 1, fake2.Count(), "failfast with a known conflict: nothing created")
}

func TestApplyAPIErrorIsScrubbed(t *testing.T) {
	fake := ironicfake.New(t)
	fake.FailCreate = 400 // the error body echoes the request, password included
	items := []any{map[string]any{"name": "echo-1", "pm_type": "ipmi", "pm_addr": "127.0.0.1", "pm_password": sentinel, "mac": []any{"52:54:00:dd:00:01"}}}
	out := enrollOnce(t, fake, items, opts)
	require.True(t, out[0].Failed())
	assert.Contains(t, out[0].Error, "create node: Invalid node:")
	assert.Contains(t, out[0].Error, "HTTP 400")
	assert.NotContains(t, out[0].Error, sentinel)
}

func TestApplyUpdatesKeepIntrospectedProperties(t *testing.T) {
	fake := ironicfake.New(t)
	fake.Add("insp-1", "manageable", ironicfake.Field("resource_class", "baremetal"),
		ironicfake.Field("inspection_finished_at", "2024-01-01T00:00:00+00:00"),
		ironicfake.Field("properties", map[string]any{"cpus": 8, "memory_mb": 32768, "local_gb": 446, "cpu_arch": "x86_64",
			"capabilities": "boot_mode:uefi,cpu_vt:true", "vendor": "acme"}), ironicfake.Ports("52:54:00:ee:00:01"))
	items := []any{map[string]any{"name": "insp-1", "pm_type": "fake-hardware", "mac": []any{"52:54:00:ee:00:01"},
		"cpu": "2", "memory": "4096", "disk": "40", "arch": "x86_64", "capabilities": "profile:baremetal,boot_option:local"}}
	out := enrollOnce(t, fake, items, opts)
	require.Empty(t, out[0].Error)
	assert.Equal(t, enroll.ActionUpdate, out[0].Action)
	props := fake.Node("insp-1")["properties"].(map[string]any)
	assert.Equal(t, map[string]any{"cpus": float64(8), "memory_mb": float64(32768), "local_gb": float64(446), "cpu_arch": "x86_64",
		"capabilities": "boot_mode:uefi,cpu_vt:true,profile:baremetal,boot_option:local", "vendor": "acme"}, props)
	assert.Equal(t, 1, fake.Requests["PATCH /v1/nodes/ID"], "one PATCH with only the capability")
}

func TestApplyDelete(t *testing.T) {
	fake := ironicfake.New(t)
	enrollOnce(t, fake, fakeNodes(3, "del"), opts)
	o := opts
	o.Absent = true
	out := enrollOnce(t, fake, []any{map[string]any{"name": "del-000"}, map[string]any{"name": "del-001"}, map[string]any{"name": "never-there"}}, o)
	assert.Equal(t, enroll.ActionDelete, out[0].Action)
	assert.Equal(t, enroll.ActionDelete, out[1].Action)
	assert.Equal(t, enroll.ActionAbsent, out[2].Action)
	assert.False(t, out[2].Changed)
	assert.Equal(t, 1, fake.Count())
	assert.Nil(t, fake.Node("del-000"))
}

func TestPredictMakesNoCall(t *testing.T) {
	fake := ironicfake.New(t)
	in, err := enroll.Parse(fakeNodes(5, "check"), false)
	require.NoError(t, err)
	obs, err := enroll.Observe(context.Background(), fake.Client())
	require.NoError(t, err)
	out := enroll.Predict(enroll.PlanAll(in.Nodes, obs, opts))
	for _, o := range out {
		assert.True(t, o.Changed)
		assert.Equal(t, enroll.ActionCreate, o.Action)
		assert.Equal(t, "manageable", o.ProvisionState)
	}
	assert.Zero(t, fake.Writes())
	assert.True(t, strings.HasPrefix(fmt.Sprint(fake.Requests), "map[GET"), "%v", fake.Requests)
}

// TestApplyBrokenConnectionsNeitherDuplicateNorFail: the API acts on a
// create, patch or port create and the connection breaks before the answer;
// the module looks before retrying and ends with exactly one node and port.
func TestApplyBrokenConnectionsNeitherDuplicateNorFail(t *testing.T) {
	fake := ironicfake.New(t)
	fake.Drop["POST /v1/nodes"] = 2
	fake.Drop["POST /v1/ports"] = 2
	out := enrollOnce(t, fake, fakeNodes(3, "drop"), opts)
	for _, o := range out {
		assert.Empty(t, o.Error, o.Name)
		assert.Equal(t, "manageable", o.ProvisionState, o.Name)
		require.Len(t, o.Ports, 1, o.Name)
		assert.NotEmpty(t, o.Ports[0].UUID)
	}
	assert.Equal(t, 3, fake.Count(), "no node created twice")
	for i := 0; i < 3; i++ {
		assert.Len(t, fake.PortsOf(fmt.Sprintf("drop-%03d", i)), 1)
	}

	fake.Drop["PATCH /v1/nodes/ID"] = 1
	fake.Drop["PUT /v1/nodes/ID/states/provision"] = 0
	items := fakeNodes(1, "drop")
	items[0].(map[string]any)["capabilities"] = "profile:baremetal"
	out = enrollOnce(t, fake, items, opts)
	assert.Empty(t, out[0].Error)
	assert.Equal(t, "profile:baremetal", fake.Node("drop-000")["properties"].(map[string]any)["capabilities"])
}

func TestApplyManageAnsweredLostStillWaits(t *testing.T) {
	fake := ironicfake.New(t)
	fake.Drop["PUT /v1/nodes/ID/states/provision"] = 1
	out := enrollOnce(t, fake, fakeNodes(1, "lost"), opts)
	assert.Empty(t, out[0].Error)
	assert.Equal(t, "manageable", out[0].ProvisionState)
}

// A verify that an Ironic conductor restart failed ("can't be resumed by
// conductor") is asked again, up to twice; a node failed a third time says
// so, naming the restart.
func TestApplyAsksAgainAfterAConductorRestart(t *testing.T) {
	fake := ironicfake.New(t)
	restart := "The verifying state can't be resumed by conductor c1. Moving to enroll state."
	fake.Add("once", "enroll", ironicfake.Field("driver", "fake-hardware"), ironicfake.Ports("52:54:00:dd:00:01"), ironicfake.ManageFailures(1, restart))
	fake.Add("always", "enroll", ironicfake.Field("driver", "fake-hardware"), ironicfake.Ports("52:54:00:dd:00:02"), ironicfake.ManageFailures(9, restart))
	items := []any{
		map[string]any{"name": "once", "pm_type": "fake-hardware", "mac": []any{"52:54:00:dd:00:01"}},
		map[string]any{"name": "always", "pm_type": "fake-hardware", "mac": []any{"52:54:00:dd:00:02"}},
	}
	out := enrollOnce(t, fake, items, opts)
	assert.Empty(t, out[0].Error)
	assert.Equal(t, "manageable", out[0].ProvisionState)
	assert.Equal(t, "enroll", out[1].ProvisionState)
	assert.Contains(t, out[1].Error, "the node stays in enroll: Ironic conductor restarts interrupted its BMC validation 3 times: "+restart)
	assert.Equal(t, 5, fake.Requests["PUT /v1/nodes/ID/states/provision"], "once: 2 manages; always: 3 (the first and 2 asked again)")
}
