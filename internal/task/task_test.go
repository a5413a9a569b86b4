package task

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/ansible/ansibletest"
	"github.com/metalkit/baremetal/internal/openstack"
)

var spec = &ansible.Spec{
	Name: "probe",
	Options: map[string]*ansible.Option{
		"timeout":     {Type: ansible.TypeInt, Default: 30},
		"api_timeout": {Type: ansible.TypeInt},
		"url":         {Type: ansible.TypeStr},
		"mode":        {Type: ansible.TypeStr, Default: "ok"},
	},
}

// probe waits for its context when mode is "wait", and says what it saw.
func probe(t *Task) (*ansible.Result, error) {
	switch t.Str("mode") {
	case "wait":
		<-t.Ctx.Done()
		return nil, ansible.Failf(map[string]any{"items": []any{"half-done"}}, "stopped: %v", t.Ctx.Err())
	case "echo-url":
		return nil, errors.New("could not fetch " + t.Str("url"))
	}
	deadline, _ := t.Ctx.Deadline()
	return &ansible.Result{Msg: t.Say("probed"), Values: map[string]any{"timeout": t.Timeout.Seconds(), "deadline_in": time.Until(deadline).Round(time.Second).Seconds()}}, nil
}

func TestTimeoutRuleIsTheSameForEveryTimeoutOption(t *testing.T) {
	for _, tc := range []struct {
		option string
		value  any
	}{
		{"timeout", 0}, {"timeout", -1}, {"timeout", 1_000_000_000_000}, {"timeout", MaxTimeout + 1},
		{"api_timeout", 0}, {"api_timeout", -5},
	} {
		res := ansibletest.RunWithArgs(t, spec, map[string]any{tc.option: tc.value}, Wrap(WholeTask, probe))
		assert.Equal(t, true, res["failed"], "%s=%v", tc.option, tc.value)
		assert.True(t, strings.HasPrefix(res["msg"].(string), tc.option+": expected a whole number of seconds from 1 to 604800"), "%v", res["msg"])
	}
	res := ansibletest.RunWithArgs(t, spec, map[string]any{"timeout": MaxTimeout}, Wrap(WholeTask, probe))
	assert.Equal(t, false, res["failed"], "%v", res["msg"])
	assert.EqualValues(t, MaxTimeout, res["timeout"])
	assert.EqualValues(t, MaxTimeout, res["deadline_in"], "WholeTask: the deadline is the timeout")
}

func TestDeadlineIsWordedOnceAndKeepsPartialValues(t *testing.T) {
	res := ansibletest.RunWithArgs(t, spec, map[string]any{"timeout": 1, "mode": "wait"}, Wrap(WholeTask, probe))
	assert.Equal(t, true, res["failed"])
	assert.Equal(t, "timeout: 1 s passed before the task finished (raise timeout): stopped: context deadline exceeded", res["msg"])
	assert.Equal(t, []any{"half-done"}, res["items"], "per-item values survive the failure")
}

func TestEachAttemptHasNoTaskDeadline(t *testing.T) {
	res := ansibletest.RunWithArgs(t, spec, map[string]any{"timeout": 5}, Wrap(EachAttempt, probe))
	assert.Equal(t, false, res["failed"])
	assert.Less(t, res["deadline_in"], 0.0, "no deadline on Ctx")
}

func TestSignalCancelsAndStillReportsOneResult(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		go func() {
			time.Sleep(200 * time.Millisecond)
			_ = syscall.Kill(syscall.Getpid(), sig)
		}()
		start := time.Now()
		res := ansibletest.RunWithArgs(t, spec, map[string]any{"timeout": 60, "mode": "wait"}, Wrap(WholeTask, probe))
		assert.Less(t, time.Since(start), 30*time.Second)
		assert.Equal(t, true, res["failed"])
		assert.Equal(t, "interrupted by "+signalName(sig)+": stopped: context canceled", res["msg"])
		assert.Equal(t, []any{"half-done"}, res["items"])
	}
}

func TestURLPasswordsAreSecretsBeforeTheModuleRuns(t *testing.T) {
	url := "https://core:p%40ss-S3NT@127.0.0.1:8443/rhcos.qcow2.gz"
	res := ansibletest.RunWithArgs(t, spec, map[string]any{"url": url, "mode": "echo-url"}, Wrap(WholeTask, probe))
	b, _ := json.Marshal(res)
	text := string(b)
	assert.NotContains(t, text, "p%40ss-S3NT")
	assert.NotContains(t, text, "p@ss-S3NT")
	assert.Contains(t, res["msg"], "could not fetch https://core:")
}

func TestCheckModeWording(t *testing.T) {
	res := ansibletest.RunWithArgs(t, spec, map[string]any{"_ansible_check_mode": true}, Wrap(WholeTask, probe))
	assert.Equal(t, CheckPrefix+"probed", res["msg"])
}

func TestFailedKeepsValuesChangedAndDiff(t *testing.T) {
	err := Failed(&ansible.Result{Changed: true, Diff: map[string]any{"before": "a"}, Values: map[string]any{"nodes": 1}}, "1 of 2 failed")
	var f *ansible.Failure
	require.True(t, errors.As(err, &f))
	assert.Equal(t, map[string]any{"nodes": 1, "changed": true, "diff": map[string]any{"before": "a"}}, f.Values)
}

func TestSecondsReadsWholeNumbersOnly(t *testing.T) {
	d, err := Seconds("timeout", 90)
	require.NoError(t, err)
	assert.Equal(t, 90*time.Second, d)
	for _, v := range []any{1.5, "90", nil, true} {
		_, err := Seconds("timeout", v)
		assert.Error(t, err, "%v", v)
	}
}

// A task whose requests were retried says so in its result, on success and
// on failure: api_retries, reason -> retries; a task without retries has no
// such key (the tally is per task, not per process).
func TestRetriesAreReported(t *testing.T) {
	var fails atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/", "/v1", "/v1/":
			_, _ = io.WriteString(w, `{"versions": [{"id": "v1", "status": "CURRENT", "version": "1.78", "min_version": "1.1"}],
				"default_version": {"id": "v1", "status": "CURRENT", "version": "1.78", "min_version": "1.1"}, "id": "v1", "version": {"version": "1.78", "min_version": "1.1"}}`)
		case "/v1/nodes":
			if fails.Add(-1) >= 0 {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, `{"error_message": "{\"faultstring\": \"busy\"}"}`)
				return
			}
			_, _ = io.WriteString(w, `{"nodes": []}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	cloudSpec := &ansible.Spec{Name: "probe", Options: map[string]*ansible.Option{"cloud": {Type: ansible.TypeRaw}}}
	list := func(tk *Task) (*ansible.Result, error) {
		c, err := tk.Cloud()
		if err != nil {
			return nil, err
		}
		bm, err := c.Baremetal(tk.Ctx)
		if err != nil {
			return nil, err
		}
		if _, err := nodes.List(bm, nil).AllPages(tk.Ctx); err != nil {
			return nil, openstack.Describe(err, "nodes")
		}
		return &ansible.Result{Msg: "listed"}, nil
	}
	args := func(retries int) map[string]any {
		return map[string]any{"cloud": map[string]any{"auth_type": "none", "auth": map[string]any{"endpoint": srv.URL},
			"status_code_retries": retries}}
	}

	fails.Store(2)
	res := ansibletest.RunWithArgs(t, cloudSpec, args(5), Wrap(WholeTask, list))
	require.Equal(t, false, res["failed"], "%v", res["msg"])
	assert.Equal(t, map[string]any{"503 unavailable": 2.0}, res[RetriesKey])

	fails.Store(100)
	res = ansibletest.RunWithArgs(t, cloudSpec, args(1), Wrap(WholeTask, list))
	require.Equal(t, true, res["failed"])
	assert.Contains(t, res["msg"], "after 2 attempts")
	assert.Equal(t, map[string]any{"503 unavailable": 1.0}, res[RetriesKey])

	fails.Store(0)
	res = ansibletest.RunWithArgs(t, cloudSpec, args(5), Wrap(WholeTask, list))
	require.Equal(t, false, res["failed"], "%v", res["msg"])
	assert.NotContains(t, res, RetriesKey)
}
