//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// TestExecutionEnvironmentDefinition checks execution-environment.yml
// without ansible-builder or a registry (neither is reachable here): it is
// an ansible-builder v3 file whose build files are what `make collection`
// produced, it asks for nothing the static modules do not need, and its
// install steps, run as written on this machine (only the image's two
// directories mapped to temporary ones), install a collection ansible-doc
// reads.
func TestExecutionEnvironmentDefinition(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "execution-environment.yml"))
	require.NoError(t, err)
	var ee struct {
		Version int `yaml:"version"`
		Images  struct {
			BaseImage struct{ Name string } `yaml:"base_image"`
		} `yaml:"images"`
		Dependencies         map[string]any               `yaml:"dependencies"`
		AdditionalBuildFiles []struct{ Src, Dest string } `yaml:"additional_build_files"`
		AdditionalBuildSteps map[string][]string          `yaml:"additional_build_steps"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &ee))
	assert.Equal(t, 3, ee.Version, "ansible-builder 3 format")
	assert.NotEmpty(t, ee.Images.BaseImage.Name)
	for _, k := range []string{"galaxy", "python", "system"} {
		assert.NotContains(t, ee.Dependencies, k, "the modules are static binaries: no %s requirements", k)
	}
	core, _ := ee.Dependencies["ansible_core"].(map[string]any)
	assert.Contains(t, core["package_pip"], "ansible-core")

	require.Len(t, ee.AdditionalBuildFiles, 1)
	bf := ee.AdditionalBuildFiles[0]
	tarballs, _ := filepath.Glob(filepath.Join(repoRoot, bf.Src))
	require.Len(t, tarballs, 1, "%s matches the tarball `make collection` writes", bf.Src)

	steps := ee.AdditionalBuildSteps["append_final"]
	require.NotEmpty(t, steps)
	// ansible-builder places additional_build_files under _build/<dest>/.
	copyLine := regexp.MustCompile(`^COPY _build/` + regexp.QuoteMeta(bf.Dest) + `/ (\S+)/$`)
	var stage string
	var runs []string
	for _, s := range steps {
		if m := copyLine.FindStringSubmatch(s); m != nil {
			stage = m[1]
		} else if cmd, ok := strings.CutPrefix(s, "RUN "); ok {
			runs = append(runs, cmd)
		}
	}
	require.NotEmpty(t, stage, "a COPY of _build/%s/ into the image", bf.Dest)
	require.NotEmpty(t, runs)

	// Run the RUN steps here: the staging dir and the image's collections
	// path become temporary directories, nothing else changes.
	tmp := t.TempDir()
	localStage, localCollections := filepath.Join(tmp, "stage"), filepath.Join(tmp, "collections")
	require.NoError(t, os.MkdirAll(localStage, 0o755))
	data, err := os.ReadFile(tarballs[0])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(localStage, filepath.Base(tarballs[0])), data, 0o644))
	for _, cmd := range runs {
		local := strings.ReplaceAll(cmd, stage, localStage)
		local = strings.ReplaceAll(local, "/usr/share/ansible/collections", localCollections)
		sh := exec.Command("/bin/sh", "-c", local)
		sh.Env = append(os.Environ(), "ANSIBLE_COLLECTIONS_PATH="+localCollections, "HOME="+tmp)
		out, err := sh.CombinedOutput()
		require.NoError(t, err, "EE build step failed here: %s\n%s", local, out)
	}
	for _, m := range examplesModules {
		info, err := os.Stat(filepath.Join(localCollections, "ansible_collections", "metalkit", "baremetal", "plugins", "modules", m))
		require.NoError(t, err, "%s installed by the EE steps", m)
		assert.NotZero(t, info.Mode()&0o111)
	}
	_, err = os.Stat(localStage)
	assert.True(t, os.IsNotExist(err), "the steps remove their staging copy from the image")
}
