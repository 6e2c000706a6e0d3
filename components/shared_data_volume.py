"""The Cinder volume behind the NFS share: the one resource here that holds user data.

`protect` makes `pulumi destroy` and any replacement of the volume fail instead of deleting it;
`retain_on_delete` keeps it in the cloud even when it leaves the stack (`pulumi destroy --exclude-protected`,
or a removed sharedData section). Attaching it is the serving server's business (components/cluster.py), so a
teardown of the cluster detaches the volume and leaves it whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_openstack as openstack

from config.model import Cloud, SharedData
from render import naming


@dataclass(frozen=True)
class SharedDataVolumeArgs:
    hub_name: str
    shared_data: SharedData
    cloud: Cloud


class SharedDataVolume(pulumi.ComponentResource):
    volume_id: pulumi.Output[str]

    def __init__(self, name: str, args: SharedDataVolumeArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hubstack:openstack:SharedDataVolume", name, None, opts)
        volume = openstack.blockstorage.Volume(
            f"{name}-volume",
            name=naming.shared_data_volume_name(args.hub_name),
            description=f"NFS share of the hub {args.hub_name}: user data, kept when the cluster is torn down",
            size=args.shared_data.size_gb,
            availability_zone=args.cloud.volume_zone,
            # Growing the share must not need a detach (an outage for every user server).
            enable_online_resize=True,
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
        )
        self.volume_id = volume.id
        self.register_outputs({"volumeId": self.volume_id})
