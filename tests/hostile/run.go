// Package hostile is the adversarial suite of issue 12: it builds the
// module binaries and runs each, as Ansible does (`binary ARGS_FILE`),
// with hostile input against in-process fakes on 127.0.0.1, asserting
// the safe behaviour: one JSON result, the failed flag, a message naming
// the offending option, nothing created or overwritten, bounded time and
// memory, and no secret in any output in any encoding (sweep.go).
//
// A case is one row of a module's table (*_test.go); Check runs it. The
// expectations are about behaviour, not wording, so that they hold for
// whatever message the fixes choose. BASELINE.md records how each case
// fares on the main branch the suite was written against.
package hostile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Modules are the binaries under test, by name (modules/<name>).
var Modules = []string{"glance_rhcos", "ignition_render", "ironic_enroll", "ironic_introspect", "nova_bm_server", "ironic_node_action", "nova_bm_server_info"}

// Bounds every case is held to.
const (
	// CaseDeadline is how long a module may run before it is killed.
	CaseDeadline = 20 * time.Second
	// MaxRSS is the peak resident memory a module may reach.
	MaxRSS = 256 << 20
	// killRSS is where the watchdog kills a module running away with
	// memory (a /dev/zero read, a billion laughs), before it hurts the machine.
	killRSS = 512 << 20
)

var binDir string

// BuildModules builds every module (CGO_ENABLED=0) into a temporary
// directory; TestMain calls it once. It returns a cleanup.
func BuildModules() (cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "hostile-bin-")
	if err != nil {
		return nil, err
	}
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	args := []string{"build", "-trimpath", "-o", dir + string(filepath.Separator)}
	for _, m := range Modules {
		args = append(args, "./modules/"+m)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	binDir = dir
	return func() { os.RemoveAll(dir) }, nil
}

// repoRoot is the directory of go.mod.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// Want is the failed flag a case expects.
type Want int

const (
	Fail Want = iota // failed: true, msg naming one of Names
	OK               // failed: false
	Any              // either (the state checks decide)
)

// Run is one execution of a module: its args and environment, and what
// to check after it beyond the common assertions.
type Run struct {
	Args map[string]any
	// Env adds variables (OS_CLIENT_CONFIG_FILE=...) to a clean environment.
	Env []string
	// Secrets are swept beside every sentinel of sentinels.go.
	Secrets []string
	// Signal, when set, sends SIGTERM this long after the start.
	Signal time.Duration
	// Check asserts on the fakes and the file system after the run.
	Check func(t *testing.T, o *Outcome)
}

// Case is one hostile input to one module.
type Case struct {
	Name string
	Want Want
	// Names: on failure, msg must contain one of them (the offending option).
	// Empty: any message (a refused redirect, a signal).
	Names []string
	// Setup starts the fakes of the case and returns the run.
	Setup func(t *testing.T) *Run
}

// Outcome is what a run produced.
type Outcome struct {
	Stdout, Stderr string
	Result         map[string]any // the JSON object on stdout (nil if none)
	Elapsed        time.Duration
	MaxRSS         int64 // bytes
	Killed         string
}

// Msg is the result's msg.
func (o *Outcome) Msg() string { s, _ := o.Result["msg"].(string); return s }

// Failed is the result's failed flag.
func (o *Outcome) Failed() bool { f, _ := o.Result["failed"].(bool); return f }

// Exec runs module with r.Args in a fresh directory with a clean
// environment (no OS_* variables, HOME in a temporary directory), under
// the deadline and the memory watchdog.
func Exec(t *testing.T, module string, r *Run) *Outcome {
	t.Helper()
	if binDir == "" {
		t.Fatal("modules not built: TestMain calls BuildModules")
	}
	dir := t.TempDir()
	args := map[string]any{"_ansible_module_name": module}
	for k, v := range r.Args {
		args[k] = v
	}
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	argsFile := filepath.Join(dir, "args.json")
	if err := os.WriteFile(argsFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	_ = os.Mkdir(home, 0o700)

	ctx, cancel := context.WithTimeout(context.Background(), CaseDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, module), argsFile)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=" + home, "LANG=C"}, r.Env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	o := &Outcome{}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	done := make(chan struct{})
	go func() { // memory watchdog
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if rss := currentRSS(cmd.Process.Pid); rss > killRSS {
					mu.Lock()
					o.Killed = fmt.Sprintf("killed: resident memory passed %d MiB", killRSS>>20)
					mu.Unlock()
					_ = cmd.Process.Kill()
					return
				}
			}
		}
	}()
	if r.Signal > 0 {
		go func() {
			select {
			case <-done:
			case <-time.After(r.Signal):
				_ = cmd.Process.Signal(syscall.SIGTERM)
			}
		}()
	}
	_ = cmd.Wait()
	close(done)
	o.Elapsed = time.Since(start)
	if ctx.Err() != nil && o.Killed == "" {
		o.Killed = fmt.Sprintf("killed: still running after %s", CaseDeadline)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		o.MaxRSS = ru.Maxrss * 1024
	}
	o.Stdout, o.Stderr = stdout.String(), stderr.String()
	o.Result = oneJSON(o.Stdout)
	return o
}

// currentRSS is the resident memory of pid in bytes (0 when unknown).
func currentRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// oneJSON decodes stdout when it is exactly one JSON object.
func oneJSON(s string) map[string]any {
	dec := json.NewDecoder(strings.NewReader(s))
	var v map[string]any
	if err := dec.Decode(&v); err != nil || v == nil {
		return nil
	}
	if dec.More() {
		return nil
	}
	var rest any
	if dec.Decode(&rest) == nil {
		return nil
	}
	return v
}

// Check runs the cases of a module, in parallel, each with the common
// assertions and its own.
func Check(t *testing.T, module string, cases []Case) {
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.Name] {
			t.Fatalf("case %q twice", c.Name)
		}
		seen[c.Name] = true
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			r := c.Setup(t)
			o := Exec(t, module, r)
			logOutcome(t, o)
			c.assert(t, r, o)
			if r.Check != nil && o.Result != nil {
				r.Check(t, o)
			}
		})
	}
}

func (c Case) assert(t *testing.T, r *Run, o *Outcome) {
	t.Helper()
	Sweep(t, "stdout", o.Stdout, append(AllSentinels(), r.Secrets...))
	Sweep(t, "stderr", o.Stderr, append(AllSentinels(), r.Secrets...))
	if o.Killed != "" {
		t.Errorf("%s (elapsed %s)", o.Killed, o.Elapsed.Round(time.Millisecond))
	}
	if o.MaxRSS > MaxRSS {
		t.Errorf("peak resident memory %d MiB, limit %d MiB", o.MaxRSS>>20, MaxRSS>>20)
	}
	if o.Result == nil {
		t.Errorf("stdout is not exactly one JSON object:\n%s\nstderr:\n%s", clip(o.Stdout), clip(o.Stderr))
		return
	}
	msg := o.Msg()
	switch {
	case c.Want == Fail && !o.Failed():
		t.Errorf("want a failed result, got failed=false: %s", clip(msg))
	case c.Want == OK && o.Failed():
		t.Errorf("want success, got failed: %s", clip(msg))
	case c.Want == Fail && len(c.Names) > 0 && !containsAny(msg, c.Names):
		t.Errorf("msg does not name the option (%s): %s", strings.Join(c.Names, " or "), clip(msg))
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// clip shortens output for a test log.
func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

// logOutcome is for debugging a case: HOSTILE_LOG=1 logs every result.
func logOutcome(t *testing.T, o *Outcome) {
	if os.Getenv("HOSTILE_LOG") != "" {
		t.Logf("elapsed %s, maxrss %d MiB, killed %q, failed %v\nmsg: %s\nstderr: %s", o.Elapsed.Round(time.Millisecond), o.MaxRSS>>20, o.Killed, o.Failed(), clip(o.Msg()), clip(o.Stderr))
	}
}
