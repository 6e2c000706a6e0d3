"""Built-in flavor catalog: Jetstream2's published sizes (docs.jetstream-cloud.org, "Instance Flavors").

RAM is in GiB as OpenStack reports it (flavor RAM is MiB / 1024). Other clouds add their own flavors under
`hub.cloud.flavors`; an entry there with a built-in name replaces the built-in one.
"""

JETSTREAM2_FLAVORS: dict[str, dict[str, float]] = {
    "m3.tiny": {"vcpus": 1, "ramGb": 3, "diskGb": 20},
    "m3.small": {"vcpus": 2, "ramGb": 6, "diskGb": 20},
    "m3.quad": {"vcpus": 4, "ramGb": 15, "diskGb": 20},
    "m3.medium": {"vcpus": 8, "ramGb": 30, "diskGb": 60},
    "m3.large": {"vcpus": 16, "ramGb": 60, "diskGb": 60},
    "m3.xl": {"vcpus": 32, "ramGb": 125, "diskGb": 60},
    "m3.2xl": {"vcpus": 64, "ramGb": 250, "diskGb": 60},
    "g3.small": {"vcpus": 4, "ramGb": 15, "diskGb": 60, "gpus": 1},
    "g3.medium": {"vcpus": 8, "ramGb": 30, "diskGb": 60, "gpus": 1},
    "g3.large": {"vcpus": 16, "ramGb": 60, "diskGb": 60, "gpus": 1},
    "g3.xl": {"vcpus": 32, "ramGb": 120, "diskGb": 60, "gpus": 1},
}
