package server

import (
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metalkit/baremetal/internal/diagnose"
)

func present() Desired {
	return Desired{Name: "node-1", State: StatePresent, Image: "rhcos", Flavor: "baremetal", Wait: true,
		Nics: Nics{List: []NIC{{NetName: "ctlplane"}}}, ConfigDrive: true}
}

func resolved() Observed {
	return Observed{
		Image:    &Image{ID: "img-1", Name: "rhcos", Status: "active"},
		Flavor:   &diagnose.Flavor{ID: "fl-1", Name: "baremetal"},
		Networks: []servers.Network{{UUID: "net-1"}},
	}
}

func existing(status string) servers.Server {
	return servers.Server{ID: "srv-1", Name: "node-1", Status: status,
		Image:  map[string]any{"id": "img-1"},
		Flavor: map[string]any{"original_name": "baremetal"}}
}

func TestMakePlan(t *testing.T) {
	cases := []struct {
		name       string
		desired    func(*Desired)
		observed   func(*Observed)
		actions    []Action
		changes    bool
		failure    string
		mismatches []string
		warning    string
	}{
		{name: "absent server is created", actions: []Action{ActionCreate}, changes: true},
		{name: "ACTIVE server with the same image and flavor: nothing to do (idempotence)",
			observed: func(o *Observed) { o.Servers = []servers.Server{existing("ACTIVE")} }},
		{name: "image mismatch is reported, not fixed",
			observed: func(o *Observed) {
				s := existing("ACTIVE")
				s.Image = map[string]any{"id": "img-old"}
				o.Servers = []servers.Server{s}
			},
			mismatches: []string{"image mismatch: server node-1 runs image img-old, the task asks for rhcos (img-1)"},
			warning:    "image mismatch"},
		{name: "flavor mismatch by name (microversion 2.47+)",
			observed: func(o *Observed) {
				s := existing("ACTIVE")
				s.Flavor = map[string]any{"original_name": "compute"}
				o.Servers = []servers.Server{s}
			},
			mismatches: []string{"flavor mismatch: server node-1 has flavor compute, the task asks for baremetal"}},
		{name: "flavor mismatch by ID (old Nova)",
			observed: func(o *Observed) {
				s := existing("ACTIVE")
				s.Flavor = map[string]any{"id": "fl-9"}
				o.Servers = []servers.Server{s}
			},
			mismatches: []string{"flavor mismatch: server node-1 has flavor fl-9, the task asks for baremetal (fl-1)"}},
		{name: "other user data is reported (admins see it)",
			desired: func(d *Desired) { d.UserData = &UserData{Content: []byte("new")} },
			observed: func(o *Observed) {
				s := existing("ACTIVE")
				old := "b2xk" // "old"
				s.Userdata = &old
				o.Servers = []servers.Server{s}
			},
			mismatches: []string{"user data mismatch: server node-1 booted with other user data (it only applies at first boot)"}},
		{name: "same user data: nothing to report",
			desired: func(d *Desired) { d.UserData = &UserData{Content: []byte("old")} },
			observed: func(o *Observed) {
				s := existing("ACTIVE")
				old := "b2xk"
				s.Userdata = &old
				o.Servers = []servers.Server{s}
			}},
		{name: "metadata that differs is updated",
			desired:  func(d *Desired) { d.Metadata = map[string]string{"role": "worker"} },
			observed: func(o *Observed) { o.Servers = []servers.Server{existing("ACTIVE")} },
			actions:  []Action{ActionUpdateMetadata}, changes: true},
		{name: "metadata already set: unchanged",
			desired: func(d *Desired) { d.Metadata = map[string]string{"role": "worker"} },
			observed: func(o *Observed) {
				s := existing("ACTIVE")
				s.Metadata = map[string]string{"role": "worker", "other": "kept"}
				o.Servers = []servers.Server{s}
			}},
		{name: "ERROR server without recreate_on_error fails, nothing written",
			observed: func(o *Observed) {
				s := existing("ERROR")
				s.Fault = servers.Fault{Message: "No valid host was found. "}
				o.Servers = []servers.Server{s}
			},
			failure: "is in ERROR from an earlier run (No valid host was found.); set recreate_on_error: true"},
		{name: "ERROR server with recreate_on_error is deleted and booted again",
			desired:  func(d *Desired) { d.RecreateOnError = true },
			observed: func(o *Observed) { o.Servers = []servers.Server{existing("ERROR")} },
			actions:  []Action{ActionDelete, ActionCreate}, changes: true},
		{name: "recreate still needs a clean pre-flight",
			desired: func(d *Desired) { d.RecreateOnError = true },
			observed: func(o *Observed) {
				o.Servers = []servers.Server{existing("ERROR")}
				o.Problems = []string{"image: Glance has no image with name or ID \"rhcos\""}
			},
			failure: "pre-flight check failed, nothing was created: image: Glance has no image"},
		{name: "BUILD from an earlier run is waited for, not changed",
			observed: func(o *Observed) { o.Servers = []servers.Server{existing("BUILD")} },
			actions:  []Action{ActionWait}},
		{name: "BUILD whose build request was lost, with recreate_on_error: deleted and booted again",
			desired: func(d *Desired) { d.RecreateOnError = true },
			observed: func(o *Observed) {
				o.Servers = []servers.Server{existing("BUILD")}
				o.LostBuild = "the scheduler placed server node-1 (...) but no nova-compute took it"
			},
			actions: []Action{ActionDelete, ActionCreate}, changes: true,
			warning: "no nova-compute took it: recreate_on_error deletes it and boots it again"},
		{name: "lost BUILD recreate still needs a clean pre-flight",
			desired: func(d *Desired) { d.RecreateOnError = true },
			observed: func(o *Observed) {
				o.Servers = []servers.Server{existing("BUILD")}
				o.LostBuild = "lost"
				o.Problems = []string{"flavor: no"}
			},
			failure: "pre-flight check failed, nothing was created: flavor: no"},
		{name: "BUILD without wait: a warning",
			desired:  func(d *Desired) { d.Wait = false },
			observed: func(o *Observed) { o.Servers = []servers.Server{existing("BUILD")} },
			warning:  "still BUILD"},
		{name: "SHUTOFF is left alone with a warning",
			observed: func(o *Observed) { o.Servers = []servers.Server{existing("SHUTOFF")} },
			warning:  "status SHUTOFF"},
		{name: "pre-flight problems: nothing is created, every problem listed",
			observed: func(o *Observed) { o.Problems = []string{"image: no", "flavor: no"} },
			failure:  "pre-flight check failed, nothing was created: image: no; flavor: no"},
		{name: "two servers of the name: ambiguous",
			observed: func(o *Observed) { o.Servers = []servers.Server{existing("ACTIVE"), existing("ERROR")} },
			failure:  "2 servers are named \"node-1\""},
		{name: "absent: nothing there, nothing to do",
			desired: func(d *Desired) { d.State = StateAbsent }},
		{name: "absent: the server is deleted",
			desired:  func(d *Desired) { d.State = StateAbsent },
			observed: func(o *Observed) { o.Servers = []servers.Server{existing("ACTIVE")} },
			actions:  []Action{ActionDelete}, changes: true},
		{name: "absent: every server of the name is deleted",
			desired:  func(d *Desired) { d.State = StateAbsent },
			observed: func(o *Observed) { o.Servers = []servers.Server{existing("ACTIVE"), existing("ERROR")} },
			actions:  []Action{ActionDelete}, changes: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, o := present(), resolved()
			if tc.desired != nil {
				tc.desired(&d)
			}
			if tc.observed != nil {
				tc.observed(&o)
			}
			p := MakePlan(d, o)
			assert.Equal(t, tc.actions, p.Actions)
			assert.Equal(t, tc.changes, p.Changes())
			if tc.failure == "" {
				assert.Empty(t, p.Failure)
			} else {
				assert.Contains(t, p.Failure, tc.failure)
				assert.Empty(t, p.Actions, "a failed plan writes nothing")
			}
			assert.Equal(t, tc.mismatches, p.Mismatches)
			if tc.warning != "" {
				assert.Contains(t, strings.Join(p.Warnings, "\n"), tc.warning)
			}
		})
	}
}

func TestDiffView(t *testing.T) {
	d, o := present(), resolved()
	d.UserData = &UserData{Content: []byte(`{"ignition":{"version":"3.4.0"}}`), Source: "user_data"}
	d.Metadata = map[string]string{"role": "worker"}
	before, after := DiffView(d, o, MakePlan(d, o))
	assert.Equal(t, map[string]any{}, before)
	assert.Equal(t, "ACTIVE", after["status"])
	assert.Equal(t, "img-1", after["image"])
	assert.Equal(t, "baremetal", after["flavor"])
	assert.Equal(t, []any{map[string]any{"net-id": "net-1"}}, after["networks"])
	assert.Equal(t, map[string]any{"size": 32, "sha256": d.UserData.SHA256()}, after["user_data"])
	assert.NotContains(t, after, "user_data_content")

	o.Servers = []servers.Server{existing("ACTIVE")}
	before, after = DiffView(d, o, MakePlan(d, o))
	assert.Equal(t, "srv-1", before["id"])
	assert.Equal(t, map[string]string{}, before["metadata"])
	assert.Equal(t, map[string]string{"role": "worker"}, after["metadata"])

	d.State = StateAbsent
	before, after = DiffView(d, o, MakePlan(d, o))
	assert.Equal(t, "srv-1", before["id"])
	assert.Equal(t, map[string]any{}, after)
}

func TestParseNics(t *testing.T) {
	cases := []struct {
		name    string
		raw     any
		network string
		want    Nics
		err     string
	}{
		{name: "unset is auto", want: Nics{Mode: "auto"}},
		{name: "none", raw: "none", want: Nics{Mode: "none"}},
		{name: "AUTO", raw: "AUTO", want: Nics{Mode: "auto"}},
		{name: "network option", network: "ctlplane", want: Nics{List: []NIC{{NetName: "ctlplane"}}}},
		{name: "network and nics", network: "a", raw: "none", err: "mutually exclusive"},
		{name: "one key=value string", raw: "net-id=abc,v4-fixed-ip=192.0.2.5", want: Nics{List: []NIC{{NetID: "abc", FixedIP: "192.0.2.5"}}}},
		{name: "list of dicts and strings", raw: []any{map[string]any{"net-name": "ctlplane", "fixed_ip": "192.0.2.9"}, "port-id=p1", "storage"},
			want: Nics{List: []NIC{{NetName: "ctlplane", FixedIP: "192.0.2.9"}, {PortID: "p1"}, {NetName: "storage"}}}},
		{name: "openstack.cloud spellings", raw: []any{map[string]any{"net_id": "n1"}, map[string]any{"port": "p2"}},
			want: Nics{List: []NIC{{NetID: "n1"}, {PortID: "p2"}}}},
		{name: "empty list", raw: []any{}, err: "nics: empty list; use nics: none"},
		{name: "two targets", raw: []any{map[string]any{"net-id": "a", "net-name": "b"}}, err: "nics[0]: give only one of net-id, net-name, port-id"},
		{name: "no target", raw: []any{map[string]any{"fixed_ip": "192.0.2.1"}}, err: "nics[0]: needs one of net-id, net-name, port-id"},
		{name: "fixed ip with a port", raw: []any{map[string]any{"port-id": "a", "fixed_ip": "192.0.2.1"}}, err: "fixed_ip goes with a network"},
		{name: "bad ip", raw: []any{map[string]any{"net-id": "a", "fixed_ip": "300.1.1.1"}}, err: `nics[0]: fixed_ip "300.1.1.1" is not an IP address`},
		{name: "unknown key", raw: []any{map[string]any{"net-nam": "a"}}, err: "nics[0]: unknown key(s) net-nam"},
		{name: "bad item", raw: []any{42}, err: "nics[0]: expected a dict"},
		{name: "bad string item", raw: []any{"net-id=a,oops"}, err: `nics[0]: "oops" is not key=value`},
		{name: "bad type", raw: 42, err: "nics: expected none, auto, or a list"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseNics(tc.raw, tc.network)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestUserData(t *testing.T) {
	small := &UserData{Content: []byte(`{"ignition":{"version":"3.4.0"}}`), Source: "user_data"}
	assert.NoError(t, small.CheckSize())
	assert.True(t, small.LooksLikeIgnition())
	assert.Equal(t, 32, small.Size())
	assert.Equal(t, 44, small.EncodedSize())
	assert.Equal(t, map[string]any{"size": 32, "encoded_size": 44, "sha256": small.SHA256(), "source": "user_data"}, small.Report())

	// Nova's limit is on the base64 text: 49149 raw bytes encode to 65532, 49150 to 65536.
	edge := &UserData{Content: make([]byte, 49149), Source: "/tmp/x.ign"}
	assert.NoError(t, edge.CheckSize())
	over := &UserData{Content: make([]byte, 49150), Source: "/tmp/x.ign"}
	err := over.CheckSize()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/tmp/x.ign is 49150 bytes, 65536 bytes once base64-encoded; Nova accepts at most 65535")
	assert.False(t, (&UserData{Content: []byte("#cloud-config\n")}).LooksLikeIgnition())
}

func TestParseAvailabilityZone(t *testing.T) {
	for in, want := range map[string]Pin{
		"":                 {},
		"nova":             {Zone: "nova"},
		"nova:host1":       {Zone: "nova", Host: "host1"},
		"nova::node-1":     {Zone: "nova", Node: "node-1"},
		"nova:host1:node1": {Zone: "nova", Host: "host1", Node: "node1"},
	} {
		got := ParseAvailabilityZone(in)
		assert.Equal(t, want, got, in)
		assert.Equal(t, in, got.String(), "round trip")
	}
}

func TestEmbeddedFlavor(t *testing.T) {
	f, ok := embeddedFlavor(map[string]any{"original_name": "baremetal", "vcpus": 4.0, "ram": 8192.0, "disk": 40.0,
		"extra_specs": map[string]any{"resources:CUSTOM_BAREMETAL": "1"}})
	require.True(t, ok)
	assert.Equal(t, diagnose.Flavor{Name: "baremetal", VCPUs: 4, RAM: 8192, Disk: 40, ExtraSpecs: map[string]string{"resources:CUSTOM_BAREMETAL": "1"}}, f)
	_, ok = embeddedFlavor(map[string]any{"original_name": "baremetal"})
	assert.False(t, ok, "without extra specs (not shown to this user) the resolved flavor is used")
}
