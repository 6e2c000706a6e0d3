"""The Kubernetes layer wired as components/hub.py will wire it, for tests under mocks (run by hubctl.plan)."""

import pulumi
import pulumi_kubernetes as kubernetes

from components.hub_namespace import HubNamespace, HubNamespaceArgs
from components.jupyterhub import JupyterHub, JupyterHubArgs
from components.shared_data import SharedData, SharedDataArgs
from components.tls import Tls, TlsArgs
from components.user_storage import UserStorage, UserStorageArgs
from config import load_from_stack

NFS_SERVER = "10.42.255.30"
NFS_EXPORT_PATH = "/export/shared"
AUTH_URL = "https://keystone.example.org:5000/v3/"
REGION = "RegionOne"

config = load_from_stack()
name = config.name
provider = kubernetes.Provider(f"{name}-kubernetes", kubeconfig=pulumi.Output.secret("apiVersion: v1"))
nfs_server = pulumi.Output.from_input(NFS_SERVER)

namespace = HubNamespace(f"{name}-hub-namespace", HubNamespaceArgs(kubernetes_provider=provider))
user_storage = UserStorage(f"{name}-user-storage", UserStorageArgs(
    config=config, kubernetes_provider=provider, hub_namespace=namespace.name,
    auth_url=AUTH_URL, region=REGION,
    nfs_server=nfs_server if config.homes_on_nfs else None,
    nfs_path=NFS_EXPORT_PATH if config.homes_on_nfs else None,
))
tls = Tls(f"{name}-tls", TlsArgs(config=config, kubernetes_provider=provider, hub_namespace=namespace.name))
shared_data = None
if config.shared_data:
    shared_data = SharedData(f"{name}-shared-data", SharedDataArgs(
        shared_data=config.shared_data, kubernetes_provider=provider, hub_namespace=namespace.name,
        nfs_server=nfs_server, nfs_path=NFS_EXPORT_PATH,
    ))
hub = JupyterHub(f"{name}-jupyterhub", JupyterHubArgs(
    config=config, kubernetes_provider=provider, hub_namespace=namespace.name,
    user_storage=user_storage, tls=tls, shared_data=shared_data,
))

pulumi.export("url", hub.url)
pulumi.export("jupyterhubRelease", hub.release_name)
pulumi.export("jupyterhubNamespace", hub.release_namespace)
pulumi.export("certManagerRelease", tls.cert_manager_release_name)
pulumi.export("certManagerNamespace", tls.cert_manager_namespace)
