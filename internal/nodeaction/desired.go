package nodeaction

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/metalkit/baremetal/internal/capabilities"
)

// Power targets, as the module's power option names them.
const (
	PowerOn         = "on"
	PowerOff        = "off"
	PowerReboot     = "reboot"
	PowerSoftOff    = "soft_off"
	PowerSoftReboot = "soft_reboot"
)

// powerAliases are openstack.cloud's baremetal_node_action names for power.
var powerAliases = map[string]string{"present": PowerOn, "absent": PowerOff}

// PowerChoices are the values the power option takes.
var PowerChoices = []any{PowerOn, PowerOff, PowerReboot, PowerSoftOff, PowerSoftReboot, "present", "absent"}

// Desired is what the task asks of one node; nil and empty fields are left alone.
type Desired struct {
	// Node is a name or UUID.
	Node        string
	Maintenance *bool
	// MaintenanceReason is set with Maintenance true.
	MaintenanceReason *string
	Power             string
	ResourceClass     *string
	Capabilities      capabilities.Capabilities
	// Traits are added to the node's (PurgeTraits: they become its only traits).
	Traits      []string
	PurgeTraits bool
	// Wait for a power change to end.
	Wait bool
}

// traitName is what Ironic accepts: an os-traits name or CUSTOM_*, upper case.
var traitName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// maxTrait and maxResourceClass are Ironic's column sizes.
const (
	maxTrait         = 255
	maxResourceClass = 80
	maxReason        = 4096
	// maxTraits is Ironic's limit of traits per node.
	maxTraits = 50
	// maxNodeIdent is Ironic's longest node name (255) and more than a UUID.
	maxNodeIdent = 255
)

// NormalizePower maps openstack.cloud's present/absent onto on/off.
func NormalizePower(p string) string {
	if v, ok := powerAliases[p]; ok {
		return v
	}
	return p
}

// Check validates the request before any call, naming the option.
func (d *Desired) Check() error {
	if strings.TrimSpace(d.Node) == "" {
		return errors.New("node: must not be empty (a node name or UUID)")
	}
	// The name goes into the request's path: nothing that would change the URL.
	if len(d.Node) > maxNodeIdent || strings.ContainsAny(d.Node, "/?#%\\ \t\r\n") || strings.ContainsFunc(d.Node, unicode.IsControl) {
		return fmt.Errorf("node: %.80q is not a node name or UUID (at most %d characters, no spaces, '/', '?', '#', '%%' or control characters)", d.Node, maxNodeIdent)
	}
	d.Power = NormalizePower(d.Power)
	if d.MaintenanceReason != nil {
		if d.Maintenance == nil || !*d.Maintenance {
			return errors.New("maintenance_reason: only with maintenance: true (leaving maintenance clears the reason)")
		}
		if len(*d.MaintenanceReason) > maxReason {
			return fmt.Errorf("maintenance_reason: %d characters, expected at most %d", len(*d.MaintenanceReason), maxReason)
		}
	}
	if rc := d.ResourceClass; rc != nil {
		switch {
		case strings.TrimSpace(*rc) == "":
			return errors.New("resource_class: must not be empty, expected a class such as baremetal")
		case len(*rc) > maxResourceClass:
			return fmt.Errorf("resource_class: %d characters, expected at most %d", len(*rc), maxResourceClass)
		case strings.TrimSpace(*rc) != *rc:
			return fmt.Errorf("resource_class: %q has leading or trailing spaces", *rc)
		}
	}
	if len(d.Traits) > maxTraits {
		return fmt.Errorf("traits: %d traits, Ironic allows at most %d per node", len(d.Traits), maxTraits)
	}
	seen := map[string]bool{}
	for i, t := range d.Traits {
		switch {
		case len(t) > maxTrait:
			return fmt.Errorf("traits[%d]: %d characters, expected at most %d", i, len(t), maxTrait)
		case !traitName.MatchString(t):
			return fmt.Errorf("traits[%d]: %q is not a trait name, expected upper case letters, digits and _ (CUSTOM_* or a standard trait such as HW_CPU_X86_AVX2)", i, t)
		case seen[t]:
			return fmt.Errorf("traits[%d]: %s is listed twice", i, t)
		}
		seen[t] = true
	}
	if d.PurgeTraits && d.Traits == nil {
		return errors.New("purge_traits: needs traits (give traits: [] to remove every trait)")
	}
	if d.Maintenance == nil && d.Power == "" && d.ResourceClass == nil && d.Capabilities == nil && d.Traits == nil {
		return errors.New("nothing to do: give at least one of maintenance, power, resource_class, capabilities, traits")
	}
	return nil
}

// sortedTraits is a sorted copy without duplicates.
func sortedTraits(list []string) []string {
	out := slices.Clone(list)
	slices.Sort(out)
	return slices.Compact(out)
}
