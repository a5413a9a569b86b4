// Package safefile is how every module reads a local file an option names
// and writes its dest: regular files only (a device, a FIFO, a directory or
// a socket is refused naming the option, before a byte is read, so
// /dev/zero cannot exhaust memory and a FIFO cannot hang the task), reads
// bounded, writes atomic and never through a symbolic link or over
// anything but a regular file.
package safefile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Open opens the regular file at path for reading. O_NONBLOCK: opening a
// FIFO must not wait for a writer; the type check then refuses it.
func Open(option, path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", option, err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s is %s, expected a regular file", path, kind(st.Mode()))
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", option, err)
	}
	return f, st, nil
}

// Read reads the regular file at path, refusing one larger than limit bytes.
func Read(option, path string, limit int64) ([]byte, error) {
	f, st, err := Open(option, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %s is %s, larger than the %s limit", option, path, size(st.Size()), size(limit))
	}
	// At most limit+1 bytes, whatever the size said: the file may grow.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", option, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %s grew past the %s limit while being read", option, path, size(limit))
	}
	return data, nil
}

// Existing is what a dest holds now.
type Existing struct {
	Content []byte // nil when there is no file
	Mode    fs.FileMode
}

// Current reads dest as Write will meet it: nothing there, or a regular
// file (at most limit bytes). A symbolic link or any other kind of file is
// refused, naming the option: Write would refuse it too.
func Current(option, path string, limit int64) (Existing, error) {
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Existing{}, nil
	case err != nil:
		return Existing{}, fmt.Errorf("%s: %w", option, err)
	case st.Mode()&fs.ModeSymlink != 0:
		target, _ := os.Readlink(path)
		return Existing{}, fmt.Errorf("%s: %s is a symbolic link (to %s): refused, the file is never written through a link; name the real file", option, path, target)
	case !st.Mode().IsRegular():
		return Existing{}, fmt.Errorf("%s: %s is %s: refused, only a regular file is replaced", option, path, kind(st.Mode()))
	}
	data, err := Read(option, path, limit)
	if err != nil {
		return Existing{}, err
	}
	return Existing{Content: data, Mode: st.Mode().Perm()}, nil
}

// Same tells whether the dest already holds data with mode.
func (e Existing) Same(data []byte, mode fs.FileMode) bool {
	return e.Content != nil && bytes.Equal(e.Content, data) && e.Mode == mode.Perm()
}

// Write puts data at path with mode, atomically (a temporary file in the
// same directory, synced, renamed over path): a reader never sees half a
// file, and a rename replaces what is at path, never what a link there
// points to. It refuses what Current refuses and reports changed=false,
// writing nothing, when path already holds data with mode.
func Write(option, path string, data []byte, mode fs.FileMode, limit int64) (changed bool, err error) {
	mode = mode.Perm()
	old, err := Current(option, path, limit)
	if err != nil {
		return false, err
	}
	if old.Same(data, mode) {
		return false, nil
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return false, fmt.Errorf("%s: %w", option, err)
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
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", option, err)
	}
	// Persist the rename itself; best effort (some filesystems refuse).
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return true, nil
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a regular file"
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
