package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/baremetal/v1/nodes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/metalkit/baremetal/internal/diagnose"
	"github.com/metalkit/baremetal/internal/openstack"
)

// Clients are the service clients the module uses. Compute is required;
// the others may be nil, with the reason in the matching Err.
type Clients struct {
	Compute      *gophercloud.ServiceClient
	Image        *gophercloud.ServiceClient
	Network      *gophercloud.ServiceClient
	Baremetal    *gophercloud.ServiceClient
	Placement    *gophercloud.ServiceClient
	ImageErr     error
	NetworkErr   error
	BaremetalErr error
	PlacementErr error
}

// Observed is what exists and what the request's names resolve to.
type Observed struct {
	// Servers are the servers named like the desired one (normally 0 or 1).
	Servers []servers.Server
	Image   *Image
	Flavor  *diagnose.Flavor
	// Networks are the NICs as Nova takes them (IDs), in order.
	Networks []servers.Network
	// AvailabilityZone is the zone to send, a pinned node name resolved to its UUID.
	AvailabilityZone string
	Pin              Pin
	// Problems are pre-flight failures: nothing may be created while any is left.
	Problems []string
	// Warnings are things the operator should know before booting.
	Warnings []string
	// LostBuild, when set, says why the one existing server, left in BUILD
	// by an earlier run, will never build (read only for recreate_on_error).
	LostBuild string
}

// Image is a resolved Glance image.
type Image struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

var uuidLike = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

// FindServers lists the servers of the project named exactly name.
func FindServers(ctx context.Context, compute *gophercloud.ServiceClient, name string) ([]servers.Server, error) {
	// Nova's name filter is a regular expression.
	pages, err := servers.List(compute, servers.ListOpts{Name: "^" + regexp.QuoteMeta(name) + "$"}).AllPages(ctx)
	if err != nil {
		return nil, openstack.Describe(err, "server list")
	}
	all, err := servers.ExtractServers(pages)
	if err != nil {
		return nil, openstack.Describe(err, "server list")
	}
	var out []servers.Server
	for _, s := range all {
		if s.Name == name && s.Status != "DELETED" && s.Status != "SOFT_DELETED" {
			out = append(out, s)
		}
	}
	return out, nil
}

// Observe finds the existing server and, for state present, resolves the
// image, flavor, networks, key pair and pinned node, checking the user data:
// the pre-flight. It only reads.
func Observe(ctx context.Context, c Clients, d Desired) (Observed, error) {
	var o Observed
	var err error
	if o.Servers, err = FindServers(ctx, c.Compute, d.Name); err != nil {
		return o, err
	}
	if d.State != StatePresent {
		return o, nil
	}
	o.LostBuild = lostBuild(ctx, c, d, o.Servers)
	problem := func(format string, args ...any) {
		o.Problems = append(o.Problems, openstack.Scrub(fmt.Sprintf(format, args...)))
	}
	if img, err := ResolveImage(ctx, c, d.Image); err != nil {
		problem("image: %v", err)
	} else {
		o.Image = img
	}
	if f, err := ResolveFlavor(ctx, c.Compute, d.Flavor); err != nil {
		problem("flavor: %v", err)
	} else {
		o.Flavor = f
	}
	o.Networks = resolveNics(ctx, c, d.Nics, problem)
	if d.KeyName != "" {
		if seg, err := openstack.PathSegment(d.KeyName); err != nil {
			problem("key_name: %v", err)
		} else if _, err := keypairs.Get(ctx, c.Compute, seg, nil).Extract(); err != nil {
			if gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
				problem("key_name: Nova has no key pair %q", d.KeyName)
			} else {
				problem("key_name: %v", openstack.Describe(err, "key pair "+d.KeyName))
			}
		}
		if d.UserData != nil && d.UserData.LooksLikeIgnition() {
			o.Warnings = append(o.Warnings, "key_name is set but the user data is Ignition, which ignores Nova key pairs: put the SSH keys in the Ignition config (ignition_render users)")
		}
	}
	o.Pin = ParseAvailabilityZone(d.AvailabilityZone)
	if o.Pin.Node != "" {
		uuid, err := resolveNode(ctx, c, o.Pin.Node)
		if err != nil {
			problem("availability_zone: %v", err)
		} else {
			o.Pin.Node = uuid
		}
	}
	o.AvailabilityZone = o.Pin.String()
	if d.UserData != nil {
		if err := d.UserData.CheckSize(); err != nil {
			problem("%v", err)
		}
	}
	if d.ConfigDrive && d.Nics.Mode == "none" {
		o.Warnings = append(o.Warnings, "config_drive with nics none fails in Nova 26 (Zed)'s ironic driver "+
			"(\"Failed to build configdrive: 'NoneType' object is not subscriptable\"): attach a network or set config_drive: false unless your Nova is fixed")
	}
	return o, nil
}

// ResolveImage finds an active Glance image by ID or name.
func ResolveImage(ctx context.Context, c Clients, ref string) (*Image, error) {
	if c.Image == nil {
		return nil, fmt.Errorf("Glance is not reachable: %v", c.ImageErr)
	}
	var found []images.Image
	if uuidLike.MatchString(ref) {
		img, err := images.Get(ctx, c.Image, ref).Extract()
		switch {
		case err == nil:
			found = append(found, *img)
		case !gophercloud.ResponseCodeIs(err, http.StatusNotFound):
			return nil, openstack.Describe(err, "image "+ref)
		}
	}
	if len(found) == 0 {
		pages, err := images.List(c.Image, images.ListOpts{Name: ref}).AllPages(ctx)
		if err != nil {
			return nil, openstack.Describe(err, "image list")
		}
		if found, err = images.ExtractImages(pages); err != nil {
			return nil, openstack.Describe(err, "image list")
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("Glance has no image with name or ID %q", ref)
	case 1:
	default:
		var ids []string
		for _, i := range found {
			ids = append(ids, i.ID)
		}
		return nil, fmt.Errorf("%d images are named %q (%s): give the ID", len(found), ref, strings.Join(ids, ", "))
	}
	img := found[0]
	if img.Status != images.ImageStatusActive {
		return nil, fmt.Errorf("image %s (%s) is %s, not active: upload its data first (glance_rhcos)", img.Name, img.ID, img.Status)
	}
	return &Image{ID: img.ID, Name: img.Name, Status: string(img.Status)}, nil
}

// ResolveFlavor finds a flavor by ID or name, with its extra specs.
func ResolveFlavor(ctx context.Context, compute *gophercloud.ServiceClient, ref string) (*diagnose.Flavor, error) {
	var f *flavors.Flavor
	// A ref that cannot be an ID in a URL path can still be a name.
	seg, err := openstack.PathSegment(ref)
	if err == nil {
		f, err = flavors.Get(ctx, compute, seg).Extract()
		if err != nil && !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
			return nil, openstack.Describe(err, "flavor "+ref)
		}
	}
	if err != nil {
		f = nil
		var matches []flavors.Flavor
		for _, access := range []flavors.AccessType{flavors.PublicAccess, flavors.AllAccess} {
			pages, err := flavors.ListDetail(compute, flavors.ListOpts{AccessType: access}).AllPages(ctx)
			if err != nil {
				if access == flavors.AllAccess {
					break // not admin: the public list was all we may see
				}
				return nil, openstack.Describe(err, "flavor list")
			}
			all, err := flavors.ExtractFlavors(pages)
			if err != nil {
				return nil, openstack.Describe(err, "flavor list")
			}
			matches = matches[:0]
			for _, fl := range all {
				if fl.Name == ref {
					matches = append(matches, fl)
				}
			}
			if len(matches) > 0 {
				break
			}
		}
		switch len(matches) {
		case 0:
			return nil, fmt.Errorf("Nova has no flavor with name or ID %q", ref)
		case 1:
			f = &matches[0]
		default:
			return nil, fmt.Errorf("%d flavors are named %q: give the ID", len(matches), ref)
		}
	}
	out, err := diagnose.FlavorFrom(ctx, compute, f)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// resolveNics turns the requested NICs into Nova networks (IDs), checking
// every network and port through Neutron.
func resolveNics(ctx context.Context, c Clients, nics Nics, problem func(string, ...any)) []servers.Network {
	var out []servers.Network
	for i, nic := range nics.List {
		where := fmt.Sprintf("nics[%d]", i)
		if c.Network == nil {
			if nic.NetID != "" || nic.PortID != "" {
				out = append(out, servers.Network{UUID: nic.NetID, Port: nic.PortID, FixedIP: nic.FixedIP})
				continue
			}
			problem("%s: network names need the Neutron API, which is not reachable: %v", where, c.NetworkErr)
			continue
		}
		switch {
		case nic.PortName != "":
			// openstack.cloud's port-name: the port of that name, which
			// must be one and free.
			page, err := ports.List(c.Network, ports.ListOpts{Name: nic.PortName}).AllPages(ctx)
			var found []ports.Port
			if err == nil {
				found, err = ports.ExtractPorts(page)
			}
			switch {
			case err != nil:
				problem("%s.port-name: %v", where, openstack.Describe(err, "ports named "+nic.PortName))
			case len(found) == 0:
				problem("%s.port-name: Neutron has no port named %q", where, nic.PortName)
			case len(found) > 1:
				problem("%s.port-name: %d ports are named %q: use port-id", where, len(found), nic.PortName)
			case found[0].DeviceID != "":
				problem("%s.port-name: port %s (%s) is already attached to %s", where, nic.PortName, found[0].ID, found[0].DeviceID)
			default:
				out = append(out, servers.Network{Port: found[0].ID})
			}
		case nic.PortID != "":
			seg, err := openstack.PathSegment(nic.PortID)
			if err != nil {
				problem("%s.port-id: %v", where, err)
				continue
			}
			p, err := ports.Get(ctx, c.Network, seg).Extract()
			switch {
			case gophercloud.ResponseCodeIs(err, http.StatusNotFound):
				problem("%s.port-id: Neutron has no port %q", where, nic.PortID)
			case err != nil:
				problem("%s.port-id: %v", where, openstack.Describe(err, "port "+nic.PortID))
			case p.DeviceID != "":
				problem("%s.port-id: port %s is already attached to %s", where, nic.PortID, p.DeviceID)
			default:
				out = append(out, servers.Network{Port: p.ID})
			}
		default:
			ref := nic.NetID
			if ref == "" {
				ref = nic.NetName
			}
			id, err := resolveNetwork(ctx, c.Network, ref, nic.NetID != "")
			if err != nil {
				key := "net-name"
				if nic.NetID != "" {
					key = "net-id"
				}
				problem("%s.%s: %v", where, key, err)
				continue
			}
			out = append(out, servers.Network{UUID: id, FixedIP: nic.FixedIP})
		}
	}
	return out
}

func resolveNetwork(ctx context.Context, client *gophercloud.ServiceClient, ref string, byID bool) (string, error) {
	if byID || uuidLike.MatchString(ref) {
		seg, err := openstack.PathSegment(ref)
		if err != nil {
			return "", err
		}
		n, err := networks.Get(ctx, client, seg).Extract()
		switch {
		case err == nil:
			return n.ID, nil
		case !gophercloud.ResponseCodeIs(err, http.StatusNotFound):
			return "", openstack.Describe(err, "network "+ref)
		case byID:
			return "", fmt.Errorf("Neutron has no network with ID %q", ref)
		}
	}
	pages, err := networks.List(client, networks.ListOpts{Name: ref}).AllPages(ctx)
	if err != nil {
		return "", openstack.Describe(err, "network list")
	}
	list, err := networks.ExtractNetworks(pages)
	if err != nil {
		return "", openstack.Describe(err, "network list")
	}
	switch len(list) {
	case 0:
		return "", fmt.Errorf("Neutron has no network with name or ID %q", ref)
	case 1:
		return list[0].ID, nil
	}
	return "", fmt.Errorf("%d networks are named %q: give net-id", len(list), ref)
}

// resolveNode turns a pinned node name into its UUID (Nova's
// hypervisor_hostname for an Ironic node).
func resolveNode(ctx context.Context, c Clients, ref string) (string, error) {
	if c.Baremetal == nil {
		if uuidLike.MatchString(ref) {
			return ref, nil
		}
		return "", fmt.Errorf("pinning to node %q by name needs Ironic, which is not reachable (%v): give the node UUID", ref, c.BaremetalErr)
	}
	seg, err := openstack.PathSegment(ref)
	if err != nil {
		return "", fmt.Errorf("node %w", err)
	}
	n, err := nodes.Get(ctx, c.Baremetal, seg).Extract()
	if gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		return "", fmt.Errorf("Ironic has no node %q", ref)
	}
	if err != nil {
		return "", openstack.Describe(err, "node "+ref)
	}
	return n.UUID, nil
}

// NodeOf finds the Ironic node hosting a server: Nova tells admins
// (hypervisor_hostname), Ironic tells anyone allowed to list nodes.
func NodeOf(ctx context.Context, c Clients, s *servers.Server) (*nodes.Node, error) {
	if c.Baremetal == nil {
		return nil, errors.New("Ironic is not reachable")
	}
	if seg, err := openstack.PathSegment(s.HypervisorHostname); err == nil {
		n, err := nodes.Get(ctx, c.Baremetal, seg).Extract()
		if err == nil {
			return n, nil
		}
	}
	pages, err := nodes.List(c.Baremetal, nodes.ListOpts{InstanceUUID: s.ID}).AllPages(ctx)
	if err != nil {
		return nil, openstack.Describe(err, "node list")
	}
	list, err := nodes.ExtractNodes(pages)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return nodes.Get(ctx, c.Baremetal, list[0].UUID).Extract()
}

// lostBuild reads, for a recreate_on_error request, whether the one server
// an earlier run left in BUILD was scheduled long ago (diagnose.LostBuildAfter)
// and never taken by a nova-compute: what is left when RabbitMQ loses the
// build request. Placement (admin) must be readable; otherwise it says nothing.
func lostBuild(ctx context.Context, c Clients, d Desired, list []servers.Server) string {
	if !d.RecreateOnError || len(list) != 1 || c.Placement == nil {
		return ""
	}
	s := list[0]
	age := time.Since(s.Created)
	if !diagnose.Unclaimed(&s) || age < diagnose.LostBuildAfter {
		return ""
	}
	to, err := diagnose.ScheduledTo(ctx, c.Placement, s.ID)
	if err != nil || len(to) == 0 {
		return ""
	}
	return fmt.Sprintf("%s (created %s ago)", diagnose.LostBuildText(s.Name, to), age.Round(time.Second))
}
