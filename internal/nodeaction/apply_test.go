package nodeaction

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metalkit/baremetal/internal/ironicfake"
)

func TestApplyAllRemediesThenNothing(t *testing.T) {
	f := ironicfake.New(t)
	f.Add("n-1", "available", ironicfake.Maintenance("bad DIMM"), ironicfake.Field("power_state", "power off"),
		ironicfake.Field("resource_class", "silver"), ironicfake.Field("properties", map[string]any{"capabilities": "boot_mode:uefi"}))
	c := f.Client()
	ctx := context.Background()
	d := Desired{Node: "n-1", Maintenance: ptr(false), Power: PowerOn, ResourceClass: ptr("gold"),
		Capabilities: caps(t, "profile:compute"), Traits: []string{"CUSTOM_GPU"}, Wait: true}
	require.NoError(t, d.Check())
	n, err := Observe(ctx, c, d.Node)
	require.NoError(t, err)
	p, err := MakePlan(d, n)
	require.NoError(t, err)
	out, err := Apply(ctx, c, n, p, d.Wait)
	require.NoError(t, err)
	assert.Equal(t, p.Actions, out.Done)
	assert.Equal(t, []string{"PATCH n-1 add /resource_class,add /properties/capabilities", "PUT traits n-1", "PUT power on n-1", "DELETE maintenance n-1"}, f.Writes(),
		"one patch, the power change, maintenance left last")
	stored := f.Node("n-1")
	assert.Equal(t, "power on", stored["power_state"], "the power change was waited for")
	assert.Equal(t, false, stored["maintenance"])
	assert.Equal(t, "gold", stored["resource_class"])
	assert.Equal(t, "boot_mode:uefi,profile:compute", stored["properties"].(map[string]any)["capabilities"])
	assert.Equal(t, []any{"CUSTOM_GPU"}, stored["traits"])
	assert.Equal(t, "power on", out.Node.PowerState, "the outcome is the node read at the end")
	assert.Equal(t, p.After, ViewOf(out.Node), "the plan's after is what Ironic shows")

	// The same request again: nothing to do.
	n, err = Observe(ctx, c, n.UUID)
	require.NoError(t, err)
	again, err := MakePlan(d, n)
	require.NoError(t, err)
	assert.False(t, again.Changes(), "%v", again.Actions)
}

func TestApplyPowerFailureNamesLastError(t *testing.T) {
	f := ironicfake.New(t)
	f.Add("n-1", "available", ironicfake.Field("power_state", "power off"), ironicfake.PowerError("IPMI call failed: power on."))
	c := f.Client()
	ctx := context.Background()
	n, err := Observe(ctx, c, "n-1")
	require.NoError(t, err)
	p, err := MakePlan(Desired{Node: "n-1", Power: PowerOn}, n)
	require.NoError(t, err)
	out, err := Apply(ctx, c, n, p, true)
	require.Error(t, err)
	assert.Equal(t, `node n-1: power_on failed: the power state is "power off": IPMI call failed: power on.`, err.Error())
	assert.Equal(t, []Action{ActionPowerOn}, out.Done, "the request was made: changed")
}

func TestApplyPowerWaitBoundedByContext(t *testing.T) {
	f := ironicfake.New(t)
	f.StepTime = time.Hour
	f.Add("n-1", "available", ironicfake.Field("power_state", "power on"))
	c := f.Client()
	n, err := Observe(context.Background(), c, "n-1")
	require.NoError(t, err)
	p, err := MakePlan(Desired{Node: "n-1", Power: PowerOff}, n)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Apply(ctx, c, n, p, true)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Contains(t, err.Error(), `node n-1: power_off requested, but the power state is still "power on" (target "power off")`)

	// Without wait the request alone is made.
	f2 := ironicfake.New(t)
	f2.StepTime = time.Hour
	f2.Add("n-2", "available", ironicfake.Field("power_state", "power on"))
	n2, err := Observe(context.Background(), f2.Client(), "n-2")
	require.NoError(t, err)
	p2, _ := MakePlan(Desired{Node: "n-2", Power: PowerOff}, n2)
	out, err := Apply(context.Background(), f2.Client(), n2, p2, false)
	require.NoError(t, err)
	assert.Equal(t, "power off", out.Node.TargetPowerState)
}

func TestObserveUnknownNode(t *testing.T) {
	f := ironicfake.New(t)
	_, err := Observe(context.Background(), f.Client(), "nope")
	require.Error(t, err)
	assert.Equal(t, "node: Ironic has no node named nope or with that UUID", err.Error())
}
