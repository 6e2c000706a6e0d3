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
