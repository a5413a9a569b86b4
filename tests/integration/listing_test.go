//go:build integration

package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// sidecarDoc is what the listing tests need of a module's generated docs.
type sidecarDoc struct {
	Documentation struct {
		ShortDescription string `yaml:"short_description"`
		VersionAdded     string `yaml:"version_added"`
		SeeAlso          []struct {
			Module string `yaml:"module"`
		} `yaml:"seealso"`
		Attributes map[string]map[string]any `yaml:"attributes"`
	} `yaml:"DOCUMENTATION"`
}

// sourceModules reads the source tree's sidecar docs (collection/plugins/
// modules/NAME.yml, kept current by the modules' drift tests): what the
// installed collection must list.
// moduleCount is how many modules the source tree has (modules/<name>/).
func moduleCount(t *testing.T) int {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(repoRoot, "modules", "*", "main.go"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	return len(dirs)
}

func sourceModules(t *testing.T) map[string]sidecarDoc {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "collection", "plugins", "modules", "*.yml"))
	require.NoError(t, err)
	mods := map[string]sidecarDoc{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var d sidecarDoc
		require.NoError(t, yaml.Unmarshal(raw, &d), f)
		mods["metalkit.baremetal."+strings.TrimSuffix(filepath.Base(f), ".yml")] = d
	}
	return mods
}

// ansibleDoc runs ansible-doc on the installed tarball and returns its
// stdout and stderr apart.
func ansibleDoc(t *testing.T, args ...string) (string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("ansible-doc", args...)
	cmd.Env = append(os.Environ(), "ANSIBLE_COLLECTIONS_PATH="+collectionsPath, "ANSIBLE_NOCOLOR=1")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "ansible-doc %v: %s", args, stderr.String())
	return stdout.String(), stderr.String()
}

// `ansible-doc -l` and `ansible-doc -t module -l` list every module
// with their short descriptions and print no warning: the listing must not
// read a binary as text (ansible-core 2.14 warns "'utf-8' codec can't
// decode" and drops the module).
func TestAnsibleDocListsEveryModule(t *testing.T) {
	want := sourceModules(t)
	require.Len(t, want, moduleCount(t), "one sidecar per module")
	for _, args := range [][]string{
		{"-l", "metalkit.baremetal"},
		{"-t", "module", "-l", "metalkit.baremetal"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, errOut := ansibleDoc(t, args...)
			assert.Empty(t, errOut, "no warning on stderr")
			listed := map[string]string{}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				name, desc, _ := strings.Cut(line, " ")
				listed[name] = strings.TrimSpace(desc)
			}
			require.Len(t, listed, len(want), "%s", out)
			for name, doc := range want {
				desc, ok := listed[name]
				if assert.True(t, ok, "%s listed:\n%s", name, out) {
					// The text listing cuts long descriptions and adds "...".
					assert.NotEqual(t, "UNDOCUMENTED", desc)
					assert.True(t, strings.HasPrefix(doc.Documentation.ShortDescription, strings.TrimSuffix(desc, "...")),
						"%s: listed %q, short_description %q", name, desc, doc.Documentation.ShortDescription)
				}
			}

			// -j gives the whole short descriptions.
			out, errOut = ansibleDoc(t, append([]string{"-j"}, args...)...)
			assert.Empty(t, errOut)
			var full map[string]string
			require.NoError(t, json.Unmarshal([]byte(out), &full), out)
			got := map[string]string{}
			for name, doc := range want {
				got[name] = doc.Documentation.ShortDescription
			}
			assert.Equal(t, got, full)
		})
	}
}

// Every module declares version_added, the platform attribute (linux/amd64)
// and seealso links that name modules the collection lists.
func TestModuleDocsDeclareVersionPlatformSeeAlso(t *testing.T) {
	out, errOut := ansibleDoc(t, "-j", "-l", "metalkit.baremetal")
	assert.Empty(t, errOut)
	var listed map[string]string
	require.NoError(t, json.Unmarshal([]byte(out), &listed))
	for name := range sourceModules(t) {
		t.Run(name, func(t *testing.T) {
			out, _ := ansibleDoc(t, "-j", "-t", "module", name)
			var res map[string]struct {
				Doc struct {
					VersionAdded string                    `json:"version_added"`
					Attributes   map[string]map[string]any `json:"attributes"`
					SeeAlso      []map[string]string       `json:"seealso"`
				} `json:"doc"`
			}
			require.NoError(t, json.Unmarshal([]byte(out), &res))
			d := res[name].Doc
			assert.Regexp(t, `^\d+\.\d+\.\d+$`, d.VersionAdded)
			assert.Equal(t, "posix", d.Attributes["platform"]["platforms"])
			assert.Contains(t, d.Attributes["platform"]["details"], "linux/amd64")
			require.NotEmpty(t, d.SeeAlso)
			for _, s := range d.SeeAlso {
				assert.Contains(t, listed, s["module"], "seealso of %s", name)
				assert.NotEqual(t, name, s["module"])
			}
		})
	}
}

// tarballFiles maps each member of the built tarball to its header and
// (regular files) content.
func tarballFiles(t *testing.T) (map[string]*tar.Header, map[string][]byte) {
	t.Helper()
	tarballs, err := filepath.Glob(filepath.Join(repoRoot, "build", "metalkit-baremetal-*.tar.gz"))
	require.NoError(t, err)
	require.Len(t, tarballs, 1)
	f, err := os.Open(tarballs[0])
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	require.NoError(t, err)
	tr := tar.NewReader(gz)
	headers, contents := map[string]*tar.Header{}, map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		headers[h.Name] = h
		if h.Typeflag == tar.TypeReg && !strings.HasPrefix(h.Name, "modules-linux-amd64/") {
			contents[h.Name], err = io.ReadAll(tr)
			require.NoError(t, err)
		}
	}
	return headers, contents
}

// The tarball ships LICENSE, a README naming every module, and a CHANGELOG
// built from the fragments; the binaries are modules-linux-amd64/NAME, linked from
// plugins/modules/NAME; the metadata has no placeholder URL.
func TestTarballShipsLicenseReadmeChangelog(t *testing.T) {
	headers, files := tarballFiles(t)
	mods := sourceModules(t)

	assert.Contains(t, string(files["LICENSE"]), "Apache License\n                           Version 2.0, January 2004")
	readme := string(files["README.md"])
	changelog := string(files["CHANGELOG.rst"])
	require.NotEmpty(t, changelog, "CHANGELOG.rst in the tarball")
	assert.Contains(t, changelog, "metalkit.baremetal Release Notes")
	assert.Contains(t, headers, "changelogs/changelog.yaml")
	var manifest struct {
		CollectionInfo struct {
			Version    string   `json:"version"`
			License    []string `json:"license"`
			Repository string   `json:"repository"`
			Issues     string   `json:"issues"`
		} `json:"collection_info"`
	}
	require.NoError(t, json.Unmarshal(files["MANIFEST.json"], &manifest))
	info := manifest.CollectionInfo
	assert.Equal(t, []string{"Apache-2.0"}, info.License)
	assert.Contains(t, changelog, "v"+info.Version)
	for _, u := range []string{info.Repository, info.Issues} {
		assert.Regexp(t, `^https://github\.com/metalkit/baremetal(/issues)?$`, u)
	}
	assert.NotContains(t, string(files["MANIFEST.json"]), "example.invalid")
	for _, section := range []string{"## Requirements", "linux/amd64", "ansible-core 2.14", "## Install", "## Use cases", "## Testing", "## Support", "## Licence", "## Release notes"} {
		assert.Contains(t, readme, section)
	}

	var names []string
	for fqcn, doc := range mods {
		name := strings.TrimPrefix(fqcn, "metalkit.baremetal.")
		names = append(names, name)
		assert.Contains(t, readme, "`"+fqcn+"`", "README names %s", fqcn)
		if doc.Documentation.VersionAdded == info.Version {
			assert.Contains(t, changelog, "- "+fqcn+" - "+doc.Documentation.ShortDescription, "New Modules")
		}
		link := headers["plugins/modules/"+name]
		if assert.NotNil(t, link, name) {
			assert.Equal(t, byte(tar.TypeSymlink), link.Typeflag, "plugins/modules/%s is a link", name)
			assert.Equal(t, "../../modules-linux-amd64/"+name, link.Linkname)
		}
		bin := headers["modules-linux-amd64/"+name]
		if assert.NotNil(t, bin, "modules-linux-amd64/"+name) {
			assert.NotZero(t, bin.Mode&0o111, "modules-linux-amd64/%s is executable", name)
		}
		assert.NotContains(t, string(files["plugins/modules/"+name+".py"]), "import", "%s.py holds no code", name)
	}
	sort.Strings(names)
	assert.Len(t, names, moduleCount(t))
}
