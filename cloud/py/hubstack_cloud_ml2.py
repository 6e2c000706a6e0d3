"""ML2 mechanism driver of the local test cloud: binds every port to its first segment, no agent needed.

Registered as `hubstack_bind` under the `neutron.ml2.mechanism_drivers` entry point (see the dist-info beside it).
Ports become ACTIVE with vif_type ovs; nothing is plugged anywhere (Nova runs the fake driver).
"""
from neutron_lib import constants
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api


class HubstackBindAll(api.MechanismDriver):
    def initialize(self):
        pass

    @property
    def connectivity(self):
        return portbindings.CONNECTIVITY_L2

    def bind_port(self, context):
        for segment in context.segments_to_bind:
            context.set_binding(segment[api.ID], portbindings.VIF_TYPE_OVS,
                                {portbindings.CAP_PORT_FILTER: True},
                                status=constants.PORT_STATUS_ACTIVE)
            return
