"""User homes: the Cinder CSI driver and its Retain storage class, or per-user directories on the NFS share."""

from __future__ import annotations

from typing import Any

from config import HubConfig
from config.model import AdoptedVolume, CinderHomes, Cloud

from . import kubernetes, placement

CINDER_CSI_REPOSITORY = "https://kubernetes.github.io/cloud-provider-openstack"
CINDER_CSI_RELEASE = "cinder-csi"
CINDER_CSI_PROVISIONER = "cinder.csi.openstack.org"
CLOUD_CONFIG_SECRET = "cinder-csi-cloud-config"
CLOUD_CONFIG_FILE = "cloud.conf"

# Volumes of an earlier cluster, given back to their claims (hub.userStorage.adopt).
ADOPTED_VOLUME_PREFIX = "hubstack-adopted-"
# The node label the CSI driver's node plugin sets from the server's availability zone.
ZONE_TOPOLOGY_KEY = "topology.cinder.csi.openstack.org/zone"
# The CSI driver formats volumes ext4 unless a storage class says otherwise; ours does not.
CINDER_FS_TYPE = "ext4"

# Homes on NFS: one claim over the whole export; each user's server mounts its own directory of it.
NFS_HOMES_VOLUME = "hubstack-homes"
NFS_HOMES_CLAIM = "homes"
NFS_HOMES_SUBPATH = "home/{username}"  # KubeSpawner expands {username} to the user's safe name


def cloud_conf(cloud: Cloud, credential_id: str, credential_secret: str) -> str:
    """The driver's cloud.conf, authenticated by an application credential (never a person's password)."""
    conf = (
        "[Global]\n"
        f"auth-url={cloud.auth_url}\n"
        f"application-credential-id={credential_id}\n"
        f"application-credential-secret={credential_secret}\n"
        f"region={cloud.region}\n"
    )
    if cloud.zones_differ:
        # Volumes live in a zone that no node is in: attach them anywhere, and give their PersistentVolumes no
        # zone (cloud-provider-openstack's [BlockStorage] ignore-volume-az).
        conf += "[BlockStorage]\nignore-volume-az=true\n"
    return conf


def cloud_config_secret_name(credential_id: str) -> str:
    """The Secret's name carries its credential's ID: a new credential is a new Secret, which the chart's pods name,
    so they roll onto it (a Secret's new content alone would not reach the running driver)."""
    return f"{CLOUD_CONFIG_SECRET}-{credential_id[:8]}"


def cloud_config_secret(name: Any, cloud_conf_text: Any) -> dict[str, Any]:
    return kubernetes.secret(name, kubernetes.SYSTEM_NAMESPACE, {CLOUD_CONFIG_FILE: cloud_conf_text})


def cinder_csi_values(config: HubConfig, secret_name: Any) -> dict[str, Any]:
    return {
        # The cloud config comes from our own Secret (created by Pulumi, marked secret), not from the chart.
        "secret": {"enabled": True, "create": False, "name": secret_name, "filename": CLOUD_CONFIG_FILE},
        # The storage class is ours (storage_class below): Retain and default, validated with the other objects.
        "storageClass": {"enabled": False},
        # Tags every volume with the hub, so an operator can tell in OpenStack which hub a volume belongs to.
        "clusterID": config.name,
        "csi": {
            "plugin": {
                "controllerPlugin": placement.on_control_plane(),
                # The node plugin attaches volumes where user servers run: on the tainted workers too.
                "nodePlugin": {"tolerations": [{"operator": "Exists"}]},
            }
        },
    }


def storage_class(homes: CinderHomes, cloud: Cloud) -> dict[str, Any]:
    made = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": kubernetes.metadata(
            homes.storage_class, annotations={"storageclass.kubernetes.io/is-default-class": "true"}
        ),
        "provisioner": CINDER_CSI_PROVISIONER,
        # A user's volume outlives their claim, the hub and the cluster (DESIGN.md, Data that must outlive).
        "reclaimPolicy": "Retain",
        "allowVolumeExpansion": True,
        # Create each volume where its pod is scheduled, in that node's availability zone.
        "volumeBindingMode": "WaitForFirstConsumer",
    }
    if cloud.zones_differ:
        # The nodes' zone is a compute zone: name the volume zone the homes are made in.
        made["parameters"] = {"availability": cloud.volume_zone}
    return made


def nfs_homes_objects(namespace: Any) -> list[dict[str, Any]]:
    """The PersistentVolume and claim of the NFS export that holds the homes (config.homes_on_nfs)."""
    return kubernetes.nfs_share_objects(NFS_HOMES_VOLUME, NFS_HOMES_CLAIM, namespace)


def adopted_volume(volume: AdoptedVolume, homes: CinderHomes, cloud: Cloud, namespace: Any) -> dict[str, Any]:
    """A static PersistentVolume on the CSI driver for a volume of an earlier cluster, pre-bound to the claim that
    held it: the claim KubeSpawner (a user's home) or the chart (the hub database) makes again binds to it, and
    nothing else can. Not the claim itself: KubeSpawner and the chart own their claims."""
    spec: dict[str, Any] = {
        "capacity": {"storage": f"{volume.size_gb}Gi"},
        "accessModes": ["ReadWriteOnce"],
        # The volume outlives this object as it outlived the claim's first cluster.
        "persistentVolumeReclaimPolicy": "Retain",
        # The class the claim carries (homes: singleuser.storage.dynamic.storageClass; the hub database:
        # hub.db.pvc.storageClassName), or the claim would not bind to it.
        "storageClassName": homes.storage_class,
        "claimRef": {"namespace": namespace, "name": volume.claim},
        "csi": {"driver": CINDER_CSI_PROVISIONER, "volumeHandle": volume.volume_id, "fsType": CINDER_FS_TYPE},
    }
    if volume.zone and not cloud.zones_differ:  # a volume zone that is no node's would hold its pods forever
        spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": ZONE_TOPOLOGY_KEY, "operator": "In", "values": [volume.zone]}]}]}}
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": kubernetes.metadata(f"{ADOPTED_VOLUME_PREFIX}{volume.volume_id}"),
        "spec": spec,
    }
