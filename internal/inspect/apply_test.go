package inspect

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/metalkit/baremetal/internal/ironicfake"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func engine(f *ironicfake.Server) *Engine {
	return &Engine{Client: f.Client(), Concurrency: 8, Retries: 2, Timeout: 5 * time.Second,
		Poll: 5 * time.Millisecond, PollMax: 20 * time.Millisecond, IntrospectionData: true,
		Log: slog.New(slog.DiscardHandler)}
}

func observeAll(t *testing.T, f *ironicfake.Server, names ...string) []Node {
	t.Helper()
	obs, err := Observe(context.Background(), f.Client(), Selection{Nodes: names}, 4)
	require.NoError(t, err)
	return obs.Nodes
}

func byName(results []*NodeResult) map[string]*NodeResult {
	m := map[string]*NodeResult{}
	for _, r := range results {
		m[r.Before.Label()] = r
	}
	return m
}

var flavorTags = Desired{Provide: true, Capabilities: caps("profile:baremetal,boot_option:local"), ResourceClass: "baremetal"}

func TestApplyEnrollToAvailableThenUnchanged(t *testing.T) {
	f := ironicfake.New(t)
	f.Add("insp-enroll", StateEnroll)
	f.Add("insp-manageable", StateManageable)
	f.Add("insp-available", StateAvailable)
	names := []string{"insp-enroll", "insp-manageable", "insp-available"}

	results := engine(f).Apply(context.Background(), observeAll(t, f, names...), flavorTags)
	require.Len(t, results, 3)
	for _, r := range results {
		name := r.Before.Label()
		require.Equal(t, StatusChanged, r.Status, "%s: %v", name, r.Err)
		got := f.Node(name)
		assert.Equal(t, StateAvailable, got["provision_state"], name)
		assert.Equal(t, "baremetal", got["resource_class"], name)
		assert.Equal(t, PowerOff, got["power_state"], name)
		props := got["properties"].(map[string]any)
		assert.Equal(t, "boot_mode:uefi,cpu_vt:true,profile:baremetal,boot_option:local", props["capabilities"], "%s: inspection's capabilities kept", name)
		assert.EqualValues(t, 8, props["cpus"], name)
		assert.NotNil(t, r.Node.InspectionFinishedAt, name)
		assert.NotNil(t, r.InspectionStartedAt, name)
		assert.Zero(t, r.Retries, name)
		assert.NotEmpty(t, r.Timeline, name)
		assert.Nil(t, r.IntrospectionData, "%s: the fake exposes no inventory: absent, no error", name)
		assert.Empty(t, r.Warnings, name)
	}
	assert.True(t, timelineHas(byName(results)["insp-enroll"], "inspect done"), "timeline: %v", byName(results)["insp-enroll"].Timeline)
	assert.Equal(t, []Action{ActManage, ActInspect, ActUpdate, ActProvide, ActPowerOff}, stepActions(byName(results)["insp-enroll"]))
	assert.Equal(t, []Action{ActManage, ActInspect, ActUpdate, ActProvide, ActPowerOff}, stepActions(byName(results)["insp-available"]))
	assert.Equal(t, []Action{ActInspect, ActUpdate, ActProvide, ActPowerOff}, stepActions(byName(results)["insp-manageable"]))

	before := len(f.Writes())
	again := engine(f).Apply(context.Background(), observeAll(t, f, names...), flavorTags)
	for _, r := range again {
		assert.Equal(t, StatusUnchanged, r.Status, r.Before.Label())
		assert.Empty(t, r.Steps)
	}
	assert.Len(t, f.Writes(), before, "second run: no write call")
}

func stepActions(r *NodeResult) []Action {
	out := []Action{}
	for _, s := range r.Steps {
		out = append(out, s.Action)
	}
	return out
}

func TestApplyFailedManageIsReportedWithLastErrorOthersSucceed(t *testing.T) {
	f := ironicfake.New(t)
	const bmcErr = "Failed to get power state for node: IPMI call failed: power status."
	f.Add("insp-bad-bmc", StateEnroll, ironicfake.ManageError(bmcErr))
	f.Add("insp-good", StateEnroll)

	e := engine(f)
	e.Retries = 1
	results := byName(e.Apply(context.Background(), observeAll(t, f, "insp-bad-bmc", "insp-good"), flavorTags))

	bad := results["insp-bad-bmc"]
	assert.Equal(t, StatusFailed, bad.Status)
	assert.Equal(t, ActManage, bad.FailedStep)
	assert.Equal(t, bmcErr, bad.LastError())
	assert.Equal(t, 1, bad.Retries, "retried once, then failed")
	assert.Contains(t, bad.Err.Error(), `manage failed: node went to "enroll" instead of "manageable": `+bmcErr)
	assert.Equal(t, StateEnroll, bad.Node.ProvisionState)
	assert.Equal(t, 2, countCalls(f, "PUT manage insp-bad-bmc"))

	assert.Equal(t, StatusChanged, results["insp-good"].Status)
	assert.Equal(t, StateAvailable, f.Node("insp-good")["provision_state"])
}

func countCalls(f *ironicfake.Server, call string) int {
	n := 0
	for _, c := range f.Calls() {
		if c == call {
			n++
		}
	}
	return n
}

func TestApplyRetries(t *testing.T) {
	tests := []struct {
		name        string
		node        ironicfake.Option
		retries     int
		timeout     time.Duration
		wantStatus  Status
		wantRetries int
		wantCalls   map[string]int
	}{
		{name: "failed inspection is retried", node: ironicfake.InspectFailures(1), retries: 2,
			wantStatus: StatusChanged, wantRetries: 1, wantCalls: map[string]int{"PUT inspect insp-r": 2}},
		{name: "retries exhausted", node: ironicfake.InspectFailures(5), retries: 2,
			wantStatus: StatusFailed, wantRetries: 2, wantCalls: map[string]int{"PUT inspect insp-r": 3}},
		{name: "stuck inspection is aborted then restarted", node: ironicfake.InspectHangs(1), retries: 1, timeout: 300 * time.Millisecond,
			wantStatus: StatusChanged, wantRetries: 1, wantCalls: map[string]int{"PUT inspect insp-r": 2, "PUT abort insp-r": 1}},
		{name: "no retries: the first failure is final", node: ironicfake.InspectFailures(1), retries: 0,
			wantStatus: StatusFailed, wantRetries: 0, wantCalls: map[string]int{"PUT inspect insp-r": 1}},
		{name: "Ironic refusing the request is not retried", node: ironicfake.RefuseInspect("Driver ipmi does not support inspect"), retries: 3,
			wantStatus: StatusFailed, wantRetries: 0, wantCalls: map[string]int{"PUT inspect insp-r": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ironicfake.New(t)
			f.Add("insp-r", StateManageable, tt.node)
			e := engine(f)
			e.Retries = tt.retries
			if tt.timeout > 0 {
				e.Timeout = tt.timeout
			}
			r := e.Apply(context.Background(), observeAll(t, f, "insp-r"), Desired{})[0]
			assert.Equal(t, tt.wantStatus, r.Status, "err: %v", r.Err)
			assert.Equal(t, tt.wantRetries, r.Retries)
			for call, n := range tt.wantCalls {
				assert.Equal(t, n, countCalls(f, call), call)
			}
			if tt.wantStatus == StatusFailed {
				assert.Equal(t, ActInspect, r.FailedStep)
				assert.NotEmpty(t, r.LastError())
			}
		})
	}
}

func TestApplyRefusedRequestCarriesIronicsMessage(t *testing.T) {
	f := ironicfake.New(t)
	f.Add("insp-ipmi", StateManageable, ironicfake.RefuseInspect("Driver ipmi does not support inspect"))
	r := engine(f).Apply(context.Background(), observeAll(t, f, "insp-ipmi"), Desired{})[0]
	require.Equal(t, StatusFailed, r.Status)
	assert.Equal(t, "inspect failed: Driver ipmi does not support inspect (HTTP 400)", r.Err.Error())
}

func TestApplyWaitsForALockedNode(t *testing.T) {
	for _, visible := range []bool{true, false} {
		t.Run(fmt.Sprintf("reservation visible %v", visible), func(t *testing.T) {
			f := ironicfake.New(t)
			if visible {
				f.Add("insp-locked", StateManageable)
				f.Lock("insp-locked", 150*time.Millisecond)
			} else {
				f.Add("insp-locked", StateManageable, ironicfake.LockOnWrite(150*time.Millisecond))
			}
			e := engine(f)
			e.Retries = 0 // a lock is waited for, it does not use a retry
			r := e.Apply(context.Background(), observeAll(t, f, "insp-locked"), Desired{})[0]
			require.Equal(t, StatusChanged, r.Status, "err: %v", r.Err)
			assert.GreaterOrEqual(t, r.LockWaits, 1)
			assert.Zero(t, r.Retries)
			assert.Equal(t, StateManageable, f.Node("insp-locked")["provision_state"])
			assert.NotNil(t, f.Node("insp-locked")["inspection_finished_at"])
			assert.True(t, timelineHas(r, "locked by"), "timeline: %v", r.Timeline)
		})
	}
}

func TestApplyOwnUpdateLockIsNotALockWait(t *testing.T) {
	f := ironicfake.New(t)
	f.Add("insp-patch", StateManageable, ironicfake.PatchLock(100*time.Millisecond))
	e := engine(f)
	e.Retries = 0
	r := e.Apply(context.Background(), observeAll(t, f, "insp-patch"), flavorTags)[0]
	require.Equal(t, StatusChanged, r.Status, "err: %v", r.Err)
	assert.Zero(t, r.LockWaits, "the update's own lock is waited for silently")
	assert.Equal(t, StateAvailable, f.Node("insp-patch")["provision_state"])
	assert.Zero(t, countCalls(f, "PUT states/provision insp-patch 409"), "provide was not sent while the update held the lock")
}

func timelineHas(r *NodeResult, text string) bool {
	for _, e := range r.Timeline {
		if strings.Contains(e.Event, text) {
			return true
		}
	}
	return false
}

func TestApplyLockNeverReleasedTimesOut(t *testing.T) {
	f := ironicfake.New(t)
	f.Add("insp-stuck", StateManageable)
	f.Lock("insp-stuck", time.Hour)
	e := engine(f)
	e.Retries, e.Timeout = 0, 200*time.Millisecond
	r := e.Apply(context.Background(), observeAll(t, f, "insp-stuck"), Desired{})[0]
	require.Equal(t, StatusFailed, r.Status)
	assert.Contains(t, r.Err.Error(), `inspect failed: timed out waiting for "lock released by other-conductor"`)
	assert.Empty(t, f.Writes(), "the lock was seen before any write: nothing was sent")
}

func TestApplyBoundedConcurrency(t *testing.T) {
	f := ironicfake.New(t)
	var names []string
	for i := 0; i < 24; i++ {
		name := fmt.Sprintf("insp-c%02d", i)
		f.Add(name, StateEnroll)
		names = append(names, name)
	}
	e := engine(f)
	e.Concurrency = 4
	results := e.Apply(context.Background(), observeAll(t, f, names...), Desired{Provide: true})
	for i, r := range results {
		require.Equal(t, StatusChanged, r.Status, r.Err)
		assert.Equal(t, names[i], r.Before.Label(), "results keep the order asked")
	}
	busy := f.MaxBusy()
	assert.LessOrEqual(t, busy, 4, "never more than concurrency nodes at once")
	assert.GreaterOrEqual(t, busy, 2, "nodes are worked on in parallel")
}

func TestApplyFailfast(t *testing.T) {
	f := ironicfake.New(t)
	f.Add("insp-f0", StateEnroll, ironicfake.ManageError("IPMI call failed"))
	f.Add("insp-f1", StateEnroll)
	f.Add("insp-f2", StateEnroll)
	e := engine(f)
	e.Concurrency, e.Retries, e.Failfast = 1, 0, true
	results := e.Apply(context.Background(), observeAll(t, f, "insp-f0", "insp-f1", "insp-f2"), Desired{})
	assert.Equal(t, StatusFailed, results[0].Status)
	assert.Equal(t, StatusNotStarted, results[1].Status)
	assert.Equal(t, StatusNotStarted, results[2].Status)
	assert.Equal(t, StateEnroll, f.Node("insp-f1")["provision_state"], "untouched")
	assert.Equal(t, 0, countCalls(f, "PUT manage insp-f1"))
}

func TestApplyNoWaitStartsInspectionAndReturns(t *testing.T) {
	f := ironicfake.New(t)
	f.StepTime = time.Hour
	f.Add("insp-nw", StateManageable)
	e := engine(f)
	e.NoWait = true
	r := e.Apply(context.Background(), observeAll(t, f, "insp-nw"), Desired{})[0]
	assert.Equal(t, StatusChanged, r.Status)
	assert.Equal(t, []Action{ActInspect}, stepActions(r))
	assert.Equal(t, StateInspecting, f.Node("insp-nw")["provision_state"])
}

func TestApplyWaitsForAnInspectionAlreadyRunning(t *testing.T) {
	f := ironicfake.New(t)
	f.StepTime = 100 * time.Millisecond
	f.Add("insp-running", StateManageable)
	// Someone else started it.
	_, err := f.Client().ProviderClient.HTTPClient.Do(ironicfake.MustRequest(t, f.Srv.URL+"/v1/nodes/insp-running/states/provision", `{"target":"inspect"}`))
	require.NoError(t, err)
	r := engine(f).Apply(context.Background(), observeAll(t, f, "insp-running"), Desired{})[0]
	assert.Equal(t, StatusUnchanged, r.Status, "waiting is not a change: %v", r.Err)
	assert.Equal(t, 1, countCalls(f, "PUT inspect insp-running"), "not inspected a second time")
	assert.Equal(t, StateManageable, f.Node("insp-running")["provision_state"])
}

func TestApplyReturnsIntrospectionDataWhereStored(t *testing.T) {
	f := ironicfake.New(t)
	f.Add("insp-inv", StateManageable)
	f.Inventory["insp-inv"] = map[string]any{"inventory": map[string]any{"cpu": map[string]any{"count": 8.0}}, "plugin_data": map[string]any{"root_disk": "sda"}}
	r := engine(f).Apply(context.Background(), observeAll(t, f, "insp-inv"), Desired{})[0]
	require.Equal(t, StatusChanged, r.Status)
	assert.Equal(t, map[string]any{"source": "ironic", "inventory": map[string]any{"cpu": map[string]any{"count": json.Number("8")}},
		"plugin_data": map[string]any{"root_disk": "sda"}}, r.IntrospectionData)
}

func TestObserve(t *testing.T) {
	f := ironicfake.New(t)
	a := f.Add("insp-a", StateManageable)
	f.Add("insp-b", StateEnroll)
	f.Add("insp-maint", StateManageable, ironicfake.Maintenance(""))

	t.Run("names and UUIDs, duplicates once", func(t *testing.T) {
		obs, err := Observe(context.Background(), f.Client(), Selection{Nodes: []string{"insp-a", "insp-b", a.UUID()}}, 2)
		require.NoError(t, err)
		require.Len(t, obs.Nodes, 2)
		assert.Equal(t, "insp-a", obs.Nodes[0].Name)
		require.Len(t, obs.Warnings, 1)
		assert.Contains(t, obs.Warnings[0], "are the same node")
	})
	t.Run("every unknown node named", func(t *testing.T) {
		_, err := Observe(context.Background(), f.Client(), Selection{Nodes: []string{"nope-1", "insp-a", "nope-2"}}, 2)
		require.Error(t, err)
		assert.Equal(t, "nodes: not found in Ironic: nope-1, nope-2", err.Error())
	})
	t.Run("all in state skips maintenance", func(t *testing.T) {
		obs, err := Observe(context.Background(), f.Client(), Selection{AllInState: StateManageable}, 2)
		require.NoError(t, err)
		require.Len(t, obs.Nodes, 1)
		assert.Equal(t, "insp-a", obs.Nodes[0].Name)
		assert.Equal(t, []string{`all_in_state "manageable": skipped 1 node(s) in maintenance: insp-maint`}, obs.Warnings)
	})
}

func TestIntrospectionDataSources(t *testing.T) {
	inspectorData := map[string]any{"inventory": map[string]any{"memory": map[string]any{"physical_mb": 16384.0}}, "root_disk": map[string]any{"name": "/dev/sda"}}
	inspector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if req.URL.Path == "/v1/introspection/00000000-0000-4000-8000-000000000001/data" {
			_ = json.NewEncoder(w).Encode(inspectorData)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error": {"message": "no data"}}`))
	}))
	t.Cleanup(inspector.Close)
	inspectorClient := &gophercloud.ServiceClient{ProviderClient: &gophercloud.ProviderClient{HTTPClient: *http.DefaultClient},
		Endpoint: inspector.URL + "/v1/", ResourceBase: inspector.URL + "/v1/"}

	tests := []struct {
		name         string
		microversion string
		inventory    bool
		inspector    bool
		want         map[string]any
		inventoryGET bool
	}{
		{name: "Ironic inventory first", microversion: "1.82", inventory: true, inspector: true, inventoryGET: true,
			want: map[string]any{"source": "ironic", "inventory": map[string]any{"cpu": "x"}, "plugin_data": nil}},
		{name: "ironic-inspector when Ironic has none", microversion: "1.82", inspector: true, inventoryGET: true,
			want: map[string]any{"source": "ironic-inspector", "data": inspectorData}},
		{name: "old Ironic: inventory API not asked", microversion: "1.80", inventory: true, inspector: true,
			want: map[string]any{"source": "ironic-inspector", "data": inspectorData}},
		{name: "neither: absent", microversion: "1.82", inventoryGET: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ironicfake.New(t)
			f.Add("insp-data", StateManageable)
			if tt.inventory {
				f.Inventory["insp-data"] = map[string]any{"inventory": map[string]any{"cpu": "x"}}
			}
			e := engine(f)
			e.Client.Microversion = tt.microversion
			opened := 0
			if tt.inspector {
				e.Inspector = func() (*gophercloud.ServiceClient, error) { opened++; return inspectorClient, nil }
			}
			r := e.Apply(context.Background(), observeAll(t, f, "insp-data"), Desired{})[0]
			assert.Equal(t, tt.inspector && tt.want["source"] == "ironic-inspector", opened == 1, "ironic-inspector opened only for data Ironic does not keep")
			assert.LessOrEqual(t, opened, 1)
			require.Equal(t, StatusChanged, r.Status, r.Err)
			if tt.want == nil {
				assert.Nil(t, r.IntrospectionData)
			} else {
				assert.Equal(t, tt.want, jsonRoundTrip(t, r.IntrospectionData))
			}
			assert.Empty(t, r.Warnings)
			assert.Equal(t, tt.inventoryGET, countCalls(f, "GET inventory insp-data") == 1)
		})
	}
}

func jsonRoundTrip(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// After an abort, the retry waits for ironic-inspector to leave "aborting"
// (it refuses a new introspection until then); a node inspector does not
// know, or an inspector that cannot be read, does not hold it back.
func TestRetryWaitsForInspectorAbort(t *testing.T) {
	gets := 0
	inspector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch req.URL.Path {
		case "/v1/introspection/aborting":
			gets++
			_ = json.NewEncoder(w).Encode(map[string]any{"finished": gets >= 3, "state": map[bool]string{false: "aborting", true: "error"}[gets >= 3]})
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error": {"message": "not found"}}`))
		}
	}))
	t.Cleanup(inspector.Close)
	client := &gophercloud.ServiceClient{ProviderClient: &gophercloud.ProviderClient{HTTPClient: *http.DefaultClient},
		Endpoint: inspector.URL + "/v1/", ResourceBase: inspector.URL + "/v1/"}
	e := &Engine{Poll: time.Millisecond, PollMax: time.Millisecond, Inspector: func() (*gophercloud.ServiceClient, error) { return client, nil }}

	r := &NodeResult{}
	require.NoError(t, e.waitInspectorAborted(context.Background(), r, "aborting"))
	assert.Equal(t, 3, gets, "polled until inspector finished the abort")
	assert.Contains(t, fmt.Sprint(r.Timeline), "waiting for ironic-inspector to finish the abort")

	require.NoError(t, e.waitInspectorAborted(context.Background(), &NodeResult{}, "unknown-to-inspector"))
	none := &Engine{}
	require.NoError(t, none.waitInspectorAborted(context.Background(), &NodeResult{}, "aborting"), "no inspector: nothing to wait for")

	gets = -1000 // never finishes
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	stuck := &Engine{Poll: time.Millisecond, PollMax: time.Millisecond, Inspector: e.Inspector}
	assert.ErrorContains(t, stuck.waitInspectorAborted(ctx, &NodeResult{}, "aborting"), "ironic-inspector did not finish aborting")
}
