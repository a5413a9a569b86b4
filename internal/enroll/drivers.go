package enroll

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// Driver is what an instackenv pm_type means in today's Ironic: a hardware
// type, how the pm_* fields become driver_info keys, which of them the
// hardware type cannot work without, and which driver-prefixed keys pass
// through untouched. The table follows tripleo-common's nodes.py
// (DRIVER_INFO, PrefixedDriverInfo, RedfishDriverInfo, iDRACDriverInfo).
type Driver struct {
	// HardwareType is the Ironic driver name (ipmi, redfish, ...).
	HardwareType string
	// Mapping turns instackenv fields into driver_info keys.
	Mapping map[string]string
	// Mandatory are the instackenv fields a node of this type must have.
	Mandatory []string
	// Prefixes are the driver_info key prefixes accepted as-is (ipmi_priv_level).
	Prefixes []string
	// TakesURL: pm_addr may be an http(s) URL (https://host/redfish/v1).
	TakesURL bool
	// DefaultPort completes the BMC identity when no port is given.
	DefaultPort int
	// derive fills the driver_info keys one field sets twice (idrac), after Mapping.
	derive func(info map[string]any)
	// identity is the BMC identity of a driver_info ("" when it names no BMC).
	identity func(info map[string]any) string
}

// Identity is the BMC identity of a node's driver_info, computed alike for
// an instackenv node (after Mapping) and for a node Ironic reports, so the
// two compare: tripleo-common's unique_id_from_fields / unique_id_from_node.
// "" when the driver_info names no BMC.
func (d *Driver) Identity(info map[string]any) string {
	if d == nil || d.identity == nil || info == nil {
		return ""
	}
	return d.identity(info)
}

// Classic is what a classic (pre-Rocky) driver name still means: the hardware
// type that replaced it, and the interfaces the name used to imply.
type Classic struct {
	Name       string
	Driver     *Driver
	Interfaces map[string]string
}

// prefixed is tripleo-common's PrefixedDriverInfo with has_port=True.
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
	// PrefixedDriverInfo.unique_id_*: address, ":port" when one is set. The
	// driver's default port is filled in (ipmi 623): Ironic uses it when
	// ipmi_port is unset, so "h" and "h:623" are one BMC (tripleo-common
	// would see two).
	d.identity = func(info map[string]any) string {
		addr := strings.ToLower(str(info[prefix+"_address"]))
		if addr == "" {
			return ""
		}
		return joinPort(addr, portText(info[prefix+"_port"]), d.DefaultPort)
	}
	return d
}

func joinPort(host, port string, def int) string {
	if port == "" && def != 0 {
		port = fmt.Sprint(def)
	}
	if port == "" {
		return host
	}
	return host + ":" + port
}

var (
	driverIPMI = prefixed("ipmi", 623, "pm_addr")

	// driverIDRAC is tripleo-common's iDRACDriverInfo: every field fills both
	// the WS-Man keys (drac_*, what the idrac type of older Ironic uses by
	// default) and the Redfish keys (redfish_*, all current Ironic's idrac
	// type reads: it is Redfish-only and requires redfish_address).
	// pm_system_id is redfish_system_id. The node's identity is the iDRAC's
	// host and port (iDRACDriverInfo.unique_id_*: the drac ones).
	driverIDRAC = func() *Driver {
		d := prefixed("drac", 443, "pm_addr", "pm_user", "pm_password")
		d.HardwareType = "idrac"
		d.Mapping["pm_system_id"] = "redfish_system_id"
		d.Prefixes = []string{"drac_", "redfish_"}
		d.TakesURL = true
		d.derive = deriveIDRAC
		d.identity = func(info map[string]any) string {
			// The drac host (or, on a node enrolled for Redfish only, the
			// redfish_address host) and drac_port: a URL's own port is not
			// part of it, as in tripleo-common.
			host, _ := splitBMCAddress(str(info["drac_address"]))
			if host == "" {
				host, _ = splitBMCAddress(str(info["redfish_address"]))
			}
			if host == "" {
				return ""
			}
			return joinPort(host, portText(info["drac_port"]), d.DefaultPort)
		}
		return d
	}()
	driverILO  = prefixed("ilo", 0, "pm_addr", "pm_user", "pm_password")
	driverIRMC = prefixed("irmc", 0, "pm_addr", "pm_user", "pm_password")

	// driverRedfish is tripleo-common's RedfishDriverInfo: only pm_addr and
	// pm_system_id are mandatory (Ironic takes a BMC without credentials).
	driverRedfish = &Driver{
		HardwareType: "redfish",
		Mapping: map[string]string{
			"pm_addr":      "redfish_address",
			"pm_user":      "redfish_username",
			"pm_password":  "redfish_password",
			"pm_system_id": "redfish_system_id",
		},
		Mandatory: []string{"pm_addr", "pm_system_id"},
		Prefixes:  []string{"redfish_"},
		TakesURL:  true,
		identity: func(info map[string]any) string {
			return redfishIdentity(str(info["redfish_address"]), str(info["redfish_system_id"]))
		},
	}
	driverFake   = &Driver{HardwareType: "fake-hardware", Mapping: map[string]string{}}
	driverManual = &Driver{HardwareType: "manual-management", Mapping: map[string]string{}}
)

var schemeRE = regexp.MustCompile(`(?i)^https?://`)

// redfishIdentity is RedfishDriverInfo._build_id: the address without its
// scheme and trailing slashes, then the system id. Without a system id
// there is no identity: one Redfish service may manage many systems.
func redfishIdentity(addr, system string) string {
	if addr == "" || system == "" {
		return ""
	}
	a := schemeRE.ReplaceAllString(addr, "")
	return strings.ToLower(strings.TrimRight(a, "/")) + "/" + strings.TrimLeft(system, "/")
}

// splitBMCAddress reads a host name, IP address, host:port or http(s) URL
// and returns its host (lower case) and port ("" when it names none): the
// host part of iDRACDriverInfo._build_drac_address, which keeps an IPv6
// address and drops a URL's path.
func splitBMCAddress(addr string) (host, port string) {
	s := strings.TrimSpace(addr)
	if s == "" {
		return "", ""
	}
	if ip := net.ParseIP(strings.Trim(s, "[]")); ip != nil {
		return strings.ToLower(strings.Trim(s, "[]")), ""
	}
	if !schemeRE.MatchString(s) {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return "", ""
	}
	return strings.ToLower(u.Hostname()), u.Port()
}

// urlSecrets is the secret part of an address written as a URL with
// credentials: the password of https://user:password@host (the user name is
// no secret, as pm_user is not), or the whole user info when it has no ":"
// (a token). They are registered as secrets: the address is no credential field.
func urlSecrets(addr string) []string {
	i := strings.Index(addr, "://")
	if i < 0 {
		return nil
	}
	rest := addr[i+3:]
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		rest = rest[:j]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return nil
	}
	info := rest[:at]
	if c := strings.Index(info, ":"); c >= 0 {
		info = info[c+1:]
	}
	if info == "" {
		return []string{rest[:at+1]} // "user:@" or "@": nothing secret, but still refused
	}
	out := []string{info}
	if u, err := url.PathUnescape(info); err == nil && u != info {
		out = append(out, u)
	}
	return out
}

// bmcURLProblem says what is wrong with a pm_addr given to a driver that
// takes a URL ("" when it is a host, host:port or http(s)://host[:port][/path]).
func bmcURLProblem(addr string) string {
	if strings.Contains(addr, "://") && !schemeRE.MatchString(addr) {
		return "the URL scheme must be http or https"
	}
	if host, _ := splitBMCAddress(addr); host == "" {
		return "it is neither a host name, an IP address nor an http(s) URL with a host"
	}
	return ""
}

// deriveIDRAC is iDRACDriverInfo.convert: drac_address is the host alone
// (_build_drac_address), redfish_address the pm_addr as written, and the
// credentials go to both. A pm_port goes into redfish_address too when
// pm_addr names no port (tripleo-common drops it there): an iDRAC serves
// WS-Man and Redfish on one HTTPS port.
func deriveIDRAC(info map[string]any) {
	addr := str(info["drac_address"])
	if addr == "" {
		return
	}
	host, urlPort := splitBMCAddress(addr)
	info["drac_address"] = host
	redfish := addr
	if port := portText(info["drac_port"]); port != "" && urlPort == "" {
		redfish = withPort(addr, port)
	}
	info["redfish_address"] = redfish
	for from, to := range map[string]string{"drac_username": "redfish_username", "drac_password": "redfish_password"} {
		if v, ok := info[from]; ok {
			info[to] = v
		}
	}
}

// withPort puts a port into an address that names none, keeping its scheme
// (or its lack of one) and path.
func withPort(addr, port string) string {
	if ip := net.ParseIP(strings.Trim(addr, "[]")); ip != nil {
		return net.JoinHostPort(strings.Trim(addr, "[]"), port)
	}
	hasScheme := schemeRE.MatchString(addr)
	s := addr
	if !hasScheme {
		s = "https://" + addr
	}
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return addr
	}
	u.Host = net.JoinHostPort(u.Hostname(), port)
	out := u.String()
	if !hasScheme {
		out = strings.TrimPrefix(out, "https://")
	}
	return out
}

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
