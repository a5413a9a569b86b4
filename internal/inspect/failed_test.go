package inspect

import (
	"context"
	"testing"
	"time"

	"github.com/metalkit/baremetal/internal/ironicfake"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestApplyInspectFailedKeepingItsTargetIsAFailureNotAWait: Ironic leaves a
// failed inspection in "inspect failed" with target_provision_state still
// "manageable" (the fake Ironic does the same). That is where the inspection
// ended: the step fails at once with Ironic's last_error (it used to be
// waited on until the timeout, as if Ironic were still moving it), and a
// retry inspects again.
func TestApplyInspectFailedKeepingItsTargetIsAFailureNotAWait(t *testing.T) {
	const lastError = "inspection failed: fake BMC did not boot the ramdisk"
	for _, retries := range []int{0, 1} {
		f := ironicfake.New(t)
		f.Add("insp-fail", StateManageable, ironicfake.InspectFailures(1+retries))
		e := engine(f)
		e.Concurrency, e.Retries, e.Timeout = 1, retries, 10*time.Second
		start := time.Now()
		r := e.Apply(context.Background(), observeAll(t, f, "insp-fail"), Desired{})[0]
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
		assert.Equal(t, 1+retries, countCalls(f, "PUT inspect insp-fail"), "each attempt inspects again from inspect failed")
		assert.Equal(t, StateManageable, f.Node("insp-fail")["target_provision_state"], "the fake keeps the target as Ironic does")
	}
}

// A node Ironic left in "clean failed" (target still "available") is
// managed, inspected and provided again: once manageable it carries no
// target, so nothing waits on it as if Ironic were still moving it.
func TestApplyFromCleanFailedDoesNotWait(t *testing.T) {
	f := ironicfake.New(t)
	f.Add("insp-cleanfail", StateCleanFail, ironicfake.Field("target_provision_state", StateAvailable))
	e := engine(f)
	e.Timeout = 10 * time.Second
	start := time.Now()
	r := e.Apply(context.Background(), observeAll(t, f, "insp-cleanfail"), Desired{Provide: true})[0]
	require.Equal(t, StatusChanged, r.Status, "%v", r.Err)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, StateAvailable, f.Node("insp-cleanfail")["provision_state"])
	assert.Nil(t, f.Node("insp-cleanfail")["target_provision_state"])
}
