"""The shared data directory on the NFS share, mounted into every user server at hub.sharedData.mountPath.

Layout of the export: `data/` is the shared data, `home/<user>/` the homes when they live on NFS too, so a
user never sees another user's home through the shared data mount.
"""

from __future__ import annotations

from typing import Any

from . import kubernetes

SHARED_DATA_VOLUME = "hubstack-shared-data"
SHARED_DATA_CLAIM = "shared-data"
SHARED_DATA_SUBPATH = "data"
# The volume's name inside each user pod; the admin hook below finds the mount by it.
POD_VOLUME = "shared-data"


def shared_data_objects(namespace: Any) -> list[dict[str, Any]]:
    return kubernetes.nfs_share_objects(SHARED_DATA_VOLUME, SHARED_DATA_CLAIM, namespace)


# z2jh cannot vary a mount by user, KubeSpawner can: modify_pod_hook sees the final pod (after profile
# overrides) and the user, so the one mount is made writable for admins. Recomputed at every spawn, so a user
# who stops being an admin gets the read-only mount back.
ADMIN_WRITE_HOOK = f'''\
def hubstack_shared_data_writable_by_admins(spawner, pod):
    for container in pod.spec.containers:
        for mount in container.volume_mounts or []:
            if mount.name == "{POD_VOLUME}":
                mount.read_only = not spawner.user.admin
    return pod


c.KubeSpawner.modify_pod_hook = hubstack_shared_data_writable_by_admins
'''
