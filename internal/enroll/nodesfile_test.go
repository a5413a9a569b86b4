package enroll

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixture(name string) string {
	return filepath.Join("..", "..", "tests", "fixtures", "enroll", name)
}

func TestLoadFileJSONWorkflowExample(t *testing.T) {
	items, err := LoadFile(fixture("instackenv.json"))
	require.NoError(t, err)
	in, err := Parse(items, false)
	require.NoError(t, err)
	n := in.Nodes[0]
	assert.Equal(t, "blade-ocp-node-1", n.Name)
	assert.Equal(t, int64(6230), n.DriverInfo["ipmi_port"])
	assert.Equal(t, int64(4096), n.Properties["memory_mb"])
	assert.Equal(t, "18:db:f2:8c:d5:fa", n.Ports[0].Address)
}

func TestLoadFileYAMLKeepsScalarText(t *testing.T) {
	items, err := LoadFile(fixture("instackenv.yaml"))
	require.NoError(t, err)
	in, err := Parse(items, false)
	require.NoError(t, err)
	assert.Equal(t, "yes", in.Nodes[0].DriverInfo["ipmi_password"], "an unquoted yes stays the password yes")
	assert.Equal(t, "0123", in.Nodes[1].DriverInfo["ipmi_password"], "a leading zero is kept, not read as octal")
	assert.Equal(t, int64(100), in.Nodes[0].Properties["local_gb"], "0100 GiB is one hundred, in decimal")
	assert.Equal(t, int64(4), in.Nodes[0].Properties["cpus"])
	assert.Equal(t, "ctlplane", *in.Nodes[1].Ports[0].PhysicalNetwork)
	assert.ElementsMatch(t, []string{"yes", "0123"}, in.Secrets)
}

func TestLoadFileBareList(t *testing.T) {
	items, err := LoadFile(fixture("bare-list.yml"))
	require.NoError(t, err)
	in, err := Parse(items, false)
	require.NoError(t, err)
	assert.Equal(t, "52:54:00:f1:00:03", in.Nodes[0].Ports[0].Address, "an unquoted MAC is a string in YAML 1.2")
}

func TestLoadFileErrors(t *testing.T) {
	tmp := filepath.Join(t.TempDir(), "nodes.txt")
	require.NoError(t, os.WriteFile(tmp, []byte(`"just a string"`), 0o600))
	tests := []struct{ path, want string }{
		{fixture("broken.json"), "is not valid JSON"},
		{fixture("no-nodes.yaml"), `has no "nodes" list`},
		{fixture("missing.json"), "nodes_file: open"},
		{tmp, `must hold {"nodes": [...]} or a list of nodes`},
	}
	for _, tt := range tests {
		_, err := LoadFile(tt.path)
		assert.ErrorContains(t, err, tt.want, tt.path)
	}
}
