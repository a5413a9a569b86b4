package inspect

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failingInspectionIronic is one node whose inspection fails the way the
// real Ironic shows it (21.4, inspector interface): "inspect wait" ->
// "inspect failed" with target_provision_state still "manageable", because
// Ironic's failure states are not stable states of its machine.
func failingInspectionIronic(t *testing.T, lastError string) (*gophercloud.ServiceClient, func() int) {
	t.Helper()
	const uuid = "3f6ad5a2-0d7e-4a43-9a55-4c5d2b9f1d10"
	var mu sync.Mutex
	state, target, lastErr := StateManageable, "", ""
	gets, inspects := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v1/nodes/"+uuid:
			gets++
			if state == StateInspectWait && gets >= 3 {
				state, lastErr = StateInspectFail, lastError // target stays manageable
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"uuid": uuid, "name": "insp-fail", "provision_state": state,
				"target_provision_state": nilIfEmpty(target), "last_error": nilIfEmpty(lastErr), "reservation": nil,
				"properties": map[string]any{}, "driver": "fake-hardware"})
		case r.Method == http.MethodPut && r.URL.Path == "/v1/nodes/"+uuid+"/states/provision":
			var body struct{ Target string }
			_ = json.NewDecoder(r.Body).Decode(&body)
			if body.Target != "inspect" || (state != StateManageable && state != StateInspectFail) {
				http.Error(w, `{"error_message": "unexpected"}`, http.StatusBadRequest)
				return
			}
			inspects++
			state, target, lastErr, gets = StateInspectWait, StateManageable, "", 0
			w.WriteHeader(http.StatusAccepted)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	sc := &gophercloud.ServiceClient{ProviderClient: &gophercloud.ProviderClient{HTTPClient: *http.DefaultClient},
		Endpoint: srv.URL + "/", ResourceBase: srv.URL + "/v1/", Microversion: "1.82"}
	return sc, func() int { mu.Lock(); defer mu.Unlock(); return inspects }
}

// TestApplyInspectFailedKeepingItsTargetIsAFailureNotAWait: the node in
// "inspect failed" -> manageable is where the inspection ended: the step
// fails at once with Ironic's last_error (it used to be waited on until the
// timeout, as if Ironic were still moving it), and a retry inspects again.
func TestApplyInspectFailedKeepingItsTargetIsAFailureNotAWait(t *testing.T) {
	const lastError = "ironic-inspector inspection failed: No disks satisfied root device hints"
	for _, retries := range []int{0, 1} {
		client, inspects := failingInspectionIronic(t, lastError)
		e := &Engine{Client: client, Concurrency: 1, Retries: retries, Timeout: 10 * time.Second,
			Poll: 5 * time.Millisecond, PollMax: 20 * time.Millisecond, Log: slog.New(slog.DiscardHandler)}
		obs := []Node{{UUID: "3f6ad5a2-0d7e-4a43-9a55-4c5d2b9f1d10", Name: "insp-fail", ProvisionState: StateManageable, Properties: map[string]any{}}}
		start := time.Now()
		r := e.Apply(context.Background(), obs, Desired{})[0]
		require.Equal(t, StatusFailed, r.Status, "retries %d", retries)
		assert.Less(t, time.Since(start), 5*time.Second, "a failed state is not waited on until the timeout")
		assert.Equal(t, ActInspect, r.FailedStep)
		assert.Equal(t, lastError, r.LastError())
		var se *StepError
		require.ErrorAs(t, r.Err, &se)
		assert.False(t, se.TimedOut, "%v", r.Err)
		assert.Equal(t, StateInspectFail, se.State)
		assert.Contains(t, r.Err.Error(), `inspect failed: node went to "inspect failed" instead of "manageable": `+lastError)
		assert.Equal(t, retries, r.Retries)
		assert.Equal(t, 1+retries, inspects(), "each attempt inspects again from inspect failed")
	}
}
