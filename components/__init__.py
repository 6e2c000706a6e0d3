"""One ComponentResource per part of the hub; each takes typed Args and never reads config itself."""

from .hub import HUB, Hub, HubArgs

__all__ = ["HUB", "Hub", "HubArgs"]
