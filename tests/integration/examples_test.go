//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	bmports "github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// The names the EXAMPLES use. This test owns them on the shared services:
// it removes leftovers first and everything it made at the end.
var (
	exampleNodes  = []string{"blade-ocp-node-1", "blade-ocp-node-2", "blade-ocp-node-3", "blade-ocp-node-4", "r640-1"}
	exampleImages = []string{"rhcos-4.16", "rhcos-image", "rhcos-raw", "rhcos-4.15"}
)

const exampleRedfishSentinel = "SENTINEL-redfish-pass-51c0"

// exampleHost is what an operator's undercloud looks like to the EXAMPLES: a
// HOME with ~/.config/openstack/clouds.yaml naming the cloud "undercloud"
// (also OS_CLOUD, as after `source stackrc`), ~/instackenv.json, an SSH key,
// the CA, a local RHCOS image, and a playbook directory with files/.
type exampleHost struct {
	home, playDir string
	env           []string
	vars          map[string]any
	mirror        *sourceServer
	qcow2SHA512   string
}

func newExampleHost(t *testing.T) *exampleHost {
	t.Helper()
	f := getFixtures(t)
	h := &exampleHost{home: t.TempDir(), playDir: t.TempDir()}
	write := func(rel string, data []byte) {
		p := filepath.Join(h.home, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o700))
		require.NoError(t, os.WriteFile(p, data, 0o600))
	}

	// clouds.yaml: the test services' "local" cloud under the name the examples use.
	raw, err := os.ReadFile(cloudsYAML)
	require.NoError(t, err, "start the services first: make services-up")
	var clouds struct {
		Clouds map[string]any `yaml:"clouds"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &clouds))
	require.Contains(t, clouds.Clouds, "local")
	out, err := yaml.Marshal(map[string]any{"clouds": map[string]any{"undercloud": clouds.Clouds["local"]}})
	require.NoError(t, err)
	write(".config/openstack/clouds.yaml", out)

	sshKey, caPEM := testIdentity(t)
	write(".ssh/id_ed25519.pub", []byte(sshKey+"\n"))
	write("ocp/undercloud-ca.pem", []byte(caPEM))
	require.NoError(t, os.MkdirAll(filepath.Join(h.playDir, "files"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(h.playDir, "files", "mcs-ca.pem"), []byte(caPEM), 0o644))

	// A virtual undercloud's instackenv: IPMI through the services' BMC
	// emulator on 127.0.0.1 (tests/services/bmc.sh: admin/password).
	instack := map[string]any{"nodes": []any{
		map[string]any{"name": "blade-ocp-node-2", "pm_type": "ipmi", "pm_addr": "127.0.0.1", "pm_port": "6231",
			"pm_user": "admin", "pm_password": "password", "mac": []any{"52:54:00:0c:d5:fb"},
			"arch": "x86_64", "cpu": "4", "memory": "8192", "disk": "80"},
		map[string]any{"name": "blade-ocp-node-3", "pm_type": "ipmi", "pm_addr": "127.0.0.1", "pm_port": "6232",
			"pm_user": "admin", "pm_password": "password", "mac": []any{"52:54:00:0c:d5:fc"},
			"arch": "x86_64", "cpu": "4", "memory": "8192", "disk": "80"},
	}}
	js, _ := json.MarshalIndent(instack, "", "  ")
	write("instackenv.json", js)

	xz, err := os.ReadFile(f.xz)
	require.NoError(t, err)
	write("images/rhcos-openstack.x86_64.qcow2.xz", xz)

	// The RHCOS mirror, on loopback.
	mirrorDir := t.TempDir()
	for src, dst := range map[string]string{f.gz: "rhcos-openstack.x86_64.qcow2.gz", f.raw: "rhcos-metal.x86_64.raw"} {
		require.NoError(t, os.Symlink(src, filepath.Join(mirrorDir, dst)))
	}
	h.mirror = newSourceServer(t, mirrorDir, false)
	h.qcow2SHA512 = fileSHA512(t, f.qcow2)

	h.vars = map[string]any{
		"vault_bmc_password":     "password",
		"vault_redfish_password": exampleRedfishSentinel,
		"core_ssh_key":           sshKey,
		"rhcos_mirror":           h.mirror.URL,
		"rhcos_sha256":           fileSHA256(t, f.gz),
	}
	// Whatever the runner gives the examples must be loopback too.
	for k, v := range h.vars {
		s, _ := v.(string)
		require.Empty(t, loopbackProblem(s, strings.Contains(k, "mirror")), "extra var %s", k)
	}
	h.env = []string{"HOME=" + h.home, "OS_CLOUD=undercloud", "OS_CLIENT_CONFIG_FILE=", "OS_CLIENT_SECURE_FILE=", "XDG_CONFIG_HOME="}
	return h
}

// run plays a module's EXAMPLES as written, with the host's variables.
func (h *exampleHost) run(t *testing.T, module string) *PlaybookRun {
	t.Helper()
	text, tasks := moduleExamples(t, module)
	require.Empty(t, examplesProblems(tasks), "%s EXAMPLES must name only loopback hosts before they are run", module)
	var body strings.Builder
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		body.WriteString("    " + line + "\n")
	}
	play := filepath.Join(h.playDir, module+".yml")
	require.NoError(t, os.WriteFile(play, []byte(playbook(body.String())), 0o644))
	varsJSON, _ := json.Marshal(h.vars)
	varsFile := filepath.Join(h.playDir, "vars.json")
	require.NoError(t, os.WriteFile(varsFile, varsJSON, 0o600))
	start := time.Now()
	run := RunPlaybookFile(t, play, h.env, "-e", "@"+varsFile)
	t.Logf("%s EXAMPLES: %d tasks in %.1f s, %v changed", module, len(run.Tasks), time.Since(start).Seconds(), run.Stats["changed"])
	require.Zero(t, run.ExitCode, "%s EXAMPLES failed:\n%.6000s", module, run.Output())
	require.Len(t, run.Tasks, len(tasks), "every example task ran")
	for _, task := range run.Tasks {
		assert.False(t, task.Failed(), "%s: %s", task.Name, task.Msg())
		skipped, _ := task.Result["skipped"].(bool)
		assert.False(t, skipped && task.Name != "Show which nodes failed and why", "%s was skipped", task.Name)
	}
	AssertNoSecret(t, run, exampleRedfishSentinel)
	return run
}

// TestModuleExamplesRun runs every module's EXAMPLES, as ansible-doc shows
// them, against the local services in flow order, and checks what each
// block left behind.
func TestModuleExamplesRun(t *testing.T) {
	b := newSrvBed(t)
	h := newExampleHost(t)
	nodeNamed := func(name string) *nodes.Node {
		n, err := nodes.Get(b.ctx, b.bm, name).Extract()
		if err != nil {
			return nil
		}
		return n
	}
	deleteNodes := func() {
		for _, name := range exampleNodes {
			if n := nodeNamed(name); n != nil {
				b.deleteNode(n.UUID)
			}
		}
	}
	c := glance(t)
	deleteImages := func() { _ = deleteImagesNamed(t, c, exampleImages...) }
	for _, name := range []string{"blade-ocp-node-1", "blade-ocp-node-2"} {
		for _, srv := range b.serversNamed(name) {
			t.Logf("removing a leftover server %s", srv.Name)
			_ = servers.Delete(b.ctx, b.compute, srv.ID).ExtractErr()
		}
		b.cleanupServer(name)
	}
	deleteNodes()
	deleteImages()
	t.Cleanup(deleteImages)
	t.Cleanup(deleteNodes)

	t.Run("ironic_enroll", func(t *testing.T) {
		h.run(t, "ironic_enroll")
		n1 := nodeNamed("blade-ocp-node-1")
		require.NotNil(t, n1)
		assert.Equal(t, "ipmi", n1.Driver, "pxe_ipmitool maps to the ipmi hardware type")
		assert.Equal(t, "manageable", n1.ProvisionState, "the BMC emulator accepted the credentials")
		r640 := nodeNamed("r640-1")
		require.NotNil(t, r640)
		assert.Equal(t, "redfish", r640.Driver)
		assert.Equal(t, "enroll", r640.ProvisionState)
		assert.Nil(t, nodeNamed("blade-ocp-node-2"), "the last example removes the nodes of the file")
		assert.Nil(t, nodeNamed("blade-ocp-node-3"))
		deleteNodes()
	})

	t.Run("ironic_introspect", func(t *testing.T) {
		// Four new fake-hardware nodes in enroll, as an enroll with
		// initial_state: enroll leaves them.
		for i, name := range exampleNodes[:4] {
			n, err := nodes.Create(b.ctx, b.bm, nodes.CreateOpts{Name: name, Driver: "fake-hardware",
				Properties: map[string]any{"cpus": 4, "memory_mb": 8192, "local_gb": 100, "cpu_arch": "x86_64"}}).Extract()
			require.NoError(t, err)
			_, err = bmports.Create(b.ctx, b.bm, bmports.CreateOpts{NodeUUID: n.UUID, Address: "52:54:00:0e:00:0" + string(rune('1'+i))}).Extract()
			require.NoError(t, err)
		}
		h.run(t, "ironic_introspect")
		for _, name := range exampleNodes[:3] {
			n := nodeNamed(name)
			require.NotNil(t, n)
			assert.Equal(t, "available", n.ProvisionState, name)
			assert.Equal(t, "baremetal", n.ResourceClass, name)
			assert.Contains(t, n.Properties["capabilities"], "profile:baremetal", name)
		}
		n4 := nodeNamed("blade-ocp-node-4")
		require.NotNil(t, n4)
		assert.Equal(t, "manageable", n4.ProvisionState, "all_in_state: enroll took the fourth node")
		b.deleteNode(n4.UUID)
	})

	t.Run("glance_rhcos", func(t *testing.T) {
		h.run(t, "glance_rhcos")
		for name, format := range map[string]string{"rhcos-4.16": "qcow2", "rhcos-image": "qcow2", "rhcos-raw": "raw"} {
			list := imagesNamed(t, c, name)
			require.Len(t, list, 1, name)
			assert.Equal(t, images.ImageStatusActive, list[0].Status, name)
			assert.Equal(t, format, list[0].DiskFormat, name)
		}
		assert.Equal(t, h.qcow2SHA512, imagesNamed(t, c, "rhcos-4.16")[0].Properties["os_hash_value"], "the uncompressed qcow2 is what Glance holds")
		assert.Equal(t, 1, h.mirror.getCount("/rhcos-openstack.x86_64.qcow2.gz"), "one download")
	})

	t.Run("ignition_render", func(t *testing.T) {
		h.run(t, "ignition_render")
		for name, spec := range map[string]string{"config.ign": "3.4.0", "config-legacy.ign": "2.2.0", "worker.ign": "3.5.0"} {
			data, err := os.ReadFile(filepath.Join(h.home, "ocp", name))
			require.NoError(t, err, name)
			var c struct{ Ignition struct{ Version string } }
			require.NoError(t, json.Unmarshal(data, &c), name)
			assert.Equal(t, spec, c.Ignition.Version, name)
		}
		data, _ := os.ReadFile(filepath.Join(h.home, "ocp", "config.ign"))
		assertValidIgnition(t, "3.4.0", filepath.Join(h.home, "ocp", "config.ign"), data)
	})

	t.Run("nova_bm_server", func(t *testing.T) {
		var free []nodes.Node
		for _, name := range exampleNodes[:3] {
			n := nodeNamed(name)
			require.NotNil(t, n, "the introspect examples left %s", name)
			free = append(free, *n)
		}
		b.waitPlacement(free, nil)
		run := h.run(t, "nova_bm_server")
		pinned := b.serversNamed("blade-ocp-node-2")
		require.Len(t, pinned, 1)
		assert.Equal(t, "ACTIVE", pinned[0].Status)
		n2 := nodeNamed("blade-ocp-node-2")
		require.NotNil(t, n2)
		assert.Equal(t, pinned[0].ID, n2.InstanceUUID, "nova::blade-ocp-node-2 put the server on that node")
		assert.Empty(t, b.serversNamed("blade-ocp-node-1"), "the last example deletes it")
		doctor := run.Task(t, "Why would a baremetal server not schedule? (creates nothing)")
		assert.NotEmpty(t, path(doctor.Result, "diagnosis", "summary"))
		assert.Empty(t, b.serversNamed("blade-ocp-node-3"), "diagnose creates nothing")
		require.NoError(t, servers.Delete(b.ctx, b.compute, pinned[0].ID).ExtractErr())
	})

	t.Run("nova_bm_server_info", func(t *testing.T) {
		run := h.run(t, "nova_bm_server_info")
		doctor := run.Task(t, "Which nodes can host the flavor, and why not the others? (changes nothing)")
		assert.False(t, doctor.Changed())
		assert.Equal(t, "on_demand", path(doctor.Result, "diagnosis", "cause"))
		assert.NotEmpty(t, path(doctor.Result, "diagnosis", "summary"))
		nodeReport(t, doctor.Result["diagnosis"].(map[string]any), "blade-ocp-node-3")
		pinned := run.Task(t, "Why would a server of this name not go to the node it is pinned to?")
		assert.Contains(t, pinned.Msg(), "blade-ocp-node-2", "the pin is explained")
		assert.Zero(t, run.ChangedCount(), "an _info module changes nothing")
	})

	t.Run("ironic_node_action", func(t *testing.T) {
		run := h.run(t, "ironic_node_action")
		assert.True(t, run.Task(t, "Take a node away from Nova while its DIMM is replaced").Changed())
		n3 := nodeNamed("blade-ocp-node-3")
		require.NotNil(t, n3)
		assert.False(t, n3.Maintenance, "the last example gives it back to Nova")
		assert.Equal(t, "power off", n3.PowerState)
		assert.Equal(t, "baremetal", n3.ResourceClass)
		assert.Contains(t, n3.Properties["capabilities"], "profile:baremetal")
		assert.Contains(t, n3.Traits, "CUSTOM_RHCOS")
	})
}
