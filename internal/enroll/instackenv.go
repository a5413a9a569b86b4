package enroll

import (
	"fmt"
	"maps"
	"net"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/metalkit/baremetal/internal/decoded"
	"github.com/metalkit/baremetal/internal/secret"
)

// Node is one instackenv node definition, validated and put in Ironic's terms.
type Node struct {
	// Index is the node's position in the input, for messages.
	Index int
	Name  string
	// UUID is the node's uuid when the input sets one: created with it, and
	// found by it (tripleo-common's register_ironic_node / _get_node_id).
	UUID string
	// PMType is the pm_type as written; Driver what it means today.
	PMType  string
	Driver  *Driver
	Classic *Classic
	// DriverInfo holds the driver_info keys the input sets (secrets included).
	DriverInfo map[string]any
	// Properties holds the properties keys the input sets, capabilities excepted.
	Properties map[string]any
	// Capabilities are merged into the node's own, key by key.
	Capabilities Capabilities
	// ResourceClass is "" when the input does not say (the default applies on create).
	ResourceClass string
	// Fields are other top-level node fields the input sets (conductor_group, *_interface).
	Fields map[string]any
	Ports  []Port
	// PortsGiven: the input lists the node's NICs, so ports it does not list are removed.
	PortsGiven bool
	// BMC is the BMC identity (address:port, redfish address/system), "" without a BMC.
	BMC string
}

// Port is one NIC of a node: an Ironic port.
type Port struct {
	Address             string
	PhysicalNetwork     *string
	LocalLinkConnection map[string]any
	PXEEnabled          *bool
}

// Label names the node in messages: "nodes[3] (blade-1)".
func (n *Node) Label() string {
	if n.Name != "" {
		return fmt.Sprintf("nodes[%d] (%s)", n.Index, n.Name)
	}
	if n.UUID != "" {
		return fmt.Sprintf("nodes[%d] (%s)", n.Index, n.UUID)
	}
	if len(n.Ports) > 0 {
		return fmt.Sprintf("nodes[%d] (%s)", n.Index, n.Ports[0].Address)
	}
	if n.BMC != "" {
		return fmt.Sprintf("nodes[%d] (BMC %s)", n.Index, n.BMC)
	}
	return fmt.Sprintf("nodes[%d]", n.Index)
}

// MACs lists the node's port addresses.
func (n *Node) MACs() []string {
	out := make([]string, len(n.Ports))
	for i, p := range n.Ports {
		out[i] = p.Address
	}
	return out
}

// Input is the parsed node list.
type Input struct {
	Nodes    []*Node
	Warnings []string
	// Secrets are every credential value found (pm_password, *_password...),
	// registered with package secret by Parse, even when validation failed.
	Secrets []string
}

// NodeProblems is every problem found in one node definition.
type NodeProblems struct {
	Index    int      `json:"index"`
	Name     string   `json:"name,omitempty"`
	Problems []string `json:"problems"`
}

// InvalidError reports every invalid node; nothing may be changed.
type InvalidError struct {
	Total int
	Nodes []NodeProblems
}

func (e *InvalidError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d node definitions are invalid, nothing was changed:", len(e.Nodes), e.Total)
	for _, n := range e.Nodes {
		label := fmt.Sprintf("nodes[%d]", n.Index)
		if n.Name != "" {
			label += " (" + n.Name + ")"
		}
		fmt.Fprintf(&b, " %s: %s.", label, strings.Join(n.Problems, "; "))
	}
	return b.String()
}

// interfaceFields are Ironic's per-node interface fields.
var interfaceFields = map[string]bool{
	"bios_interface": true, "boot_interface": true, "console_interface": true, "deploy_interface": true,
	"firmware_interface": true, "inspect_interface": true, "management_interface": true,
	"network_interface": true, "power_interface": true, "raid_interface": true,
	"rescue_interface": true, "storage_interface": true, "vendor_interface": true,
}

// bmcFields are the instackenv fields that become driver_info.
var bmcFields = []string{"pm_addr", "pm_user", "pm_password", "pm_port", "pm_system_id"}

// hardwareFields map instackenv's hardware facts onto properties.
var hardwareFields = []struct{ field, property string }{
	{"cpu", "cpus"}, {"memory", "memory_mb"}, {"disk", "local_gb"}, {"arch", "cpu_arch"},
}

var (
	nameRE          = regexp.MustCompile(`^[A-Za-z0-9\-._~]+$`)
	uuidRE          = regexp.MustCompile(`(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$`)
	canonicalUUIDRE = regexp.MustCompile(`(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	resourceClassRE = regexp.MustCompile(`^[A-Za-z0-9_.\-]{1,80}$`)
	conductorRE     = regexp.MustCompile(`^[A-Za-z0-9_.\-]{0,255}$`)
)

// Parse validates every node definition (items of the nodes list or of an
// instackenv file) before anything is sent to Ironic. All problems of all
// nodes are reported at once in an *InvalidError. With forDelete only what
// finds a node (name, MACs) matters: BMC fields are not required.
func Parse(items []any, forDelete bool) (*Input, error) {
	in := &Input{}
	var invalid []NodeProblems
	ignored := map[string]int{} // pm_* fields a BMC-less type ignores, counted
	for i, item := range items {
		p := &nodeParser{in: in, forDelete: forDelete, ignored: ignored}
		n := p.parse(i, item)
		in.Nodes = append(in.Nodes, n)
		if len(p.problems) > 0 {
			invalid = append(invalid, NodeProblems{Index: i, Name: n.Name, Problems: p.problems})
		}
	}
	invalid = crossCheck(in.Nodes, invalid)
	in.Secrets = unique(in.Secrets)
	secret.Add(in.Secrets...)
	in.Warnings = append(in.Warnings, classicWarnings(in.Nodes)...)
	if len(ignored) > 0 {
		var parts []string
		for _, f := range slices.Sorted(maps.Keys(ignored)) {
			parts = append(parts, fmt.Sprintf("%s (%d nodes)", f, ignored[f]))
		}
		in.Warnings = append(in.Warnings, "ignored on fake-hardware/manual-management nodes, which have no BMC: "+strings.Join(parts, ", "))
	}
	if len(items) == 0 && !forDelete {
		return in, fmt.Errorf("no nodes given: the node list is empty")
	}
	if len(invalid) > 0 {
		sort.Slice(invalid, func(a, b int) bool { return invalid[a].Index < invalid[b].Index })
		return in, &InvalidError{Total: len(items), Nodes: invalid}
	}
	return in, nil
}

// classicWarnings is one warning per classic pm_type, naming its nodes.
func classicWarnings(nodes []*Node) []string {
	byName := map[string][]string{}
	first := map[string]*Classic{}
	for _, n := range nodes {
		if n.Classic != nil {
			byName[n.Classic.Name] = append(byName[n.Classic.Name], n.Label())
			first[n.Classic.Name] = n.Classic
		}
	}
	var out []string
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		labels := byName[name]
		who := strings.Join(labels, ", ")
		if len(labels) > 3 {
			who = fmt.Sprintf("%s and %d more nodes", strings.Join(labels[:3], ", "), len(labels)-3)
		}
		out = append(out, first[name].Warning(who))
	}
	return out
}

type nodeParser struct {
	in        *Input
	forDelete bool
	ignored   map[string]int
	problems  []string
}

func (p *nodeParser) problem(format string, args ...any) {
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
}

// secret reads a credential field; parse has already registered its value.
func (p *nodeParser) secret(field string, v any) (string, bool) {
	if _, ok := v.(bool); ok {
		p.problem("%s: got a boolean; YAML reads an unquoted yes/no/on/off/true/false as one: quote the password", field)
		return "", false
	}
	s, ok := scalarString(v)
	if !ok {
		p.problem("%s must be a string", field)
		return "", false
	}
	return s, true // registered as a secret by parse, before any check
}

func (p *nodeParser) str(field string, v any) (string, bool) {
	switch v.(type) {
	case string:
	default:
		if !isNumber(v) {
			p.problem("%s must be a string", field)
			return "", false
		}
	}
	s, _ := scalarString(v)
	s = strings.TrimSpace(s)
	if s == "" {
		p.problem("%s must not be empty", field)
		return "", false
	}
	return s, true
}

func (p *nodeParser) parse(index int, item any) *Node {
	n := &Node{Index: index, DriverInfo: map[string]any{}, Properties: map[string]any{}, Fields: map[string]any{}}
	raw, ok := decoded.StringKeys(item).(map[string]any)
	if !ok {
		p.problem("must be a dict (one instackenv node), got %s", typeName(item))
		return n
	}
	// Register every credential first: later problems must not leak one.
	for k, v := range raw {
		if k == "pm_password" || secret.IsKey(k) {
			if s, ok := scalarString(v); ok && s != "" {
				p.in.Secrets = append(p.in.Secrets, s)
			}
		}
		if k == "pm_addr" || strings.HasSuffix(k, "_address") {
			p.in.Secrets = append(p.in.Secrets, urlSecrets(str(v))...) // https://user:pw@host is refused below
		}
	}
	seen := map[string]bool{}
	take := func(k string) (any, bool) {
		v, ok := raw[k]
		seen[k] = true
		return v, ok
	}

	if v, ok := take("name"); ok {
		if s, ok := p.str("name", v); ok {
			switch {
			case len(s) > 255:
				p.problem("name is longer than 255 characters")
			case !nameRE.MatchString(s):
				p.problem("name %q may only hold letters, digits and - . _ ~ (Ironic's rule)", s)
			case s == "." || s == "..":
				// Ironic's rule lets them through, but in /v1/nodes/<name> they step to another path.
				p.problem("name %q cannot be a node name (a URL path dot segment), expected letters, digits and - . _ ~", s)
			case uuidRE.MatchString(s):
				p.problem("name %q looks like a UUID; Ironic would read it as one", s)
			default:
				n.Name = s
			}
		}
	}

	if v, ok := take("uuid"); ok {
		if s, ok := p.str("uuid", v); ok {
			if canonicalUUIDRE.MatchString(s) {
				n.UUID = strings.ToLower(s)
			} else {
				p.problem("uuid %q is not a UUID (expected the 8-4-4-4-12 hex form)", s)
			}
		}
	}

	// Driver and BMC fields.
	if v, ok := take("pm_type"); ok {
		if s, ok := p.str("pm_type", v); ok {
			n.PMType = s
			d, classic, err := ResolveDriver(s)
			if err != nil {
				p.problem("pm_type %v", err)
			}
			n.Driver, n.Classic = d, classic
		}
	} else if !p.forDelete {
		p.problem("pm_type is required (for example ipmi, redfish or fake-hardware)")
	}
	bmc := map[string]string{}
	for _, f := range bmcFields {
		v, ok := take(f)
		if !ok {
			continue
		}
		if n.Driver == nil {
			continue // pm_type missing or unknown: already reported
		}
		key, mapped := n.Driver.Mapping[f]
		if !mapped {
			if len(n.Driver.Mapping) == 0 {
				p.ignored[f]++
				continue
			}
			hint := ""
			if f == "pm_port" && n.Driver.TakesURL {
				hint = " (put the port in pm_addr: https://host:port)"
			}
			p.problem("%s is not used by pm_type %s%s", f, n.PMType, hint)
			continue
		}
		var s string
		switch f {
		case "pm_password":
			s, ok = p.secret(f, v)
			if ok && s == "" {
				p.problem("pm_password must not be empty (omit it when the BMC takes none)")
				ok = false
			}
			if ok && n.Driver == driverIPMI && len(s) > 20 {
				p.problem("pm_password is longer than 20 bytes, which IPMI does not accept (ipmitool refuses it)")
				ok = false
			}
		case "pm_port":
			port, isInt := intOf(v)
			if !isInt || port < 1 || port > 65535 {
				p.problem("pm_port must be a port number between 1 and 65535")
				ok = false
				break
			}
			s = fmt.Sprint(port)
			n.DriverInfo[key] = port
		default:
			s, ok = p.str(f, v)
			if ok && f == "pm_addr" && strings.ContainsAny(s, " \t\n") {
				p.problem("pm_addr %q must not contain spaces", s)
				ok = false
			}
			if ok && f == "pm_addr" && !n.Driver.TakesURL && strings.Contains(s, "://") {
				p.problem("pm_addr %q must be a host name or IP address for pm_type %s (no URL scheme)", s, n.PMType)
				ok = false
			}
			if ok && f == "pm_addr" && len(urlSecrets(s)) > 0 {
				p.problem("pm_addr: a URL carrying credentials (user:password@) is refused: give them as pm_user and pm_password")
				ok = false
			}
			if ok && f == "pm_addr" && n.Driver.TakesURL {
				if why := bmcURLProblem(s); why != "" {
					p.problem("pm_addr %q: %s (expected a host, host:port or https://host[:port][/redfish/v1])", s, why)
					ok = false
				}
			}
		}
		if ok {
			bmc[f] = s
			if f != "pm_port" {
				n.DriverInfo[key] = s
			}
		}
	}
	if n.Driver != nil && n.Driver.derive != nil {
		n.Driver.derive(n.DriverInfo) // before the passthrough keys, which win over derived ones
	}
	if n.Driver != nil && !p.forDelete {
		var missing []string
		for _, f := range n.Driver.Mandatory {
			if _, ok := raw[f]; !ok {
				if _, viaPrefix := raw[n.Driver.Mapping[f]]; !viaPrefix {
					missing = append(missing, f)
				}
			}
		}
		if len(missing) > 0 {
			p.problem("%s required by pm_type %s", plural(missing, "is", "are"), n.PMType)
		}
	}
	for _, f := range []struct{ field, key string }{{"kernel_id", "deploy_kernel"}, {"ramdisk_id", "deploy_ramdisk"}} {
		if v, ok := take(f.field); ok {
			if s, ok := p.str(f.field, v); ok {
				n.DriverInfo[f.key] = s
			}
		}
	}

	// Ports: the legacy mac list and the newer ports list.
	if v, ok := take("mac"); ok {
		n.PortsGiven = true
		macs, isList := v.([]any)
		if s, isStr := v.(string); isStr {
			macs, isList = []any{s}, true
		}
		if !isList {
			p.problem("mac must be a list of MAC addresses")
		}
		for i, m := range macs {
			if addr, ok := p.mac(fmt.Sprintf("mac[%d]", i), m); ok {
				n.Ports = append(n.Ports, Port{Address: addr})
			}
		}
	}
	if v, ok := take("ports"); ok {
		n.PortsGiven = true
		list, isList := v.([]any)
		if !isList {
			p.problem("ports must be a list of dicts with an address")
		}
		for i, e := range list {
			if port, ok := p.port(i, e); ok {
				n.Ports = append(n.Ports, port)
			}
		}
	}
	seenMAC := map[string]bool{}
	for _, port := range n.Ports {
		if seenMAC[port.Address] {
			p.problem("MAC %s is listed twice", port.Address)
		}
		seenMAC[port.Address] = true
	}

	// Properties: hardware facts, root device hints, free keys.
	if v, ok := take("properties"); ok {
		props, isMap := v.(map[string]any)
		if !isMap {
			p.problem("properties must be a dict")
		}
		for _, k := range slices.Sorted(maps.Keys(props)) {
			switch k {
			case "capabilities":
				p.capabilities(n, "properties.capabilities", props[k])
			case "resources":
				p.resources(n, "properties.resources", props[k])
			default:
				n.Properties[k] = props[k]
			}
		}
	}
	for _, h := range hardwareFields {
		v, ok := take(h.field)
		if !ok {
			continue
		}
		if prev, dup := n.Properties[h.property]; dup && !sameValue(prev, v) {
			p.problem("%s and properties.%s disagree", h.field, h.property)
			continue
		}
		if h.field == "arch" {
			if s, ok := p.str("arch", v); ok {
				n.Properties[h.property] = s
			}
			continue
		}
		num, ok := intOf(v)
		min := int64(1)
		if h.field == "disk" {
			min = 0
		}
		if !ok || num < min {
			unit := map[string]string{"cpu": "a CPU count", "memory": "a size in MiB", "disk": "a size in GiB"}[h.field]
			p.problem("%s must be %s, a whole number (as a number or a string), got %s", h.field, unit, shortValue(v))
			continue
		}
		n.Properties[h.property] = num
	}
	if v, ok := take("root_device"); ok {
		if hints, isMap := v.(map[string]any); isMap && len(hints) > 0 {
			n.Properties["root_device"] = hints
		} else {
			p.problem("root_device must be a dict of root device hints (for example {serial: ...} or {wwn: ...})")
		}
	}
	if v, ok := take("capabilities"); ok {
		p.capabilities(n, "capabilities", v)
	}
	if v, ok := take("profile"); ok {
		if s, ok := p.str("profile", v); ok {
			if prev, set := n.Capabilities.Get("profile"); set && prev != s {
				p.problem("profile %q and capabilities profile:%s disagree", s, prev)
			} else {
				n.Capabilities = n.Capabilities.Set("profile", s)
			}
		}
	}
	if v, ok := take("resources"); ok {
		p.resources(n, "resources", v)
	}
	if v, ok := take("resource_class"); ok {
		if s, ok := p.str("resource_class", v); ok {
			rc := p.resourceClass(n, s)
			if n.ResourceClass != "" && rc != "" && n.ResourceClass != rc {
				p.problem("resource_class %q and the resources idiom (%s) disagree", s, n.ResourceClass)
			} else if rc != "" {
				n.ResourceClass = rc
			}
		}
	}
	if v, ok := take("conductor_group"); ok {
		s, isStr := v.(string)
		if !isStr || !conductorRE.MatchString(s) {
			p.problem("conductor_group must be a string of letters, digits and _ . - (up to 255)")
		} else {
			n.Fields["conductor_group"] = strings.ToLower(s)
		}
	}

	// Interfaces, driver passthrough keys, and everything else is unknown.
	if n.Classic != nil {
		for k, v := range n.Classic.Interfaces {
			n.Fields[k] = v
		}
	}
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if seen[k] || strings.HasPrefix(k, "_") {
			// "_comment" and any other "_" key are comments: tripleo-common's
			// validate_nodes drops "_comment"; no Ironic field starts with "_".
			continue
		}
		v := raw[k]
		switch {
		case interfaceFields[k]:
			if s, ok := p.str(k, v); ok {
				n.Fields[k] = s
			}
		case n.Driver != nil && hasAnyPrefix(k, n.Driver.Prefixes):
			if mappedFrom := fieldMappedTo(n.Driver, k); mappedFrom != "" {
				if _, both := raw[mappedFrom]; both {
					p.problem("%s and %s both set the same driver_info key", mappedFrom, k)
					continue
				}
			}
			if secret.IsKey(k) {
				if s, ok := p.secret(k, v); ok {
					n.DriverInfo[k] = s
				}
				continue
			}
			n.DriverInfo[k] = v
		default:
			p.problem("unknown field %s%s", k, unknownHint(n, k))
		}
	}

	if n.Driver != nil {
		n.BMC = n.Driver.Identity(n.DriverInfo)
	}
	// tripleo-common identifies a node by BMC and MACs alone; a node with
	// none of name, MAC and BMC (fake-hardware) would be a new node on every
	// run, so it is refused.
	if n.Name == "" && n.UUID == "" && len(n.Ports) == 0 && n.BMC == "" && !hasProblem(p.problems, "name") && !hasProblem(p.problems, "uuid") {
		p.problem("needs a name, a uuid, a MAC or a BMC address (pm_addr): without one a re-run cannot find the node again")
	}
	return n
}

func (p *nodeParser) mac(field string, v any) (string, bool) {
	s, isStr := v.(string)
	if !isStr {
		p.problem("%s must be a MAC address string", field)
		return "", false
	}
	hw, err := net.ParseMAC(strings.TrimSpace(s))
	if err != nil || len(hw) != 6 {
		p.problem("%s %q is not a MAC address (6 bytes, like 52:54:00:12:34:56)", field, s)
		return "", false
	}
	if hw[0]&1 == 1 {
		p.problem("%s %q is a multicast address, not a NIC's", field, s)
		return "", false
	}
	return hw.String(), true
}

var portKeys = map[string]bool{"address": true, "physical_network": true, "local_link_connection": true, "pxe_enabled": true}

func (p *nodeParser) port(i int, v any) (Port, bool) {
	field := fmt.Sprintf("ports[%d]", i)
	d, isMap := v.(map[string]any)
	if !isMap {
		p.problem("%s must be a dict with an address", field)
		return Port{}, false
	}
	ok := true
	for _, k := range slices.Sorted(maps.Keys(d)) {
		if !portKeys[k] {
			p.problem("%s: unknown field %s (a port takes address, physical_network, local_link_connection, pxe_enabled)", field, k)
			ok = false
		}
	}
	var port Port
	if a, set := d["address"]; !set {
		p.problem("%s.address is required", field)
		ok = false
	} else if addr, good := p.mac(field+".address", a); good {
		port.Address = addr
	} else {
		ok = false
	}
	if v, set := d["physical_network"]; set {
		if s, good := p.str(field+".physical_network", v); good {
			port.PhysicalNetwork = &s
		} else {
			ok = false
		}
	}
	if v, set := d["local_link_connection"]; set {
		if llc, isMap := v.(map[string]any); isMap {
			port.LocalLinkConnection = llc
		} else {
			p.problem("%s.local_link_connection must be a dict (switch_id, port_id, switch_info)", field)
			ok = false
		}
	}
	if v, set := d["pxe_enabled"]; set {
		if b, isBool := v.(bool); isBool {
			port.PXEEnabled = &b
		} else {
			p.problem("%s.pxe_enabled must be a boolean", field)
			ok = false
		}
	}
	return port, ok
}

func (p *nodeParser) capabilities(n *Node, field string, v any) {
	caps, err := ParseCapabilities(v)
	if err != nil {
		p.problem("%s: %v", field, err)
		return
	}
	for _, kv := range caps {
		if prev, set := n.Capabilities.Get(kv.Key); set && prev != kv.Value {
			p.problem("%s: %s:%s disagrees with %s:%s set elsewhere in the node", field, kv.Key, kv.Value, kv.Key, prev)
			continue
		}
		n.Capabilities = n.Capabilities.Set(kv.Key, kv.Value)
	}
}

// resources maps the old properties/resources=CUSTOM_BAREMETAL:1 idiom onto
// resource_class, which is what Nova schedules on today.
func (p *nodeParser) resources(n *Node, field string, v any) {
	var entries Capabilities
	var err error
	entries, err = ParseCapabilities(v)
	if err != nil || len(entries) != 1 || !strings.HasPrefix(strings.ToUpper(entries[0].Key), "CUSTOM_") || entries[0].Value != "1" {
		p.problem("%s must be one CUSTOM_<CLASS>:1 entry (the old flavor-matching idiom); better set resource_class", field)
		return
	}
	rc := strings.ToLower(entries[0].Key[len("CUSTOM_"):])
	if rc == "" || !resourceClassRE.MatchString(rc) {
		p.problem("%s: %q names no resource class", field, entries[0].Key)
		return
	}
	if n.ResourceClass != "" && n.ResourceClass != rc {
		p.problem("%s (%s) and resource_class %q disagree", field, entries[0].Key, n.ResourceClass)
		return
	}
	n.ResourceClass = rc
	p.in.Warnings = append(p.in.Warnings, fmt.Sprintf(
		"%s: %s=%s:1 is the old way to match a flavor; Nova schedules on the node's resource_class, so resource_class %q is set instead (the flavor asks for resources:CUSTOM_%s=1).",
		n.Label(), field, entries[0].Key, rc, strings.ToUpper(rc)))
}

// resourceClass strips the CUSTOM_ trap: Nova adds that prefix itself.
func (p *nodeParser) resourceClass(n *Node, s string) string {
	if !resourceClassRE.MatchString(s) {
		p.problem("resource_class %q may only hold letters, digits and _ . - (up to 80)", s)
		return ""
	}
	if strings.HasPrefix(strings.ToUpper(s), "CUSTOM_") {
		rc := strings.ToLower(s[len("CUSTOM_"):])
		if rc == "" {
			p.problem("resource_class %q names no resource class", s)
			return ""
		}
		p.in.Warnings = append(p.in.Warnings, fmt.Sprintf(
			"%s: resource_class %q: Nova adds the CUSTOM_ prefix itself and would look for CUSTOM_%s; using %q (the flavor asks for resources:CUSTOM_%s=1).",
			n.Label(), s, strings.ToUpper(s), rc, strings.ToUpper(rc)))
		return rc
	}
	return s
}

// crossCheck finds what no single node shows: the same name, MAC or BMC twice.
func crossCheck(nodes []*Node, invalid []NodeProblems) []NodeProblems {
	byIndex := map[int]int{}
	for i, inv := range invalid {
		byIndex[inv.Index] = i
	}
	add := func(n *Node, msg string) {
		i, ok := byIndex[n.Index]
		if !ok {
			invalid = append(invalid, NodeProblems{Index: n.Index, Name: n.Name})
			i = len(invalid) - 1
			byIndex[n.Index] = i
		}
		invalid[i].Problems = append(invalid[i].Problems, msg)
	}
	names, macs, bmcs, uuids := map[string]*Node{}, map[string]*Node{}, map[string]*Node{}, map[string]*Node{}
	for _, n := range nodes {
		if n.UUID != "" {
			if first, dup := uuids[n.UUID]; dup {
				add(n, fmt.Sprintf("uuid %s is also the uuid of %s", n.UUID, first.Label()))
			} else {
				uuids[n.UUID] = n
			}
		}
		if n.Name != "" {
			if first, dup := names[n.Name]; dup {
				add(n, fmt.Sprintf("name %q is also the name of %s", n.Name, first.Label()))
			} else {
				names[n.Name] = n
			}
		}
		for _, mac := range n.MACs() {
			if first, dup := macs[mac]; dup && first != n {
				add(n, fmt.Sprintf("MAC %s is also a port of %s", mac, first.Label()))
			} else {
				macs[mac] = n
			}
		}
		if n.BMC != "" {
			if first, dup := bmcs[n.BMC]; dup {
				add(n, fmt.Sprintf("BMC %s is also the BMC of %s (one BMC drives one node)", n.BMC, first.Label()))
			} else {
				bmcs[n.BMC] = n
			}
		}
	}
	return invalid
}

func unique(list []string) []string {
	seen := map[string]bool{}
	out := list[:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func fieldMappedTo(d *Driver, key string) string {
	for f, k := range d.Mapping {
		if k == key {
			return f
		}
	}
	return ""
}

func unknownHint(n *Node, k string) string {
	switch {
	case strings.HasPrefix(k, "pm_"):
		return " (instackenv BMC fields are pm_type, pm_addr, pm_user, pm_password, pm_port, pm_system_id)"
	case n.Driver != nil && len(n.Driver.Prefixes) > 0:
		return fmt.Sprintf(" (not an instackenv field, nor a driver_info key of pm_type %s, which start with %s)", n.PMType, strings.Join(n.Driver.Prefixes, " or "))
	}
	return " (not an instackenv field)"
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) && len(s) > len(p) {
			return true
		}
	}
	return false
}

func hasProblem(problems []string, prefix string) bool {
	for _, p := range problems {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

func plural(items []string, one, many string) string {
	if len(items) == 1 {
		return items[0] + " " + one
	}
	return strings.Join(items, ", ") + " " + many
}

func str(v any) string { s, _ := scalarString(v); return s }

func portText(v any) string {
	if v == nil {
		return ""
	}
	return str(v)
}

func shortValue(v any) string {
	s, ok := scalarString(v)
	if !ok {
		return typeName(v)
	}
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return fmt.Sprintf("%q", s)
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any, map[any]any:
		return "a dict"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	if isNumber(v) {
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}
