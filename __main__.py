"""One JupyterHub on OpenStack: load the stack config, build the Hub, export what an admin needs."""

import pulumi

from components import HUB, SHARED_DATA_SERVER_OUTPUT, Hub, HubArgs
from config import ConfigError, load_from_stack
from config.warnings import warnings

try:
    hub_config = load_from_stack()
except ConfigError as error:
    # RunError: the engine prints the message alone, without a Python traceback.
    raise pulumi.RunError(str(error)) from None
for key, message in warnings(hub_config):
    pulumi.log.warn(f"{key}: {message}")

# One logical name whatever the hub is called, so that renaming it (hub.name) renames the cloud's resources instead
# of making a new hub beside the old one. The alias adopts stacks made when the logical name was hub.name.
hub = Hub(HUB, HubArgs(config=hub_config), pulumi.ResourceOptions(aliases=[pulumi.Alias(name=hub_config.name)]))

# Only what this hub has: no shared data, no cert-manager, or the OpenStack layer alone (hub.layers) leave some out.
outputs = {
    "hostname": hub.hostname,
    "url": hub.url,
    "floatingIp": hub.floating_ip,
    "controlPlaneAddress": hub.control_plane_address,
    # For admins' known_hosts: `echo "<address> $(pulumi stack output sshHostKey)" >> ~/.ssh/known_hosts`.
    "sshHostKey": hub.ssh_host_key,
    "workerAddresses": hub.worker_addresses,
    "sharedDataVolumeId": hub.shared_data_volume_id,
    SHARED_DATA_SERVER_OUTPUT: hub.shared_data_server,
    "stateVolumeId": hub.state_volume_id,
    "kubeconfig": hub.kubeconfig,  # a secret: `pulumi stack output kubeconfig --show-secrets`
    "jupyterhubRelease": hub.jupyterhub_release,
    "jupyterhubNamespace": hub.jupyterhub_namespace,
    "certManagerRelease": hub.cert_manager_release,
    "certManagerNamespace": hub.cert_manager_namespace,
}
for output, value in outputs.items():
    if value is not None:
        pulumi.export(output, value)
