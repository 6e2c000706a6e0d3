"""One JupyterHub on OpenStack: load the stack config, build the Hub, export what an admin needs."""

import pulumi

from components import Hub, HubArgs
from config import ConfigError, load_from_stack

try:
    hub_config = load_from_stack()
except ConfigError as error:
    # RunError: the engine prints the message alone, without a Python traceback.
    raise pulumi.RunError(str(error)) from None

hub = Hub(hub_config.name, HubArgs(config=hub_config))

pulumi.export("hostname", hub.hostname)
pulumi.export("url", hub.url)
pulumi.export("floatingIp", hub.floating_ip)
pulumi.export("controlPlaneAddress", hub.control_plane_address)
pulumi.export("workerAddresses", hub.worker_addresses)
pulumi.export("kubeconfig", hub.kubeconfig)  # a secret: `pulumi stack output kubeconfig --show-secrets`
pulumi.export("jupyterhubRelease", hub.jupyterhub_release)
pulumi.export("jupyterhubNamespace", hub.jupyterhub_namespace)
if hub.shared_data_volume_id is not None:
    pulumi.export("sharedDataVolumeId", hub.shared_data_volume_id)
if hub.cert_manager_release is not None:
    pulumi.export("certManagerRelease", hub.cert_manager_release)
    pulumi.export("certManagerNamespace", hub.cert_manager_namespace)
