// Package fakeironic is a small fake of Ironic's node API for tests: the
// provision state machine of manage/inspect/provide/abort with timed
// transitions, power, JSON patch, node locks, and failure injection.
package fakeironic

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

const (
	stateEnroll      = "enroll"
	stateVerifying   = "verifying"
	stateManageable  = "manageable"
	stateInspecting  = "inspecting"
	stateInspectWait = "inspect wait"
	stateInspectFail = "inspect failed"
	stateCleaning    = "cleaning"
	stateCleanFail   = "clean failed"
	stateAvailable   = "available"
)

// Server is a small Ironic: the provision state machine of
// manage/inspect/provide/abort with timed transitions, power, JSON patch,
// node locks, and failure injection. Transitions complete lazily, at the
// first request after their due time, stamped with that due time.
type Server struct {
	t   testing.TB
	Srv *httptest.Server

	mu    sync.Mutex
	nodes map[string]*Node // by UUID
	order []string
	calls []string // "PUT inspect insp-1", "PATCH insp-1", ...
	// StepTime is how long each transition takes.
	StepTime time.Duration
	// Microversion is what the server says it speaks (the client sets it).
	Inventory map[string]map[string]any
}

// Node is one fake node.
type Node struct {
	body map[string]any // the node as the API returns it
	// pending is the transition in progress.
	pending *transition
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
	// patchLock keeps the node locked this long after a PATCH, as Ironic's conductor may when it answers.
	patchLock time.Duration
	// busy intervals, for the concurrency bound.
	firstCall, lastDone time.Time
}

type transition struct {
	due      time.Time
	state    string
	lastErr  string
	inspects bool
	hang     bool
}

// New starts a fake Ironic, stopped at the end of the test.
func New(t testing.TB) *Server {
	f := &Server{t: t, nodes: map[string]*Node{}, StepTime: 20 * time.Millisecond, Inventory: map[string]map[string]any{}}
	f.Srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Srv.Close)
	return f
}

// Client is a gophercloud client of the fake (microversion 1.82, no auth).
func (f *Server) Client() *gophercloud.ServiceClient {
	sc := &gophercloud.ServiceClient{
		ProviderClient: &gophercloud.ProviderClient{HTTPClient: *http.DefaultClient},
		Endpoint:       f.Srv.URL + "/v1/",
		ResourceBase:   f.Srv.URL + "/v1/",
		Microversion:   "1.82",
	}
	return sc
}

// Option configures a node at Add.
type Option func(*Node)

// ManageError makes manage fail (back to enroll) with this last_error.
func ManageError(msg string) Option { return func(n *Node) { n.manageError = msg } }

// InspectFailures makes the next k inspections fail.
func InspectFailures(k int) Option { return func(n *Node) { n.inspectFailures = k } }

// InspectHangs leaves the next k inspections in "inspect wait" until aborted.
func InspectHangs(k int) Option { return func(n *Node) { n.inspectHangs = k } }

// RefuseInspect makes inspect answer 400 with this message.
func RefuseInspect(msg string) Option { return func(n *Node) { n.refuseInspect = msg } }

// LockOnWrite locks the node for d at its first write, unseen by the reads before it.
func LockOnWrite(d time.Duration) Option { return func(n *Node) { n.lockOnWrite = d } }

// PatchLock keeps the node locked for d after each PATCH, the lock showing in the PATCH's answer.
func PatchLock(d time.Duration) Option { return func(n *Node) { n.patchLock = d } }

// Maintenance puts the node in maintenance.
func Maintenance(reason string) Option {
	return func(n *Node) { n.body["maintenance"], n.body["maintenance_reason"] = true, reason }
}

// Field sets a field of the node as the API shows it.
func Field(key string, v any) Option { return func(n *Node) { n.body[key] = v } }

// UUID returns the node's UUID.
func (n *Node) UUID() string { return n.body["uuid"].(string) }

// Add enrolls a node: name, state, options.
func (f *Server) Add(name, state string, opts ...Option) *Node {
	f.mu.Lock()
	defer f.mu.Unlock()
	uuid := fmt.Sprintf("00000000-0000-4000-8000-%012d", len(f.order)+1)
	n := &Node{body: map[string]any{
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

// Node returns a copy of the node as the API shows it.
func (f *Server) Node(name string) map[string]any {
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

// Calls lists the requests served: "GET name", "PUT inspect name", "PATCH name add /...".
func (f *Server) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string{}, f.calls...)
}

// Writes lists the requests other than GET.
func (f *Server) Writes() []string {
	var out []string
	for _, c := range f.Calls() {
		if !strings.HasPrefix(c, "GET") {
			out = append(out, c)
		}
	}
	return out
}

// MaxBusy is the largest number of nodes worked on at the same time.
func (f *Server) MaxBusy() int {
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

func (f *Server) find(ident string) *Node {
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
func (f *Server) advance(now time.Time) {
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
		if p.inspects && p.state == stateManageable {
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

func (f *Server) serve(w http.ResponseWriter, req *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	f.advance(now)
	w.Header().Set("Content-Type", "application/json")
	if req.Method == http.MethodGet && (req.URL.Path == "/" || req.URL.Path == "/v1" || req.URL.Path == "/v1/") {
		// Version discovery, as Ironic answers it.
		w.Header().Set("X-OpenStack-Ironic-API-Minimum-Version", "1.1")
		w.Header().Set("X-OpenStack-Ironic-API-Maximum-Version", "1.82")
		v1 := map[string]any{"id": "v1", "status": "CURRENT", "min_version": "1.1", "version": "1.82",
			"links": []any{map[string]any{"href": f.Srv.URL + "/v1/", "rel": "self"}}}
		_ = json.NewEncoder(w).Encode(map[string]any{"name": "OpenStack Ironic API", "versions": []any{v1}, "default_version": v1})
		return
	}
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
		if inv, ok := f.Inventory[name]; ok {
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
		if n.patchLock > 0 {
			n.lockedUntil = now.Add(n.patchLock)
			n.body["reservation"] = "fake-conductor"
		}
		_ = json.NewEncoder(w).Encode(n.body)
	default:
		f.errorf(w, http.StatusNotFound, "no route %s %s", req.Method, req.URL.Path)
	}
}

func (f *Server) provision(w http.ResponseWriter, n *Node, target string, now time.Time) {
	state, _ := n.body["provision_state"].(string)
	start := func(transitional, to string, p transition) {
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
	case target == "manage" && (state == stateEnroll || state == stateCleanFail || state == stateInspectFail || state == stateAvailable):
		if state != stateEnroll {
			n.body["provision_state"], n.body["last_error"] = stateManageable, nil
			n.lastDone = now
			w.WriteHeader(http.StatusAccepted)
			return
		}
		p := transition{}
		if n.manageError != "" {
			p.state, p.lastErr = stateEnroll, n.manageError
		}
		start(stateVerifying, stateManageable, p)
	case target == "inspect" && n.refuseInspect != "":
		f.errorf(w, http.StatusBadRequest, "%s", n.refuseInspect)
	case target == "inspect" && (state == stateManageable || state == stateInspectFail):
		n.body["inspection_started_at"] = now.Format(time.RFC3339Nano)
		n.body["inspection_finished_at"] = nil
		p := transition{inspects: true}
		switch {
		case n.inspectHangs > 0:
			n.inspectHangs--
			p.hang = true
			start(stateInspectWait, stateManageable, p)
			return
		case n.inspectFailures > 0:
			n.inspectFailures--
			p.state, p.lastErr = stateInspectFail, "inspection failed: fake BMC did not boot the ramdisk"
		}
		start(stateInspecting, stateManageable, p)
	case target == "provide" && state == stateManageable:
		start(stateCleaning, stateAvailable, transition{})
	case target == "abort" && state == stateInspectWait:
		n.pending = nil
		n.body["provision_state"], n.body["target_provision_state"] = stateInspectFail, nil
		n.body["last_error"] = "inspection aborted by the operator"
		n.body["inspection_started_at"] = nil
		w.WriteHeader(http.StatusAccepted)
	default:
		f.errorf(w, http.StatusBadRequest, "The requested action \"%s\" can not be performed on node \"%s\" while it is in state \"%s\".", target, n.body["uuid"], state)
	}
}

// Delete removes a node, as another operator would.
func (f *Server) Delete(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.find(name)
	if n == nil {
		return
	}
	delete(f.nodes, n.UUID())
	for i, u := range f.order {
		if u == n.UUID() {
			f.order = append(f.order[:i], f.order[i+1:]...)
			break
		}
	}
}

// Lock makes the node locked by another conductor for d from now.
func (f *Server) Lock(name string, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.find(name)
	n.lockedUntil = time.Now().Add(d)
	n.body["reservation"] = "other-conductor"
}

// errorf answers as Ironic does: error_message is a JSON document in a string.
func (f *Server) errorf(w http.ResponseWriter, code int, format string, args ...any) {
	inner, _ := json.Marshal(map[string]any{"faultstring": fmt.Sprintf(format, args...), "faultcode": "Client", "debuginfo": nil})
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error_message": string(inner)})
}

// MustRequest builds a PUT request with a JSON body.
func MustRequest(t testing.TB, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return req
}
