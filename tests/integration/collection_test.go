//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// installedModules lists the module binaries in the installed collection.
func installedModules(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join(collectionsPath, "ansible_collections", "metalkit", "baremetal", "plugins", "modules")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var mods []string
	for _, e := range entries {
		// NAME (a link to modules-linux-amd64/NAME) is the module; NAME.yml and the code-free NAME.py its docs.
		if filepath.Ext(e.Name()) == "" {
			mods = append(mods, e.Name())
		}
	}
	sort.Strings(mods)
	return mods
}

// Every installed module answers ansible-doc with its options, examples and
// return values, and its binary is static and executable.
func TestAnsibleDocForEveryModule(t *testing.T) {
	mods := installedModules(t)
	require.Contains(t, mods, "ignition_render")
	for _, mod := range mods {
		t.Run(mod, func(t *testing.T) {
			cmd := exec.Command("ansible-doc", "-j", "-t", "module", "metalkit.baremetal."+mod)
			cmd.Env = append(os.Environ(), "ANSIBLE_COLLECTIONS_PATH="+collectionsPath)
			out, err := cmd.Output()
			require.NoError(t, err, "ansible-doc metalkit.baremetal.%s", mod)
			var doc map[string]struct {
				Doc      map[string]any `json:"doc"`
				Examples string         `json:"examples"`
				Return   map[string]any `json:"return"`
			}
			require.NoError(t, json.Unmarshal(out, &doc))
			d := doc["metalkit.baremetal."+mod]
			assert.NotEmpty(t, d.Doc["short_description"])
			assert.NotEmpty(t, d.Doc["options"])
			assert.Contains(t, d.Examples, "metalkit.baremetal."+mod+":", "examples use the FQCN")
			assert.NotEmpty(t, d.Return)

			info, err := os.Stat(filepath.Join(collectionsPath, "ansible_collections/metalkit/baremetal/plugins/modules", mod))
			require.NoError(t, err)
			assert.NotZero(t, info.Mode()&0o111, "module binary is executable")
		})
	}
}

// The action group lists exactly the modules that take OpenStack connection
// options, so module_defaults: {group/metalkit.baremetal.openstack: ...} works.
func TestActionGroupListsOpenStackModules(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(collectionsPath, "ansible_collections/metalkit/baremetal/meta/runtime.yml"))
	require.NoError(t, err)
	var rt struct {
		RequiresAnsible string              `yaml:"requires_ansible"`
		ActionGroups    map[string][]string `yaml:"action_groups"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &rt))
	assert.NotEmpty(t, rt.RequiresAnsible)
	var want []string
	for _, mod := range installedModules(t) {
		doc, err := os.ReadFile(filepath.Join(collectionsPath, "ansible_collections/metalkit/baremetal/plugins/modules", mod+".yml"))
		require.NoError(t, err)
		var side struct {
			Documentation struct {
				Options map[string]any `yaml:"options"`
			} `yaml:"DOCUMENTATION"`
		}
		require.NoError(t, yaml.Unmarshal(doc, &side))
		if _, ok := side.Documentation.Options["cloud"]; ok {
			want = append(want, mod)
		}
	}
	got := append([]string(nil), rt.ActionGroups["openstack"]...)
	sort.Strings(got)
	assert.Equal(t, want, got, "meta/runtime.yml action group openstack")
}
