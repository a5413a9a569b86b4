package ignition

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteFileAtomic(t *testing.T) {
	// Our mode must win over the umask.
	old := syscall.Umask(0o077)
	t.Cleanup(func() { syscall.Umask(old) })

	dir := t.TempDir()
	p := filepath.Join(dir, "worker.ign")
	mode := func() os.FileMode {
		st, err := os.Stat(p)
		require.NoError(t, err)
		return st.Mode().Perm()
	}
	content := func() string {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		return string(b)
	}

	steps := []struct {
		name        string
		data        string
		mode        os.FileMode
		wantChanged bool
	}{
		{"new file", `{"a":1}`, 0o600, true},
		{"same content and mode", `{"a":1}`, 0o600, false},
		{"new content", `{"a":2}`, 0o600, true},
		{"same size, new content", `{"a":3}`, 0o600, true},
		{"mode alone", `{"a":3}`, 0o644, true},
		{"unchanged again", `{"a":3}`, 0o644, false},
	}
	for _, s := range steps {
		var mtime time.Time
		if st, err := os.Stat(p); err == nil {
			mtime = st.ModTime()
		}
		changed, err := WriteFileAtomic(p, []byte(s.data), s.mode)
		require.NoError(t, err, s.name)
		assert.Equal(t, s.wantChanged, changed, s.name)
		assert.Equal(t, s.data, content(), s.name)
		assert.Equal(t, s.mode, mode(), s.name)
		if !s.wantChanged {
			st, _ := os.Stat(p)
			assert.Equal(t, mtime, st.ModTime(), "%s: nothing written", s.name)
		}
	}

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

func TestWriteFileAtomicFollowsSymlinkAndRejectsDir(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.ign")
	require.NoError(t, os.WriteFile(target, []byte("old"), 0o600))
	link := filepath.Join(dir, "link.ign")
	require.NoError(t, os.Symlink(target, link))

	changed, err := WriteFileAtomic(link, []byte("new"), 0o600)
	require.NoError(t, err)
	assert.True(t, changed)
	b, _ := os.ReadFile(target)
	assert.Equal(t, "new", string(b))
	st, err := os.Lstat(link)
	require.NoError(t, err)
	assert.NotZero(t, st.Mode()&os.ModeSymlink, "the link stays a link")

	_, err = WriteFileAtomic(dir, []byte("x"), 0o600)
	assert.ErrorContains(t, err, "is a directory")

	_, err = WriteFileAtomic(filepath.Join(dir, "missing-dir", "a.ign"), []byte("x"), 0o600)
	assert.Error(t, err)
}

func TestNeedsWriteAgreesWithWriteFileAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.ign")
	data := []byte(`{"ignition":{"version":"3.4.0"}}`)

	need, err := NeedsWrite(path, data, 0o600)
	require.NoError(t, err)
	assert.True(t, need, "missing file")

	_, err = WriteFileAtomic(path, data, 0o600)
	require.NoError(t, err)
	need, err = NeedsWrite(path, data, 0o600)
	require.NoError(t, err)
	assert.False(t, need, "same content and mode")

	need, err = NeedsWrite(path, data, 0o644)
	require.NoError(t, err)
	assert.True(t, need, "mode differs")
	need, err = NeedsWrite(path, []byte(`{}`), 0o600)
	require.NoError(t, err)
	assert.True(t, need, "content differs")

	_, err = NeedsWrite(filepath.Dir(path), data, 0o600)
	assert.ErrorContains(t, err, "is a directory")
}
