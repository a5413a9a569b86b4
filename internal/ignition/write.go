package ignition

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes data to path with mode through a temporary file
// and a rename in the same directory, so a reader never sees half a config.
// It returns changed=false and writes nothing when the file already has
// this content and mode; a mode difference alone is fixed with a chmod and
// counts as changed. A symlink at path is followed.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) (changed bool, err error) {
	mode = mode.Perm()
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		path = resolved
	}
	switch st, err := os.Stat(path); {
	case err == nil && st.IsDir():
		return false, fmt.Errorf("%s is a directory", path)
	case err == nil && st.Mode().IsRegular() && st.Size() == int64(len(data)):
		old, err := os.ReadFile(path)
		if err != nil {
			return false, err
		}
		if bytes.Equal(old, data) {
			if st.Mode().Perm() == mode {
				return false, nil
			}
			return true, os.Chmod(path, mode)
		}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return false, err
	}

	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err == nil {
		// Chmod, not CreateTemp's 0600 under the umask: the caller's mode exactly.
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return false, err
	}
	// Persist the rename itself; best effort (some filesystems refuse).
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return true, nil
}
