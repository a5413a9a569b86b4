package enroll

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/metalkit/baremetal/internal/secret"
)

// Driver is what an instackenv pm_type means in today's Ironic: a hardware
// type, how the pm_* fields become driver_info keys, which of them the
// hardware type cannot work without, and which driver-prefixed keys pass
// through untouched. The table follows tripleo-common's nodes.py.
type Driver struct {
	// HardwareType is the Ironic driver name (ipmi, redfish, ...).
	HardwareType string
	// Mapping turns instackenv fields into driver_info keys.
	Mapping map[string]string
	// Mandatory are the instackenv fields a node of this type must have.
	Mandatory []string
	// Prefixes are the driver_info key prefixes accepted as-is (ipmi_priv_level).
	Prefixes []string
	// DefaultPort completes the BMC identity when pm_port is absent.
	DefaultPort int
	// identity builds the BMC identity ("" when the type has no BMC).
	identity func(addr, port, system string) string
}

// Classic is what a classic (pre-Rocky) driver name still means: the hardware
// type that replaced it, and the interfaces the name used to imply.
type Classic struct {
	Name       string
	Driver     *Driver
	Interfaces map[string]string
}

func prefixed(prefix string, port int, mandatory ...string) *Driver {
	d := &Driver{
		HardwareType: prefix,
		Mapping: map[string]string{
			"pm_addr":     prefix + "_address",
			"pm_user":     prefix + "_username",
			"pm_password": prefix + "_password",
			"pm_port":     prefix + "_port",
		},
		Mandatory:   mandatory,
		Prefixes:    []string{prefix + "_"},
		DefaultPort: port,
	}
	d.identity = func(addr, p, _ string) string {
		if addr == "" {
			return ""
		}
		if p == "" && d.DefaultPort != 0 {
			p = fmt.Sprint(d.DefaultPort)
		}
		if p == "" {
			return strings.ToLower(addr)
		}
		return strings.ToLower(addr) + ":" + p
	}
	return d
}

var (
	driverIPMI = prefixed("ipmi", 623, "pm_addr")
	// iDRAC keeps its WS-Man driver_info names (drac_*); its Redfish interfaces read redfish_*.
	driverIDRAC = func() *Driver {
		d := prefixed("drac", 0, "pm_addr", "pm_user", "pm_password")
		d.HardwareType = "idrac"
		d.Prefixes = []string{"drac_", "redfish_"}
		return d
	}()
	driverILO  = prefixed("ilo", 0, "pm_addr", "pm_user", "pm_password")
	driverIRMC = prefixed("irmc", 0, "pm_addr", "pm_user", "pm_password")

	driverRedfish = &Driver{
		HardwareType: "redfish",
		Mapping: map[string]string{
			"pm_addr":      "redfish_address",
			"pm_user":      "redfish_username",
			"pm_password":  "redfish_password",
			"pm_system_id": "redfish_system_id",
		},
		Mandatory: []string{"pm_addr", "pm_user", "pm_password", "pm_system_id"},
		Prefixes:  []string{"redfish_"},
		identity: func(addr, _, system string) string {
			if addr == "" {
				return ""
			}
			a := regexp.MustCompile(`(?i)^https?://`).ReplaceAllString(addr, "")
			return strings.ToLower(strings.TrimRight(a, "/")) + "/" + strings.TrimLeft(system, "/")
		},
	}
	driverFake   = &Driver{HardwareType: "fake-hardware", Mapping: map[string]string{}, identity: noIdentity}
	driverManual = &Driver{HardwareType: "manual-management", Mapping: map[string]string{}, identity: noIdentity}
)

func noIdentity(_, _, _ string) string { return "" }

// drivers are the hardware types accepted as pm_type.
var drivers = map[string]*Driver{
	"ipmi":              driverIPMI,
	"redfish":           driverRedfish,
	"idrac":             driverIDRAC,
	"ilo":               driverILO,
	"irmc":              driverIRMC,
	"fake-hardware":     driverFake,
	"fake":              driverFake,
	"manual-management": driverManual,
}

// classicInterfaces is what every classic name meant for boot and deploy
// (iscsi deploy is gone from Ironic: direct is what replaced it).
var classicInterfaces = map[string]string{"boot_interface": "pxe", "deploy_interface": "direct"}

// ResolveDriver maps a pm_type onto its hardware type. A classic name comes
// back with the interfaces it implied and a warning naming the replacement.
func ResolveDriver(pmType string) (d *Driver, classic *Classic, err error) {
	if d, ok := drivers[pmType]; ok {
		return d, nil, nil
	}
	var hw *Driver
	switch {
	case strings.HasSuffix(pmType, "_ipmitool"):
		hw = driverIPMI
	case strings.HasSuffix(pmType, "_drac") || strings.HasSuffix(pmType, "_idrac"):
		hw = driverIDRAC
	case strings.HasSuffix(pmType, "_ilo"):
		hw = driverILO
	case strings.HasSuffix(pmType, "_irmc"):
		hw = driverIRMC
	case pmType == "fake_pxe" || pmType == "fake_agent":
		hw = driverManual
	}
	classicPrefix := false
	for _, p := range []string{"pxe_", "agent_", "iscsi_", "fake_"} {
		classicPrefix = classicPrefix || strings.HasPrefix(pmType, p)
	}
	if hw == nil || !classicPrefix {
		return nil, nil, fmt.Errorf("%q is not a supported driver: use one of %s, or a classic name such as pxe_ipmitool",
			pmType, strings.Join(HardwareTypes(), ", "))
	}
	return hw, &Classic{Name: pmType, Driver: hw, Interfaces: classicInterfaces}, nil
}

// HardwareTypes lists the accepted pm_type values (hardware types), sorted.
func HardwareTypes() []string {
	var out []string
	for name := range drivers {
		if name != "fake" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Warning is the message for a classic name mapped onto a hardware type.
func (c *Classic) Warning(node string) string {
	return fmt.Sprintf("%s: pm_type %q is a classic driver name (removed from Ironic in Rocky); mapped to hardware type %q with boot_interface %q and deploy_interface %q. Write pm_type: %s to silence this warning.",
		node, c.Name, c.Driver.HardwareType, c.Interfaces["boot_interface"], c.Interfaces["deploy_interface"], c.Driver.HardwareType)
}

// IsSecretKey tells whether a driver_info key holds a credential: Ironic
// masks these on read, and we never print them.
func IsSecretKey(key string) bool { return secret.IsKey(key) }
