"""Built-in cloud presets (`hub.cloud.preset`): the settings a cloud's users would otherwise look up, each with its
source. `custom` has none: its admin gives them, and its flavors (`hub.cloud.flavors`, or `hubctl flavors`).

Flavor RAM is in GiB as OpenStack reports it (flavor RAM is MiB / 1024); `gpus` counts a GPU or a slice of one.
An entry under `hub.cloud.flavors` with a preset's name replaces the preset's.
"""

from __future__ import annotations

from typing import Any

# docs.jetstream-cloud.org, "Instance Flavors" (general/instance-flavors; the repository jetstream-cloud/js2docs,
# docs/general/vmsizes.md, holds an earlier copy). g3 flavors are slices of an NVIDIA A100 (vGPU; g3.xl the whole
# GPU by passthrough); the featured images bring the NVIDIA guest driver. g3.small (1/5 of an A100) is on the
# earlier page only; m3.3xl, r3.* are given on request.
JETSTREAM2_FLAVORS: dict[str, dict[str, float]] = {
    "m3.tiny": {"vcpus": 1, "ramGb": 3, "diskGb": 20},
    "m3.small": {"vcpus": 2, "ramGb": 6, "diskGb": 20},
    "m3.quad": {"vcpus": 4, "ramGb": 15, "diskGb": 20},
    "m3.medium": {"vcpus": 8, "ramGb": 30, "diskGb": 60},
    "m3.large": {"vcpus": 16, "ramGb": 60, "diskGb": 60},
    "m3.xl": {"vcpus": 32, "ramGb": 125, "diskGb": 60},
    "m3.2xl": {"vcpus": 64, "ramGb": 250, "diskGb": 60},
    "m3.3xl": {"vcpus": 128, "ramGb": 500, "diskGb": 60},
    "r3.large": {"vcpus": 64, "ramGb": 500, "diskGb": 60},
    "r3.xl": {"vcpus": 128, "ramGb": 1000, "diskGb": 60},
    "g3.small": {"vcpus": 4, "ramGb": 15, "diskGb": 60, "gpus": 1},
    "g3.medium": {"vcpus": 8, "ramGb": 30, "diskGb": 60, "gpus": 1},
    "g3.large": {"vcpus": 16, "ramGb": 60, "diskGb": 60, "gpus": 1},
    "g3.xl": {"vcpus": 32, "ramGb": 120, "diskGb": 60, "gpus": 1},
}

# The Nectar Research Cloud publishes these sizes in its allocation form (the repository NeCTAR-RC/nectar-dashboard,
# rcallocation/templates/rcallocation/allocationrequest_edit.html); its other flavors (m3.xsmall, m3.xlarge, c3.*,
# r3.*, t3.*) are not published there: capture them with `hubctl flavors`. Flavors since 2018 have no ephemeral
# disk, and the root disk is "typically either 10GB or 30GB" (support.ehelp.edu.au, article 6000055382): the
# program boots from a volume, so it needs no root disk size.
NECTAR_FLAVORS: dict[str, dict[str, float]] = {
    "m3.small": {"vcpus": 2, "ramGb": 4, "diskGb": 0},
    "m3.medium": {"vcpus": 4, "ramGb": 8, "diskGb": 0},
    "m3.large": {"vcpus": 8, "ramGb": 16, "diskGb": 0},
}

# Defaults of `hub.cloud` keys by preset (camelCase, as in the stack file). A key a preset lacks must be given.
CLOUD_PRESETS: dict[str, dict[str, Any]] = {
    "jetstream2": {
        # Third-party openrc files and the Jetstream2 tutorials use this URL; the region is "IU" (js2docs,
        # docs/ui/cli/auth.md). Featured images log in as the distribution's user (docs/ui/cli/launch.md).
        "authUrl": "https://js2.jetstream-cloud.org:5000/v3/",
        "region": "IU",
        "externalNetwork": "public",
        "availabilityZone": "nova",
        "imageUser": "ubuntu",
    },
    "nectar": {
        # NeCTAR-RC/tutorials, _application-credentials/03-using-app-credentials.md. The external network and the
        # availability zone depend on the node the project runs at (melbourne-qh2, monash-02, QRIScloud, ...).
        "authUrl": "https://identity.rc.nectar.org.au/v3/",
        "region": "Melbourne",
        "imageUser": "ubuntu",
    },
    "custom": {"imageUser": "ubuntu"},
}
PRESET_FLAVORS: dict[str, dict[str, dict[str, float]]] = {
    "jetstream2": JETSTREAM2_FLAVORS, "nectar": NECTAR_FLAVORS, "custom": {},
}


def flavor_catalog(hub: Any) -> dict[str, Any]:
    """The flavors of a raw `hubstack:hub` value, its own over its preset's, as far as it is readable."""
    cloud = hub.get("cloud") if isinstance(hub, dict) else None
    cloud = cloud if isinstance(cloud, dict) else {}
    own = cloud.get("flavors") if isinstance(cloud.get("flavors"), dict) else {}
    return {**PRESET_FLAVORS.get(cloud.get("preset", "jetstream2"), {}), **own}
