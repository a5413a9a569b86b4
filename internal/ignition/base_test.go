package ignition

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// base34 is a 3.x base config (as YAML/JSON decodes it) with parts we never
// set and parts we override.
func base34(baseKey string) map[string]any {
	return map[string]any{
		"ignition":        map[string]any{"timeouts": map[string]any{"httpTotal": 30}},
		"kernelArguments": map[string]any{"shouldExist": []any{"console=ttyS0"}},
		"passwd":          map[string]any{"users": []any{map[string]any{"name": "core", "sshAuthorizedKeys": []any{baseKey}}}},
		"storage": map[string]any{
			"files": []any{
				map[string]any{"path": "/etc/base-only", "contents": map[string]any{"source": "data:,base"}},
				map[string]any{"path": "/etc/hostname", "mode": 0o600, "contents": map[string]any{"source": "data:,base-host"}},
			},
			"links": []any{map[string]any{"path": "/etc/localtime", "target": "/usr/share/zoneinfo/UTC"}},
		},
		"systemd": map[string]any{"units": []any{map[string]any{"name": "base.service", "mask": true}}},
	}
}

func TestBaseMerge3(t *testing.T) {
	baseKey := sshPublicKey(t, "base@example.invalid")
	ourKey := sshPublicKey(t, "ours@example.invalid")
	base := base34(baseKey)
	before, _ := json.Marshal(base)

	r, err := Render(Options{
		SpecVersion:  "3.4.0",
		Base:         base,
		Users:        []User{{Name: "core", SSHAuthorizedKeys: []string{ourKey}}},
		Files:        []File{{Path: "/etc/hostname", Contents: ptr("worker-0\n"), Mode: ptr(0o644)}},
		SystemdUnits: []Unit{{Name: "hello.service", Contents: helloUnit, Enabled: ptr(true)}},
	})
	require.NoError(t, err)
	assert.Empty(t, r.Warnings)
	rpt, err := ignitionParse["3.4.0"](r.JSON)
	require.NoError(t, err, rpt.String())

	// The base keeps what we do not set...
	assert.Equal(t, float64(30), dig(t, r.Config, "ignition", "timeouts", "httpTotal"))
	assert.Equal(t, []any{"console=ttyS0"}, dig(t, r.Config, "kernelArguments", "shouldExist"))
	assert.Equal(t, "/etc/base-only", dig(t, r.Config, "storage", "files", 0, "path"))
	assert.Equal(t, "/etc/localtime", dig(t, r.Config, "storage", "links", 0, "path"))
	assert.Equal(t, "base.service", dig(t, r.Config, "systemd", "units", 0, "name"))
	assert.Equal(t, "hello.service", dig(t, r.Config, "systemd", "units", 1, "name"))
	// ...ours wins where both set something (Ignition's Merge: by key, field by field).
	assert.Equal(t, "/etc/hostname", dig(t, r.Config, "storage", "files", 1, "path"))
	assert.Equal(t, "worker-0\n", decodeSource(t, dig(t, r.Config, "storage", "files", 1, "contents").(map[string]any)))
	assert.Equal(t, float64(0o644), dig(t, r.Config, "storage", "files", 1, "mode"))
	assert.Len(t, dig(t, r.Config, "storage", "files"), 2)
	assert.Equal(t, []any{baseKey, ourKey}, dig(t, r.Config, "passwd", "users", 0, "sshAuthorizedKeys"))

	after, _ := json.Marshal(base)
	assert.JSONEq(t, string(before), string(after), "the caller's base is not modified")
}

func TestBaseVersions3(t *testing.T) {
	withVer := func(v string) map[string]any {
		return map[string]any{"ignition": map[string]any{"version": v}, "storage": map[string]any{"files": []any{map[string]any{"path": "/etc/from-base"}}}}
	}
	tests := []struct {
		name, spec string
		base       map[string]any
		want       string // error; empty: renders
	}{
		{"same version", "3.4.0", withVer("3.4.0"), ""},
		{"older 3.x is translated up", "3.4.0", withVer("3.2.0"), ""},
		{"3.0 under 3.5", "3.5.0", withVer("3.0.0"), ""},
		{"newer base", "3.4.0", withVer("3.5.0"), "base.ignition.version: 3.5.0 is newer than spec_version 3.4.0"},
		{"2.x base", "3.4.0", withVer("2.2.0"), "base.ignition.version: 2.2.0 cannot be merged into a 3.4.0 config"},
		{"garbage version", "3.4.0", withVer("three"), `base.ignition.version: "three" is not a spec version`},
		{"ignition not a mapping", "3.4.0", map[string]any{"ignition": "x"}, "base.ignition: must be a mapping"},
		{"invalid base", "3.4.0", map[string]any{"storage": map[string]any{"files": []any{map[string]any{"path": "relative"}}}},
			"base at storage.files[0].path: path not absolute"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Render(Options{SpecVersion: tc.spec, Base: tc.base, Files: []File{{Path: "/etc/ours", Contents: ptr("x")}}})
			if tc.want != "" {
				assert.ErrorContains(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.spec, dig(t, r.Config, "ignition", "version"))
			assert.Equal(t, "/etc/from-base", dig(t, r.Config, "storage", "files", 0, "path"))
			assert.Equal(t, "/etc/ours", dig(t, r.Config, "storage", "files", 1, "path"))
		})
	}
}

func TestBaseUnknownKeyWarns(t *testing.T) {
	r, err := Render(Options{SpecVersion: "3.4.0", Base: map[string]any{"storage": map[string]any{"filez": []any{}}}})
	require.NoError(t, err)
	assert.Contains(t, strings.Join(r.Warnings, "\n"), "base at storage.filez: unused key filez")
}

func TestBaseMerge22(t *testing.T) {
	baseKey := sshPublicKey(t, "base@example.invalid")
	ourKey := sshPublicKey(t, "ours@example.invalid")
	base := map[string]any{
		"networkd": map[string]any{"units": []any{map[string]any{"name": "00-eth0.network", "contents": "[Match]\nName=eth0\n"}}},
		"passwd":   map[string]any{"users": []any{map[string]any{"name": "core", "sshAuthorizedKeys": []any{baseKey}, "groups": []any{"wheel"}}}},
		"storage": map[string]any{"files": []any{
			map[string]any{"filesystem": "root", "path": "/etc/hostname", "mode": 0o600, "contents": map[string]any{"source": "data:,base"}},
			map[string]any{"filesystem": "root", "path": "/etc/base-only", "mode": 0o644, "contents": map[string]any{"source": ""}},
		}},
		"systemd": map[string]any{"units": []any{map[string]any{"name": "kubelet.service", "enabled": true, "dropins": []any{map[string]any{"name": "00-base.conf", "contents": "[Service]\n"}}}}},
	}
	before, _ := json.Marshal(base)
	r, err := Render(Options{
		SpecVersion:  "2.2.0",
		Base:         base,
		Users:        []User{{Name: "core", SSHAuthorizedKeys: []string{ourKey}, Groups: []string{"wheel", "sudo"}}},
		Files:        []File{{Path: "/etc/hostname", Contents: ptr("worker-0\n")}},
		SystemdUnits: []Unit{{Name: "kubelet.service", Dropins: []Dropin{{Name: "10-ours.conf", Contents: "[Service]\nEnvironment=A=1\n"}}}},
	})
	require.NoError(t, err)
	assert.Equal(t, "2.2.0", dig(t, r.Config, "ignition", "version"))
	assert.Equal(t, "00-eth0.network", dig(t, r.Config, "networkd", "units", 0, "name"))
	assert.Equal(t, []any{baseKey, ourKey}, dig(t, r.Config, "passwd", "users", 0, "sshAuthorizedKeys"))
	assert.Equal(t, []any{"wheel", "sudo"}, dig(t, r.Config, "passwd", "users", 0, "groups"))
	assert.Len(t, dig(t, r.Config, "storage", "files"), 2)
	assert.Equal(t, "worker-0\n", decodeSource(t, dig(t, r.Config, "storage", "files", 0, "contents").(map[string]any)))
	assert.Equal(t, float64(0o600), dig(t, r.Config, "storage", "files", 0, "mode"), "we set no mode: the base's stays (as with 3.x Merge)")
	assert.Equal(t, "/etc/base-only", dig(t, r.Config, "storage", "files", 1, "path"))
	assert.Equal(t, true, dig(t, r.Config, "systemd", "units", 0, "enabled"))
	assert.Equal(t, "00-base.conf", dig(t, r.Config, "systemd", "units", 0, "dropins", 0, "name"))
	assert.Equal(t, "10-ours.conf", dig(t, r.Config, "systemd", "units", 0, "dropins", 1, "name"))
	after, _ := json.Marshal(base)
	assert.JSONEq(t, string(before), string(after), "the caller's base is not modified")

	_, err = Render(Options{SpecVersion: "2.2.0", Base: map[string]any{"ignition": map[string]any{"version": "3.0.0"}}})
	assert.ErrorContains(t, err, "base.ignition.version: 3.0.0 cannot be merged into a 2.2.0 config")

	_, err = Render(Options{SpecVersion: "2.2.0", Base: map[string]any{"storage": map[string]any{"files": []any{
		map[string]any{"path": "/no-filesystem"},
		map[string]any{"filesystem": "root", "path": "rel"},
		map[string]any{"filesystem": "root", "path": "/x", "contents": map[string]any{"source": "ftp://h.example.invalid/x"}},
	}}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid Ignition 2.2.0 config at storage.files[0].filesystem: required")
	assert.Contains(t, err.Error(), "invalid Ignition 2.2.0 config at storage.files[1].path: path not absolute")
	assert.Contains(t, err.Error(), `invalid Ignition 2.2.0 config at storage.files[2].contents.source: URL scheme "ftp" is not supported`)
}

// What only the combination of base and ours breaks is caught by Ignition's
// validator on the merged config, and named by its JSON path.
func TestMergedConfigValidated(t *testing.T) {
	base := map[string]any{
		"storage": map[string]any{
			"links": []any{map[string]any{"path": "/etc/app", "target": "/var/app"}},
			"files": []any{map[string]any{"path": "/etc/systemd/system/hello.service", "contents": map[string]any{"source": "data:,x"}}},
		},
	}
	_, err := Render(Options{SpecVersion: "3.4.0", Base: base,
		Files:        []File{{Path: "/etc/app/config", Contents: ptr("x")}},
		SystemdUnits: []Unit{{Name: "hello.service", Contents: helloUnit}},
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid Ignition 3.4.0 config at storage.files[1]: file path includes link in config")
	assert.Contains(t, err.Error(), "invalid Ignition 3.4.0 config at storage.files[0].path: path conflicts with systemd unit or dropin")
}
