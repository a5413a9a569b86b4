// Package ironicfake is a small in-memory Ironic API for fast tests of the
// enroll code and the ironic_enroll module: nodes, ports, JSON patch, the
// manage transition (verifying, then manageable, or back to enroll with a
// last_error for a BMC that refuses the credentials), and error bodies in
// Ironic's own shape. It masks *password keys on read, as Ironic does.
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
)

// BadPassword is a BMC password the fake's BMCs refuse: manage fails with a last_error.
const BadPassword = "wrong-password"

// Server is the fake Ironic.
type Server struct {
	URL string

	mu    sync.Mutex
	nodes map[string]map[string]any
	ports map[string]map[string]any
	seq   int
	// Requests counts requests by "METHOD /path-shape".
	Requests map[string]int
	// VerifyPolls is how many reads a node stays in verifying (default 1).
	VerifyPolls int
	// FailCreate, when set, makes node creation fail with this status and an
	// error body that echoes the request body (as a careless API might).
	FailCreate int
	// Drop makes the server act on the next requests of a shape ("POST
	// /v1/nodes", "PATCH /v1/nodes/ID", ...) and then close the connection
	// without answering, as a restarting API does: the count per shape.
	Drop  map[string]int
	polls map[string]int
}

// New starts a fake Ironic closed at the end of the test.
func New(t testing.TB) *Server {
	s := &Server{nodes: map[string]map[string]any{}, ports: map[string]map[string]any{},
		Requests: map[string]int{}, VerifyPolls: 1, polls: map[string]int{}, Drop: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Writes is how many non-GET requests the fake received.
func (s *Server) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, v := range s.Requests {
		if !strings.HasPrefix(k, "GET ") {
			n += v
		}
	}
	return n
}

// AddNode stores a node as given (fields as Ironic returns them) and returns its UUID.
func (s *Server) AddNode(node map[string]any, macs ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.newID("node")
	n := defaults(node)
	n["uuid"] = id
	s.nodes[id] = n
	for _, mac := range macs {
		pid := s.newID("port")
		s.ports[pid] = map[string]any{"uuid": pid, "address": mac, "node_uuid": id, "pxe_enabled": true,
			"physical_network": nil, "local_link_connection": map[string]any{}}
	}
	return id
}

// Node returns a copy of the stored node (unmasked) by name, or nil.
func (s *Server) Node(name string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.nodes {
		if n["name"] == name {
			return clone(n).(map[string]any)
		}
	}
	return nil
}

// PortsOf lists the MACs of a node's ports, sorted.
func (s *Server) PortsOf(name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, n := range s.nodes {
		if n["name"] != name {
			continue
		}
		for _, p := range s.ports {
			if p["node_uuid"] == n["uuid"] {
				out = append(out, p["address"].(string))
			}
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

func (s *Server) newID(kind string) string {
	s.seq++
	prefix := "00000000"
	if kind == "port" {
		prefix = "99999999"
	}
	return fmt.Sprintf("%s-0000-4000-8000-%012d", prefix, s.seq)
}

func defaults(n map[string]any) map[string]any {
	out := map[string]any{"driver_info": map[string]any{}, "properties": map[string]any{}, "provision_state": "enroll",
		"target_provision_state": nil, "power_state": nil, "last_error": nil, "maintenance": false,
		"resource_class": nil, "inspection_finished_at": nil, "conductor_group": "", "extra": map[string]any{}}
	for k, v := range n {
		out[k] = v
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := strings.TrimSuffix(r.URL.Path, "/")
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	shape := path
	if len(parts) >= 3 && parts[2] != "detail" {
		shape = "/" + parts[0] + "/" + parts[1] + "/ID"
		if len(parts) > 3 {
			shape += "/" + strings.Join(parts[3:], "/")
		}
	}
	s.Requests[r.Method+" "+shape]++
	if s.Drop[r.Method+" "+shape] > 0 {
		s.Drop[r.Method+" "+shape]--
		w = &dropper{ResponseWriter: w}
		defer w.(*dropper).drop()
	}
	w.Header().Set("Content-Type", "application/json")
	if path == "/v1" || path == "" {
		v1 := map[string]any{"id": "v1", "status": "CURRENT", "min_version": "1.1", "version": "1.82"}
		writeJSON(w, 200, map[string]any{"versions": []any{v1}, "default_version": v1})
		return
	}
	var body any
	if r.Body != nil && r.ContentLength != 0 {
		_ = json.NewDecoder(r.Body).Decode(&body)
	}
	switch {
	case r.Method == "GET" && (path == "/v1/nodes/detail" || path == "/v1/nodes"):
		list := []any{}
		for _, id := range sortedIDs(s.nodes) {
			s.advance(id)
			list = append(list, masked(s.nodes[id]))
		}
		writeJSON(w, 200, map[string]any{"nodes": list})
	case r.Method == "GET" && (path == "/v1/ports/detail" || path == "/v1/ports"):
		list := []any{}
		for _, id := range sortedIDs(s.ports) {
			list = append(list, clone(s.ports[id]))
		}
		writeJSON(w, 200, map[string]any{"ports": list})
	case r.Method == "POST" && path == "/v1/nodes":
		n, _ := body.(map[string]any)
		if s.FailCreate != 0 {
			raw, _ := json.Marshal(n)
			ironicError(w, s.FailCreate, "Invalid node: "+string(raw))
			return
		}
		if name, _ := n["name"].(string); name != "" && s.byName(name) != "" {
			ironicError(w, 409, fmt.Sprintf("A node with name %s already exists.", name))
			return
		}
		id := s.newID("node")
		node := defaults(n)
		node["uuid"] = id
		if node["resource_class"] == nil {
			node["resource_class"] = nil
		}
		s.nodes[id] = node
		writeJSON(w, 201, masked(node))
	case r.Method == "POST" && path == "/v1/ports":
		p, _ := body.(map[string]any)
		addr := strings.ToLower(fmt.Sprint(p["address"]))
		for _, other := range s.ports {
			if other["address"] == addr {
				ironicError(w, 409, fmt.Sprintf("A port with MAC address %s already exists.", addr))
				return
			}
		}
		if _, ok := s.nodes[fmt.Sprint(p["node_uuid"])]; !ok {
			ironicError(w, 400, "Node could not be found.")
			return
		}
		id := s.newID("port")
		port := map[string]any{"uuid": id, "address": addr, "node_uuid": p["node_uuid"], "pxe_enabled": true,
			"physical_network": nil, "local_link_connection": map[string]any{}}
		for _, k := range []string{"physical_network", "local_link_connection", "pxe_enabled"} {
			if v, ok := p[k]; ok {
				port[k] = v
			}
		}
		s.ports[id] = port
		writeJSON(w, 201, port)
	case len(parts) >= 3 && parts[1] == "nodes":
		s.nodeItem(w, r, parts[2], parts[3:], body)
	case len(parts) == 3 && parts[1] == "ports":
		id := parts[2]
		port, ok := s.ports[id]
		if !ok {
			ironicError(w, 404, "Port "+id+" could not be found.")
			return
		}
		switch r.Method {
		case "PATCH":
			if err := applyPatch(port, body); err != nil {
				ironicError(w, 400, err.Error())
				return
			}
			writeJSON(w, 200, port)
		case "DELETE":
			delete(s.ports, id)
			w.WriteHeader(204)
		default:
			writeJSON(w, 200, port)
		}
	default:
		ironicError(w, 404, "no route for "+r.Method+" "+path)
	}
}

func (s *Server) nodeItem(w http.ResponseWriter, r *http.Request, ident string, rest []string, body any) {
	id := ident
	if _, ok := s.nodes[id]; !ok {
		id = s.byName(ident)
	}
	node, ok := s.nodes[id]
	if !ok {
		ironicError(w, 404, "Node "+ident+" could not be found.")
		return
	}
	switch {
	case len(rest) == 2 && rest[0] == "states" && rest[1] == "provision" && r.Method == "PUT":
		target := fmt.Sprint(body.(map[string]any)["target"])
		if target != "manage" || node["provision_state"] != "enroll" {
			ironicError(w, 400, fmt.Sprintf("The requested action \"%s\" can not be performed on node \"%s\" while it is in state \"%s\".", target, id, node["provision_state"]))
			return
		}
		node["provision_state"], node["target_provision_state"] = "verifying", "manageable"
		s.polls[id] = 0
		w.WriteHeader(202)
	case len(rest) == 0 && r.Method == "GET":
		s.advance(id)
		writeJSON(w, 200, masked(node))
	case len(rest) == 0 && r.Method == "PATCH":
		if err := applyPatch(node, body); err != nil {
			ironicError(w, 400, err.Error())
			return
		}
		writeJSON(w, 200, masked(node))
	case len(rest) == 0 && r.Method == "DELETE":
		if st := node["provision_state"]; st != "enroll" && st != "manageable" && st != "available" {
			ironicError(w, 409, fmt.Sprintf("Can not delete node %s while it is in state %s.", id, st))
			return
		}
		delete(s.nodes, id)
		for pid, p := range s.ports {
			if p["node_uuid"] == id {
				delete(s.ports, pid)
			}
		}
		w.WriteHeader(204)
	default:
		ironicError(w, 405, "not supported by the fake")
	}
}

// advance moves a verifying node on after VerifyPolls reads.
func (s *Server) advance(id string) {
	node := s.nodes[id]
	if node["provision_state"] != "verifying" {
		return
	}
	s.polls[id]++
	if s.polls[id] < s.VerifyPolls {
		return
	}
	node["target_provision_state"] = nil
	di, _ := node["driver_info"].(map[string]any)
	for k, v := range di {
		if strings.HasSuffix(k, "password") && v == BadPassword {
			node["provision_state"] = "enroll"
			node["last_error"] = "Failed to get power state for node " + id + ". Error: IPMI call failed: power status."
			return
		}
	}
	node["provision_state"], node["last_error"] = "manageable", nil
}

func (s *Server) byName(name string) string {
	for id, n := range s.nodes {
		if n["name"] == name {
			return id
		}
	}
	return ""
}

func applyPatch(target map[string]any, body any) error {
	ops, ok := body.([]any)
	if !ok {
		return fmt.Errorf("patch must be a list")
	}
	for _, o := range ops {
		op := o.(map[string]any)
		segs := strings.Split(strings.TrimPrefix(fmt.Sprint(op["path"]), "/"), "/")
		m := target
		for _, seg := range segs[:len(segs)-1] {
			next, ok := m[seg].(map[string]any)
			if !ok {
				return fmt.Errorf("Adding a new attribute (%s) to the root of the resource is not allowed.", op["path"])
			}
			m = next
		}
		last := segs[len(segs)-1]
		switch op["op"] {
		case "add", "replace":
			if _, has := op["value"]; !has {
				return fmt.Errorf("value is required for %s", op["path"])
			}
			m[last] = op["value"]
		case "remove":
			delete(m, last)
		}
	}
	return nil
}

func masked(n map[string]any) map[string]any {
	out := clone(n).(map[string]any)
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

func sortedIDs(m map[string]map[string]any) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// dropper swallows the response and closes the connection instead.
type dropper struct{ http.ResponseWriter }

func (d *dropper) Header() http.Header         { return http.Header{} }
func (d *dropper) WriteHeader(int)             {}
func (d *dropper) Write(b []byte) (int, error) { return len(b), nil }
func (d *dropper) drop() {
	if hj, ok := d.ResponseWriter.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// ironicError writes an error the way Ironic does: error_message is a JSON
// document inside a string.
func ironicError(w http.ResponseWriter, code int, msg string) {
	inner, _ := json.Marshal(map[string]any{"faultstring": msg, "faultcode": "Client", "debuginfo": nil})
	writeJSON(w, code, map[string]any{"error_message": string(inner)})
}
