package ignition

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Our copy of the 2.2 rules, fed raw configs as a base could bring them.
func TestValidate22(t *testing.T) {
	sha := strings.TrimPrefix(workerSHA512, "sha512-")
	tests := []struct {
		name, config string
		want         string // substring of the error; empty: valid
	}{
		{"minimal", `{"ignition":{"version":"2.2.0"}}`, ""},
		{"known good", readTestdata(t, "v2_2_0.ign"), ""},
		{"wrong version", `{"ignition":{"version":"2.1.0"}}`, "ignition.version: must be 2.2.0"},
		{"relative path", `{"ignition":{"version":"2.2.0"},"storage":{"files":[{"filesystem":"root","path":"etc/x"}]}}`, "storage.files[0].path: path not absolute"},
		{"no filesystem", `{"ignition":{"version":"2.2.0"},"storage":{"files":[{"path":"/etc/x"}]}}`, "storage.files[0].filesystem: required"},
		{"file and directory on one path", `{"ignition":{"version":"2.2.0"},"storage":{"files":[{"filesystem":"root","path":"/etc/x"}],"directories":[{"filesystem":"root","path":"/etc/x"}]}}`,
			"storage.directories[0].path: duplicate of storage.files[0]"},
		{"same path, other filesystem", `{"ignition":{"version":"2.2.0"},"storage":{"files":[{"filesystem":"root","path":"/x"},{"filesystem":"var","path":"/x"}]}}`, ""},
		{"bad data URL", `{"ignition":{"version":"2.2.0"},"storage":{"files":[{"filesystem":"root","path":"/x","contents":{"source":"data:;base64,%%%"}}]}}`, "storage.files[0].contents.source: not a valid data URL"},
		{"bad scheme", `{"ignition":{"version":"2.2.0","config":{"append":[{"source":"gs://b/x"}]}}}`, `ignition.config.append[0].source: URL scheme "gs" is not supported by Ignition spec 2.2.0`},
		{"replace without source", `{"ignition":{"version":"2.2.0","config":{"replace":{"verification":{"hash":"sha512-` + sha + `"}}}}}`, "ignition.config.replace.source: required"},
		{"bad hash", `{"ignition":{"version":"2.2.0","config":{"append":[{"source":"https://h.example.invalid/x","verification":{"hash":"md5-abc"}}]}}}`, "ignition.config.append[0].verification.hash: not a verification hash"},
		{"sha256 is 3.1+", `{"ignition":{"version":"2.2.0","security":{"tls":{"certificateAuthorities":[{"source":"https://h.example.invalid/ca","verification":{"hash":"sha256-` + strings.Repeat("a", 64) + `"}}]}}}}`,
			"certificateAuthorities[0].verification.hash: hash function sha256 is not supported by Ignition spec 2.2.0"},
		{"bad compression", `{"ignition":{"version":"2.2.0"},"storage":{"files":[{"filesystem":"root","path":"/x","contents":{"source":"data:,x","compression":"xz"}}]}}`, "storage.files[0].contents.compression: must be gzip or empty"},
		{"bad mode", `{"ignition":{"version":"2.2.0"},"storage":{"files":[{"filesystem":"root","path":"/x","mode":99999}]}}`, "storage.files[0].mode: illegal file mode"},
		{"append and overwrite", `{"ignition":{"version":"2.2.0"},"storage":{"files":[{"filesystem":"root","path":"/x","append":true,"overwrite":true}]}}`, "storage.files[0]: append and overwrite are mutually exclusive"},
		{"duplicate users", `{"ignition":{"version":"2.2.0"},"passwd":{"users":[{"name":"core"},{"name":"core"}]}}`, "passwd.users[1].name: duplicate of passwd.users[0]"},
		{"duplicate units", `{"ignition":{"version":"2.2.0"},"systemd":{"units":[{"name":"a.service"},{"name":"a.service"}]}}`, "systemd.units[1].name: duplicate of systemd.units[0]"},
		{"unit extension", `{"ignition":{"version":"2.2.0"},"systemd":{"units":[{"name":"a.conf"}]}}`, "systemd.units[0].name: invalid systemd unit extension"},
		{"duplicate dropins", `{"ignition":{"version":"2.2.0"},"systemd":{"units":[{"name":"a.service","dropins":[{"name":"x.conf"},{"name":"x.conf"}]}]}}`, "systemd.units[0].dropins[1].name: duplicate of systemd.units[0].dropins[0]"},
		{"unit contents", `{"ignition":{"version":"2.2.0"},"systemd":{"units":[{"name":"a.service","contents":"[Unit\n"}]}}`, "systemd.units[0].contents: invalid unit content"},
		{"wrong JSON type", `{"ignition":{"version":"2.2.0"},"storage":{"files":[{"filesystem":"root","path":"/x","mode":"0644"}]}}`, "invalid Ignition 2.2.0 config: json: cannot unmarshal string"},
	}
	spec, err := lookupSpec("2.2.0")
	require.NoError(t, err)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs, _ := validate22([]byte(tc.config), spec)
			if tc.want == "" {
				assert.Empty(t, errs)
				return
			}
			require.NotEmpty(t, errs)
			var all []string
			for _, e := range errs {
				all = append(all, e.Error())
			}
			assert.Contains(t, strings.Join(all, "\n"), tc.want)
		})
	}
}

// A path is one node: our file replaces a base directory or link there, in
// 2.2 (our merge) as in 3.x (Ignition's).
func TestOurFileReplacesBaseNodeOnSamePath(t *testing.T) {
	for _, version := range []string{"3.4.0", "2.2.0"} {
		t.Run(version, func(t *testing.T) {
			node := map[string]any{"path": "/etc/x"}
			if version == "2.2.0" {
				node["filesystem"] = "root"
			}
			base := map[string]any{"storage": map[string]any{"directories": []any{node}}}
			r, err := Render(Options{SpecVersion: version, Base: base, Files: []File{{Path: "/etc/x", Contents: ptr("x")}}})
			require.NoError(t, err)
			assert.Nil(t, dig(t, r.Config, "storage", "directories"))
			assert.Equal(t, "/etc/x", dig(t, r.Config, "storage", "files", 0, "path"))
		})
	}
}
