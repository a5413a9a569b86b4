// Package fakecloud is an in-memory Nova + Ironic + Placement + Glance +
// Neutron for the server and diagnose unit tests. Its read-only data
// (nodes, hypervisors, resource providers, inventories, usages, allocation
// candidates, flavors) are responses recorded from the loopback test stack
// (tests/fixtures/server/recorded); servers are simulated: a boot goes
// BUILD, then whatever the test's Boot hook decides.
package fakecloud

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
)

// Cloud is one fake cloud on an httptest server.
type Cloud struct {
	URL string

	mu          sync.Mutex
	Nodes       []map[string]any
	Hypervisors []map[string]any
	Providers   []map[string]any
	Inventories map[string]any
	Usages      map[string]any
	Candidates  map[string]any // allocation_candidates answer, by resources query value
	Flavors     []map[string]any
	Images      []map[string]any
	Networks    []map[string]any
	Ports       []map[string]any
	KeyPairs    []string
	Servers     []map[string]any

	// Boot decides what a server becomes after BUILD (set Status, fault,
	// hypervisor_hostname); it is called on the GET that follows BuildGets.
	Boot      func(server map[string]any)
	BuildGets int
	// Fail makes the next calls matching "METHOD path-prefix" answer 500, count times.
	Fail map[string]int
	// FailAfter is Fail for calls that are carried out first: Nova failing
	// after its database commit, so a retry meets what the first call did.
	FailAfter map[string]int
	// Hold leaves the next calls matching "METHOD path-prefix" unanswered
	// until the client gives up, count times: a service too busy to answer.
	Hold map[string]int
	// DropDeletes answers that many server DELETEs 204 and forgets them,
	// as Nova does when its database is locked.
	DropDeletes int
	// Writes are every POST/PUT/PATCH/DELETE received, "METHOD path".
	Writes []string
	// Bodies are the JSON bodies of the writes, in order.
	Bodies []map[string]any
	gets   map[string]int
}

// New starts a fake cloud with the recorded fixtures of dir.
func New(t *testing.T, dir string) *Cloud {
	t.Helper()
	c := &Cloud{Fail: map[string]int{}, FailAfter: map[string]int{}, gets: map[string]int{}}
	var v map[string]any
	load := func(name string) map[string]any {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("fixture: %v", err)
		}
		v = map[string]any{}
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("fixture %s: %v", name, err)
		}
		return v
	}
	c.Nodes = maps(load("nodes_detail.json")["nodes"])
	c.Hypervisors = maps(load("os-hypervisors_detail.json")["hypervisors"])
	c.Providers = maps(load("resource_providers.json")["resource_providers"])
	c.Inventories = load("inventories.json")
	c.Usages = load("usages.json")
	c.Candidates = map[string]any{"CUSTOM_INSP_SCALE:1": load("allocation_candidates_CUSTOM_INSP_SCALE.json")}
	c.Flavors = []map[string]any{load("flavor_baremetal.json")["flavor"].(map[string]any)}
	srv := httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

func maps(v any) []map[string]any {
	var out []map[string]any
	for _, e := range v.([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

// IDs of what AddBasics adds.
const (
	ImageID = "6a1c0e0e-0000-4000-8000-00000000000a"
	NetID   = "7b2d0f0f-0000-4000-8000-00000000000b"
	PortID  = "8c3e1010-0000-4000-8000-00000000000c"
	// GoodNode is a recorded node that is available, powered off, of class insp-scale.
	GoodNode = "insp-38ca51-scale-001"
)

// AddBasics adds what a boot needs beside the recorded data: an active
// image "rhcos", a network "ctlplane" with a free port, a key pair "stack",
// and a flavor "insp-scale" matching the recorded insp-scale nodes.
func (c *Cloud) AddBasics() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Images = []map[string]any{{"id": ImageID, "name": "rhcos", "status": "active"}}
	c.Networks = []map[string]any{{"id": NetID, "name": "ctlplane"}}
	c.Ports = []map[string]any{{"id": PortID, "name": "p1", "network_id": NetID, "device_id": ""}}
	c.KeyPairs = []string{"stack"}
	c.Flavors = append(c.Flavors, map[string]any{"id": "insp-scale", "name": "insp-scale", "vcpus": 4, "ram": 8192, "disk": 100,
		"extra_specs": map[string]any{"resources:CUSTOM_INSP_SCALE": "1", "resources:VCPU": "0", "resources:MEMORY_MB": "0", "resources:DISK_GB": "0"}})
}

// CloudConfig is a clouds.yaml-style cloud (auth_type none, endpoint
// overrides) pointing at the fake, for the module's cloud option.
func (c *Cloud) CloudConfig() map[string]any {
	return map[string]any{
		"auth_type":                   "none",
		"baremetal_endpoint_override": c.URL + "/baremetal/v1",
		"compute_endpoint_override":   c.URL + "/compute/v2.1",
		"image_endpoint_override":     c.URL + "/image/v2",
		"network_endpoint_override":   c.URL + "/network/v2.0",
		"placement_endpoint_override": c.URL + "/placement",
	}
}

// Client is a gophercloud client for one of the fake's services:
// compute, image, network, baremetal or placement.
func (c *Cloud) Client(service string) *gophercloud.ServiceClient {
	base := map[string]string{"compute": "/compute/v2.1/", "image": "/image/v2/", "network": "/network/v2.0/",
		"baremetal": "/baremetal/v1/", "placement": "/placement/"}[service]
	mv := map[string]string{"compute": "2.93", "baremetal": "1.82"}[service]
	return &gophercloud.ServiceClient{ProviderClient: &gophercloud.ProviderClient{HTTPClient: http.Client{}},
		Endpoint: c.URL + base, Type: service, Microversion: mv}
}

// Node returns the node with that name (nil if none).
func (c *Cloud) Node(name string) map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.Nodes {
		if n["name"] == name || n["uuid"] == name {
			return n
		}
	}
	return nil
}

func (c *Cloud) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	held := takeFailure(c.Hold, r)
	c.mu.Unlock()
	if held {
		<-r.Context().Done()
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.Method != http.MethodGet {
		c.Writes = append(c.Writes, r.Method+" "+r.URL.Path)
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		c.Bodies = append(c.Bodies, body)
	}
	if takeFailure(c.Fail, r) {
		replyFault(w)
		return
	}
	if takeFailure(c.FailAfter, r) {
		c.route(httptest.NewRecorder(), r)
		replyFault(w)
		return
	}
	c.route(w, r)
}

// takeFailure consumes one failure of fail matching r.
func takeFailure(fail map[string]int, r *http.Request) bool {
	for key, n := range fail {
		method, prefix, _ := strings.Cut(key, " ")
		if n > 0 && r.Method == method && strings.HasPrefix(r.URL.Path, prefix) {
			fail[key] = n - 1
			return true
		}
	}
	return false
}

// replyFault is Nova's answer on a locked database.
func replyFault(w http.ResponseWriter) {
	reply(w, 500, map[string]any{"computeFault": map[string]any{"code": 500, "message": "Unexpected API Error. <class 'sqlalchemy.exc.OperationalError'>"}})
}

// route answers r as the services would.
func (c *Cloud) route(w http.ResponseWriter, r *http.Request) {
	service, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	_, rest, _ = strings.Cut(rest, "/") // version segment
	if service == "placement" {
		rest = strings.TrimPrefix(r.URL.Path, "/placement/")
	}
	if r.Method == http.MethodGet && strings.Trim(rest, "/") == "" && service != "placement" {
		// Version discovery (microversion negotiation), for Nova and Ironic alike.
		reply(w, 200, map[string]any{"versions": []any{
			map[string]any{"id": "v2.1", "version": "2.93", "min_version": "2.1", "status": "CURRENT"},
			map[string]any{"id": "v1", "version": "1.82", "min_version": "1.1", "status": "CURRENT"},
		}})
		return
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	q := r.URL.Query()
	switch service {
	case "compute":
		c.compute(w, r, parts, q)
	case "baremetal":
		c.baremetal(w, r, parts, q)
	case "placement":
		c.placement(w, parts, q)
	case "image":
		c.list(w, "images", c.Images, parts, q)
	case "network":
		switch parts[0] {
		case "networks":
			c.list(w, "networks", c.Networks, parts, q)
		case "ports":
			c.list(w, "ports", c.Ports, parts, q)
		}
	default:
		reply(w, 404, nil)
	}
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// list answers GET /<kind>?name= and GET /<kind>/<id> (Glance answers an
// image bare, Neutron wraps it in its singular).
func (c *Cloud) list(w http.ResponseWriter, kind string, items []map[string]any, parts []string, q url.Values) {
	if len(parts) == 2 {
		for _, it := range items {
			if it["id"] == parts[1] {
				if kind == "images" {
					reply(w, 200, it)
				} else {
					reply(w, 200, map[string]any{strings.TrimSuffix(kind, "s"): it})
				}
				return
			}
		}
		reply(w, 404, map[string]any{"NeutronError": map[string]any{"message": kind + " " + parts[1] + " could not be found"}})
		return
	}
	out := []map[string]any{}
	for _, it := range items {
		if name := q.Get("name"); name == "" || it["name"] == name {
			out = append(out, it)
		}
	}
	reply(w, 200, map[string]any{kind: out})
}

func (c *Cloud) compute(w http.ResponseWriter, r *http.Request, parts []string, q url.Values) {
	switch {
	case parts[0] == "servers" && len(parts) == 1 && r.Method == http.MethodPost:
		body := c.Bodies[len(c.Bodies)-1]["server"].(map[string]any)
		id := fmt.Sprintf("0000000%d-aaaa-4bbb-8ccc-000000000000", len(c.Servers)+1)
		s := map[string]any{"id": id, "name": body["name"], "status": "BUILD", "metadata": body["metadata"],
			"image": map[string]any{"id": body["imageRef"]}, "addresses": map[string]any{}, "config_drive": "",
			"flavor": c.embeddedFlavor(fmt.Sprint(body["flavorRef"])), "OS-EXT-STS:vm_state": "building"}
		if body["config_drive"] == true {
			s["config_drive"] = "True"
		}
		c.Servers = append(c.Servers, s)
		reply(w, 202, map[string]any{"server": map[string]any{"id": id, "links": []any{}}})
	case parts[0] == "servers" && len(parts) == 2 && parts[1] == "detail":
		re, _ := regexp.Compile(q.Get("name"))
		out := []map[string]any{}
		for _, s := range c.Servers {
			if s["status"] != "DELETED" && (re == nil || re.MatchString(fmt.Sprint(s["name"]))) {
				out = append(out, s)
			}
		}
		reply(w, 200, map[string]any{"servers": out})
	case parts[0] == "servers" && len(parts) >= 2:
		s := c.server(parts[1])
		if s == nil || s["status"] == "DELETED" {
			reply(w, 404, map[string]any{"itemNotFound": map[string]any{"code": 404, "message": "Instance " + parts[1] + " could not be found."}})
			return
		}
		switch {
		case r.Method == http.MethodDelete && c.DropDeletes > 0:
			// Nova on a locked database: 204, then the delete is reverted.
			c.DropDeletes--
			reply(w, 204, nil)
		case r.Method == http.MethodDelete:
			s["status"] = "DELETED"
			for _, n := range c.Nodes {
				if n["instance_uuid"] == s["id"] {
					n["instance_uuid"], n["provision_state"] = nil, "deleting"
				}
			}
			reply(w, 204, nil)
		case len(parts) == 3 && parts[2] == "metadata":
			md, _ := s["metadata"].(map[string]any)
			if md == nil {
				md = map[string]any{}
			}
			for k, v := range c.Bodies[len(c.Bodies)-1]["metadata"].(map[string]any) {
				md[k] = v
			}
			s["metadata"] = md
			reply(w, 200, map[string]any{"metadata": md})
		default:
			if s["status"] == "BUILD" {
				c.gets[parts[1]]++
				if c.gets[parts[1]] > c.BuildGets && c.Boot != nil {
					c.Boot(s)
				}
			}
			reply(w, 200, map[string]any{"server": s})
		}
	case parts[0] == "flavors" && len(parts) == 2 && parts[1] == "detail":
		reply(w, 200, map[string]any{"flavors": c.Flavors})
	case parts[0] == "flavors" && len(parts) == 2:
		for _, f := range c.Flavors {
			if f["id"] == parts[1] {
				reply(w, 200, map[string]any{"flavor": f})
				return
			}
		}
		reply(w, 404, map[string]any{"itemNotFound": map[string]any{"code": 404, "message": "Flavor " + parts[1] + " could not be found."}})
	case parts[0] == "os-hypervisors":
		reply(w, 200, map[string]any{"hypervisors": c.Hypervisors})
	case parts[0] == "os-keypairs" && len(parts) == 2:
		for _, k := range c.KeyPairs {
			if k == parts[1] {
				reply(w, 200, map[string]any{"keypair": map[string]any{"name": k}})
				return
			}
		}
		reply(w, 404, map[string]any{"itemNotFound": map[string]any{"code": 404, "message": "Keypair " + parts[1] + " not found"}})
	default:
		reply(w, 404, nil)
	}
}

func (c *Cloud) server(id string) map[string]any {
	for _, s := range c.Servers {
		if s["id"] == id {
			return s
		}
	}
	return nil
}

func (c *Cloud) embeddedFlavor(ref string) map[string]any {
	for _, f := range c.Flavors {
		if f["id"] == ref {
			return map[string]any{"original_name": f["name"], "vcpus": f["vcpus"], "ram": f["ram"], "disk": f["disk"],
				"ephemeral": 0, "swap": 0, "extra_specs": f["extra_specs"]}
		}
	}
	return map[string]any{}
}

func (c *Cloud) knownClass(class string) bool {
	for _, inv := range c.Inventories {
		if m, ok := inv.(map[string]any)["inventories"].(map[string]any); ok {
			if _, ok := m[class]; ok {
				return true
			}
		}
	}
	return false
}

// Land puts a server on a node as Nova and Ironic would show it.
func (c *Cloud) Land(s map[string]any, node string) {
	for _, n := range c.Nodes {
		if n["name"] == node || n["uuid"] == node {
			n["instance_uuid"], n["provision_state"], n["power_state"] = s["id"], "active", "power on"
			s["OS-EXT-SRV-ATTR:hypervisor_hostname"] = n["uuid"]
		}
	}
	s["status"], s["OS-EXT-STS:vm_state"] = "ACTIVE", "active"
	s["addresses"] = map[string]any{"ctlplane": []any{map[string]any{"addr": "192.0.2.10", "version": 4}}}
}

func (c *Cloud) baremetal(w http.ResponseWriter, r *http.Request, parts []string, q url.Values) {
	if parts[0] != "nodes" {
		reply(w, 404, nil)
		return
	}
	if len(parts) == 1 || parts[1] == "detail" {
		out := []map[string]any{}
		for _, n := range c.Nodes {
			if iu := q.Get("instance_uuid"); iu == "" || n["instance_uuid"] == iu {
				out = append(out, n)
			}
		}
		reply(w, 200, map[string]any{"nodes": out})
		return
	}
	for _, n := range c.Nodes {
		if n["uuid"] == parts[1] || n["name"] == parts[1] {
			// A deleted instance's node is cleaned back to available over two reads.
			switch n["provision_state"] {
			case "deleting":
				n["provision_state"] = "cleaning"
			case "cleaning":
				n["provision_state"] = "available"
			}
			reply(w, 200, n)
			return
		}
	}
	reply(w, 404, map[string]any{"error_message": `{"faultstring": "Node ` + parts[1] + ` could not be found."}`})
}

func (c *Cloud) placement(w http.ResponseWriter, parts []string, q url.Values) {
	switch {
	case parts[0] == "allocation_candidates":
		res := q.Get("resources")
		if ac, ok := c.Candidates[res]; ok {
			reply(w, 200, ac)
			return
		}
		class, _, _ := strings.Cut(res, ":")
		if !c.knownClass(class) {
			reply(w, 400, map[string]any{"errors": []any{map[string]any{"status": 400, "title": "Bad Request",
				"detail": "The server could not comply with the request since it is either malformed or otherwise incorrect.\n\n Invalid resource class in resources parameter: No such resource class " + class + ".  "}}})
			return
		}
		reply(w, 200, map[string]any{"allocation_requests": []any{}, "provider_summaries": map[string]any{}})
	case parts[0] == "resource_providers" && len(parts) == 1:
		reply(w, 200, map[string]any{"resource_providers": c.Providers})
	case parts[0] == "resource_providers" && len(parts) == 3 && parts[2] == "inventories":
		if v, ok := c.Inventories[parts[1]]; ok {
			reply(w, 200, v)
			return
		}
		reply(w, 404, nil)
	case parts[0] == "resource_providers" && len(parts) == 3 && parts[2] == "usages":
		if v, ok := c.Usages[parts[1]]; ok {
			reply(w, 200, v)
			return
		}
		reply(w, 404, nil)
	default:
		reply(w, 404, nil)
	}
}
