//go:build integration

package integration

// The fault matrix's bed: the fault layer in front of every service, a
// clouds.yaml whose clouds go through it, the control of the real service
// processes (kill -9, start again), and the matrix record. The cells are in
// chaos_test.go.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/metalkit/baremetal/tests/chaos/fault"
)

// servicesDir is where tests/services keeps the services' state and pid files.
var servicesDir = filepath.Join(repoRoot, "build", "services")

// chaosPorts are the services the layer fronts, by the name of their
// clouds.yaml endpoint override (the standalone pair under its own names).
var chaosPorts = map[string]int{
	"identity": 5000, "baremetal": 6385, "baremetal_introspection": 5050, "image": 9292,
	"compute": 8774, "placement": 8778, "network": 9696,
	"standalone-baremetal": 6388, "standalone-image": 9293,
}

// catalogPaths are the paths of the endpoints in the test bed's catalog
// (an endpoint override stands for the catalog's URL, path included).
var catalogPaths = map[string]string{"compute": "/v2.1"}

// chaosBed routes the modules through a fault layer: its clouds.yaml has the
// clouds "local" (the application credential of the test bed: its secret is
// the sentinel that must never show) and "local-standalone", every endpoint
// a proxy of the layer. The test's own checks go to the services directly.
type chaosBed struct {
	t      *testing.T
	layer  *fault.Layer
	env    []string
	secret string
}

// newChaosBed starts the layer. retries >= 0 sets status_code_retries.
func newChaosBed(t *testing.T, retries int) *chaosBed {
	t.Helper()
	l := fault.New()
	t.Cleanup(l.Close)
	for name, port := range chaosPorts {
		_, err := l.Add(name, fmt.Sprintf("127.0.0.1:%d", port))
		require.NoError(t, err)
	}
	raw, err := os.ReadFile(cloudsYAML)
	require.NoError(t, err, "no %s: make services-up", cloudsYAML)
	var real struct {
		Clouds map[string]map[string]any `yaml:"clouds"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &real))
	appcred, ok := real.Clouds["local-appcred"]
	require.True(t, ok, "the test bed's clouds.yaml has no local-appcred cloud")
	auth := appcred["auth"].(map[string]any)
	secret, _ := auth["application_credential_secret"].(string)
	require.NotEmpty(t, secret)
	auth["auth_url"] = l.URL("identity") + "/v3"
	local := map[string]any{"auth_type": "v3applicationcredential", "auth": auth, "region_name": "RegionOne",
		"interface": "public", "identity_api_version": 3}
	standalone := map[string]any{"auth_type": "none",
		"baremetal_endpoint_override": l.URL("standalone-baremetal"), "image_endpoint_override": l.URL("standalone-image")}
	for name := range chaosPorts {
		if !strings.HasPrefix(name, "standalone-") && name != "identity" {
			local[name+"_endpoint_override"] = l.URL(name) + catalogPaths[name]
		}
	}
	if retries >= 0 {
		local["status_code_retries"], standalone["status_code_retries"] = retries, retries
	}
	doc, err := yaml.Marshal(map[string]any{"clouds": map[string]any{"local": local, "local-standalone": standalone}})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "clouds.yaml")
	require.NoError(t, os.WriteFile(path, doc, 0o600))
	return &chaosBed{t: t, layer: l, env: []string{"OS_CLIENT_CONFIG_FILE=" + path}, secret: secret}
}

// every applies a fault to every service of the layer.
func (b *chaosBed) every(f func(name string) error) {
	for name := range chaosPorts {
		require.NoError(b.t, f(name))
	}
}

// servicePID reads the pid file rel (e.g. "glance/glance-api") of a service.
func servicePID(t *testing.T, rel string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(servicesDir, rel+".pid"))
	require.NoError(t, err, "pid file of %s", rel)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	return pid
}

// gone: no such process, or a zombie nobody reaped yet.
func gone(pid int) bool {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	stat := string(raw)
	f := strings.Fields(stat[strings.LastIndexByte(stat, ')')+1:])
	return len(f) > 0 && f[0] == "Z"
}

// killService sends SIGKILL to the process group of the service's pid file
// rel (tests/services starts each in a session of its own) and waits until
// it is gone. Cleanup starts group (an up.sh list) again, should the test
// end before it does.
func killService(t *testing.T, rel, group string) {
	t.Helper()
	pid := servicePID(t, rel)
	require.NoError(t, syscall.Kill(-pid, syscall.SIGKILL), "kill -9 %s (pid %d)", rel, pid)
	deadline := time.Now().Add(30 * time.Second)
	for !gone(pid) {
		require.True(t, time.Now().Before(deadline), "%s (pid %d) still there 30 s after SIGKILL", rel, pid)
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() { startServices(t, group, nil) })
}

// killedRun is a playbook run during which a service was killed and started again.
type killedRun struct {
	run     *PlaybookRun
	seconds float64       // the run's wall time
	down    time.Duration // from the kill's end to the service answering again
}

// killDuring starts the playbook, waits until ready says the work is under
// way, kills the service (rel, its up.sh group), leaves it dead for pause,
// starts it again and waits for the run.
func killDuring(t *testing.T, play string, env, extra []string, ready func() bool, rel, group string, pause time.Duration) killedRun {
	t.Helper()
	start := time.Now()
	run := StartPlaybook(t, play, env, extra...)
	require.Eventually(t, ready, 3*time.Minute, 100*time.Millisecond, "the work never got under way")
	killService(t, rel, group)
	time.Sleep(pause)
	down := startServices(t, group, nil)
	faulted := run.Wait(t)
	return killedRun{run: faulted, seconds: time.Since(start).Seconds(), down: down}
}

// startServices runs tests/services/up.sh for the list: what is down starts
// again (with env added), the rest is only checked.
func startServices(t *testing.T, list string, env []string) time.Duration {
	t.Helper()
	start := time.Now()
	cmd := exec.Command(filepath.Join(repoRoot, "tests", "services", "up.sh"), list)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "tests/services/up.sh %s: %s", list, out)
	return time.Since(start)
}

// chaosRow is one cell of the matrix as measured.
type chaosRow struct {
	Cell, Fault    string
	Faulted        string // survived / failed: msg
	FaultedSeconds float64
	Retries        string // api_retries of the faulted run
	Rerun          string // how the rerun converged
	RerunSeconds   float64
	Notes          string
}

var chaosMu sync.Mutex

// recordCell logs the row and appends it to build/chaos/matrix.tsv (what
// docs/FAULTS.md's table is made from).
func recordCell(t *testing.T, r chaosRow) {
	t.Helper()
	line := strings.Join([]string{r.Cell, r.Fault, r.Faulted, fmt.Sprintf("%.1f", r.FaultedSeconds), r.Retries,
		r.Rerun, fmt.Sprintf("%.1f", r.RerunSeconds), r.Notes}, "\t")
	t.Logf("matrix: %s", line)
	chaosMu.Lock()
	defer chaosMu.Unlock()
	dir := filepath.Join(repoRoot, "build", "chaos")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	f, err := os.OpenFile(filepath.Join(dir, "matrix.tsv"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	defer f.Close()
	_, err = fmt.Fprintln(f, line)
	require.NoError(t, err)
}

// outcome words a faulted task: "survived" or "failed: <msg>", and its
// api_retries as "reason xN, ...".
func outcome(r TaskResult) (string, string) {
	var parts []string
	if m, ok := r.Result["api_retries"].(map[string]any); ok {
		for k, v := range m {
			parts = append(parts, fmt.Sprintf("%s x%v", k, v))
		}
		sort.Strings(parts)
	}
	retries := strings.Join(parts, ", ")
	if retries == "" {
		retries = "none"
	}
	if !r.Failed() {
		return "survived: " + r.Msg(), retries
	}
	msg := r.Msg()
	if len(msg) > 600 {
		msg = msg[:600] + "..."
	}
	return "failed: " + msg, retries
}

// timed runs a playbook and measures it.
func timed(f func() *PlaybookRun) (*PlaybookRun, float64) {
	start := time.Now()
	run := f()
	return run, time.Since(start).Seconds()
}
