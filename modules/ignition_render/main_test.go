package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/metalkit/baremetal/internal/ansible/ansibletest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDocsMatchSpec(t *testing.T) {
	ansibletest.AssertDocsCurrent(t, spec, "../../collection/plugins/modules/ignition_render.yml")
}

func TestRenderWritesDestOnceAndHonoursCheckMode(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "config.ign")
	args := map[string]any{
		"spec_version": "3.4.0",
		"users":        []any{map[string]any{"name": "core", "password_hash": "$6$SENTINEL$secret-hash"}},
		"files":        []any{map[string]any{"path": "/etc/hostname", "contents": "node-1", "mode": 420}},
		"dest":         dest,
	}

	check := ansibletest.RunWithArgs(t, spec, with(args, "_ansible_check_mode", true), module)
	assert.Equal(t, true, check["changed"], "check mode predicts the write")
	assert.NoFileExists(t, dest)

	first := ansibletest.RunWithArgs(t, spec, with(args, "_ansible_diff", true), module)
	require.Equal(t, false, first["failed"], first["msg"])
	assert.Equal(t, true, first["changed"])
	assert.Contains(t, first, "diff")
	st, err := os.Stat(dest)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	assert.NotContains(t, first["json"], "SENTINEL", "the hash is scrubbed from the result")

	second := ansibletest.RunWithArgs(t, spec, args, module)
	assert.Equal(t, false, second["changed"])
	checkAgain := ansibletest.RunWithArgs(t, spec, with(args, "_ansible_check_mode", true), module)
	assert.Equal(t, false, checkAgain["changed"], "check mode on an up-to-date file")
}

func TestBadInputNamesTheField(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "config.ign")
	res := ansibletest.RunWithArgs(t, spec, map[string]any{
		"users": []any{map[string]any{"name": "core", "ssh_authorized_keys": []any{"ssh-rsa bogus"}}},
		"dest":  dest,
	}, module)
	assert.Equal(t, true, res["failed"])
	assert.Contains(t, res["msg"], "users[0].ssh_authorized_keys[0]")
	assert.NoFileExists(t, dest)

	res = ansibletest.RunWithArgs(t, spec, map[string]any{"dest": dest, "mode": "rw"}, module)
	assert.Equal(t, true, res["failed"])
	assert.Contains(t, res["msg"], "mode:")
}

func with(args map[string]any, k string, v any) map[string]any {
	out := map[string]any{k: v}
	for key, val := range args {
		out[key] = val
	}
	return out
}

// dest is written as Ansible's file modules write: an unquoted YAML 0640
// (the int 416) is 0640, never 0416.
func TestModeIsReadAsAnsibleReadsIt(t *testing.T) {
	for in, want := range map[any]os.FileMode{416: 0o640, "0640": 0o640, "u=rw": 0o600, 384: 0o600} {
		dest := filepath.Join(t.TempDir(), "config.ign")
		res := ansibletest.RunWithArgs(t, spec, map[string]any{"dest": dest, "mode": in}, module)
		require.Equal(t, false, res["failed"], "%v: %v", in, res["msg"])
		st, err := os.Stat(dest)
		require.NoError(t, err)
		assert.Equal(t, want, st.Mode().Perm(), "mode %v", in)
	}
	dest := filepath.Join(t.TempDir(), "config.ign")
	res := ansibletest.RunWithArgs(t, spec, map[string]any{"dest": dest, "mode": "0644",
		"users": []any{map[string]any{"name": "core", "password_hash": "$6$x$y"}}}, module)
	assert.Contains(t, res["warnings"], "mode: 0644 lets other users read "+dest+", which holds password hashes; 0600 keeps it private")
}

// The /tmp symlink attack, a device and a FIFO at dest: refused, in check
// mode too, and nothing they point to is read, written or chmod'ed.
func TestDestThatIsNotARegularFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "shadow")
	require.NoError(t, os.WriteFile(victim, []byte("root:$6$OLD-SENTINEL-HASH:19000:0:99999:7:::\n"), 0o644))
	link := filepath.Join(dir, "config.ign")
	require.NoError(t, os.Symlink(victim, link))
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	for _, dest := range []string{link, "/dev/null", fifo} {
		for _, check := range []bool{false, true} {
			res := ansibletest.RunWithArgs(t, spec, map[string]any{"dest": dest, "_ansible_check_mode": check, "_ansible_diff": true}, module)
			assert.Equal(t, true, res["failed"], "%s check=%v", dest, check)
			assert.Contains(t, res["msg"], "dest: "+dest+" is ", dest)
			assert.Contains(t, res["msg"], "refused", dest)
			assert.NotContains(t, text(res), "OLD-SENTINEL-HASH", "the link's target is never shown")
		}
	}
	got, _ := os.ReadFile(victim)
	assert.Equal(t, "root:$6$OLD-SENTINEL-HASH:19000:0:99999:7:::\n", string(got))
	st, _ := os.Stat(victim)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
}

// Diff mode shows what changed, never a password hash of the old config
// or of the new one.
func TestDiffNeverShowsPasswordHashes(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "config.ign")
	old := map[string]any{"dest": dest, "users": []any{map[string]any{"name": "core", "password_hash": "$6$OLD-SENTINEL$h"}}}
	require.Equal(t, false, ansibletest.RunWithArgs(t, spec, old, module)["failed"])
	for _, check := range []bool{true, false} {
		res := ansibletest.RunWithArgs(t, spec, map[string]any{"dest": dest, "_ansible_diff": true, "_ansible_check_mode": check,
			"users": []any{map[string]any{"name": "core", "password_hash": "$6$NEW-SENTINEL$h"}}}, module)
		require.Equal(t, false, res["failed"], res["msg"])
		diff := text(res["diff"])
		assert.Contains(t, diff, "password hash, ", "the diff says a hash is there")
		assert.NotContains(t, text(res), "OLD-SENTINEL", "check=%v", check)
		assert.NotContains(t, text(res), "NEW-SENTINEL", "check=%v", check)
	}
}

func text(v any) string { b, _ := json.Marshal(v); return string(b) }
