package diagnose

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Standard resource classes Nova derives from a flavor's vcpus, ram and disk.
const (
	VCPU     = "VCPU"
	MemoryMB = "MEMORY_MB"
	DiskGB   = "DISK_GB"
)

// Requirements is what a flavor asks of a node, read the way Nova's
// scheduler reads it (resources for Placement, capabilities for the
// ComputeCapabilitiesFilter, traits for Placement).
type Requirements struct {
	// Resources are the resource classes and amounts Nova asks Placement for
	// (the unnumbered group), after resources:* overrides; zero amounts dropped.
	Resources map[string]int `json:"resources"`
	// ResourceClass is the single CUSTOM_* class asked for, if exactly one.
	ResourceClass string `json:"resource_class,omitempty"`
	// Capabilities are capabilities:KEY specs (KEY -> requirement).
	Capabilities map[string]string `json:"capabilities,omitempty"`
	// Unscoped are extra specs with no namespace: Nova's capability filter
	// checks them against a node's capabilities when the node has that key.
	Unscoped        map[string]string `json:"-"`
	RequiredTraits  []string          `json:"required_traits,omitempty"`
	ForbiddenTraits []string          `json:"forbidden_traits,omitempty"`
	// Problems are flavor-level reasons no Ironic node can match.
	Problems []Reason `json:"problems,omitempty"`
}

// Blocked tells whether a flavor problem alone rules out every node.
func (r Requirements) Blocked() bool {
	for _, p := range r.Problems {
		if p.Blocking {
			return true
		}
	}
	return false
}

var groupedResources = regexp.MustCompile(`^resources[0-9A-Za-z_-]+:`)

// ReadFlavor derives a flavor's requirements and its flavor-level problems.
func ReadFlavor(f Flavor) Requirements {
	req := Requirements{
		Resources:    map[string]int{},
		Capabilities: map[string]string{},
		Unscoped:     map[string]string{},
	}
	// Nova starts from the flavor's sizes, then lets resources:* override them.
	if f.VCPUs > 0 {
		req.Resources[VCPU] = f.VCPUs
	}
	if f.RAM > 0 {
		req.Resources[MemoryMB] = f.RAM
	}
	if disk := f.Disk + f.Ephemeral + (f.Swap+1023)/1024; disk > 0 {
		req.Resources[DiskGB] = disk
	}
	var grouped []string
	for _, key := range slices.Sorted(maps.Keys(f.ExtraSpecs)) {
		val := strings.TrimSpace(f.ExtraSpecs[key])
		switch {
		case strings.HasPrefix(key, "resources:"):
			rc := strings.TrimPrefix(key, "resources:")
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				req.Problems = append(req.Problems, Reason{Code: CodeFlavorBadSpec, Blocking: true,
					Message: fmt.Sprintf("extra spec %s=%q is not a whole number: Nova rejects the request", key, val)})
				continue
			}
			if n == 0 {
				delete(req.Resources, rc)
			} else {
				req.Resources[rc] = n
			}
		case groupedResources.MatchString(key):
			grouped = append(grouped, key)
		case strings.HasPrefix(key, "trait:"):
			trait := strings.TrimPrefix(key, "trait:")
			switch val {
			case "required":
				req.RequiredTraits = append(req.RequiredTraits, trait)
			case "forbidden":
				req.ForbiddenTraits = append(req.ForbiddenTraits, trait)
			}
		case strings.HasPrefix(key, "capabilities:"):
			req.Capabilities[strings.TrimPrefix(key, "capabilities:")] = f.ExtraSpecs[key]
		case !strings.Contains(key, ":"):
			req.Unscoped[key] = f.ExtraSpecs[key]
		}
	}
	var custom []string
	for rc := range req.Resources {
		if strings.HasPrefix(rc, "CUSTOM_") {
			custom = append(custom, rc)
		}
	}
	sort.Strings(custom)
	var unzeroed []string
	for _, rc := range []string{VCPU, MemoryMB, DiskGB} {
		if n, ok := req.Resources[rc]; ok {
			unzeroed = append(unzeroed, fmt.Sprintf("%s=%d", rc, n))
		}
	}
	switch len(custom) {
	case 0:
		req.Problems = append(req.Problems, Reason{Code: CodeFlavorNoResourceClass, Blocking: true,
			Message: "the flavor asks for no custom resource class: add resources:CUSTOM_<CLASS>=1 matching the nodes' resource_class (resources:CUSTOM_BAREMETAL=1 for resource_class baremetal)"})
	case 1:
		req.ResourceClass = custom[0]
		if n := req.Resources[custom[0]]; n != 1 {
			req.Problems = append(req.Problems, Reason{Code: CodeFlavorResourceAmount, Blocking: true,
				Message: fmt.Sprintf("the flavor asks for resources:%s=%d but an Ironic node offers exactly 1 of its class: set resources:%s=1", custom[0], n, custom[0])})
		}
		if strings.HasPrefix(custom[0], "CUSTOM_CUSTOM_") {
			req.Problems = append(req.Problems, Reason{Code: CodeFlavorCustomCustom,
				Message: fmt.Sprintf("the flavor asks for %s: that only matches nodes whose resource_class is %q, the CUSTOM_ prefix trap; prefer resource_class %q on the nodes and resources:%s=1 on the flavor",
					custom[0], strings.TrimPrefix(custom[0], "CUSTOM_"), strings.ToLower(strings.TrimPrefix(custom[0], "CUSTOM_CUSTOM_")), "CUSTOM_"+strings.TrimPrefix(custom[0], "CUSTOM_CUSTOM_"))})
		}
	default:
		req.Problems = append(req.Problems, Reason{Code: CodeFlavorManyResourceClasses, Blocking: true,
			Message: fmt.Sprintf("the flavor asks for %d custom resource classes (%s) but an Ironic node offers only one", len(custom), strings.Join(custom, ", "))})
	}
	if len(unzeroed) > 0 {
		var fix []string
		for _, rc := range []string{VCPU, MemoryMB, DiskGB} {
			if _, ok := req.Resources[rc]; ok {
				fix = append(fix, "resources:"+rc+"=0")
			}
		}
		req.Problems = append(req.Problems, Reason{Code: CodeFlavorNotZeroed, Blocking: true,
			Message: fmt.Sprintf("the flavor does not zero the standard resources: Nova asks Placement for %s, which Ironic nodes do not offer; set %s",
				strings.Join(unzeroed, ", "), strings.Join(fix, ", "))})
	}
	if len(grouped) > 0 {
		req.Problems = append(req.Problems, Reason{Code: CodeFlavorGrouped,
			Message: fmt.Sprintf("granular resource groups (%s) are not checked by this diagnosis", strings.Join(grouped, ", "))})
	}
	return req
}

// PlacementClass is the Placement resource class Nova reports for an Ironic
// resource_class: upper-cased, non-alphanumerics to "_", and always
// prefixed with CUSTOM_ (so "CUSTOM_BAREMETAL" becomes CUSTOM_CUSTOM_BAREMETAL).
func PlacementClass(resourceClass string) string {
	if resourceClass == "" {
		return ""
	}
	return "CUSTOM_" + strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			return r
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return '_'
	}, resourceClass)
}
