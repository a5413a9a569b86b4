// Package task is the runtime every module runs inside. ansible.Execute
// speaks Ansible's protocol (arguments in, one JSON result out); task adds
// what every module needs around its own work, once, so that no module has
// to remember it:
//
//   - secrets: every no_log value, credential key of a free-form dict and
//     URL password of the arguments is in the one registry (package
//     secret) before the module's code runs, and stderr is scrubbed too;
//   - time: one rule for every option named *timeout (whole seconds from 1
//     to MaxTimeout, anything else fails naming the option), one deadline;
//   - signals: SIGTERM, SIGINT and SIGHUP cancel the work's context, the
//     module cleans up through its context, and the result says so;
//   - the cloud: one lazy connection from the openstack.cloud options;
//   - failures: a deadline or a signal is said in one wording, and a
//     module's partial values (per-item outcomes) are kept.
package task

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/metalkit/baremetal/internal/ansible"
	"github.com/metalkit/baremetal/internal/cloudopts"
	"github.com/metalkit/baremetal/internal/openstack"
	"github.com/metalkit/baremetal/internal/secret"
)

// MaxTimeout is the largest value of a *timeout option, in seconds: one
// week, far beyond any deploy, and far from overflowing a time.Duration.
const MaxTimeout = 7 * 24 * 3600

// Budget says what the module's timeout option bounds.
type Budget int

const (
	// WholeTask: timeout bounds the whole run (Ctx's deadline).
	WholeTask Budget = iota
	// EachAttempt: timeout bounds each attempt on each item, which the
	// module applies itself; Ctx ends only on a signal.
	EachAttempt
)

// Task is one module run.
type Task struct {
	*ansible.Module
	// Ctx ends at the deadline (WholeTask) or on a signal.
	Ctx context.Context
	// Timeout is the timeout option (0 for a module without one).
	Timeout time.Duration

	budget  Budget
	signals *interrupts
	cloud   *openstack.Cloud
}

// Run is main() of every module: ansible.Run with the task runtime around run.
func Run(spec *ansible.Spec, budget Budget, run func(*Task) (*ansible.Result, error)) {
	out := os.Stdout
	restore := scrubStderr()
	code := ansible.Main(spec, out, Wrap(budget, run))
	restore()
	os.Exit(code)
}

// Wrap turns a task function into an ansible run function (tests call it
// through ansible.Execute).
func Wrap(budget Budget, run func(*Task) (*ansible.Result, error)) func(*ansible.Module) (*ansible.Result, error) {
	return func(m *ansible.Module) (*ansible.Result, error) {
		t, err := begin(m, budget)
		if err != nil {
			return nil, err
		}
		defer t.end()
		res, err := run(t)
		retries := openstack.Retries()
		if err != nil {
			return nil, withRetries(t.explain(err), retries)
		}
		if retries != nil {
			if res.Values == nil {
				res.Values = map[string]any{}
			}
			res.Values[RetriesKey] = retries
		}
		return res, nil
	}
}

// RetriesKey is the result key that says what the cloud made the task
// retry: reason -> retries ("503 unavailable": 3), present only when it did.
const RetriesKey = "api_retries"

// Returns is a cloud module's RETURN: its own keys and the one the runtime
// adds to every result of a module that talks to a cloud (RetriesKey).
func Returns(own map[string]*ansible.ReturnValue) map[string]*ansible.ReturnValue {
	all := map[string]*ansible.ReturnValue{RetriesKey: retriesDoc}
	for k, v := range own {
		all[k] = v
	}
	return all
}

// retriesDoc documents RetriesKey.
var retriesDoc = &ansible.ReturnValue{
	Description: []string{
		"What the cloud made the task retry: the reason (V(409 conflict), V(503 unavailable), V(500 server error), V(502 from a proxy), V(connection refused), V(connection reset)) and how many retries it took.",
		"The cloud config's C(status_code_retries) bounds the tries of one request.",
	},
	Returned: "when a request was retried, on success and on failure",
	Type:     "dict",
	Sample:   map[string]any{"503 unavailable": 3, "connection refused": 1},
}

// withRetries adds the retry tally to a failure's result: a task that failed
// after retries says how many it made and why.
func withRetries(err error, retries map[string]int) error {
	if retries == nil {
		return err
	}
	var f *ansible.Failure
	if !errors.As(err, &f) {
		return &ansible.Failure{Msg: err.Error(), Values: map[string]any{RetriesKey: retries}}
	}
	values := map[string]any{RetriesKey: retries}
	for k, v := range f.Values {
		values[k] = v
	}
	return &ansible.Failure{Msg: f.Msg, Values: values}
}

func begin(m *ansible.Module, budget Budget) (*Task, error) {
	registerURLSecrets(m.Params)
	openstack.ResetRetries()
	t := &Task{Module: m, budget: budget}
	for _, name := range timeoutOptions(m.Params) {
		d, err := Seconds(name, m.Params[name])
		if err != nil {
			return nil, err
		}
		if name == "timeout" {
			t.Timeout = d
		}
	}
	t.signals = notify()
	t.Ctx = t.signals.ctx
	if budget == WholeTask && t.Timeout > 0 {
		var cancel context.CancelFunc
		t.Ctx, cancel = context.WithTimeout(t.Ctx, t.Timeout)
		t.signals.cancels = append(t.signals.cancels, cancel)
	}
	return t, nil
}

func (t *Task) end() { t.signals.stop() }

// timeoutOptions are the options of the module named *timeout that are set.
func timeoutOptions(params map[string]any) []string {
	var names []string
	for k, v := range params {
		if strings.HasSuffix(k, "timeout") && v != nil {
			names = append(names, k)
		}
	}
	return names
}

// Seconds reads a *timeout option: whole seconds from 1 to MaxTimeout.
// There is no "0 means forever": a dead endpoint must not hold a task
// for ever, and a huge value is as good as forever.
func Seconds(option string, v any) (time.Duration, error) {
	n, ok := wholeNumber(v)
	if !ok || n < 1 || n > MaxTimeout {
		return 0, fmt.Errorf("%s: expected a whole number of seconds from 1 to %d, got %v", option, MaxTimeout, v)
	}
	return time.Duration(n) * time.Second, nil
}

func wholeNumber(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	}
	return 0, false
}

// Cloud connects once, from the openstack.cloud options, within Ctx (and
// within one attempt's time for an EachAttempt module).
func (t *Task) Cloud() (*openstack.Cloud, error) {
	if t.cloud != nil {
		return t.cloud, nil
	}
	opts := cloudopts.FromParams(t.Params)
	ctx := t.Ctx
	if t.budget == EachAttempt && t.Timeout > 0 {
		// timeout bounds each attempt, not the connection's retries:
		// connecting gets one attempt's time.
		opts.Timeout = 0
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.Timeout)
		defer cancel()
	}
	c, err := openstack.Connect(ctx, opts)
	if err != nil {
		return nil, err
	}
	t.cloud = c
	return c, nil
}

// explain says which bound stopped the work, keeping a Failure's values.
func (t *Task) explain(err error) error {
	why := ""
	switch {
	case t.signals.caught() != "":
		why = fmt.Sprintf("interrupted by %s", t.signals.caught())
	case t.budget == WholeTask && errors.Is(t.Ctx.Err(), context.DeadlineExceeded):
		why = fmt.Sprintf("timeout: %d s passed before the task finished (raise timeout)", int(t.Timeout.Seconds()))
	default:
		return err
	}
	var f *ansible.Failure
	if errors.As(err, &f) {
		return &ansible.Failure{Msg: why + ": " + f.Msg, Values: f.Values}
	}
	return fmt.Errorf("%s: %w", why, err)
}

// interrupts turns SIGTERM, SIGINT and SIGHUP into a cancelled context.
type interrupts struct {
	ctx     context.Context
	cancels []context.CancelFunc
	ch      chan os.Signal
	mu      sync.Mutex
	name    string
	done    chan struct{}
}

func notify() *interrupts {
	ctx, cancel := context.WithCancel(context.Background())
	s := &interrupts{ctx: ctx, cancels: []context.CancelFunc{cancel}, ch: make(chan os.Signal, 2), done: make(chan struct{})}
	signal.Notify(s.ch, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		select {
		case sig := <-s.ch:
			s.mu.Lock()
			s.name = signalName(sig)
			s.mu.Unlock()
			cancel()
		case <-s.done:
		}
	}()
	return s
}

func (s *interrupts) caught() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.name
}

func (s *interrupts) stop() {
	signal.Stop(s.ch)
	close(s.done)
	for _, c := range s.cancels {
		c()
	}
}

func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return sig.String()
}

// registerURLSecrets registers the credentials of every URL among the
// arguments (an image mirror, an auth_url, a BMC address), at any depth.
func registerURLSecrets(v any) {
	switch t := v.(type) {
	case string:
		if strings.Contains(t, "://") {
			secret.AddURL(t)
		}
	case []any:
		for _, e := range t {
			registerURLSecrets(e)
		}
	case map[string]any:
		for _, e := range t {
			registerURLSecrets(e)
		}
	}
}

// scrubStderr sends what the process writes to stdout and stderr (stray
// prints, logs) through the secret registry to the real stderr: stdout is
// the result's alone. The returned func drains it before exit.
func scrubStderr() (restore func()) {
	realErr := os.Stderr
	r, w, err := os.Pipe()
	if err != nil {
		os.Stdout = os.Stderr
		return func() {}
	}
	sw := secret.NewWriter(realErr)
	drained := make(chan struct{})
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				_, _ = sw.Write(buf[:n])
			}
			if err != nil {
				break
			}
		}
		_ = sw.Flush()
		close(drained)
	}()
	os.Stderr, os.Stdout = w, w
	log.SetOutput(w)
	slog.SetDefault(slog.New(slog.NewTextHandler(w, nil)))
	return func() {
		_ = w.Close()
		<-drained
		os.Stderr = realErr
	}
}

// CheckPrefix starts every check-mode message: nothing was changed, and
// the rest of the message says what would be.
const CheckPrefix = "check mode, nothing changed: "

// Say words a result message the same way in every module: in check mode
// it starts with CheckPrefix (the message then says "would ...").
func (t *Task) Say(format string, args ...any) string {
	msg := fmt.Sprintf(format, args...)
	if t.CheckMode {
		return CheckPrefix + msg
	}
	return msg
}

// Failed turns a result into a failure that keeps its values, its changed
// flag and its diff: a batch reports every item even when some failed.
func Failed(res *ansible.Result, msg string) error {
	values := map[string]any{}
	for k, v := range res.Values {
		values[k] = v
	}
	values["changed"] = res.Changed
	if res.Diff != nil {
		values["diff"] = res.Diff
	}
	return &ansible.Failure{Msg: msg, Values: values}
}
