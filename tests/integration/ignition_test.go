//go:build integration

package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v34 "github.com/coreos/ignition/v2/config/v3_4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
)

const passwordSentinel = "$6$SENTINELsalt$SENTINEL-PASSWORD-HASH-6f1d2c"

// testIdentity makes an SSH public key and a CA certificate PEM for the test.
func testIdentity(t *testing.T) (sshKey string, caPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	pub, err := ssh.NewPublicKey(&key.PublicKey)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "metalkit test CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))) + " core@test",
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func renderPlay(spec, dest, sshKey, caFile string) string {
	return fmt.Sprintf(`
- hosts: localhost
  gather_facts: false
  tasks:
    - name: render
      metalkit.baremetal.ignition_render:
        spec_version: %q
        users:
          - name: core
            ssh_authorized_keys: [%q]
            password_hash: %q
        ca_certificates: [%q]
        files:
          - path: /etc/hostname
            contents: blade-ocp-node-1
            mode: 420
        systemd_units:
          - name: metalkit-hello.service
            enabled: true
            contents: "[Service]\nType=oneshot\nExecStart=/usr/bin/true\n[Install]\nWantedBy=multi-user.target\n"
        dest: %q
`, spec, sshKey, passwordSentinel, caFile, dest)
}

func TestIgnitionRenderPlaybook(t *testing.T) {
	sshKey, caPEM := testIdentity(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(caFile, []byte(caPEM), 0o644))

	for _, spec := range []string{"3.3.0", "3.4.0", "2.2.0"} {
		t.Run(spec, func(t *testing.T) {
			dest := filepath.Join(dir, "config-"+spec+".ign")
			play := renderPlay(spec, dest, sshKey, caFile)

			// Check mode first: reports the change, writes nothing.
			check := RunPlaybook(t, play, nil, "--check", "--diff")
			require.Equal(t, 0, check.ExitCode, check.Output())
			assert.True(t, check.Task(t, "render").Changed(), "check mode must report the would-be change")
			assert.NoFileExists(t, dest, "check mode must not write dest")
			AssertNoSecret(t, check, passwordSentinel)

			first := RunPlaybook(t, play, nil, "--diff")
			require.Equal(t, 0, first.ExitCode, first.Output())
			res := first.Task(t, "render")
			assert.True(t, res.Changed())
			AssertNoSecret(t, first, passwordSentinel)

			data, err := os.ReadFile(dest)
			require.NoError(t, err)
			st, err := os.Stat(dest)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "dest is private by default")
			assert.Contains(t, string(data), passwordSentinel, "the file itself carries the user's hash")
			sum := sha512.Sum512(data)
			assert.Equal(t, hex.EncodeToString(sum[:]), res.Result["sha512"])
			assert.EqualValues(t, len(data), res.Result["size"])

			var doc map[string]any
			require.NoError(t, json.Unmarshal(data, &doc))
			assert.Equal(t, spec, doc["ignition"].(map[string]any)["version"])
			assertValidIgnition(t, spec, dest, data)

			second := RunPlaybook(t, play, nil, "--diff")
			require.Equal(t, 0, second.ExitCode, second.Output())
			assert.False(t, second.Task(t, "render").Changed(), "second identical run must be unchanged")
			assert.Equal(t, 0, second.ChangedCount())
		})
	}
}

// assertValidIgnition checks a rendered config with an independent validator:
// Debian's ignition-validate binary for the specs it knows (3.0-3.3), the
// ignition/v2 library's parser for 3.4, and known-good structure for 2.2.0.
func assertValidIgnition(t *testing.T, spec, path string, data []byte) {
	t.Helper()
	switch spec {
	case "3.3.0":
		out, err := exec.Command("ignition-validate", path).CombinedOutput()
		assert.NoError(t, err, "ignition-validate: %s", out)
	case "3.4.0":
		_, rpt, err := v34.Parse(data)
		require.NoError(t, err)
		assert.False(t, rpt.IsFatal(), rpt.String())
	case "2.2.0":
		var c struct {
			Ignition struct {
				Version  string
				Security struct {
					TLS struct{ CertificateAuthorities []struct{ Source string } }
				}
			}
			Passwd struct {
				Users []struct {
					Name              string
					SSHAuthorizedKeys []string
				}
			}
			Storage struct {
				Files []struct{ Filesystem, Path string }
			}
		}
		require.NoError(t, json.Unmarshal(data, &c))
		require.Len(t, c.Ignition.Security.TLS.CertificateAuthorities, 1)
		assert.True(t, strings.HasPrefix(c.Ignition.Security.TLS.CertificateAuthorities[0].Source, "data:"))
		require.Len(t, c.Passwd.Users, 1)
		assert.Len(t, c.Passwd.Users[0].SSHAuthorizedKeys, 1)
		require.Len(t, c.Storage.Files, 1)
		assert.Equal(t, "root", c.Storage.Files[0].Filesystem, "spec 2.2 files name their filesystem")
	}
}

func TestIgnitionRenderRejectsBadInput(t *testing.T) {
	sshKey, caPEM := testIdentity(t)
	cases := []struct {
		name, users, cas, want string
	}{
		{"malformed ssh key", fmt.Sprintf(`[{name: core, ssh_authorized_keys: ["ssh-ed25519 AAAAnot-base64!!"], password_hash: %q}]`, passwordSentinel),
			fmt.Sprintf("[%q]", caPEM), "users[0].ssh_authorized_keys[0]"},
		{"malformed PEM", fmt.Sprintf(`[{name: core, ssh_authorized_keys: [%q], password_hash: %q}]`, sshKey, passwordSentinel),
			`["-----BEGIN CERTIFICATE-----\nnot a cert\n-----END CERTIFICATE-----\n"]`, "ca_certificates[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "bad.ign")
			play := fmt.Sprintf(`
- hosts: localhost
  gather_facts: false
  tasks:
    - name: render
      metalkit.baremetal.ignition_render:
        users: %s
        ca_certificates: %s
        dest: %q
`, tc.users, tc.cas, dest)
			run := RunPlaybook(t, play, nil)
			assert.NotEqual(t, 0, run.ExitCode)
			res := run.Task(t, "render")
			assert.True(t, res.Failed())
			assert.Contains(t, res.Msg(), tc.want, "the message names the field")
			assert.NoFileExists(t, dest, "a failed render writes nothing")
			AssertNoSecret(t, run, passwordSentinel)
		})
	}

	t.Run("unsupported option", func(t *testing.T) {
		run := RunPlaybook(t, `
- hosts: localhost
  gather_facts: false
  tasks:
    - name: render
      metalkit.baremetal.ignition_render:
        spec_version: 3.4.0
        bogus: 1
`, nil)
		res := run.Task(t, "render")
		assert.True(t, res.Failed())
		assert.True(t, strings.HasPrefix(res.Msg(), "Unsupported parameters for (metalkit.baremetal.ignition_render) module: bogus."), res.Msg())
	})

	t.Run("bad choice", func(t *testing.T) {
		run := RunPlaybook(t, `
- hosts: localhost
  gather_facts: false
  tasks:
    - name: render
      metalkit.baremetal.ignition_render:
        spec_version: 4.0.0
`, nil)
		res := run.Task(t, "render")
		assert.True(t, res.Failed())
		assert.Contains(t, res.Msg(), "value of spec_version must be one of: 2.2.0, 3.0.0")
	})
}
