"""One ComponentResource per part of the hub; each takes typed Args and never reads config itself."""

from .hub import HUB, SHARED_DATA_SERVER_OUTPUT, Hub, HubArgs

__all__ = ["HUB", "SHARED_DATA_SERVER_OUTPUT", "Hub", "HubArgs"]
