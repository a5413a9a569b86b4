package diagnose

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Causes a Diagnosis can name.
const (
	CauseOnDemand    = "on_demand"
	CauseActive      = "active"
	CauseNoValidHost = "no_valid_host"
	CauseBuildFailed = "build_failed"
	CauseServerError = "server_error"
	CauseTimeout     = "timeout"
)

// classify reads the server's status and fault.
func classify(s *Server) string {
	if s == nil {
		return CauseOnDemand
	}
	text := ""
	if s.Fault != nil {
		text = s.Fault.Message + "\n" + s.Fault.Details
	}
	switch {
	case strings.EqualFold(s.Status, "ACTIVE"):
		return CauseActive
	case strings.Contains(text, "No valid host"):
		return CauseNoValidHost
	case strings.Contains(text, "Exceeded maximum number of retries"), strings.Contains(text, "Build of instance"),
		strings.Contains(text, "Failed to provision instance"), strings.Contains(text, "configdrive"):
		return CauseBuildFailed
	case strings.EqualFold(s.Status, "ERROR"):
		return CauseServerError
	}
	return CauseTimeout
}

func summarize(d Diagnosis, s Snapshot, req Requirements, nodes []Node) string {
	sched := schedulingSummary(d, s, req)
	switch d.Cause {
	case CauseActive:
		return fmt.Sprintf("server %s is ACTIVE on node %s", s.Server.Name, landedLabel(d, s))
	case CauseNoValidHost:
		return "No valid host was found: " + sched
	case CauseBuildFailed:
		return "Nova found a node but the build failed: " + buildCause(d, s)
	case CauseServerError:
		msg := "server " + s.Server.Name + " is in ERROR"
		if s.Server.Fault != nil && s.Server.Fault.Message != "" {
			msg += ": " + firstLine(s.Server.Fault.Message)
		} else if landedLabel(d, s) != "" {
			// Seen in the fault matrix: nova-compute killed mid-build
			// puts the server in ERROR as it starts again, recording no fault.
			msg += " on node " + landedLabel(d, s) + " with no fault recorded, as when nova-compute restarts during a build" +
				" (it abandons the servers it was building); rerun with recreate_on_error: true to build it again"
		}
		if landedLabel(d, s) == "" {
			msg += "; " + sched
		}
		return msg
	case CauseTimeout:
		if node := landedReport(d, s); node != nil {
			return fmt.Sprintf("server %s is still %s on node %s (provision state %s): bare-metal deploys are slow, raise timeout or look at the node's console",
				s.Server.Name, s.Server.Status, node.label(), node.ProvisionState)
		}
		if len(s.ScheduledTo) > 0 {
			return LostBuildText(s.Server.Name, s.ScheduledTo) + "; rerun with recreate_on_error: true to delete and boot it again"
		}
		return fmt.Sprintf("server %s is still %s and not on a node yet: %s", s.Server.Name, s.Server.Status, sched)
	}
	return sched
}

func (r NodeReport) label() string {
	if r.Name != "" {
		return r.Name
	}
	return r.UUID
}

// landedReport is the node the server was put on, if any.
func landedReport(d Diagnosis, s Snapshot) *NodeReport {
	if s.Server == nil {
		return nil
	}
	for i, n := range d.Nodes {
		if n.InstanceUUID == s.Server.ID || (s.Server.Node != "" && n.UUID == s.Server.Node) {
			return &d.Nodes[i]
		}
	}
	return nil
}

func landedLabel(d Diagnosis, s Snapshot) string {
	if n := landedReport(d, s); n != nil {
		return n.label()
	}
	if s.Server != nil {
		return s.Server.Node
	}
	return ""
}

func buildCause(d Diagnosis, s Snapshot) string {
	fault := ""
	if s.Server != nil && s.Server.Fault != nil {
		fault = s.Server.Fault.Message + "\n" + s.Server.Fault.Details
	}
	if (s.Request.ConfigDrive && s.Request.NoNetworks) || (strings.Contains(fault, "configdrive") && strings.Contains(fault, "NoneType")) {
		return "a config drive with nics none fails in Nova's ironic driver (Nova 26: \"Failed to build configdrive: 'NoneType' object is not subscriptable\"): attach a network (nics) or set config_drive: false"
	}
	if n := landedReport(d, s); n != nil && n.LastError != "" {
		return fmt.Sprintf("node %s: %s", n.label(), firstLine(n.LastError))
	}
	var failed []string
	for _, n := range d.Nodes {
		if n.LastError != "" && (strings.HasPrefix(n.ProvisionState, "deploy") || n.ProvisionState == "error" || n.ProvisionState == "clean failed") {
			failed = append(failed, fmt.Sprintf("%s (%s): %s", n.label(), n.ProvisionState, firstLine(n.LastError)))
		}
	}
	if len(failed) > 0 {
		return "deploy errors on " + strings.Join(failed, "; ")
	}
	if strings.TrimSpace(fault) != "" {
		return firstLine(strings.TrimSpace(fault)) + " (no Ironic node kept a last_error; see nova-compute's log)"
	}
	return "no fault recorded; see nova-compute's log"
}

// schedulingSummary says which nodes can host the flavor, and why the others cannot.
func schedulingSummary(d Diagnosis, s Snapshot, req Requirements) string {
	flavor := fmt.Sprintf("flavor %q", firstNonEmpty(s.Flavor.Name, s.Flavor.ID))
	for _, p := range req.Problems {
		if p.Blocking {
			return flavor + ": " + p.Message
		}
	}
	if len(d.Nodes) == 0 {
		return "Ironic lists no nodes: enroll them and provide them to available first"
	}
	wants := flavor + " (" + describeWants(req) + ")"
	if pin := s.Request.PinnedNode; pin != "" {
		for _, n := range d.Nodes {
			if n.UUID != pin && n.Name != pin {
				continue
			}
			if n.Eligible {
				return fmt.Sprintf("the pinned node %s looks able to host %s now", n.label(), wants)
			}
			return fmt.Sprintf("the availability zone pins node %s, which cannot host %s: %s", n.label(), wants, firstBlocking(n).Message)
		}
		return fmt.Sprintf("the availability zone pins node %s, which Ironic does not list", pin)
	}
	total := len(d.Nodes)
	groups := groupIneligible(d.Nodes)
	switch eligible := len(d.EligibleNodes); {
	case eligible == 0:
		if req.ResourceClass != "" && !anyOfClass(d.Nodes, req.ResourceClass) {
			never := ""
			if slices.Contains(d.Placement.UnknownClasses, req.ResourceClass) {
				never = " (Placement has never seen it)"
			}
			groups = "no node is of class " + req.ResourceClass + never + "; " + groups
		}
		return fmt.Sprintf("none of %d node(s) can host %s: %s", total, wants, groups)
	case d.Cause == CauseNoValidHost || d.Cause == CauseTimeout || d.Cause == CauseServerError:
		msg := fmt.Sprintf("%d of %d node(s) look able to host %s now (%s): Nova's view may lag behind Ironic's (nova-compute refreshes every update_resources_interval), retry",
			eligible, total, wants, names(d.EligibleNodes))
		if !d.Placement.Checked {
			msg += "; Placement was not checked"
		}
		return msg
	default:
		msg := fmt.Sprintf("%d of %d node(s) can host %s: %s", eligible, total, wants, names(d.EligibleNodes))
		if groups != "" {
			msg += "; the others: " + groups
		}
		return msg
	}
}

func anyOfClass(nodes []NodeReport, class string) bool {
	for _, n := range nodes {
		if n.PlacementClass == class {
			return true
		}
	}
	return false
}

func describeWants(req Requirements) string {
	var parts []string
	for _, rc := range slices.Sorted(maps.Keys(req.Resources)) {
		parts = append(parts, fmt.Sprintf("%s=%d", rc, req.Resources[rc]))
	}
	for _, k := range slices.Sorted(maps.Keys(req.Capabilities)) {
		parts = append(parts, fmt.Sprintf("capabilities:%s=%s", k, req.Capabilities[k]))
	}
	for _, t := range req.RequiredTraits {
		parts = append(parts, "trait:"+t)
	}
	if len(parts) == 0 {
		return "no requirements"
	}
	return strings.Join(parts, ", ")
}

func firstBlocking(n NodeReport) Reason {
	for _, r := range n.Reasons {
		if r.Blocking {
			return r
		}
	}
	return Reason{}
}

// groupIneligible groups the ineligible nodes by their first blocking
// reason: "2 in maintenance (a, b); 1 manageable, needs provide (c)".
func groupIneligible(nodes []NodeReport) string {
	type group struct {
		short string
		order int
		nodes []string
		have  map[string]int // capability values seen, metalsmith style
		// otherClass: the nodes have another resource class than the flavor's.
		otherClass bool
		// fix is the remedy its nodes share ("" when none, or they differ).
		fix string
	}
	byShort := map[string]*group{}
	for _, n := range nodes {
		if n.Eligible {
			continue
		}
		r := firstBlocking(n)
		g, ok := byShort[r.Short]
		if !ok {
			g = &group{short: r.Short, order: len(byShort), have: map[string]int{},
				// The CUSTOM_CUSTOM_ trap is a near miss: it stays in front.
				otherClass: r.Code == CodeResourceClass || r.Code == CodeNoResourceClass, fix: r.Fix}
			byShort[r.Short] = g
		}
		if g.fix != r.Fix {
			g.fix = ""
		}
		g.nodes = append(g.nodes, n.label())
		switch r.Code {
		case CodeCapability:
			have := "none"
			if r.HaveSet {
				have = r.Key + "=" + r.Have
			}
			g.have[have]++
		case CodeResourceClass:
			g.have[r.Have]++
		}
	}
	groups := make([]*group, 0, len(byShort))
	for _, g := range byShort {
		groups = append(groups, g)
	}
	sort.Slice(groups, func(i, j int) bool {
		// Nodes of another resource class are not meant for this flavor: last.
		if groups[i].otherClass != groups[j].otherClass {
			return groups[j].otherClass
		}
		if len(groups[i].nodes) != len(groups[j].nodes) {
			return len(groups[i].nodes) > len(groups[j].nodes)
		}
		return groups[i].order < groups[j].order
	})
	var parts []string
	for _, g := range groups {
		text := fmt.Sprintf("%d %s", len(g.nodes), g.short)
		if len(g.have) > 0 {
			text += " [existing: " + counted(g.have) + "]"
		}
		text += " (" + names(g.nodes) + ")"
		if g.fix != "" {
			text += " [fix: " + g.fix + "]"
		}
		parts = append(parts, text)
	}
	return strings.Join(parts, "; ")
}

// counted lists values with their counts, most frequent first, at most 4.
func counted(have map[string]int) string {
	values := slices.Sorted(maps.Keys(have))
	sort.SliceStable(values, func(i, j int) bool { return have[values[i]] > have[values[j]] })
	var seen []string
	for i, v := range values {
		if i == 4 {
			seen = append(seen, fmt.Sprintf("+%d more", len(values)-i))
			break
		}
		seen = append(seen, fmt.Sprintf("%s x%d", v, have[v]))
	}
	return strings.Join(seen, ", ")
}

func names(list []string) string {
	const max = 3
	if len(list) <= max {
		return strings.Join(list, ", ")
	}
	return fmt.Sprintf("%s, +%d more", strings.Join(list[:max], ", "), len(list)-max)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
