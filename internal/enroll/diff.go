package enroll

import (
	"sort"
	"strings"

	"github.com/metalkit/baremetal/internal/secret"
)

// Diff is one node's before/after, as Ansible's diff mode shows it.
type Diff struct {
	BeforeHeader string         `json:"before_header"`
	AfterHeader  string         `json:"after_header"`
	Before       map[string]any `json:"before"`
	After        map[string]any `json:"after"`
}

// Diffs are the before/after of every plan that changes something.
// Credentials show as "********" on both sides: Ironic never returns them
// and the input's must not be printed.
func Diffs(plans []*Plan) []Diff {
	var out []Diff
	for _, p := range plans {
		if p.Err != nil || !p.Changed() {
			continue
		}
		header := "ironic node " + p.Node.Label()
		d := Diff{BeforeHeader: header, AfterHeader: header, Before: map[string]any{}, After: map[string]any{}}
		switch p.Action {
		case ActionCreate:
			d.After = createdView(p)
		case ActionDelete:
			d.Before = existingView(p)
		default:
			d.Before = existingView(p)
			d.After = updatedView(p, d.Before)
		}
		out = append(out, d)
	}
	return out
}

func existingView(p *Plan) map[string]any {
	ex := p.Existing
	v := map[string]any{
		"uuid":            ex.UUID,
		"name":            ex.Name,
		"driver":          ex.Driver,
		"driver_info":     maskSecrets(ex.DriverInfo),
		"properties":      copyMap(ex.Properties),
		"resource_class":  ex.ResourceClass,
		"provision_state": ex.ProvisionState,
		"ports":           addresses(p.ExistingPorts),
	}
	for k := range p.Node.Fields {
		v[k] = ex.Fields[k]
	}
	return v
}

func createdView(p *Plan) map[string]any {
	v := map[string]any{}
	for k, val := range p.CreateBody {
		v[k] = val
	}
	if di, ok := v["driver_info"].(map[string]any); ok {
		v["driver_info"] = maskSecrets(di)
	}
	state := StateEnroll
	if p.Manage {
		state = StateManageable
	}
	v["provision_state"] = state
	v["ports"] = p.Node.MACs()
	sort.Strings(v["ports"].([]string))
	return v
}

// updatedView lays the plan's patch over the before view.
func updatedView(p *Plan, before map[string]any) map[string]any {
	after := deepCopy(before).(map[string]any)
	for _, op := range p.Patch {
		segs := strings.Split(strings.TrimPrefix(op.Path, "/"), "/")
		for i := range segs {
			segs[i] = strings.ReplaceAll(strings.ReplaceAll(segs[i], "~1", "/"), "~0", "~")
		}
		val := op.Value
		if op.Secret {
			val = maskedValue
		}
		setPath(after, segs, val, op.Op == "remove")
	}
	if p.Manage {
		after["provision_state"] = StateManageable
	}
	ports := map[string]bool{}
	for _, a := range before["ports"].([]string) {
		ports[a] = true
	}
	for _, d := range p.PortDeletes {
		delete(ports, d.Address)
	}
	for _, c := range p.PortCreates {
		ports[c.Address] = true
	}
	list := make([]string, 0, len(ports))
	for a := range ports {
		list = append(list, a)
	}
	sort.Strings(list)
	after["ports"] = list
	return after
}

func setPath(m map[string]any, segs []string, val any, remove bool) {
	for len(segs) > 1 {
		next, ok := m[segs[0]].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[segs[0]] = next
		}
		m, segs = next, segs[1:]
	}
	if remove {
		delete(m, segs[0])
		return
	}
	m[segs[0]] = val
}

func maskSecrets(di map[string]any) map[string]any {
	out := make(map[string]any, len(di))
	for k, v := range di {
		if secret.IsKey(k) && v != nil && v != "" {
			v = maskedValue
		}
		out[k] = v
	}
	return out
}

func addresses(ps []IronicPort) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Address)
	}
	sort.Strings(out)
	return out
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	case []string:
		return append([]string(nil), x...)
	}
	return v
}
