"""Agentless ML2 mechanism driver for the loopback test Neutron (real neutron-server, Debian 12).

Debian 12 has no networking-baremetal, and every in-tree ML2 driver of Neutron 21 (Zed) either needs a live
L2 agent on the binding host (openvswitch, linuxbridge, sriov, macvtap) or an OVN database. Nova's Ironic
driver binds its ports to the compute host with vnic_type normal/baremetal and gives up with
PortBindingFailed when no driver binds them. This driver binds any port on a flat (or local) segment with
vif_type 'other' -- what networking-baremetal's driver does for flat networks -- and nothing else.
Registered through the entry point in neutron/metalkit_ml2-0.dist-info (name: metalkit_baremetal).
"""
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants
from neutron_lib.plugins.ml2 import api


class MetalkitBaremetalMechanismDriver(api.MechanismDriver):
    SUPPORTED_VNIC_TYPES = (portbindings.VNIC_NORMAL, portbindings.VNIC_BAREMETAL)
    SUPPORTED_NETWORK_TYPES = (constants.TYPE_FLAT, constants.TYPE_LOCAL)

    def initialize(self):
        pass

    @property
    def connectivity(self):
        return portbindings.CONNECTIVITY_L2

    def bind_port(self, context):
        if context.current.get(portbindings.VNIC_TYPE) not in self.SUPPORTED_VNIC_TYPES:
            return
        for segment in context.segments_to_bind:
            if segment[api.NETWORK_TYPE] in self.SUPPORTED_NETWORK_TYPES:
                context.set_binding(segment[api.ID], portbindings.VIF_TYPE_OTHER, {},
                                    status=constants.PORT_STATUS_ACTIVE)
                return
