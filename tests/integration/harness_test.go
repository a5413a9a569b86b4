//go:build integration

// Package integration drives the built collection through a real
// ansible-playbook (Debian's ansible-core) and, for the OpenStack modules,
// the real services that tests/services/up.sh starts on 127.0.0.1.
package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// collectionsPath is a throwaway collections path holding the built tarball,
// installed once per test binary by TestMain.
var collectionsPath string

func TestMain(m *testing.M) {
	code, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration setup:", err)
		os.Exit(1)
	}
	if code == 0 {
		code = m.Run()
	}
	os.RemoveAll(collectionsPath)
	os.Exit(code)
}

func setup() (int, error) {
	tarballs, _ := filepath.Glob(filepath.Join(repoRoot, "build", "metalkit-baremetal-*.tar.gz"))
	if len(tarballs) != 1 {
		return 1, fmt.Errorf("want exactly one build/metalkit-baremetal-*.tar.gz (run `make collection`), found %d", len(tarballs))
	}
	dir, err := os.MkdirTemp("", "metalkit-collections-")
	if err != nil {
		return 1, err
	}
	collectionsPath = dir
	out, err := exec.Command("ansible-galaxy", "collection", "install", "--force", "-p", dir, tarballs[0]).CombinedOutput()
	if err != nil {
		return 1, fmt.Errorf("ansible-galaxy collection install: %v\n%s", err, out)
	}
	return 0, nil
}

// TaskResult is one task's result on localhost, as the json callback reports it.
type TaskResult struct {
	Name   string
	Result map[string]any
}

// Changed and Failed read the booleans Ansible reported.
func (r TaskResult) Changed() bool { b, _ := r.Result["changed"].(bool); return b }
func (r TaskResult) Failed() bool  { b, _ := r.Result["failed"].(bool); return b }
func (r TaskResult) Msg() string   { s, _ := r.Result["msg"].(string); return s }

// PlaybookRun is the outcome of one ansible-playbook run.
type PlaybookRun struct {
	ExitCode int
	Stdout   string // the json callback's document
	Stderr   string
	Tasks    []TaskResult
	Stats    map[string]any // stats for localhost: ok, changed, failures, ...
}

// Task returns the result of the task with that name, failing the test if absent.
func (p *PlaybookRun) Task(t *testing.T, name string) TaskResult {
	t.Helper()
	for _, tr := range p.Tasks {
		if tr.Name == name {
			return tr
		}
	}
	names := make([]string, 0, len(p.Tasks))
	for _, tr := range p.Tasks {
		names = append(names, tr.Name)
	}
	t.Fatalf("no task %q in run; tasks: %v\nstderr: %s", name, names, p.Stderr)
	return TaskResult{}
}

// ChangedCount is how many tasks reported changed.
func (p *PlaybookRun) ChangedCount() int {
	n, _ := p.Stats["changed"].(float64)
	return int(n)
}

// Why says why a run failed in a few lines: each failed task's msg and the
// name and msg of each failed item of its servers or nodes list (a fleet's
// outcome is in there, and the whole json document is too long to show).
func (p *PlaybookRun) Why() string {
	var b strings.Builder
	for _, tr := range p.Tasks {
		if !tr.Failed() {
			continue
		}
		fmt.Fprintf(&b, "task %q: %s\n", tr.Name, tr.Msg())
		for _, key := range []string{"servers", "nodes"} {
			list, _ := tr.Result[key].([]any)
			for _, item := range list {
				m, _ := item.(map[string]any)
				if failed, _ := m["failed"].(bool); failed {
					fmt.Fprintf(&b, "  %v: %v\n", m["name"], m["msg"])
				}
			}
		}
	}
	if b.Len() == 0 {
		return fmt.Sprintf("exit code %d, no task failed; stderr: %.2000s", p.ExitCode, p.Stderr)
	}
	return b.String()
}

// Output is everything the run printed, for secret-leak assertions.
func (p *PlaybookRun) Output() string { return p.Stdout + "\n" + p.Stderr }

// RunPlaybook writes the playbook text to a temp dir and runs it on
// localhost with the json callback. extra are more ansible-playbook flags
// (e.g. --check, --diff, -e ...). Environment entries in env are added.
func RunPlaybook(t *testing.T, playbook string, env []string, extra ...string) *PlaybookRun {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "play.yml")
	if err := os.WriteFile(path, []byte(playbook), 0o644); err != nil {
		t.Fatal(err)
	}
	return RunPlaybookFile(t, path, env, extra...)
}

// RunPlaybookFile runs an existing playbook file (e.g. from playbooks/).
func RunPlaybookFile(t *testing.T, path string, env []string, extra ...string) *PlaybookRun {
	t.Helper()
	return StartPlaybookFile(t, path, env, extra...).Wait(t)
}

// StartedPlaybook is an ansible-playbook run going on in the background.
type StartedPlaybook struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

// StartPlaybook starts the playbook text in the background (a test that
// does something to the services while a task runs).
func StartPlaybook(t *testing.T, playbook string, env []string, extra ...string) *StartedPlaybook {
	t.Helper()
	path := filepath.Join(t.TempDir(), "play.yml")
	if err := os.WriteFile(path, []byte(playbook), 0o644); err != nil {
		t.Fatal(err)
	}
	return StartPlaybookFile(t, path, env, extra...)
}

// StartPlaybookFile starts ansible-playbook on path with the json callback.
func StartPlaybookFile(t *testing.T, path string, env []string, extra ...string) *StartedPlaybook {
	t.Helper()
	args := append([]string{"-i", "localhost,", "-c", "local",
		"-e", "ansible_python_interpreter=/usr/bin/python3", path}, extra...)
	s := &StartedPlaybook{cmd: exec.Command("ansible-playbook", args...)}
	s.cmd.Dir = filepath.Dir(path)
	s.cmd.Env = append(os.Environ(),
		"ANSIBLE_COLLECTIONS_PATH="+collectionsPath,
		"ANSIBLE_STDOUT_CALLBACK=json",
		"ANSIBLE_NOCOLOR=1",
		"ANSIBLE_RETRY_FILES_ENABLED=0",
		"ANSIBLE_LOCALHOST_WARNING=0",
		"ANSIBLE_INVENTORY_UNPARSED_WARNING=0",
	)
	s.cmd.Env = append(s.cmd.Env, env...)
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("ansible-playbook: %v", err)
	}
	return s
}

// Wait waits for the run to end and reads the json callback's document.
func (s *StartedPlaybook) Wait(t *testing.T) *PlaybookRun {
	t.Helper()
	err := s.cmd.Wait()
	run := &PlaybookRun{Stdout: s.stdout.String(), Stderr: s.stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		run.ExitCode = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("ansible-playbook: %v", err)
	}
	var doc struct {
		Plays []struct {
			Tasks []struct {
				Task  struct{ Name string } `json:"task"`
				Hosts map[string]map[string]any
			}
		}
		Stats map[string]map[string]any
	}
	if err := json.Unmarshal([]byte(run.Stdout), &doc); err != nil {
		t.Fatalf("ansible-playbook output is not the json callback's document: %v\nstdout: %.2000s\nstderr: %.2000s", err, run.Stdout, run.Stderr)
	}
	for _, play := range doc.Plays {
		for _, task := range play.Tasks {
			run.Tasks = append(run.Tasks, TaskResult{Name: task.Task.Name, Result: task.Hosts["localhost"]})
		}
	}
	run.Stats = doc.Stats["localhost"]
	return run
}

// cloudsYAML is the clouds.yaml that tests/services/up.sh writes.
var cloudsYAML = filepath.Join(repoRoot, "build", "services", "clouds.yaml")

// cloudsEnv points OpenStack clients at the test services' clouds.yaml.
func cloudsEnv() []string {
	return []string{"OS_CLIENT_CONFIG_FILE=" + cloudsYAML}
}

// playbook is a play on localhost around task lines (indented by four).
func playbook(tasks string) string {
	return "- hosts: localhost\n  gather_facts: false\n  tasks:\n" + tasks
}

// AssertNoSecret fails the test when any sentinel appears in what the run printed.
func AssertNoSecret(t *testing.T, run *PlaybookRun, sentinels ...string) {
	t.Helper()
	out := run.Output()
	for _, s := range sentinels {
		if i := strings.Index(out, s); i >= 0 {
			lo, hi := max(0, i-200), min(len(out), i+len(s)+200)
			t.Errorf("secret sentinel %q leaked into ansible-playbook output: ...%s...", s, out[lo:hi])
		}
	}
}
