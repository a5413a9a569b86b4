package safefile

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	sparse := filepath.Join(dir, "huge")
	f, err := os.Create(sparse)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(2<<30)) // 2 GiB, no disk used
	f.Close()
	cases := map[string]struct{ path, want string }{
		"device":    {"/dev/zero", "nodes_file: /dev/zero is a character device, expected a regular file"},
		"fifo":      {fifo, "nodes_file: " + fifo + " is a FIFO, expected a regular file"},
		"directory": {dir, "nodes_file: " + dir + " is a directory, expected a regular file"},
		"huge":      {sparse, "nodes_file: " + sparse + " is 2.0 GiB, larger than the 1.0 MiB limit"},
		"missing":   {filepath.Join(dir, "nope"), "nodes_file: open " + filepath.Join(dir, "nope") + ": no such file or directory"},
	}
	for name, tc := range cases {
		start := time.Now()
		_, err := Read("nodes_file", tc.path, 1<<20)
		require.Error(t, err, name)
		assert.Equal(t, tc.want, err.Error(), name)
		assert.Less(t, time.Since(start), 2*time.Second, "%s: a FIFO must not hang", name)
	}
	ok := filepath.Join(dir, "ok")
	require.NoError(t, os.WriteFile(ok, []byte("abc"), 0o600))
	data, err := Read("nodes_file", ok, 3)
	require.NoError(t, err)
	assert.Equal(t, "abc", string(data))
	_, err = Read("nodes_file", ok, 2)
	assert.ErrorContains(t, err, "is 3 bytes, larger than the 2 bytes limit")
	// A link to a regular file is read: following it to read is harmless.
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(ok, link))
	data, err = Read("nodes_file", link, 10)
	require.NoError(t, err)
	assert.Equal(t, "abc", string(data))
}

func TestWriteNeverGoesThroughALinkNorOverASpecialFile(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	require.NoError(t, os.WriteFile(victim, []byte("do not touch"), 0o644))
	link := filepath.Join(dir, "config.ign")
	require.NoError(t, os.Symlink(victim, link))
	_, err := Write("dest", link, []byte(`{"secret":"hash"}`), 0o600, 1<<20)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dest: "+link+" is a symbolic link (to "+victim+"): refused")
	got, _ := os.ReadFile(victim)
	assert.Equal(t, "do not touch", string(got))
	st, _ := os.Stat(victim)
	assert.Equal(t, fs.FileMode(0o644), st.Mode().Perm(), "the link's target is never chmod'ed")
	lst, _ := os.Lstat(link)
	assert.NotZero(t, lst.Mode()&fs.ModeSymlink, "the link stays")

	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	for path, want := range map[string]string{"/dev/null": "a character device", fifo: "a FIFO", dir: "a directory"} {
		_, err := Write("dest", path, []byte("x"), 0o600, 1<<20)
		require.Error(t, err, path)
		assert.Contains(t, err.Error(), "dest: "+path+" is "+want+": refused", path)
	}
	st, err = os.Stat("/dev/null")
	require.NoError(t, err)
	assert.NotZero(t, st.Mode()&fs.ModeCharDevice, "/dev/null is still a device")
}

func TestWriteIsAtomicAndIdempotent(t *testing.T) {
	// The mode asked wins over the umask.
	old := syscall.Umask(0o077)
	t.Cleanup(func() { syscall.Umask(old) })
	dest := filepath.Join(t.TempDir(), "config.ign")
	changed, err := Write("dest", dest, []byte("one"), 0o640, 1<<20)
	require.NoError(t, err)
	assert.True(t, changed)
	st, _ := os.Stat(dest)
	assert.Equal(t, fs.FileMode(0o640), st.Mode().Perm())
	changed, err = Write("dest", dest, []byte("one"), 0o640, 1<<20)
	require.NoError(t, err)
	assert.False(t, changed, "same content and mode: nothing written")
	changed, err = Write("dest", dest, []byte("one"), 0o600, 1<<20)
	require.NoError(t, err)
	assert.True(t, changed, "a mode difference is a change")
	st, _ = os.Stat(dest)
	assert.Equal(t, fs.FileMode(0o600), st.Mode().Perm())
	entries, _ := os.ReadDir(filepath.Dir(dest))
	assert.Len(t, entries, 1, "no temporary file left")
}

func TestParseModeReadsModesAsAnsibleDoes(t *testing.T) {
	for in, want := range map[any]fs.FileMode{
		416: 0o640, 384: 0o600, 420: 0o644, // YAML's unquoted 0640, 0600, 0644
		"0640": 0o640, "640": 0o640, "0o600": 0o600, "u=rw,g=r": 0o640, "u=rw": 0o600, "a=r,u+w": 0o644,
		float64(384): 0o600,
	} {
		got, err := ParseMode("mode", in)
		require.NoError(t, err, "%v", in)
		assert.Equal(t, want, got, "%v", in)
	}
	for _, in := range []any{"rw", "9", -1, 0o10000, 1.5, true, nil, "u=rwq"} {
		_, err := ParseMode("mode", in)
		assert.ErrorContains(t, err, "mode: ", "%v", in)
	}
}
