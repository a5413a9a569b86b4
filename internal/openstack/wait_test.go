package openstack

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func node(state, target, lastError string) map[string]any {
	return map[string]any{"uuid": "11111111-1111-1111-1111-111111111111", "name": "node-0",
		"provision_state": state, "target_provision_state": target, "last_error": lastError}
}

func TestWaitNodeProvisionState(t *testing.T) {
	tests := []struct {
		name     string
		steps    []map[string]any
		target   string
		wantErr  string
		timedOut bool
		final    string
	}{
		{"reaches the target", []map[string]any{node("cleaning", "available", ""), node("clean wait", "available", ""), node("available", "", "")}, "available", "", false, "available"},
		{"clean failed stops with last_error", []map[string]any{node("cleaning", "available", ""), node("clean failed", "", "Failed to clean: ipmitool timeout")},
			"available", `node node-0: reached "clean failed" while waiting for "available": Failed to clean: ipmitool timeout`, false, "clean failed"},
		{"inspect failed", []map[string]any{node("inspecting", "manageable", ""), node("inspect failed", "manageable", "No lldp data")},
			"manageable", `reached "inspect failed" while waiting for "manageable": No lldp data`, false, "inspect failed"},
		{"deploy failed", []map[string]any{node("deploy failed", "active", "Agent did not heartbeat")}, "active", `reached "deploy failed"`, false, "deploy failed"},
		{"error", []map[string]any{node("error", "", "tear down failed")}, "available", `reached "error"`, false, "error"},
		{"back in enroll after manage", []map[string]any{node("verifying", "manageable", ""), node("enroll", "", "Failed to get power state: invalid credentials")},
			"manageable", `reached "enroll" while waiting for "manageable": Failed to get power state: invalid credentials`, false, "enroll"},
		{"enroll while a transition is pending is progress", []map[string]any{node("enroll", "manageable", ""), node("manageable", "", "")}, "manageable", "", false, "manageable"},
		{"waiting for enroll itself", []map[string]any{node("enroll", "", "")}, "enroll", "", false, "enroll"},
		{"times out with the last state", []map[string]any{node("cleaning", "available", "")}, "available", `node node-0: timed out waiting for "available", still "cleaning"`, true, "cleaning"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			f := newFakeCloud(t)
			f.nodeSteps = tt.steps
			c := standalone(t, f, fastRetry)
			bm, err := c.Baremetal(context.Background())
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			var seen []string
			n, err := WaitNodeProvisionState(ctx, bm, "node-0", tt.target, WithInterval(5*time.Millisecond), WithObserver(func(s string) { seen = append(seen, s) }))
			require.NotNil(t, n)
			assert.Equal(t, tt.final, n.ProvisionState)
			assert.Equal(t, tt.final, seen[len(seen)-1])
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			var se *StateError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.timedOut, se.TimedOut)
			assert.Equal(t, tt.timedOut, errors.Is(err, context.DeadlineExceeded))
		})
	}
}

func TestWaitNodeMissing(t *testing.T) {
	isolate(t)
	f := newFakeCloud(t)
	c := standalone(t, f, fastRetry)
	bm, err := c.Baremetal(context.Background())
	require.NoError(t, err)
	_, err = WaitNodeProvisionState(context.Background(), bm, "ghost", "available", WithInterval(time.Millisecond))
	require.Error(t, err)
	assert.Equal(t, "node ghost: Node could not be found. (HTTP 404)", err.Error())
}

func TestWaitNodeExtraFailState(t *testing.T) {
	isolate(t)
	f := newFakeCloud(t)
	f.nodeSteps = []map[string]any{node("wait call-back", "active", "")}
	c := standalone(t, f, fastRetry)
	bm, err := c.Baremetal(context.Background())
	require.NoError(t, err)
	_, err = WaitNodeProvisionState(context.Background(), bm, "node-0", "active", WithInterval(time.Millisecond), WithFailStates("wait call-back"))
	assert.ErrorContains(t, err, `reached "wait call-back"`)
}

func TestWaitFor(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name  string
		cond  func(n int) (bool, error)
		want  error
		calls int
	}{
		{"done at once", func(int) (bool, error) { return true, nil }, nil, 1},
		{"done on third", func(n int) (bool, error) { return n == 3, nil }, nil, 3},
		{"error stops", func(n int) (bool, error) { return false, boom }, boom, 1},
		{"deadline", func(int) (bool, error) { return false, nil }, context.DeadlineExceeded, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			n := 0
			err := WaitFor(ctx, time.Millisecond, func(context.Context) (bool, error) { n++; return tt.cond(n) })
			if tt.want == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tt.want)
			}
			if tt.calls > 0 {
				assert.Equal(t, tt.calls, n)
			}
		})
	}
}
