package ignition

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v30 "github.com/coreos/ignition/v2/config/v3_0"
	v31 "github.com/coreos/ignition/v2/config/v3_1"
	v32 "github.com/coreos/ignition/v2/config/v3_2"
	v33 "github.com/coreos/ignition/v2/config/v3_3"
	v34 "github.com/coreos/ignition/v2/config/v3_4"
	v35 "github.com/coreos/ignition/v2/config/v3_5"
	"github.com/coreos/vcontext/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testHash     = "$6$rounds=4096$examplesalt$notARealHashJustTheRightShape0123456789abcdefghijklmnopqrstuvw"
	workerSHA512 = "sha512-6577793422c65696946b47b3daa85c019665986654cdd8ba121c9ee5cd53a375172a656578d54c51edaae76d970a86b73cb3e9c04a91702f70df90011edc6481"
	motdSHA512   = "sha512-04e573bf8c69262198e071bbad88d52799e0eb8076297d81e664ef23c086c96fc1f018e8aae221f1d67401721b52909516c0b95a3ac1a2d19622ec6852425331"
	helloUnit    = "[Unit]\nDescription=Say hello\n\n[Service]\nType=oneshot\nExecStart=/usr/local/bin/hello\n\n[Install]\nWantedBy=multi-user.target\n"
)

// ignitionParse is each 3.x version's own parser and validator.
var ignitionParse = map[string]func([]byte) (report.Report, error){
	"3.0.0": func(b []byte) (report.Report, error) { _, r, err := v30.Parse(b); return r, err },
	"3.1.0": func(b []byte) (report.Report, error) { _, r, err := v31.Parse(b); return r, err },
	"3.2.0": func(b []byte) (report.Report, error) { _, r, err := v32.Parse(b); return r, err },
	"3.3.0": func(b []byte) (report.Report, error) { _, r, err := v33.Parse(b); return r, err },
	"3.4.0": func(b []byte) (report.Report, error) { _, r, err := v34.Parse(b); return r, err },
	"3.5.0": func(b []byte) (report.Report, error) { _, r, err := v35.Parse(b); return r, err },
}

// fullOptions uses every input kind once: the same options feed the 2.2.0
// known-good comparison and every 3.x version.
func fullOptions(sshKey, caPEM string) Options {
	return Options{
		Users: []User{{
			Name:              "core",
			SSHAuthorizedKeys: []string{sshKey},
			Groups:            []string{"wheel", "sudo"},
			PasswordHash:      testHash,
		}},
		CACertificates: []string{caPEM},
		Files: []File{
			{Path: "/etc/hostname", Contents: ptr("worker-0\n"), Mode: ptr(0o644), Overwrite: ptr(true)},
			{Path: "/etc/motd", Source: "https://config.example.invalid/motd", Verification: motdSHA512},
			{Path: "/usr/local/bin/hello", Contents: ptr("#!/bin/sh\necho hello\n"), Mode: ptr(0o755), User: "core", Group: "1000"},
		},
		SystemdUnits: []Unit{
			{Name: "hello.service", Contents: helloUnit, Enabled: ptr(true)},
			{Name: "docker.service", Mask: true},
			{Name: "kubelet.service", Dropins: []Dropin{{Name: "10-metalkit.conf", Contents: "[Service]\nEnvironment=METALKIT=1\n"}}},
		},
		Merge: []ConfigRef{{Source: "https://config.example.invalid/worker.ign", Verification: workerSHA512}},
	}
}

func TestRenderEveryVersion(t *testing.T) {
	key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHKyrx10OLaLu8Ecw9yW9GpXOeFdEEJnhnRtTtdN5G6g core@example.invalid"
	ca := readTestdata(t, "ca-2.2.pem")
	for _, version := range SupportedSpecVersions() {
		t.Run(version, func(t *testing.T) {
			o := fullOptions(key, ca)
			o.SpecVersion = version
			r, err := Render(o)
			require.NoError(t, err)
			assert.Empty(t, r.Warnings)
			assert.Equal(t, version, r.SpecVersion)
			assert.Equal(t, version, dig(t, r.Config, "ignition", "version"))
			assert.Equal(t, string(r.JSON), r.UserData)
			assert.Equal(t, len(r.JSON), r.Size)
			assert.False(t, r.Compressed)

			if version == "2.2.0" {
				// Compared by meaning with a config written by hand from the 2.2 spec.
				want := normalizeDataURLs(t, mustJSON(t, []byte(readTestdata(t, "v2_2_0.ign"))))
				got := normalizeDataURLs(t, mustJSON(t, r.JSON))
				wantJSON, _ := json.Marshal(want)
				gotJSON, _ := json.Marshal(got)
				assert.JSONEq(t, string(wantJSON), string(gotJSON))
				return
			}
			rpt, err := ignitionParse[version](r.JSON)
			require.NoError(t, err, rpt.String())
			assert.Empty(t, rpt.Entries, "Ignition %s reports: %s", version, rpt.String())

			assert.Equal(t, key, dig(t, r.Config, "passwd", "users", 0, "sshAuthorizedKeys", 0))
			assert.Equal(t, []any{"wheel", "sudo"}, dig(t, r.Config, "passwd", "users", 0, "groups"))
			assert.Equal(t, ca, decodeSource(t, dig(t, r.Config, "ignition", "security", "tls", "certificateAuthorities", 0).(map[string]any)))
			assert.Equal(t, "worker-0\n", decodeSource(t, dig(t, r.Config, "storage", "files", 0, "contents").(map[string]any)))
			assert.Equal(t, float64(0o755), dig(t, r.Config, "storage", "files", 2, "mode"))
			assert.Equal(t, "core", dig(t, r.Config, "storage", "files", 2, "user", "name"))
			assert.Equal(t, float64(1000), dig(t, r.Config, "storage", "files", 2, "group", "id"))
			assert.Equal(t, motdSHA512, dig(t, r.Config, "storage", "files", 1, "contents", "verification", "hash"))
			assert.Equal(t, true, dig(t, r.Config, "systemd", "units", 1, "mask"))
			assert.Equal(t, "https://config.example.invalid/worker.ign", dig(t, r.Config, "ignition", "config", "merge", 0, "source"))
			assert.NotContains(t, string(r.JSON), "{}", "no empty objects in the output")
		})
	}
}

func TestSpecVersions(t *testing.T) {
	assert.Equal(t, "3.5.0", DefaultSpecVersion())
	assert.Equal(t, []string{"2.2.0", "3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0", "3.5.0"}, SupportedSpecVersions())
	for in, want := range map[string]string{"": "3.5.0", "3.4": "3.4.0", " 3.1.0 ": "3.1.0", "2.2": "2.2.0"} {
		r, err := Render(Options{SpecVersion: in})
		require.NoError(t, err, in)
		assert.Equal(t, want, r.SpecVersion, in)
		assert.Equal(t, `{"ignition":{"version":"`+want+`"}}`, string(r.JSON))
	}
	_, err := Render(Options{SpecVersion: "3.6.0-experimental"})
	assert.ErrorContains(t, err, `spec_version: unsupported Ignition spec "3.6.0-experimental"`)
}

func TestRenderRejects(t *testing.T) {
	key := sshPublicKey(t, "ok@example.invalid")
	ca := string(caCertPEM(t, certOpts{cn: "ok"}))
	privPEM := "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n"
	tests := []struct {
		name, spec string
		opts       Options
		want       string
	}{
		{"malformed SSH key", "", Options{Users: []User{{Name: "core", SSHAuthorizedKeys: []string{key, "ssh-rsa AAAAnotbase64!"}}}},
			"users[0].ssh_authorized_keys[1]: malformed SSH public key: "},
		{"private key as SSH key", "", Options{Users: []User{{Name: "core", SSHAuthorizedKeys: []string{privPEM}}}},
			"users[0].ssh_authorized_keys[0]: this is a private key"},
		{"two SSH keys in one entry", "", Options{Users: []User{{Name: "core", SSHAuthorizedKeys: []string{key + "\n" + key}}}},
			"users[0].ssh_authorized_keys[0]: one SSH key per entry"},
		{"duplicate SSH key", "", Options{Users: []User{{Name: "core", SSHAuthorizedKeys: []string{key, key}}}},
			"users[0].ssh_authorized_keys[1]: same key as ssh_authorized_keys[0]"},
		{"user without name", "", Options{Users: []User{{SSHAuthorizedKeys: []string{key}}}}, "users[0].name: required"},
		{"duplicate user", "2.2.0", Options{Users: []User{{Name: "core"}, {Name: "core"}}}, `users[1].name: user "core" is already users[0]`},
		{"malformed PEM", "", Options{CACertificates: []string{"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"}},
			"ca_certificates[0]: PEM block 1 is not a valid X.509 certificate"},
		{"not PEM at all", "", Options{CACertificates: []string{"hello\nworld\n"}}, "ca_certificates[0]: not a PEM certificate"},
		{"private key as CA", "", Options{CACertificates: []string{ca + privPEM}},
			"ca_certificates[0]: PEM block 2 is a PRIVATE KEY, not a CERTIFICATE (a private key must never go in an Ignition config)"},
		{"missing CA file", "", Options{CACertificates: []string{"/nonexistent/ca.pem"}}, "ca_certificates[0]: reading CA file: open /nonexistent/ca.pem: no such file"},
		{"duplicate CA", "", Options{CACertificates: []string{ca, ca}}, "ca_certificates[1]: same certificates as ca_certificates[0]"},
		{"relative file path", "", Options{Files: []File{{Path: "etc/motd", Contents: ptr("hi")}}}, `files[0].path: "etc/motd" is not an absolute path`},
		{"relative file path 2.2", "2.2.0", Options{Files: []File{{Path: "etc/motd"}}}, `files[0].path: "etc/motd" is not an absolute path`},
		{"dirty file path", "", Options{Files: []File{{Path: "/etc//motd"}}}, `files[0].path: "/etc//motd" is not clean`},
		{"duplicate paths", "", Options{Files: []File{{Path: "/etc/a"}, {Path: "/etc/b"}, {Path: "/etc/a"}}}, "files[2].path: /etc/a is already files[0]"},
		{"duplicate paths 2.2", "2.2.0", Options{Files: []File{{Path: "/etc/a"}, {Path: "/etc/a"}}}, "files[1].path: /etc/a is already files[0]"},
		{"contents and source", "", Options{Files: []File{{Path: "/a", Contents: ptr("x"), Source: "https://h.example.invalid/a"}}}, "files[0]: contents and source are mutually exclusive"},
		{"bad URL scheme", "", Options{Files: []File{{Path: "/a", Source: "ftp://h.example.invalid/a"}}}, `files[0].source: URL scheme "ftp" is not supported by Ignition spec 3.5.0`},
		{"URL without scheme", "", Options{Files: []File{{Path: "/a", Source: "h.example.invalid/a"}}}, "files[0].source: not a URL"},
		{"URL without host", "", Options{Merge: []ConfigRef{{Source: "https:///x.ign"}}}, "merge[0].source: URL has no host"},
		{"unparsable URL", "", Options{Replace: &ConfigRef{Source: "https://h.example.invalid/%zz"}}, "replace.source: not a valid URL"},
		{"bad data URL", "", Options{Files: []File{{Path: "/a", Source: "data:;base64,@@@"}}}, "files[0].source: not a valid data URL"},
		{"gs needs 3.2", "3.1.0", Options{Files: []File{{Path: "/a", Source: "gs://bucket/a"}}}, `files[0].source: URL scheme "gs" is not supported by Ignition spec 3.1.0`},
		{"oem only in 2.2", "3.0.0", Options{Files: []File{{Path: "/a", Source: "oem:///a"}}}, `files[0].source: URL scheme "oem" is not supported`},
		{"merge needs source", "", Options{Merge: []ConfigRef{{Verification: workerSHA512}}}, "merge[0].source: required"},
		{"bad hash format", "", Options{Merge: []ConfigRef{{Source: "https://h.example.invalid/w.ign", Verification: "abc123"}}},
			"merge[0].verification: not a verification hash: want sha512-<hex digest>"},
		{"short hash", "", Options{Replace: &ConfigRef{Source: "https://h.example.invalid/w.ign", Verification: "sha512-abcd"}}, "replace.verification: not a verification hash: sha512 wants 128 hex digits"},
		{"non-hex hash", "2.2.0", Options{Files: []File{{Path: "/a", Source: "https://h.example.invalid/a", Verification: "sha512-" + strings.Repeat("zz", 64)}}}, "files[0].verification: not a verification hash"},
		{"sha256 not in 3.0", "3.0.0", Options{Merge: []ConfigRef{{Source: "https://h.example.invalid/w.ign", Verification: "sha256-" + strings.Repeat("ab", 32)}}},
			"merge[0].verification: hash function sha256 is not supported by Ignition spec 3.0.0 (use sha512)"},
		{"hash on inline contents", "", Options{Files: []File{{Path: "/a", Contents: ptr("x"), Verification: motdSHA512}}}, "files[0].verification: only applies to a source URL"},
		{"overwrite nothing", "", Options{Files: []File{{Path: "/a", Overwrite: ptr(true)}}}, "files[0].overwrite: true needs contents or a source"},
		{"mode out of range", "", Options{Files: []File{{Path: "/a", Mode: ptr(0o10000)}}}, "files[0].mode: 4096 is not a file mode"},
		{"unit extension", "", Options{SystemdUnits: []Unit{{Name: "hello", Contents: helloUnit}}}, `systemd_units[0].name: "hello" is not a systemd unit name`},
		{"unit contents", "", Options{SystemdUnits: []Unit{{Name: "a.service", Contents: "[Service\nExecStart=/bin/true\n"}}}, "systemd_units[0].contents: invalid unit content"},
		{"duplicate units", "", Options{SystemdUnits: []Unit{{Name: "a.service"}, {Name: "a.service"}}}, `systemd_units[1].name: unit "a.service" is already systemd_units[0]`},
		{"dropin extension", "2.2.0", Options{SystemdUnits: []Unit{{Name: "a.service", Dropins: []Dropin{{Name: "10-x", Contents: "[Service]\n"}}}}},
			`systemd_units[0].dropins[0].name: "10-x" is not a drop-in name`},
		{"file over a unit", "", Options{Files: []File{{Path: "/etc/systemd/system/a.service", Contents: ptr("x")}}, SystemdUnits: []Unit{{Name: "a.service", Contents: helloUnit}}},
			"files[0].path: /etc/systemd/system/a.service is also written by systemd_units[0]: keep one"},
		{"empty group", "", Options{Users: []User{{Name: "core", Groups: []string{"wheel", " "}}}}, "users[0].groups[1]: empty group name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.SpecVersion = tc.spec
			_, err := Render(tc.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			var fe *FieldError
			assert.True(t, errors.As(err, &fe), "a *FieldError names the field")
		})
	}
}

func TestRenderReportsEveryProblemAtOnce(t *testing.T) {
	_, err := Render(Options{
		Users: []User{{Name: "core", SSHAuthorizedKeys: []string{"nope"}}},
		Files: []File{{Path: "relative"}},
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "users[0].ssh_authorized_keys[0]: malformed SSH public key")
	assert.Contains(t, err.Error(), "files[0].path:")
}

func TestPasswordHashStaysOutOfErrorsAndWarnings(t *testing.T) {
	secret := "$6$salt$TopSecretHashValue"
	for _, spec := range []string{"3.5.0", "2.2.0"} {
		o := Options{SpecVersion: spec, Users: []User{{Name: "core", PasswordHash: secret, SSHAuthorizedKeys: []string{"bad key"}}}}
		_, err := Render(o)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "TopSecret")

		// Not crypt-shaped: a warning that must not quote it either.
		o = Options{SpecVersion: spec, Users: []User{{Name: "core", PasswordHash: "TopSecretPlainPassword"}}}
		r, err := Render(o)
		require.NoError(t, err)
		require.Len(t, r.Warnings, 1)
		assert.Contains(t, r.Warnings[0], "users[0].password_hash: does not look like a crypt(3) hash")
		assert.NotContains(t, r.Warnings[0], "TopSecret")

		// The hash is the user's own data: it belongs in the config.
		o.Users[0].PasswordHash = secret
		r, err = Render(o)
		require.NoError(t, err)
		assert.Equal(t, secret, dig(t, r.Config, "passwd", "users", 0, "passwordHash"))
		assert.Contains(t, string(r.JSON), `"passwordHash":"`+secret+`"`)
	}
}

func TestRenderWarnings(t *testing.T) {
	expired := string(caCertPEM(t, certOpts{cn: "old CA", notAfter: time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC)}))
	r, err := Render(Options{
		CACertificates: []string{expired},
		Files:          []File{{Path: "/etc/a", Contents: ptr("x"), Mode: ptr(644)}},
		Merge:          []ConfigRef{{Source: "http://config.example.invalid/w.ign"}},
		SystemdUnits:   []Unit{{Name: "a.service", Contents: "[Service]\nExecStart=/bin/true\n", Enabled: ptr(true)}},
	})
	require.NoError(t, err)
	all := strings.Join(r.Warnings, "\n")
	assert.Contains(t, all, "ca_certificates[0]: certificate 1 (CN=old CA,O=metalkit tests) expired on 2020-01-02")
	assert.Contains(t, all, "files[0].mode: 644 is 0o1204")
	assert.Contains(t, all, "merge[0]: fetched over plain http with no verification hash")
	assert.Contains(t, all, `systemd_units[0]: unit "a.service" is enabled, but has no install section`)
	assert.Equal(t, 1, strings.Count(all, "has no install section"), "said once, in the user's terms")

	r, err = Render(Options{Replace: &ConfigRef{Source: "https://config.example.invalid/w.ign", Verification: workerSHA512}, Users: []User{{Name: "core"}}})
	require.NoError(t, err)
	assert.Contains(t, strings.Join(r.Warnings, "\n"), "replace: Ignition uses only the replacement config")

	// A pointer config with replace and the CA that secures it: nothing to warn about.
	r, err = Render(Options{Replace: &ConfigRef{Source: "https://config.example.invalid/w.ign", Verification: workerSHA512}, CACertificates: []string{string(caCertPEM(t, certOpts{cn: "mcs"}))}})
	require.NoError(t, err)
	assert.Empty(t, r.Warnings)
}

func TestPointerConfig(t *testing.T) {
	// The OpenShift pointer config: the machine-config server's URL plus the
	// CA that secures it, as merge or replace, in every version.
	ca := string(caCertPEM(t, certOpts{cn: "root-ca"}))
	ref := ConfigRef{Source: "https://api-int.cluster.example.invalid:22623/config/worker", Verification: workerSHA512}
	for _, version := range SupportedSpecVersions() {
		mergeKey := map[bool]string{true: "append", false: "merge"}[version == "2.2.0"]
		for _, tc := range []struct {
			name string
			opts Options
			path []any
		}{
			{"merge", Options{Merge: []ConfigRef{ref}}, []any{"ignition", "config", mergeKey, 0}},
			{"replace", Options{Replace: &ref}, []any{"ignition", "config", "replace"}},
		} {
			t.Run(version+"/"+tc.name, func(t *testing.T) {
				tc.opts.SpecVersion, tc.opts.CACertificates = version, []string{ca}
				r, err := Render(tc.opts)
				require.NoError(t, err)
				assert.Empty(t, r.Warnings)
				assert.Equal(t, ref.Source, dig(t, r.Config, append(tc.path, "source")...))
				assert.Equal(t, workerSHA512, dig(t, r.Config, append(tc.path, "verification", "hash")...))
				assert.Less(t, r.Size, 2048)
				if parse, ok := ignitionParse[version]; ok {
					rpt, err := parse(r.JSON)
					require.NoError(t, err, rpt.String())
					assert.Empty(t, rpt.Entries)
				}
			})
		}
	}
}

func TestCACertificatesFromFiles(t *testing.T) {
	dir := t.TempDir()
	a := caCertPEM(t, certOpts{cn: "a"})
	// A bundle as distributions ship it: comments between blocks.
	b := append([]byte("# Bundle comment\n"), append(caCertPEM(t, certOpts{cn: "b1"}), caCertPEM(t, certOpts{cn: "b2"})...)...)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.pem"), a, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bundle.crt"), b, 0o644))
	inline := string(caCertPEM(t, certOpts{cn: "inline"}))

	for _, version := range []string{"3.4.0", "2.2.0"} {
		r, err := Render(Options{SpecVersion: version, CACertificates: []string{filepath.Join(dir, "a.pem"), filepath.Join(dir, "bundle.crt"), inline}})
		require.NoError(t, err)
		cas := dig(t, r.Config, "ignition", "security", "tls", "certificateAuthorities").([]any)
		require.Len(t, cas, 3)
		assert.Equal(t, string(a), decodeSource(t, cas[0].(map[string]any)))
		assert.Equal(t, strings.TrimPrefix(string(b), "# Bundle comment\n"), decodeSource(t, cas[1].(map[string]any)), "comments dropped, certificates kept")
		assert.Equal(t, inline, decodeSource(t, cas[2].(map[string]any)))
	}

	require.NoError(t, os.WriteFile(filepath.Join(dir, "junk.pem"), []byte("not a cert\n"), 0o644))
	_, err := Render(Options{CACertificates: []string{filepath.Join(dir, "junk.pem")}})
	assert.ErrorContains(t, err, "ca_certificates[0]: "+filepath.Join(dir, "junk.pem")+": not a PEM certificate")
}

func TestDeterministic(t *testing.T) {
	o := fullOptions(sshPublicKey(t, "d@example.invalid"), string(caCertPEM(t, certOpts{cn: "d"})))
	o.Base = map[string]any{
		"storage": map[string]any{"files": []any{
			map[string]any{"path": "/etc/base-a", "mode": 0o600},
			map[string]any{"path": "/etc/base-b", "contents": map[string]any{"source": "data:,b"}},
		}},
		"systemd": map[string]any{"units": []any{map[string]any{"name": "z.service", "mask": true}, map[string]any{"name": "y.service", "enabled": false}}},
	}
	for _, version := range []string{"3.5.0", "3.0.0", "2.2.0"} {
		o.SpecVersion = version
		if version == "2.2.0" {
			for _, f := range o.Base["storage"].(map[string]any)["files"].([]any) {
				f.(map[string]any)["filesystem"] = "root"
			}
		}
		first, err := Render(o)
		require.NoError(t, err)
		for range 5 {
			again, err := Render(o)
			require.NoError(t, err)
			assert.Equal(t, string(first.JSON), string(again.JSON))
			assert.Equal(t, first.SHA512, again.SHA512)
		}
	}
}
