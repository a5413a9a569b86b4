//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Through real ansible-playbook: an unquoted YAML mode (0640, which YAML
// 1.1 hands the module as the int 416) is written 0640, not 0416; a
// symlink at dest is refused and its target keeps content and mode; the
// diff of an existing dest shows digests, never the old password hash.
func TestFilesIgnitionDestPlaybook(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, "files-fresh.ign")
	victim := filepath.Join(dir, "files-victim")
	require.NoError(t, os.WriteFile(victim, []byte("root:$6$FILESOLDHASH"), 0o600))
	link := filepath.Join(dir, "files-link.ign")
	require.NoError(t, os.Symlink(victim, link))
	existing := filepath.Join(dir, "files-existing.ign")
	require.NoError(t, os.WriteFile(existing, []byte(`{"passwd":{"users":[{"name":"core","passwordHash":"$6$FILESOLDHASH"}]}}`), 0o600))

	task := func(name, dest, mode string) string {
		return fmt.Sprintf(`    - name: %s
      metalkit.baremetal.ignition_render:
        users: [{name: core, password_hash: %q}]
        dest: %q
        mode: %s
      ignore_errors: true
`, name, passwordSentinel, dest, mode)
	}
	play := playbook(task("unquoted mode", fresh, "0640") + task("symlink dest", link, "0640") + task("existing dest", existing, "'0600'"))
	run := RunPlaybook(t, play, nil, "--diff")

	r := run.Task(t, "unquoted mode")
	require.False(t, r.Failed(), r.Msg())
	st, err := os.Stat(fresh)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), st.Mode().Perm(), "mode: 0640 unquoted means 0640")
	assert.Contains(t, fmt.Sprint(r.Result["warnings"]), "mode: 0640 lets other users read "+fresh+", which holds password hashes")

	r = run.Task(t, "symlink dest")
	assert.True(t, r.Failed())
	assert.Contains(t, r.Msg(), "dest: "+link+" is a symbolic link (to "+victim+"): refused")
	b, err := os.ReadFile(victim)
	require.NoError(t, err)
	assert.Equal(t, "root:$6$FILESOLDHASH", string(b), "the link's target keeps its content")
	st, err = os.Stat(victim)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the link's target keeps its mode")
	lst, err := os.Lstat(link)
	require.NoError(t, err)
	assert.NotZero(t, lst.Mode()&os.ModeSymlink, "the link itself is left alone")

	r = run.Task(t, "existing dest")
	require.False(t, r.Failed(), r.Msg())
	assert.True(t, r.Changed())
	diff, _ := r.Result["diff"].(map[string]any)
	require.NotNil(t, diff, "--diff gives a diff")
	assert.Contains(t, diff["before"], "<password hash, ", "the old hash is shown as its size and digest")
	assert.NotContains(t, fmt.Sprint(diff), "FILESOLDHASH")
	AssertNoSecret(t, run, "FILESOLDHASH", passwordSentinel)
}
