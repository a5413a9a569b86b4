package ansible

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ansible-doc 2.14 itself reads the sidecar file DocsYAML writes, next to a
// stand-in ELF binary module, in a throwaway collection.
func TestDocsYAMLReadByAnsibleDoc(t *testing.T) {
	ansibleDoc, err := exec.LookPath("ansible-doc")
	require.NoError(t, err, "needs Debian's ansible-core (apt-get install ansible-core)")
	root := t.TempDir()
	coll := filepath.Join(root, "ansible_collections", "metalkit", "baremetal")
	modules := filepath.Join(coll, "plugins", "modules")
	require.NoError(t, os.MkdirAll(modules, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(coll, "plugins", "doc_fragments"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(coll, "galaxy.yml"), []byte("namespace: metalkit\nname: baremetal\nversion: 1.0.0\nreadme: README.md\nauthors: [test]\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(coll, "plugins", "doc_fragments", "openstack.py"),
		[]byte("class ModuleDocFragment(object):\n    DOCUMENTATION = r'''\noptions:\n  cloud:\n    description: Cloud name.\n    type: str\n'''\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(modules, "ironic_enroll"), []byte("\x7fELF\x02\x01\x01\x00stand-in"), 0o755))
	doc, err := DocsYAML(docSpec())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(modules, "ironic_enroll.yml"), doc, 0o644))

	cmd := exec.Command(ansibleDoc, "--json", "metalkit.baremetal.ironic_enroll")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "ANSIBLE_COLLECTIONS_PATH="+root, "HOME="+root, "ANSIBLE_LOCAL_TEMP="+filepath.Join(root, "tmp"))
	out, err := cmd.Output()
	require.NoError(t, err)
	var res map[string]struct {
		Doc      map[string]any `json:"doc"`
		Examples string         `json:"examples"`
		Return   map[string]any `json:"return"`
	}
	require.NoError(t, json.Unmarshal(out, &res), "%s", out)
	got, ok := res["metalkit.baremetal.ironic_enroll"]
	require.True(t, ok, "%s", out)
	opts := got.Doc["options"].(map[string]any)
	assert.ElementsMatch(t, []string{"cloud", "nodes", "state"}, keys(opts), "own options plus the doc fragment's")
	assert.Equal(t, "Enroll bare metal nodes in Ironic", got.Doc["short_description"])
	assert.Equal(t, docSpec().Examples, got.Examples)
	assert.Contains(t, got.Return, "nodes")
}
