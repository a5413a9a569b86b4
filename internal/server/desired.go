// Package server boots a Nova server on a bare-metal flavor and waits for
// it, the observe / plan / apply way: Observe resolves everything the
// request names (pre-flight: nothing is written before it all resolves),
// Plan is pure, Apply runs the plan; on ERROR or timeout the result carries
// internal/diagnose's diagnosis.
package server

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"
)

// States of the module.
const (
	StatePresent  = "present"
	StateAbsent   = "absent"
	StateDiagnose = "diagnose"
)

// MaxUserData is Nova's limit on user_data: the base64 text must fit in
// 65535 bytes, so about 48 KiB of raw data.
const MaxUserData = 65535

// Desired is what the task asks for.
type Desired struct {
	Name             string
	State            string
	Image            string // name or ID
	Flavor           string // name or ID
	Nics             Nics
	ConfigDrive      bool
	UserData         *UserData
	KeyName          string
	AvailabilityZone string
	Metadata         map[string]string
	SchedulerHints   map[string]any
	Wait             bool
	Timeout          time.Duration
	RecreateOnError  bool
}

// Nics is the networks request: Mode "auto" or "none", or the NICs listed.
type Nics struct {
	Mode string // "auto", "none", or "" when List is used
	List []NIC
}

// NIC is one requested interface: a network (by ID or name) or a port.
type NIC struct {
	NetID    string `json:"net-id,omitempty"`
	NetName  string `json:"net-name,omitempty"`
	PortID   string `json:"port-id,omitempty"`
	PortName string `json:"port-name,omitempty"`
	FixedIP  string `json:"fixed_ip,omitempty"`
}

// UserData is the user data to pass, with what the result may show of it.
type UserData struct {
	Content []byte
	Source  string // "user_data" or the file path
}

// Size, SHA256 and EncodedSize describe user data without showing it.
func (u *UserData) Size() int        { return len(u.Content) }
func (u *UserData) EncodedSize() int { return base64.StdEncoding.EncodedLen(len(u.Content)) }
func (u *UserData) Encoded() string  { return base64.StdEncoding.EncodeToString(u.Content) }
func (u *UserData) SHA256() string   { s := sha256.Sum256(u.Content); return hex.EncodeToString(s[:]) }
func (u *UserData) Report() map[string]any {
	return map[string]any{"size": u.Size(), "encoded_size": u.EncodedSize(), "sha256": u.SHA256(), "source": u.Source}
}

// CheckSize is the 64 KiB pre-flight check, worded for the operator.
func (u *UserData) CheckSize() error {
	if u.EncodedSize() <= MaxUserData {
		return nil
	}
	return fmt.Errorf("%s is %d bytes, %d bytes once base64-encoded; Nova accepts at most %d bytes encoded (about 48 KiB raw): "+
		"compress it (ignition_render compresses for spec 3.1+) or use an Ignition pointer config (merge/replace from a URL)",
		u.Source, u.Size(), u.EncodedSize(), MaxUserData)
}

// LooksLikeIgnition tells whether the user data is an Ignition config.
func (u *UserData) LooksLikeIgnition() bool {
	s := strings.TrimSpace(string(u.Content))
	return strings.HasPrefix(s, "{") && strings.Contains(s, `"ignition"`)
}

// nicKeys maps the accepted spellings of NIC keys (openstack.cloud's and the CLI's).
var nicKeys = map[string]string{
	"net-id": "net-id", "net_id": "net-id", "uuid": "net-id",
	"net-name": "net-name", "net_name": "net-name",
	"port-id": "port-id", "port_id": "port-id", "port": "port-id",
	"port-name": "port-name", "port_name": "port-name",
	"fixed_ip": "fixed_ip", "fixed-ip": "fixed_ip", "v4-fixed-ip": "fixed_ip", "v6-fixed-ip": "fixed_ip",
}

// ParseNics reads the nics option: "none", "auto", one "key=value,..."
// string, or a list of dicts / "key=value,..." strings / bare network names
// or IDs. network is the simpler one-network option (name or ID).
func ParseNics(raw any, network string) (Nics, error) {
	if network != "" {
		if raw != nil {
			return Nics{}, fmt.Errorf("parameters are mutually exclusive: network|nics")
		}
		return Nics{List: []NIC{{NetName: network}}}, nil
	}
	switch v := raw.(type) {
	case nil:
		return Nics{Mode: "auto"}, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "none", "auto":
			return Nics{Mode: strings.ToLower(strings.TrimSpace(v))}, nil
		case "":
			return Nics{}, fmt.Errorf("nics: empty; give none, auto, or a list of networks")
		}
		nic, err := parseNic("nics", v)
		if err != nil {
			return Nics{}, err
		}
		return Nics{List: []NIC{nic}}, nil
	case []any:
		if len(v) == 0 {
			return Nics{}, fmt.Errorf("nics: empty list; use nics: none for a server without network")
		}
		var out Nics
		for i, item := range v {
			nic, err := parseNic(fmt.Sprintf("nics[%d]", i), item)
			if err != nil {
				return Nics{}, err
			}
			out.List = append(out.List, nic)
		}
		return out, nil
	}
	return Nics{}, fmt.Errorf("nics: expected none, auto, or a list of dicts such as {net-name: ctlplane}, got %T", raw)
}

func parseNic(where string, item any) (NIC, error) {
	fields := map[string]string{}
	switch v := item.(type) {
	case map[string]any:
		for k, val := range v {
			if val == nil {
				continue
			}
			fields[k] = strings.TrimSpace(fmt.Sprint(val))
		}
	case string:
		if !strings.Contains(v, "=") {
			// A bare network name or ID.
			return NIC{NetName: strings.TrimSpace(v)}, nil
		}
		for _, kv := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(kv, "=")
			if !ok {
				return NIC{}, fmt.Errorf("%s: %q is not key=value", where, kv)
			}
			fields[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
	default:
		return NIC{}, fmt.Errorf("%s: expected a dict such as {net-name: ctlplane} or a string, got %T", where, item)
	}
	var nic NIC
	var unknown []string
	for k, val := range fields {
		switch nicKeys[k] {
		case "net-id":
			nic.NetID = val
		case "net-name":
			nic.NetName = val
		case "port-id":
			nic.PortID = val
		case "port-name":
			nic.PortName = val
		case "fixed_ip":
			nic.FixedIP = val
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return NIC{}, fmt.Errorf("%s: unknown key(s) %s; expected net-id, net-name, port-id, port-name, fixed_ip", where, strings.Join(unknown, ", "))
	}
	set := 0
	for _, s := range []string{nic.NetID, nic.NetName, nic.PortID, nic.PortName} {
		if s != "" {
			set++
		}
	}
	switch {
	case set == 0:
		return NIC{}, fmt.Errorf("%s: needs one of net-id, net-name, port-id, port-name", where)
	case set > 1:
		return NIC{}, fmt.Errorf("%s: give only one of net-id, net-name, port-id, port-name", where)
	case (nic.PortID != "" || nic.PortName != "") && nic.FixedIP != "":
		return NIC{}, fmt.Errorf("%s: fixed_ip goes with a network, not with a port (the port has its addresses)", where)
	}
	if nic.FixedIP != "" && net.ParseIP(nic.FixedIP) == nil {
		return NIC{}, fmt.Errorf("%s: fixed_ip %q is not an IP address", where, nic.FixedIP)
	}
	return nic, nil
}

// Pin is an availability zone of the "zone:host:node" form.
type Pin struct {
	Zone, Host, Node string
}

// ParseAvailabilityZone splits "zone", "zone:host", "zone:host:node" or
// "zone::node" (Nova's forced-destination forms).
func ParseAvailabilityZone(az string) Pin {
	parts := strings.SplitN(az, ":", 3)
	p := Pin{Zone: parts[0]}
	if len(parts) > 1 {
		p.Host = parts[1]
	}
	if len(parts) > 2 {
		p.Node = parts[2]
	}
	return p
}

// String is the availability zone Nova takes.
func (p Pin) String() string {
	switch {
	case p.Node != "":
		return p.Zone + ":" + p.Host + ":" + p.Node
	case p.Host != "":
		return p.Zone + ":" + p.Host
	}
	return p.Zone
}
