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
	path, sameContent, sameMode, err := current(path, data, mode)
	switch {
	case err != nil:
		return false, err
	case sameContent && sameMode:
		return false, nil
	case sameContent:
		return true, os.Chmod(path, mode)
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

// NeedsWrite tells check mode whether WriteFileAtomic would change path.
func NeedsWrite(path string, data []byte, mode os.FileMode) (bool, error) {
	_, sameContent, sameMode, err := current(path, data, mode.Perm())
	return !(sameContent && sameMode), err
}

// current resolves path's symlinks (a link is written through, not
// replaced) into target and compares what target holds now with data and
// mode; a missing file is neither. A directory at path is an error.
func current(path string, data []byte, mode os.FileMode) (target string, sameContent, sameMode bool, err error) {
	target = path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		target = resolved
	}
	st, err := os.Stat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return target, false, false, nil
	case err != nil:
		return target, false, false, err
	case st.IsDir():
		return target, false, false, fmt.Errorf("%s is a directory", path)
	case !st.Mode().IsRegular() || st.Size() != int64(len(data)):
		return target, false, false, nil
	}
	old, err := os.ReadFile(target)
	if err != nil || !bytes.Equal(old, data) {
		return target, false, false, err
	}
	return target, true, st.Mode().Perm() == mode, nil
}
