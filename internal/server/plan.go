package server

import (
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// Action is one step of a plan.
type Action string

const (
	// ActionDelete deletes Plan.Existing (and, with wait, waits for its node
	// to be cleaned back to available).
	ActionDelete Action = "delete"
	// ActionCreate boots the server.
	ActionCreate Action = "create"
	// ActionWait waits for a server an earlier run left building.
	ActionWait Action = "wait"
	// ActionUpdateMetadata sets Plan.Metadata on the existing server.
	ActionUpdateMetadata Action = "update_metadata"
)

// Plan is what Apply will do, and what check mode and diff mode report.
type Plan struct {
	Actions []Action
	// Existing are the servers the plan acts on or keeps (delete: all of them).
	Existing []servers.Server
	// Metadata are the keys ActionUpdateMetadata sets.
	Metadata map[string]string
	// Mismatches are differences between an existing server and the request
	// that the module reports but does not fix (image, flavor).
	Mismatches []string
	Warnings   []string
	// Failure, when set, ends the task as failed before any write.
	Failure string
}

// Changes tells whether the plan writes anything.
func (p Plan) Changes() bool {
	for _, a := range p.Actions {
		if a != ActionWait {
			return true
		}
	}
	return false
}

// Has tells whether the plan includes action a.
func (p Plan) Has(a Action) bool {
	for _, x := range p.Actions {
		if x == a {
			return true
		}
	}
	return false
}

// MakePlan compares the desired server with what exists. It is pure.
func MakePlan(d Desired, o Observed) Plan {
	p := Plan{Existing: o.Servers, Warnings: append([]string(nil), o.Warnings...)}
	if d.State == StateAbsent {
		if len(o.Servers) > 0 {
			p.Actions = []Action{ActionDelete}
		}
		return p
	}
	preflight := func() bool {
		if len(o.Problems) == 0 {
			return true
		}
		p.Failure = "pre-flight check failed, nothing was created: " + strings.Join(o.Problems, "; ")
		return false
	}
	switch len(o.Servers) {
	case 0:
		if preflight() {
			p.Actions = []Action{ActionCreate}
		}
		return p
	case 1:
	default:
		var ids []string
		for _, s := range o.Servers {
			ids = append(ids, s.ID+" ("+s.Status+")")
		}
		p.Failure = fmt.Sprintf("%d servers are named %q: %s; delete the extras (or use state: absent) so the name means one server",
			len(o.Servers), d.Name, strings.Join(ids, ", "))
		return p
	}
	s := o.Servers[0]
	switch s.Status {
	case "ERROR":
		if !d.RecreateOnError {
			p.Failure = fmt.Sprintf("server %s (%s) is in ERROR from an earlier run%s; set recreate_on_error: true to delete and boot it again",
				s.Name, s.ID, faultSuffix(s.Fault))
			return p
		}
		if preflight() {
			p.Actions = []Action{ActionDelete, ActionCreate}
		}
		return p
	case "BUILD":
		if o.LostBuild != "" && d.RecreateOnError {
			if preflight() {
				p.Warnings = append(p.Warnings, o.LostBuild+": recreate_on_error deletes it and boots it again")
				p.Actions = []Action{ActionDelete, ActionCreate}
			}
			return p
		}
		if d.Wait {
			p.Actions = []Action{ActionWait}
		} else {
			p.Warnings = append(p.Warnings, fmt.Sprintf("server %s is still BUILD from an earlier run", s.Name))
		}
	case "ACTIVE":
	default:
		p.Warnings = append(p.Warnings, fmt.Sprintf("server %s exists with status %s; this module does not change its power state", s.Name, s.Status))
	}
	p.Mismatches = mismatches(s, d, o)
	for _, m := range p.Mismatches {
		p.Warnings = append(p.Warnings, m+": the server is left as it is; delete it (state: absent) to boot it again with the requested one")
	}
	if md := metadataToSet(s.Metadata, d.Metadata); len(md) > 0 {
		p.Metadata = md
		p.Actions = append(p.Actions, ActionUpdateMetadata)
	}
	return p
}

func faultSuffix(f servers.Fault) string {
	if f.Message == "" {
		return ""
	}
	return " (" + firstLine(f.Message) + ")"
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// mismatches compares an existing server's image and flavor with the
// resolved request. Nova embeds the flavor (name, not ID) from microversion 2.47.
func mismatches(s servers.Server, d Desired, o Observed) []string {
	var out []string
	// Admins see the user data a server booted with (microversion 2.3+).
	if d.UserData != nil && s.Userdata != nil && *s.Userdata != d.UserData.Encoded() {
		out = append(out, fmt.Sprintf("user data mismatch: server %s booted with other user data (it only applies at first boot)", s.Name))
	}
	if o.Image != nil {
		if id, _ := s.Image["id"].(string); id != "" && id != o.Image.ID {
			out = append(out, fmt.Sprintf("image mismatch: server %s runs image %s, the task asks for %s (%s)", s.Name, id, o.Image.Name, o.Image.ID))
		}
	}
	if o.Flavor != nil {
		if name, ok := s.Flavor["original_name"].(string); ok {
			if name != o.Flavor.Name {
				out = append(out, fmt.Sprintf("flavor mismatch: server %s has flavor %s, the task asks for %s", s.Name, name, o.Flavor.Name))
			}
		} else if id, _ := s.Flavor["id"].(string); id != "" && id != o.Flavor.ID {
			out = append(out, fmt.Sprintf("flavor mismatch: server %s has flavor %s, the task asks for %s (%s)", s.Name, id, o.Flavor.Name, o.Flavor.ID))
		}
	}
	return out
}

// metadataToSet returns the desired keys whose values differ (Nova's
// metadata update merges: keys the task does not name are kept).
func metadataToSet(have, want map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range want {
		if cur, ok := have[k]; !ok || cur != v {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// DiffView is the server as diff mode shows it: before from the existing
// server, after from the request.
func DiffView(d Desired, o Observed, p Plan) (before, after map[string]any) {
	before = map[string]any{}
	if len(p.Existing) == 1 {
		s := p.Existing[0]
		before = map[string]any{"name": s.Name, "id": s.ID, "status": s.Status, "metadata": nonNilMap(s.Metadata)}
		if id, _ := s.Image["id"].(string); id != "" {
			before["image"] = id
		}
		if name, _ := s.Flavor["original_name"].(string); name != "" {
			before["flavor"] = name
		} else if id, _ := s.Flavor["id"].(string); id != "" {
			before["flavor"] = id
		}
	} else if len(p.Existing) > 1 {
		var ids []string
		for _, s := range p.Existing {
			ids = append(ids, s.ID)
		}
		sort.Strings(ids)
		before = map[string]any{"name": d.Name, "ids": ids}
	}
	if d.State == StateAbsent {
		return before, map[string]any{}
	}
	if !p.Has(ActionCreate) {
		after = maps.Clone(before)
		if p.Metadata != nil {
			md := maps.Clone(nonNilMap(p.Existing[0].Metadata))
			maps.Copy(md, p.Metadata)
			after["metadata"] = md
		}
		if p.Has(ActionWait) {
			after["status"] = "ACTIVE"
		}
		return before, after
	}
	after = map[string]any{"name": d.Name, "status": "ACTIVE", "metadata": nonNilMap(d.Metadata), "config_drive": d.ConfigDrive}
	if o.Image != nil {
		after["image"] = o.Image.ID
	}
	if o.Flavor != nil {
		after["flavor"] = o.Flavor.Name
	}
	if d.KeyName != "" {
		after["key_name"] = d.KeyName
	}
	if o.AvailabilityZone != "" {
		after["availability_zone"] = o.AvailabilityZone
	}
	after["networks"] = networksView(d.Nics, o.Networks)
	if d.UserData != nil {
		after["user_data"] = map[string]any{"size": d.UserData.Size(), "sha256": d.UserData.SHA256()}
	}
	if !d.Wait {
		after["status"] = "BUILD"
	}
	return before, after
}

func networksView(n Nics, resolved []servers.Network) any {
	if n.Mode != "" {
		return n.Mode
	}
	out := []any{}
	for _, r := range resolved {
		m := map[string]any{}
		if r.UUID != "" {
			m["net-id"] = r.UUID
		}
		if r.Port != "" {
			m["port-id"] = r.Port
		}
		if r.FixedIP != "" {
			m["fixed_ip"] = r.FixedIP
		}
		out = append(out, m)
	}
	return out
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
