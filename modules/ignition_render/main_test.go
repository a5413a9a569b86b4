package main

import (
	"os"
	"path/filepath"
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
