// Package ironicfake is a small in-memory Ironic API (microversion 1.82,
// no auth) for the unit tests of internal/enroll, internal/inspect and the
// ironic_enroll and ironic_introspect modules. It serves:
//
//   - version discovery; nodes: list (with a provision_state filter),
//     create, get by UUID or name, JSON patch, delete; a node's inventory;
//     ports: list, create, patch, delete;
//   - the provision state machine of manage (verifying, then manageable, or
//     back to enroll with a last_error when the BMC refuses), inspect,
//     provide and abort, and power (target_power_state shown while it
//     changes, PowerError to fail it); maintenance set and unset; traits
//     replaced (PUT traits). Each transition takes StepTime and
//     completes lazily, at the first request after its due time, stamped
//     with that due time;
//   - node locks (writes answer 409 while another conductor holds the node),
//     failure injection per node (the Options), a failing create
//     (FailCreate) and connections closed after the API acted (Drop);
//   - what the tests count: Requests by path shape, Calls in order, Writes,
//     MaxBusy.
//
// API reads mask every *password key of driver_info, as Ironic does; Node
// returns the stored node unmasked. Errors have Ironic's shape: error_message
// is a JSON document inside a string.
package ironicfake

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

// BadPassword is a BMC password the fake's BMCs refuse: manage of a node
// with it in driver_info goes back to enroll with a last_error.
const BadPassword = "wrong-password"

// Server is the fake Ironic.
type Server struct {
	// URL is the API root (no /v1); Srv is the test server behind it.
	URL string
	Srv *httptest.Server

	// StepTime is how long each provision transition takes (default 20ms).
	StepTime time.Duration
	// Inventory is what GET /v1/nodes/{node}/inventory answers, by node name.
	Inventory map[string]map[string]any
	// Requests counts every request by "METHOD /path-shape": "GET /v1/nodes",
	// "PATCH /v1/nodes/ID", "PUT /v1/nodes/ID/states/provision".
	Requests map[string]int
	// FailCreate, when set, makes node creation fail with this status and an
	// error body that echoes the request body (as a careless API might).
	FailCreate int
	// Drop makes the server act on the next requests of a shape (as in
	// Requests) and then close the connection without answering, as a
	// restarting API does: the count per shape.
	Drop map[string]int

	t       testing.TB
	mu      sync.Mutex
	nodes   map[string]*Node // by UUID
	order   []string         // node UUIDs in creation order
	ports   map[string]map[string]any
	nodeSeq int
	portSeq int
	calls   []string
}

// Node is one fake node.
type Node struct {
	body map[string]any // the node as the API returns it, unmasked
	// pending is the transition in progress.
	pending *transition
	// lockedUntil: writes answer 409 NodeLocked, reads show the reservation.
	lockedUntil time.Time
	// Failure injection.
	manageError     string // manage fails with this last_error
	manageFailures  int    // the next manageFailures manages fail with manageFailMsg
	manageFailMsg   string
	inspectFailures int    // this many inspections fail before one succeeds
	inspectHangs    int    // this many inspections stay in "inspect wait" until aborted
	refuseInspect   string // inspect answers 400 with this message
	lockOnWrite     time.Duration
	patchLock       time.Duration
	discovered      map[string]any // what an inspection puts into properties
	macs            []string       // ports to create at Add
	powerError      string         // power changes fail with this last_error
	powerTo         string         // power state a change in progress ends in
	powerDue        time.Time
	// busy interval, for MaxBusy.
	firstCall, lastDone time.Time
}

// New starts a fake Ironic, stopped at the end of the test.
func New(t testing.TB) *Server {
	s := &Server{t: t, StepTime: 20 * time.Millisecond, Inventory: map[string]map[string]any{},
		Requests: map[string]int{}, Drop: map[string]int{},
		nodes: map[string]*Node{}, ports: map[string]map[string]any{}}
	s.Srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Srv.Close)
	s.URL = s.Srv.URL
	return s
}

// Client is a gophercloud client of the fake (microversion 1.82, no auth).
func (s *Server) Client() *gophercloud.ServiceClient {
	return &gophercloud.ServiceClient{
		ProviderClient: &gophercloud.ProviderClient{HTTPClient: *http.DefaultClient},
		Endpoint:       s.URL + "/v1/",
		ResourceBase:   s.URL + "/v1/",
		Microversion:   "1.82",
	}
}

// Option configures a node at Add.
type Option func(*Node)

// ManageError makes manage fail (back to enroll) with this last_error.
func ManageError(msg string) Option { return func(n *Node) { n.manageError = msg } }

// ManageFailures makes the next k manages fail (back to enroll) with this
// last_error, as an Ironic conductor restart fails a running verify.
func ManageFailures(k int, msg string) Option {
	return func(n *Node) { n.manageFailures, n.manageFailMsg = k, msg }
}

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

// PowerError makes every power change fail: the power state stays, and
// last_error says why, as when the BMC refuses.
func PowerError(msg string) Option { return func(n *Node) { n.powerError = msg } }

// Field sets a field of the node as the API shows it.
func Field(key string, v any) Option { return func(n *Node) { n.body[key] = v } }

// Ports gives the node one port (PXE enabled) per MAC.
func Ports(macs ...string) Option { return func(n *Node) { n.macs = append(n.macs, macs...) } }

// UUID returns the node's UUID.
func (n *Node) UUID() string { return n.body["uuid"].(string) }

// Add stores a node with this name and provision state, as if enrolled
// earlier: driver fake-hardware, no power state, then the options.
func (s *Server) Add(name, state string, opts ...Option) *Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.newNode(map[string]any{"name": name, "provision_state": state})
	for _, o := range opts {
		o(n)
	}
	for _, mac := range n.macs {
		s.addPort(map[string]any{"address": mac, "node_uuid": n.UUID()})
	}
	return n
}

// newNode stores a node: Ironic's defaults, then fields.
func (s *Server) newNode(fields map[string]any) *Node {
	s.nodeSeq++
	uuid := fmt.Sprintf("00000000-0000-4000-8000-%012d", s.nodeSeq)
	body := map[string]any{
		"name": nil, "driver": "fake-hardware", "driver_info": map[string]any{}, "properties": map[string]any{},
		"extra": map[string]any{}, "provision_state": stateEnroll, "target_provision_state": nil,
		"power_state": nil, "target_power_state": nil, "maintenance": false, "reservation": nil,
		"last_error": nil, "resource_class": nil, "traits": []any{}, "maintenance_reason": nil, "conductor_group": "", "instance_uuid": nil,
		"inspection_started_at": nil, "inspection_finished_at": nil, "provision_updated_at": nil,
		"created_at": "2024-05-01T10:00:00+00:00",
	}
	for k, v := range fields {
		body[k] = v
	}
	body["uuid"] = uuid
	n := &Node{body: body, discovered: map[string]any{"cpus": 8, "memory_mb": 16384, "local_gb": 100,
		"cpu_arch": "x86_64", "capabilities": "boot_mode:uefi,cpu_vt:true"}}
	s.nodes[uuid] = n
	s.order = append(s.order, uuid)
	return n
}

// addPort stores a port: Ironic's defaults, then fields.
func (s *Server) addPort(fields map[string]any) map[string]any {
	s.portSeq++
	id := fmt.Sprintf("99999999-0000-4000-8000-%012d", s.portSeq)
	port := map[string]any{"pxe_enabled": true, "physical_network": nil, "local_link_connection": map[string]any{}}
	for k, v := range fields {
		port[k] = v
	}
	port["uuid"] = id
	s.ports[id] = port
	return port
}

// Node returns a copy of the stored node (unmasked) by name or UUID, or nil.
func (s *Server) Node(ident string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(time.Now())
	n := s.find(ident)
	if n == nil {
		return nil
	}
	return clone(n.body).(map[string]any)
}

// PortsOf lists the MACs of a node's ports, sorted.
func (s *Server) PortsOf(ident string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.find(ident)
	if n == nil {
		return nil
	}
	var out []string
	for _, p := range s.ports {
		if p["node_uuid"] == n.UUID() {
			out = append(out, p["address"].(string))
		}
	}
	sort.Strings(out)
	return out
}

// Count is how many nodes exist.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.nodes)
}

// Calls lists the requests served, in order, by what they did: "GET list",
// "GET insp-1", "GET inventory insp-1", "POST node n-1", "POST port MAC",
// "PUT inspect insp-1", "PATCH insp-1 add /resource_class", "DELETE n-1",
// "PUT states/provision insp-1 409" (locked), "GET nope 404" (unknown).
// Version discovery is not listed.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string{}, s.calls...)
}

// Writes lists the Calls other than GET; nil when there were none.
func (s *Server) Writes() []string {
	var out []string
	for _, c := range s.Calls() {
		if !strings.HasPrefix(c, "GET ") {
			out = append(out, c)
		}
	}
	return out
}

// MaxBusy is the largest number of nodes worked on at the same time: a node
// is busy from its first write to the end of its last transition or write.
func (s *Server) MaxBusy() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, n := range s.nodes {
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

// Delete removes a node and its ports, as another operator would.
func (s *Server) Delete(ident string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.find(ident); n != nil {
		s.remove(n)
	}
}

// Lock makes the node locked by another conductor for d from now.
func (s *Server) Lock(ident string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.find(ident)
	if n == nil {
		s.t.Fatalf("fake ironic: no node %s", ident)
	}
	n.lockedUntil = time.Now().Add(d)
	n.body["reservation"] = "other-conductor"
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

func (s *Server) find(ident string) *Node {
	if n, ok := s.nodes[ident]; ok {
		return n
	}
	for _, uuid := range s.order {
		if n := s.nodes[uuid]; n.body["name"] == ident {
			return n
		}
	}
	return nil
}

func (s *Server) remove(n *Node) {
	uuid := n.UUID()
	delete(s.nodes, uuid)
	if i := indexOf(s.order, uuid); i >= 0 {
		s.order = append(s.order[:i], s.order[i+1:]...)
	}
	for id, p := range s.ports {
		if p["node_uuid"] == uuid {
			delete(s.ports, id)
		}
	}
}

func indexOf(l []string, v string) int {
	for i, e := range l {
		if e == v {
			return i
		}
	}
	return -1
}

// label names a node in Calls: its name, else its UUID.
func (n *Node) label() string {
	if name, ok := n.body["name"].(string); ok && name != "" {
		return name
	}
	return n.UUID()
}

// masked is the node as the API shows it: a copy, passwords masked.
func (n *Node) masked() map[string]any {
	out := clone(n.body).(map[string]any)
	if di, ok := out["driver_info"].(map[string]any); ok {
		for k := range di {
			if strings.Contains(k, "password") {
				di[k] = "******"
			}
		}
	}
	return out
}

func clone(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}
