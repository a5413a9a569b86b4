package inspect

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
)

// fakeIronic is a small Ironic: the provision state machine of
// manage/inspect/provide/abort with timed transitions, power, JSON patch,
// node locks, and failure injection. Transitions complete lazily, at the
// first request after their due time, stamped with that due time.
type fakeIronic struct {
	t   *testing.T
	srv *httptest.Server

	mu    sync.Mutex
	nodes map[string]*fakeNode // by UUID
	order []string
	calls []string // "PUT inspect insp-1", "PATCH insp-1", ...
	// StepTime is how long each transition takes.
	StepTime time.Duration
	// Microversion is what the server says it speaks (the client sets it).
	inventory map[string]map[string]any
}

type fakeNode struct {
	body map[string]any // the node as the API returns it
	// pending is the transition in progress.
	pending *fakeTransition
	// lockedUntil: writes answer 409 NodeLocked, reads show the reservation.
	lockedUntil time.Time
	// Failure injection.
	manageError     string // manage fails with this last_error
	inspectFailures int    // this many inspections fail before one succeeds
	inspectHangs    int    // this many inspections stay in "inspect wait" until aborted
	discovered      map[string]any
	refuseInspect   string // inspect answers 400 with this message
	// lockOnWrite locks the node for this long at its first write, unseen by the GET before it.
	lockOnWrite time.Duration
	// busy intervals, for the concurrency bound.
	firstCall, lastDone time.Time
}

type fakeTransition struct {
	due      time.Time
	state    string
	lastErr  string
	inspects bool
	hang     bool
}

func newFakeIronic(t *testing.T) *fakeIronic {
	f := &fakeIronic{t: t, nodes: map[string]*fakeNode{}, StepTime: 20 * time.Millisecond, inventory: map[string]map[string]any{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIronic) client() *gophercloud.ServiceClient {
	sc := &gophercloud.ServiceClient{
		ProviderClient: &gophercloud.ProviderClient{HTTPClient: *http.DefaultClient},
		Endpoint:       f.srv.URL + "/v1/",
		ResourceBase:   f.srv.URL + "/v1/",
		Microversion:   "1.82",
	}
	return sc
}

// add enrolls a node: name, state, options.
func (f *fakeIronic) add(name, state string, opts ...func(*fakeNode)) *fakeNode {
	f.mu.Lock()
	defer f.mu.Unlock()
	uuid := fmt.Sprintf("00000000-0000-4000-8000-%012d", len(f.order)+1)
	n := &fakeNode{body: map[string]any{
		"uuid": uuid, "name": name, "provision_state": state, "target_provision_state": nil,
		"power_state": nil, "target_power_state": nil, "maintenance": false, "reservation": nil,
		"last_error": nil, "resource_class": nil, "driver": "fake-hardware", "properties": map[string]any{},
		"inspection_started_at": nil, "inspection_finished_at": nil, "instance_uuid": nil,
		"provision_updated_at": nil, "created_at": "2024-05-01T10:00:00+00:00",
	}, discovered: map[string]any{"cpus": 8, "memory_mb": 16384, "local_gb": 100, "cpu_arch": "x86_64",
		"capabilities": "boot_mode:uefi,cpu_vt:true"}}
	for _, o := range opts {
		o(n)
	}
	f.nodes[uuid] = n
	f.order = append(f.order, uuid)
	return n
}

func (f *fakeIronic) node(name string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advance(time.Now())
	n := f.find(name)
	if n == nil {
		f.t.Fatalf("fake ironic: no node %s", name)
	}
	out := map[string]any{}
	b, _ := json.Marshal(n.body)
	_ = json.Unmarshal(b, &out)
	return out
}

func (f *fakeIronic) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string{}, f.calls...)
}

func (f *fakeIronic) writes() []string {
	var out []string
	for _, c := range f.callLog() {
		if !strings.HasPrefix(c, "GET") {
			out = append(out, c)
		}
	}
	return out
}

// maxBusy is the largest number of nodes worked on at the same time.
func (f *fakeIronic) maxBusy() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, n := range f.nodes {
		if n.firstCall.IsZero() {
			continue
		}
		edges = append(edges, edge{n.firstCall, +1}, edge{n.lastDone, -1})
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at.Equal(edges[j].at) {
			return edges[i].delta < edges[j].delta
		}
		return edges[i].at.Before(edges[j].at)
	})
	cur, best := 0, 0
	for _, e := range edges {
		cur += e.delta
		best = max(best, cur)
	}
	return best
}

func (f *fakeIronic) find(ident string) *fakeNode {
	if n, ok := f.nodes[ident]; ok {
		return n
	}
	for _, n := range f.nodes {
		if n.body["name"] == ident {
			return n
		}
	}
	return nil
}

// advance completes every transition due by now.
func (f *fakeIronic) advance(now time.Time) {
	for _, n := range f.nodes {
		p := n.pending
		if p == nil || p.hang || now.Before(p.due) {
			continue
		}
		n.pending = nil
		n.body["provision_state"] = p.state
		n.body["target_provision_state"] = nil
		n.body["provision_updated_at"] = p.due.Format(time.RFC3339Nano)
		n.lastDone = p.due
		if p.lastErr != "" {
			n.body["last_error"] = p.lastErr
		}
		if p.inspects && p.state == StateManageable {
			n.body["inspection_finished_at"] = p.due.Format(time.RFC3339Nano)
			n.body["inspection_started_at"] = nil
			props := n.body["properties"].(map[string]any)
			for k, v := range n.discovered {
				props[k] = v
			}
		}
	}
	for _, n := range f.nodes {
		if !n.lockedUntil.IsZero() && now.After(n.lockedUntil) {
			n.lockedUntil = time.Time{}
			n.body["reservation"] = nil
		}
	}
}

func (f *fakeIronic) serve(w http.ResponseWriter, req *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	f.advance(now)
	w.Header().Set("Content-Type", "application/json")
	path := strings.TrimPrefix(req.URL.Path, "/v1/nodes")
	parts := strings.Split(strings.Trim(path, "/"), "/")

	if req.Method == http.MethodGet && (path == "/detail" || path == "") {
		f.calls = append(f.calls, "GET list")
		var list []map[string]any
		for _, uuid := range f.order {
			n := f.nodes[uuid]
			if s := req.URL.Query().Get("provision_state"); s != "" && n.body["provision_state"] != s {
				continue
			}
			list = append(list, n.body)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"nodes": list})
		return
	}
	n := f.find(parts[0])
	if n == nil {
		f.errorf(w, http.StatusNotFound, "Node %s could not be found.", parts[0])
		return
	}
	name := n.body["name"].(string)
	sub := strings.Join(parts[1:], "/")
	if req.Method != http.MethodGet {
		if n.firstCall.IsZero() {
			n.firstCall = now
		}
		if n.lockOnWrite > 0 {
			n.lockedUntil, n.lockOnWrite = now.Add(n.lockOnWrite), 0
			n.body["reservation"] = "other-conductor"
		}
		if !n.lockedUntil.IsZero() {
			f.calls = append(f.calls, fmt.Sprintf("%s %s %s 409", req.Method, sub, name))
			f.errorf(w, http.StatusConflict, "Node %s is locked by host other-conductor, please retry after the current operation is completed.", n.body["uuid"])
			return
		}
	}
	switch {
	case req.Method == http.MethodGet && sub == "":
		f.calls = append(f.calls, "GET "+name)
		_ = json.NewEncoder(w).Encode(n.body)
	case req.Method == http.MethodGet && sub == "inventory":
		f.calls = append(f.calls, "GET inventory "+name)
		if inv, ok := f.inventory[name]; ok {
			_ = json.NewEncoder(w).Encode(inv)
			return
		}
		f.errorf(w, http.StatusNotFound, "Inventory not found for node %s", n.body["uuid"])
	case req.Method == http.MethodPut && sub == "states/provision":
		var body struct{ Target string }
		_ = json.NewDecoder(req.Body).Decode(&body)
		f.calls = append(f.calls, fmt.Sprintf("PUT %s %s", body.Target, name))
		f.provision(w, n, body.Target, now)
	case req.Method == http.MethodPut && sub == "states/power":
		var body struct{ Target string }
		_ = json.NewDecoder(req.Body).Decode(&body)
		f.calls = append(f.calls, fmt.Sprintf("PUT %s %s", body.Target, name))
		n.body["power_state"] = body.Target
		n.lastDone = now
		w.WriteHeader(http.StatusAccepted)
	case req.Method == http.MethodPatch && sub == "":
		var ops []struct {
			Op, Path string
			Value    any
		}
		_ = json.NewDecoder(req.Body).Decode(&ops)
		var paths []string
		for _, op := range ops {
			paths = append(paths, op.Op+" "+op.Path)
			key := strings.TrimPrefix(op.Path, "/")
			if strings.HasPrefix(key, "properties/") {
				props := n.body["properties"].(map[string]any)
				if op.Op == "remove" {
					delete(props, strings.TrimPrefix(key, "properties/"))
				} else {
					props[strings.TrimPrefix(key, "properties/")] = op.Value
				}
			} else {
				n.body[key] = op.Value
			}
		}
		f.calls = append(f.calls, fmt.Sprintf("PATCH %s %s", name, strings.Join(paths, ",")))
		n.lastDone = now
		_ = json.NewEncoder(w).Encode(n.body)
	default:
		f.errorf(w, http.StatusNotFound, "no route %s %s", req.Method, req.URL.Path)
	}
}

func (f *fakeIronic) provision(w http.ResponseWriter, n *fakeNode, target string, now time.Time) {
	state, _ := n.body["provision_state"].(string)
	start := func(transitional, to string, p fakeTransition) {
		n.body["provision_state"] = transitional
		n.body["target_provision_state"] = to
		n.body["last_error"] = nil
		n.body["provision_updated_at"] = now.Format(time.RFC3339Nano)
		p.due = now.Add(f.StepTime)
		if p.state == "" {
			p.state = to
		}
		n.pending = &p
		w.WriteHeader(http.StatusAccepted)
	}
	switch {
	case target == "manage" && (state == StateEnroll || state == StateCleanFail || state == StateInspectFail || state == StateAvailable):
		if state != StateEnroll {
			n.body["provision_state"], n.body["last_error"] = StateManageable, nil
			n.lastDone = now
			w.WriteHeader(http.StatusAccepted)
			return
		}
		p := fakeTransition{}
		if n.manageError != "" {
			p.state, p.lastErr = StateEnroll, n.manageError
		}
		start(StateVerifying, StateManageable, p)
	case target == "inspect" && n.refuseInspect != "":
		f.errorf(w, http.StatusBadRequest, "%s", n.refuseInspect)
	case target == "inspect" && (state == StateManageable || state == StateInspectFail):
		n.body["inspection_started_at"] = now.Format(time.RFC3339Nano)
		n.body["inspection_finished_at"] = nil
		p := fakeTransition{inspects: true}
		switch {
		case n.inspectHangs > 0:
			n.inspectHangs--
			p.hang = true
			start(StateInspectWait, StateManageable, p)
			return
		case n.inspectFailures > 0:
			n.inspectFailures--
			p.state, p.lastErr = StateInspectFail, "inspection failed: fake BMC did not boot the ramdisk"
		}
		start(StateInspecting, StateManageable, p)
	case target == "provide" && state == StateManageable:
		start(StateCleaning, StateAvailable, fakeTransition{})
	case target == "abort" && state == StateInspectWait:
		n.pending = nil
		n.body["provision_state"], n.body["target_provision_state"] = StateInspectFail, nil
		n.body["last_error"] = "inspection aborted by the operator"
		n.body["inspection_started_at"] = nil
		w.WriteHeader(http.StatusAccepted)
	default:
		f.errorf(w, http.StatusBadRequest, "The requested action \"%s\" can not be performed on node \"%s\" while it is in state \"%s\".", target, n.body["uuid"], state)
	}
}

// lock makes the node locked by another conductor for d from now.
func (f *fakeIronic) lock(name string, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.find(name)
	n.lockedUntil = time.Now().Add(d)
	n.body["reservation"] = "other-conductor"
}

// errorf answers as Ironic does: error_message is a JSON document in a string.
func (f *fakeIronic) errorf(w http.ResponseWriter, code int, format string, args ...any) {
	inner, _ := json.Marshal(map[string]any{"faultstring": fmt.Sprintf(format, args...), "faultcode": "Client", "debuginfo": nil})
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error_message": string(inner)})
}

func mustRequest(t *testing.T, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return req
}
