package hostile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// oldConfig is a dest left by an earlier run, holding an old password hash.
const oldConfig = `{"ignition":{"version":"3.5.0"},"passwd":{"users":[{"name":"core","passwordHash":"` + SentOldHash + `"}]}}`

func ignitionArgs(kv ...any) map[string]any {
	return With(map[string]any{"users": []any{map[string]any{"name": "core", "password_hash": SentHash}}}, kv...)
}

// unchanged is the Check that path (not followed) is as it was.
func unchanged(t *testing.T, path string) func(*testing.T, *Outcome) {
	before := StateOf(t, path)
	return func(t *testing.T, _ *Outcome) {
		t.Helper()
		if after := StateOf(t, path); after != before {
			t.Errorf("%s changed: was %v %q, now %v %q", filepath.Base(path), before.Mode, clip(before.Content), after.Mode, clip(after.Content))
		}
	}
}

// victim is a file a symlink at dest points to, in another directory.
func victim(t *testing.T) (dest, target string) {
	target = WriteFile(t, "victim.conf", SentVictim+"\n")
	if err := os.Chmod(target, 0o644); err != nil {
		t.Fatal(err)
	}
	dest = filepath.Join(t.TempDir(), "config.ign")
	if err := os.Symlink(target, dest); err != nil {
		t.Fatal(err)
	}
	return dest, target
}

// notThroughLink is the Check of a symlink at dest: the target is
// untouched, and dest, if written, is a regular file of its own.
func notThroughLink(t *testing.T, dest, target string) func(*testing.T, *Outcome) {
	same := unchanged(t, target)
	return func(t *testing.T, o *Outcome) {
		same(t, o)
		if st, err := os.Lstat(dest); !o.Failed() && !t.Failed() && err == nil && st.Mode()&os.ModeSymlink == 0 && !st.Mode().IsRegular() {
			t.Errorf("dest is now %v", st.Mode())
		}
	}
}

func TestIgnition(t *testing.T) {
	dest := []string{"dest"}
	cas := []string{"ca_certificates"}
	caFile := func(path func(t *testing.T) string) func(t *testing.T) *Run {
		return func(t *testing.T) *Run { return &Run{Args: ignitionArgs("ca_certificates", []any{path(t)})} }
	}
	atDest := func(make func(t *testing.T, p string)) func(t *testing.T) *Run {
		return func(t *testing.T) *Run {
			p := filepath.Join(t.TempDir(), "config.ign")
			make(t, p)
			return &Run{Args: ignitionArgs("dest", p), Check: unchanged(t, p)}
		}
	}
	cases := []Case{
		{Name: "secrets/password_hash rendered", Want: OK, Setup: func(t *testing.T) *Run {
			return &Run{Args: ignitionArgs()}
		}},
		{Name: "secrets/password_hash in a refused config", Want: Fail, Names: []string{"users"}, Setup: func(t *testing.T) *Run {
			u := map[string]any{"name": "core", "password_hash": SentHash}
			return &Run{Args: ignitionArgs("users", []any{u, u})}
		}},
		{Name: "diff/old password hash of dest not shown", Want: OK, Setup: func(t *testing.T) *Run {
			p := WriteFile(t, "config.ign", oldConfig)
			return &Run{Args: ignitionArgs("dest", p, "_ansible_diff", true)}
		}},
		{Name: "diff/old password hash of dest not shown in check mode", Want: OK, Setup: func(t *testing.T) *Run {
			p := WriteFile(t, "config.ign", oldConfig)
			return &Run{Args: ignitionArgs("dest", p, "_ansible_diff", true, "_ansible_check_mode", true), Check: unchanged(t, p)}
		}},
		{Name: "mode/int 416 from unquoted YAML 0640 writes 0640", Want: OK, Setup: func(t *testing.T) *Run {
			p := filepath.Join(t.TempDir(), "config.ign")
			return &Run{Args: ignitionArgs("dest", p, "mode", 416), Check: func(t *testing.T, _ *Outcome) {
				if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o640 {
					t.Errorf("dest mode: want 0640, got %v (%v)", st.Mode().Perm(), err)
				}
			}}
		}},
		{Name: "mode/not octal", Want: Fail, Names: []string{"mode"}, Setup: func(t *testing.T) *Run {
			p := filepath.Join(t.TempDir(), "config.ign")
			return &Run{Args: ignitionArgs("dest", p, "mode", "rw-r-----"), Check: unchanged(t, p)}
		}},
		{Name: "dest/symlink to a victim file", Want: Any, Setup: func(t *testing.T) *Run {
			d, target := victim(t)
			return &Run{Args: ignitionArgs("dest", d, "mode", "0600"), Check: notThroughLink(t, d, target)}
		}},
		{Name: "dest/symlink to a victim file in check+diff mode", Want: Any, Setup: func(t *testing.T) *Run {
			d, target := victim(t)
			return &Run{Args: ignitionArgs("dest", d, "_ansible_diff", true, "_ansible_check_mode", true), Check: notThroughLink(t, d, target)}
		}},
		{Name: "dest/dangling symlink into another directory", Want: Any, Setup: func(t *testing.T) *Run {
			target := filepath.Join(t.TempDir(), "planted")
			d := filepath.Join(t.TempDir(), "config.ign")
			if err := os.Symlink(target, d); err != nil {
				t.Fatal(err)
			}
			return &Run{Args: ignitionArgs("dest", d), Check: func(t *testing.T, _ *Outcome) {
				if _, err := os.Lstat(target); err == nil {
					t.Errorf("the symlink at dest was written through: %s created", target)
				}
			}}
		}},
		{Name: "dest/FIFO", Want: Fail, Names: dest, Setup: atDest(func(t *testing.T, p string) {
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Fatal(err)
			}
		})},
		{Name: "dest/character device", Want: Fail, Names: dest, Setup: atDest(func(t *testing.T, p string) {
			// The device numbers of /dev/null (mknod needs root, which the suite runs as).
			if err := syscall.Mknod(p, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
				t.Fatal(err)
			}
		})},
		{Name: "dest/directory", Want: Fail, Names: dest, Setup: atDest(func(t *testing.T, p string) {
			if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
		})},
		{Name: "dest/in a missing directory", Want: Fail, Names: dest, Setup: func(t *testing.T) *Run {
			return &Run{Args: ignitionArgs("dest", filepath.Join(t.TempDir(), "missing", "config.ign"))}
		}},
		{Name: "check/check mode writes nothing and says so", Want: OK, Setup: func(t *testing.T) *Run {
			p := filepath.Join(t.TempDir(), "config.ign")
			return &Run{Args: ignitionArgs("dest", p, "_ansible_check_mode", true), Check: func(t *testing.T, o *Outcome) {
				if _, err := os.Lstat(p); err == nil {
					t.Error("check mode created dest")
				}
				if msg := o.Msg(); strings.Contains(msg, "written") && !strings.Contains(msg, "would") {
					t.Errorf("check mode says the config was written: %q", msg)
				}
			}}
		}},
		{Name: "file/ca_certificates is /dev/zero", Want: Fail, Names: cas, Setup: caFile(func(*testing.T) string { return "/dev/zero" })},
		{Name: "file/ca_certificates is a FIFO", Want: Fail, Names: cas, Setup: caFile(FIFO)},
		{Name: "file/ca_certificates is a directory", Want: Fail, Names: cas, Setup: caFile(func(t *testing.T) string { return t.TempDir() })},
		{Name: "file/ca_certificates is a 2 GiB sparse file", Want: Fail, Names: cas, Setup: caFile(func(t *testing.T) string { return Sparse(t, 2<<30) })},
		{Name: "secrets/passwordHash inside base in a refused config", Want: Fail, Names: []string{"base"}, Setup: func(t *testing.T) *Run {
			return &Run{Args: ignitionArgs("base", map[string]any{"ignition": map[string]any{"version": "9.9.9"}, "passwd": map[string]any{"users": []any{map[string]any{"name": "core", "passwordHash": SentOldHash}}}})}
		}},
	}
	Check(t, "ignition_render", cases)
}
