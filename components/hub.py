"""The hub: one ComponentResource that wires every part of one JupyterHub together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi

from config import HubConfig


@dataclass(frozen=True)
class HubArgs:
    config: HubConfig


class Hub(pulumi.ComponentResource):
    hostname: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(self, name: str, args: HubArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hubstack:index:Hub", name, None, opts)
        config = args.config
        self.hostname = pulumi.Output.from_input(config.hostname)
        self.url = pulumi.Output.from_input(config.url)
        self.register_outputs({"hostname": self.hostname, "url": self.url})
