package server

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metalkit/baremetal/internal/diagnose"
	"github.com/metalkit/baremetal/internal/openstack"
	"github.com/metalkit/baremetal/internal/server/fakecloud"
)

const recorded = "../../tests/fixtures/server/recorded"

const (
	imageID  = fakecloud.ImageID
	netID    = fakecloud.NetID
	portID   = fakecloud.PortID
	goodNode = fakecloud.GoodNode
)

// cloud is the recorded cloud plus what a boot needs (fakecloud.AddBasics),
// reached through the connection layer as the module reaches it, retries
// included (quick ones).
func cloud(t *testing.T) (*fakecloud.Cloud, Clients) {
	t.Helper()
	fc := fakecloud.New(t, recorded)
	fc.AddBasics()
	return fc, clients(t, fc.CloudConfig())
}

// clients connects to the fake cloud described by cfg (its CloudConfig).
func clients(t *testing.T, cfg map[string]any) Clients {
	t.Helper()
	ctx := context.Background()
	conn, err := openstack.Connect(ctx, openstack.Options{CloudConfig: cfg,
		Retry: openstack.RetryPolicy{MaxAttempts: 10, BaseDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond}})
	require.NoError(t, err)
	var c Clients
	c.Compute, err = conn.Compute(ctx)
	require.NoError(t, err)
	c.Image, err = conn.Image(ctx)
	require.NoError(t, err)
	c.Network, err = conn.Network(ctx)
	require.NoError(t, err)
	c.Baremetal, err = conn.Baremetal(ctx)
	require.NoError(t, err)
	c.Placement, err = conn.Placement(ctx)
	require.NoError(t, err)
	return c
}

func want(flavor string) Desired {
	return Desired{Name: "ocp-1", State: StatePresent, Image: "rhcos", Flavor: flavor, Wait: true, ConfigDrive: true,
		Nics: Nics{List: []NIC{{NetName: "ctlplane", FixedIP: "192.0.2.10"}}}, Timeout: time.Minute}
}

func run(t *testing.T, c Clients, d Desired) (Observed, Plan, *Outcome, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
	defer cancel()
	o, err := Observe(ctx, c, d)
	require.NoError(t, err)
	p := MakePlan(d, o)
	require.Empty(t, p.Failure)
	out, err := Apply(ctx, c, d, o, p)
	return o, p, out, err
}

func TestCreateSendsWhatWasAskedAndWaitsForActive(t *testing.T) {
	fc, c := cloud(t)
	fc.BuildGets = 2
	fc.Boot = func(s map[string]any) { fc.Land(s, goodNode) }
	d := want("insp-scale")
	// Valid base64 on purpose: gophercloud would pass it through unencoded.
	d.UserData = &UserData{Content: []byte("aGVsbG8="), Source: "user_data"}
	d.KeyName = "stack"
	d.Metadata = map[string]string{"role": "worker"}
	d.SchedulerHints = map[string]any{"group": "g1"}
	d.AvailabilityZone = "nova::" + goodNode

	o, _, out, err := run(t, c, d)
	require.NoError(t, err)
	assert.Equal(t, fc.Node(goodNode)["uuid"], o.Pin.Node, "pinned node name resolved to its UUID")
	assert.Equal(t, []string{"POST /compute/v2.1/servers"}, fc.Writes)
	body := fc.Bodies[0]
	server := body["server"].(map[string]any)
	assert.Equal(t, "ocp-1", server["name"])
	assert.Equal(t, imageID, server["imageRef"])
	assert.Equal(t, "insp-scale", server["flavorRef"])
	assert.Equal(t, true, server["config_drive"])
	assert.Equal(t, "stack", server["key_name"])
	assert.Equal(t, "nova::"+fc.Node(goodNode)["uuid"].(string), server["availability_zone"])
	assert.Equal(t, base64.StdEncoding.EncodeToString([]byte("aGVsbG8=")), server["user_data"])
	assert.Equal(t, []any{map[string]any{"uuid": netID, "fixed_ip": "192.0.2.10"}}, server["networks"])
	assert.Equal(t, map[string]any{"role": "worker"}, server["metadata"])
	assert.Equal(t, map[string]any{"group": "g1"}, body["os:scheduler_hints"])

	require.True(t, out.Changed)
	assert.Equal(t, "ACTIVE", out.Server.Status)
	require.NotNil(t, out.Node)
	assert.Equal(t, goodNode, out.Node.Name)
	assert.Contains(t, out.Timings, "create")
	view := View(out.Server, out.Node)
	assert.Equal(t, goodNode, view["node"].(map[string]any)["name"])
	assert.Equal(t, true, view["config_drive"])
}

func TestNoValidHostFailsWithTheDiagnosis(t *testing.T) {
	fc, c := cloud(t)
	fc.Boot = func(s map[string]any) {
		s["status"] = "ERROR"
		s["fault"] = map[string]any{"code": 500, "message": "No valid host was found. There are not enough hosts available."}
	}
	_, _, out, err := run(t, c, want("baremetal"))
	require.Error(t, err)
	var f *Failed
	require.ErrorAs(t, err, &f)
	assert.True(t, out.Changed, "the server was created")
	require.NotNil(t, out.Diagnosis)
	assert.Equal(t, diagnose.CauseNoValidHost, out.Diagnosis.Cause)
	assert.Contains(t, err.Error(), "server ocp-1 ")
	assert.Contains(t, err.Error(), "went to ERROR: No valid host was found: none of 9 node(s) can host flavor \"baremetal\"")
	assert.Contains(t, err.Error(), "2 manageable, needs provide (enr-bulk-034, enr-bulk-047)")
	assert.Equal(t, "No valid host was found. There are not enough hosts available.", out.Diagnosis.Fault.Message)
}

func TestTimeoutWhileBuildingIsDiagnosed(t *testing.T) {
	fc, c := cloud(t)
	fc.BuildGets = 1 << 30 // never leaves BUILD
	d := want("insp-scale")
	d.Timeout = 1500 * time.Millisecond
	_, _, out, err := run(t, c, d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is still BUILD after the timeout")
	require.NotNil(t, out.Diagnosis)
	assert.Equal(t, diagnose.CauseTimeout, out.Diagnosis.Cause)
}

// A Nova too slow to answer within api_timeout is not the task running
// out of time, though Go's header timeout matches context.DeadlineExceeded:
// a few slow polls are retried, and when they never end the task fails
// with that error, not "still BUILD after the timeout".
func TestSlowNovaIsNotTheTaskTimeout(t *testing.T) {
	for _, tt := range []struct {
		name string
		held int
		want string // "": the server lands
	}{
		{"a few slow polls", 3, ""},
		{"never answers", 1000, "timeout awaiting response headers"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fc := fakecloud.New(t, recorded)
			fc.AddBasics()
			fc.BuildGets = 2
			fc.Boot = func(s map[string]any) { fc.Land(s, goodNode) }
			if tt.want != "" {
				// Seen BUILD twice, then Nova stops answering.
				fc.Boot = func(map[string]any) { fc.Hold = map[string]int{"GET /compute/v2.1/servers/": tt.held} }
			}
			cfg := fc.CloudConfig()
			cfg["api_timeout"] = "0.1"
			c := clients(t, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			d := want("insp-scale")
			d.Timeout = time.Minute
			o, err := Observe(ctx, c, d)
			require.NoError(t, err)
			p := MakePlan(d, o)
			require.Empty(t, p.Failure)
			if tt.want == "" {
				fc.Hold = map[string]int{"GET /compute/v2.1/servers/": tt.held}
			}
			_, err = Apply(ctx, c, d, o, p)
			require.NoError(t, ctx.Err(), "the task had time left")
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "after the timeout")
		})
	}
}

func TestInterruptedDeployTakesItsServerBack(t *testing.T) {
	fc, c := cloud(t)
	fc.BuildGets = 1 << 30 // never leaves BUILD
	d := want("insp-scale")
	ctx, cancel := context.WithCancel(context.Background())
	o, err := Observe(ctx, c, d)
	require.NoError(t, err)
	p := MakePlan(d, o)
	time.AfterFunc(300*time.Millisecond, cancel) // SIGTERM while deploying
	out, err := Apply(ctx, c, d, o, p)
	require.Error(t, err)
	assert.Equal(t, "stopped: context canceled; the half-deployed server ocp-1 (00000001-aaaa-4bbb-8ccc-000000000000) was deleted", err.Error())
	require.Len(t, out.Deleted, 1)
	assert.Nil(t, out.Server)
	for _, s := range fc.Servers {
		assert.Equal(t, "DELETED", s["status"], "no half-deployed server is left holding a node")
	}
}

// Nova on a busy database answers a DELETE 204, then reverts it: the wait
// sees the server back with no task and asks again.
func TestDeleteNovaDroppedIsSentAgain(t *testing.T) {
	fc, c := cloud(t)
	fc.Boot = func(s map[string]any) { fc.Land(s, goodNode) }
	_, _, _, err := run(t, c, want("insp-scale"))
	require.NoError(t, err)
	fc.DropDeletes = 2
	d := Desired{Name: "ocp-1", State: StateAbsent, Wait: true, Timeout: time.Minute}
	_, _, out, err := run(t, c, d)
	require.NoError(t, err)
	assert.Len(t, out.Deleted, 1)
	deletes := 0
	for _, w := range fc.Writes {
		if strings.HasPrefix(w, "DELETE ") {
			deletes++
		}
	}
	assert.Equal(t, 3, deletes, "two dropped, the third done")
}

func TestSecondRunIsUnchanged(t *testing.T) {
	fc, c := cloud(t)
	fc.Boot = func(s map[string]any) { fc.Land(s, goodNode) }
	_, _, _, err := run(t, c, want("insp-scale"))
	require.NoError(t, err)
	writes := len(fc.Writes)
	_, p, out, err := run(t, c, want("insp-scale"))
	require.NoError(t, err)
	assert.Empty(t, p.Actions)
	assert.False(t, out.Changed)
	assert.Len(t, fc.Writes, writes, "no write on the second run")
	assert.Equal(t, goodNode, out.Node.Name)
}

// Nova on a locked sqlite database answers 500 now and then: the
// connection retries the DELETE and the polls, the module sees none of it.
func TestDeleteWaitsForTheNodeThroughNova500s(t *testing.T) {
	tests := []struct {
		name      string
		fail      func(fc *fakecloud.Cloud)
		wantWrite int // DELETEs sent
	}{
		{"DELETE refused with a 500", func(fc *fakecloud.Cloud) { fc.Fail["DELETE /compute/v2.1/servers/"] = 1 }, 2},
		// The first DELETE did delete before Nova failed: the retry meets a
		// 404, which is the server gone, as asked.
		{"DELETE done, then a 500", func(fc *fakecloud.Cloud) { fc.FailAfter["DELETE /compute/v2.1/servers/"] = 1 }, 2},
		{"polls answered 500", func(fc *fakecloud.Cloud) { fc.Fail["GET /compute/v2.1/servers/0"] = 2 }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc, c := cloud(t)
			fc.Boot = func(s map[string]any) { fc.Land(s, goodNode) }
			_, _, _, err := run(t, c, want("insp-scale"))
			require.NoError(t, err)
			writes := len(fc.Writes)
			tt.fail(fc)
			d := Desired{Name: "ocp-1", State: StateAbsent, Wait: true, Timeout: time.Minute}
			_, p, out, err := run(t, c, d)
			require.NoError(t, err)
			assert.Equal(t, []Action{ActionDelete}, p.Actions)
			assert.Len(t, fc.Writes[writes:], tt.wantWrite)
			assert.True(t, out.Changed)
			assert.Len(t, out.Deleted, 1)
			require.NotNil(t, out.Node)
			assert.Equal(t, "available", out.Node.ProvisionState, "waited through deleting and cleaning")
			assert.Contains(t, out.Timings, "node_available")
			assert.Nil(t, out.Server)
		})
	}
}

// A 500 that does not go away fails the task with Nova's own words, after
// the connection's few tries.
func TestDeletePermanent500FailsWithNovasMessage(t *testing.T) {
	fc, c := cloud(t)
	fc.Boot = func(s map[string]any) { fc.Land(s, goodNode) }
	_, _, _, err := run(t, c, want("insp-scale"))
	require.NoError(t, err)
	fc.Fail["DELETE /compute/v2.1/servers/"] = 1 << 30
	_, _, out, err := run(t, c, Desired{Name: "ocp-1", State: StateAbsent, Wait: true, Timeout: time.Minute})
	require.Error(t, err)
	assert.Regexp(t, `^delete of server ocp-1 \([0-9a-f-]+\): Unexpected API Error\. <class 'sqlalchemy\.exc\.OperationalError'> \(HTTP 500, after \d+ attempts\)$`, err.Error())
	assert.False(t, out.Changed)
	assert.Empty(t, out.Deleted)
}

// A POST may have created the server before Nova failed: it is never sent
// twice, the 500 is the answer.
func TestCreate500IsNotRetried(t *testing.T) {
	fc, c := cloud(t)
	fc.Fail["POST /compute/v2.1/servers"] = 1
	_, _, out, err := run(t, c, want("insp-scale"))
	require.Error(t, err)
	assert.Equal(t, "create of server ocp-1: Unexpected API Error. <class 'sqlalchemy.exc.OperationalError'> (HTTP 500)", err.Error())
	assert.Equal(t, []string{"POST /compute/v2.1/servers"}, fc.Writes)
	assert.False(t, out.Changed)
}

func TestPreflightNamesEveryProblemAndWritesNothing(t *testing.T) {
	fc, c := cloud(t)
	d := want("nope")
	d.Image = "nope"
	d.Nics = Nics{List: []NIC{{NetName: "nope"}, {PortID: "nope"}, {NetID: netID}}}
	d.KeyName = "nope"
	d.AvailabilityZone = "nova::nope"
	d.UserData = &UserData{Content: make([]byte, 60000), Source: "/tmp/big.ign"}
	o, err := Observe(context.Background(), c, d)
	require.NoError(t, err)
	p := MakePlan(d, o)
	for _, want := range []string{
		`image: Glance has no image with name or ID "nope"`,
		`flavor: Nova has no flavor with name or ID "nope"`,
		`nics[0].net-name: Neutron has no network with name or ID "nope"`,
		`nics[1].port-id: Neutron has no port "nope"`,
		`key_name: Nova has no key pair "nope"`,
		`availability_zone: Ironic has no node "nope"`,
		`/tmp/big.ign is 60000 bytes, 80000 bytes once base64-encoded`,
	} {
		assert.Contains(t, p.Failure, want)
	}
	assert.Empty(t, p.Actions)
	assert.Empty(t, fc.Writes)
}

func TestPreflightRefusesAPortInUseAndWarns(t *testing.T) {
	fc, c := cloud(t)
	fc.Ports[0]["device_id"] = "other-server"
	d := want("insp-scale")
	d.Nics = Nics{List: []NIC{{PortID: portID}}}
	d.KeyName = "stack"
	d.UserData = &UserData{Content: []byte(`{"ignition":{"version":"3.4.0"}}`)}
	o, err := Observe(context.Background(), c, d)
	require.NoError(t, err)
	assert.Equal(t, []string{"nics[0].port-id: port " + portID + " is already attached to other-server"}, o.Problems)
	assert.Contains(t, strings.Join(o.Warnings, "\n"), "Ignition, which ignores Nova key pairs")

	d = want("insp-scale")
	d.Nics = Nics{Mode: "none"}
	o, err = Observe(context.Background(), c, d)
	require.NoError(t, err)
	assert.Contains(t, strings.Join(o.Warnings, "\n"), "config_drive with nics none fails in Nova 26")
}

func TestRecreateOnError(t *testing.T) {
	fc, c := cloud(t)
	fc.Boot = func(s map[string]any) {
		s["status"] = "ERROR"
		s["fault"] = map[string]any{"code": 500, "message": "No valid host was found. "}
	}
	_, _, _, err := run(t, c, want("insp-scale"))
	require.Error(t, err)

	d := want("insp-scale")
	o, err := Observe(context.Background(), c, d)
	require.NoError(t, err)
	assert.Contains(t, MakePlan(d, o).Failure, "set recreate_on_error: true")

	fc.Boot = func(s map[string]any) { fc.Land(s, goodNode) }
	d.RecreateOnError = true
	_, p, out, err := run(t, c, d)
	require.NoError(t, err)
	assert.Equal(t, []Action{ActionDelete, ActionCreate}, p.Actions)
	assert.Equal(t, "ACTIVE", out.Server.Status)
	assert.Len(t, out.Deleted, 1)
	assert.NotEqual(t, out.Deleted[0], out.Server.ID)
}

// reserveNode sets the Placement inventory of node (by name) reserved or
// not, as Nova's resource update does.
func reserveNode(t *testing.T, fc *fakecloud.Cloud, node string, reserved bool) {
	t.Helper()
	for _, n := range fc.Nodes {
		if n["name"] != node {
			continue
		}
		inv := fc.Inventories[n["uuid"].(string)].(map[string]any)["inventories"].(map[string]any)
		for _, v := range inv {
			v.(map[string]any)["reserved"] = map[bool]int{true: 1, false: 0}[reserved]
		}
		return
	}
	t.Fatalf("no node %s", node)
}

func refuse(s map[string]any) {
	s["status"] = "ERROR"
	s["fault"] = map[string]any{"code": 500, "message": "No valid host was found. "}
}

// A recreate that Nova refuses while Placement still reserves a node Ironic
// has available (a resource update that read it mid-cleaning) is deleted and
// booted once more.
func TestRecreateBootsAgainWhenPlacementLags(t *testing.T) {
	fc, c := cloud(t)
	fc.Boot = refuse
	_, _, _, err := run(t, c, want("insp-scale"))
	require.Error(t, err)

	boots := 0
	fc.Boot = func(s map[string]any) {
		boots++
		if boots == 1 {
			reserveNode(t, fc, goodNode, true)
			refuse(s)
			return
		}
		reserveNode(t, fc, goodNode, false)
		fc.Land(s, goodNode)
	}
	d := want("insp-scale")
	d.RecreateOnError = true
	_, _, out, err := run(t, c, d)
	require.NoError(t, err)
	assert.Equal(t, 2, boots)
	assert.Equal(t, "ACTIVE", out.Server.Status)
	require.Len(t, out.Deleted, 2, "the earlier ERROR server and the refused one")
	assert.Equal(t, out.Deleted[1], out.Refused)
	assert.Contains(t, DoneMessage(d, MakePlan(d, Observed{}), out), "Nova first refused it as "+out.Refused)
}

// A node Placement keeps reserving is retried once, then fails with the
// diagnosis.
func TestRecreateRetriesPlacementLagOnce(t *testing.T) {
	fc, c := cloud(t)
	fc.Boot = refuse
	_, _, _, err := run(t, c, want("insp-scale"))
	require.Error(t, err)

	boots := 0
	fc.Boot = func(s map[string]any) {
		boots++
		reserveNode(t, fc, goodNode, true)
		refuse(s)
	}
	d := want("insp-scale")
	d.RecreateOnError = true
	_, _, out, err := run(t, c, d)
	require.Error(t, err)
	assert.Equal(t, 2, boots)
	assert.Contains(t, err.Error(), "went to ERROR: No valid host was found")
	require.NotNil(t, out.Diagnosis)
	assert.True(t, out.Diagnosis.PlacementLags(), "the failure carries the second refusal's diagnosis")
}

// A fresh create refused while Placement reserves a node is not retried:
// nothing was just freed, so the reservation is the operator's to fix.
func TestCreateDoesNotRetryPlacementReservation(t *testing.T) {
	fc, c := cloud(t)
	boots := 0
	fc.Boot = func(s map[string]any) {
		boots++
		reserveNode(t, fc, goodNode, true)
		refuse(s)
	}
	_, _, _, err := run(t, c, want("insp-scale"))
	require.Error(t, err)
	assert.Equal(t, 1, boots)
}
