package ironicfake

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.advance(now)
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
		d := &dropper{ResponseWriter: w}
		defer d.drop()
		w = d
	}
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodGet && (path == "" || path == "/v1") {
		s.versions(w)
		return
	}
	var body any
	if r.Body != nil && r.ContentLength != 0 {
		_ = json.NewDecoder(r.Body).Decode(&body)
	}
	s.calls = append(s.calls, s.route(w, r, path, parts, body, now))
}

// versions answers version discovery as Ironic does.
func (s *Server) versions(w http.ResponseWriter) {
	w.Header().Set("X-OpenStack-Ironic-API-Minimum-Version", "1.1")
	w.Header().Set("X-OpenStack-Ironic-API-Maximum-Version", "1.82")
	v1 := map[string]any{"id": "v1", "status": "CURRENT", "min_version": "1.1", "version": "1.82",
		"links": []any{map[string]any{"href": s.URL + "/v1/", "rel": "self"}}}
	writeJSON(w, http.StatusOK, map[string]any{"name": "OpenStack Ironic API", "versions": []any{v1}, "default_version": v1})
}

// route answers one API request and returns what it did, for Calls.
func (s *Server) route(w http.ResponseWriter, r *http.Request, path string, parts []string, body any, now time.Time) string {
	switch {
	case r.Method == http.MethodGet && (path == "/v1/nodes/detail" || path == "/v1/nodes"):
		list := []any{}
		state := r.URL.Query().Get("provision_state")
		for _, uuid := range s.order {
			if n := s.nodes[uuid]; state == "" || n.body["provision_state"] == state {
				list = append(list, n.masked())
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"nodes": list})
		return "GET list"
	case r.Method == http.MethodGet && (path == "/v1/ports/detail" || path == "/v1/ports"):
		list := []any{}
		for _, id := range slices.Sorted(maps.Keys(s.ports)) {
			list = append(list, clone(s.ports[id]))
		}
		writeJSON(w, http.StatusOK, map[string]any{"ports": list})
		return "GET ports"
	case r.Method == http.MethodPost && path == "/v1/nodes":
		return s.createNode(w, body)
	case r.Method == http.MethodPost && path == "/v1/ports":
		return s.createPort(w, body)
	case len(parts) >= 3 && parts[1] == "nodes":
		return s.nodeItem(w, r, parts[2], strings.Join(parts[3:], "/"), body, now)
	case len(parts) == 3 && parts[1] == "ports":
		return s.portItem(w, r, parts[2], body)
	}
	ironicError(w, http.StatusNotFound, "no route for %s %s", r.Method, path)
	return fmt.Sprintf("%s %s 404", r.Method, path)
}

func (s *Server) createNode(w http.ResponseWriter, body any) string {
	fields, _ := body.(map[string]any)
	name, _ := fields["name"].(string)
	call := "POST node " + name
	if s.FailCreate != 0 {
		raw, _ := json.Marshal(fields)
		ironicError(w, s.FailCreate, "Invalid node: %s", raw)
		return call
	}
	if name != "" && s.find(name) != nil {
		ironicError(w, http.StatusConflict, "A node with name %s already exists.", name)
		return call
	}
	n := s.newNode(fields)
	writeJSON(w, http.StatusCreated, n.masked())
	return call
}

func (s *Server) createPort(w http.ResponseWriter, body any) string {
	p, _ := body.(map[string]any)
	addr := strings.ToLower(fmt.Sprint(p["address"]))
	call := "POST port " + addr
	for _, other := range s.ports {
		if other["address"] == addr {
			ironicError(w, http.StatusConflict, "A port with MAC address %s already exists.", addr)
			return call
		}
	}
	if _, ok := s.nodes[fmt.Sprint(p["node_uuid"])]; !ok {
		ironicError(w, http.StatusBadRequest, "Node could not be found.")
		return call
	}
	fields := map[string]any{"address": addr, "node_uuid": p["node_uuid"]}
	for _, k := range []string{"physical_network", "local_link_connection", "pxe_enabled"} {
		if v, ok := p[k]; ok {
			fields[k] = v
		}
	}
	writeJSON(w, http.StatusCreated, s.addPort(fields))
	return call
}

func (s *Server) portItem(w http.ResponseWriter, r *http.Request, id string, body any) string {
	call := r.Method + " port " + id
	port, ok := s.ports[id]
	if !ok {
		ironicError(w, http.StatusNotFound, "Port %s could not be found.", id)
		return call + " 404"
	}
	switch r.Method {
	case http.MethodPatch:
		call += " " + patchSummary(body)
		if err := applyPatch(port, body); err != nil {
			ironicError(w, http.StatusBadRequest, "%s", err)
			return call
		}
		writeJSON(w, http.StatusOK, port)
	case http.MethodDelete:
		delete(s.ports, id)
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusOK, port)
	}
	return call
}

func (s *Server) nodeItem(w http.ResponseWriter, r *http.Request, ident, sub string, body any, now time.Time) string {
	n := s.find(ident)
	if n == nil {
		ironicError(w, http.StatusNotFound, "Node %s could not be found.", ident)
		return strings.Join(nonEmpty(r.Method, sub, ident, "404"), " ")
	}
	name := n.label()
	if r.Method != http.MethodGet {
		if n.firstCall.IsZero() {
			n.firstCall = now
		}
		if n.lockOnWrite > 0 {
			n.lockedUntil, n.lockOnWrite = now.Add(n.lockOnWrite), 0
			n.body["reservation"] = "other-conductor"
		}
		if !n.lockedUntil.IsZero() {
			ironicError(w, http.StatusConflict, "Node %s is locked by host %s, please retry after the current operation is completed.", n.UUID(), n.body["reservation"])
			return fmt.Sprintf("%s %s %s 409", r.Method, sub, name)
		}
	}
	target := ""
	if m, ok := body.(map[string]any); ok {
		target, _ = m["target"].(string)
	}
	switch {
	case r.Method == http.MethodGet && sub == "":
		writeJSON(w, http.StatusOK, n.masked())
		return "GET " + name
	case r.Method == http.MethodGet && sub == "inventory":
		if inv, ok := s.Inventory[name]; ok {
			writeJSON(w, http.StatusOK, inv)
		} else {
			ironicError(w, http.StatusNotFound, "Inventory not found for node %s", n.UUID())
		}
		return "GET inventory " + name
	case r.Method == http.MethodPut && sub == "states/provision":
		s.provision(w, n, target, now)
		return fmt.Sprintf("PUT %s %s", target, name)
	case r.Method == http.MethodPut && sub == "states/power":
		s.power(w, n, target, now)
		return fmt.Sprintf("PUT %s %s", target, name)
	case r.Method == http.MethodPut && sub == "maintenance":
		reason := ""
		if m, ok := body.(map[string]any); ok {
			reason, _ = m["reason"].(string)
		}
		n.body["maintenance"], n.body["maintenance_reason"] = true, nilIfEmpty(reason)
		n.lastDone = now
		w.WriteHeader(http.StatusAccepted)
		return "PUT maintenance " + name
	case r.Method == http.MethodDelete && sub == "maintenance":
		n.body["maintenance"], n.body["maintenance_reason"] = false, nil
		n.lastDone = now
		w.WriteHeader(http.StatusAccepted)
		return "DELETE maintenance " + name
	case r.Method == http.MethodPut && sub == "traits":
		m, _ := body.(map[string]any)
		list, ok := m["traits"].([]any)
		if !ok {
			ironicError(w, http.StatusBadRequest, "traits: a list is required")
			return "PUT traits " + name
		}
		n.body["traits"] = list
		n.lastDone = now
		w.WriteHeader(http.StatusNoContent)
		return "PUT traits " + name
	case r.Method == http.MethodPatch && sub == "":
		call := fmt.Sprintf("PATCH %s %s", name, patchSummary(body))
		if err := applyPatch(n.body, body); err != nil {
			ironicError(w, http.StatusBadRequest, "%s", err)
			return call
		}
		n.lastDone = now
		if n.patchLock > 0 {
			n.lockedUntil = now.Add(n.patchLock)
			n.body["reservation"] = "fake-conductor"
		}
		writeJSON(w, http.StatusOK, n.masked())
		return call
	case r.Method == http.MethodDelete && sub == "":
		if st := n.body["provision_state"]; st != stateEnroll && st != stateManageable && st != stateAvailable {
			ironicError(w, http.StatusConflict, "Can not delete node %s while it is in state %s.", n.UUID(), st)
		} else {
			s.remove(n)
			w.WriteHeader(http.StatusNoContent)
		}
		return "DELETE " + name
	}
	ironicError(w, http.StatusMethodNotAllowed, "%s %s: not supported by the fake", r.Method, sub)
	return strings.Join(nonEmpty(r.Method, sub, name, "405"), " ")
}

// applyPatch applies a JSON patch (add, replace, remove) to a resource.
func applyPatch(target map[string]any, body any) error {
	ops, ok := body.([]any)
	if !ok {
		return fmt.Errorf("patch must be a list")
	}
	for _, o := range ops {
		op, _ := o.(map[string]any)
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

// patchSummary is "op path,op path" for Calls.
func patchSummary(body any) string {
	ops, _ := body.([]any)
	var out []string
	for _, o := range ops {
		op, _ := o.(map[string]any)
		out = append(out, fmt.Sprintf("%v %v", op["op"], op["path"]))
	}
	return strings.Join(out, ",")
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nonEmpty(words ...string) []string {
	return slices.DeleteFunc(words, func(w string) bool { return w == "" })
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

// ironicError answers as Ironic does: error_message is a JSON document in a string.
func ironicError(w http.ResponseWriter, code int, format string, args ...any) {
	inner, _ := json.Marshal(map[string]any{"faultstring": fmt.Sprintf(format, args...), "faultcode": "Client", "debuginfo": nil})
	writeJSON(w, code, map[string]any{"error_message": string(inner)})
}
