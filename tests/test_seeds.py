"""Each seed's hub (../shared/seeds/: the runbooks we replace) as a stack file (tests/fixtures/seeds/): it passes
`hubctl check` as `pulumi up` would read it, plans, and its values pass the real chart's schema and KubeSpawner's
traits. What a seed says that the stack cannot is written in the file's header, with why."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from config import check_stack_file
from hubctl.__main__ import app
from hubctl.plan import run_program
from render import jupyterhub

from .conftest import FIXTURES
from .upstream import Z2JH, chart_errors, kubespawner_traits

SEEDS = sorted((FIXTURES / "seeds").glob("Pulumi.seed-*.yaml"))


def test_every_seed_has_its_stack():
    seeds = sorted(path.name[:3] for path in (FIXTURES.parent.parent.parent / "shared" / "seeds").glob("0*.txt"))
    assert [path.name[12:15] for path in SEEDS] == seeds


@pytest.mark.parametrize("path", SEEDS, ids=lambda path: path.stem[7:])
def test_seed_stack_checks_plans_and_fits_the_chart(path):
    result = CliRunner().invoke(app, ["check", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "Not said here, and why:" in path.read_text()
    config, unset = check_stack_file(path, secrets_required=True)
    assert unset == []
    plan = run_program(config, path.stem[7:])
    (release,) = [resource for resource in plan.by_type("kubernetes:helm.sh/v3:Release")
                  if resource.inputs.get("chart") == "jupyterhub" or resource.name.endswith("-jupyterhub")]
    values = release.revealed["values"]
    assert chart_errors(Z2JH.name, values) == []
    for profile in values["singleuser"].get("profileList", []):
        assert set(profile.get("kubespawner_override", {})) <= kubespawner_traits()
    assert values == jupyterhub.merge_values(values, config.jupyterhub_values)  # what the stack set is there


def test_nectar_seed_is_on_nectar_on_its_existing_network_with_volumes_in_their_own_zone():
    path = FIXTURES / "seeds" / "Pulumi.seed-002.yaml"
    config, _ = check_stack_file(path, secrets_required=True)
    assert config.cloud.preset == "nectar" and config.cloud.auth_url == "https://identity.rc.nectar.org.au/v3/"
    assert config.cloud.zones_differ and config.worker_flavor.ram_gb == 16
    assert config.cloud.network_id and not config.cloud.makes_network and not config.floating_ip.enabled
    plan = run_program(config, "seed-002")
    assert not [resource for resource in plan.resources if resource.type in (
        "openstack:networking/network:Network", "openstack:networking/router:Router",
        "openstack:networking/floatingIp:FloatingIp")]
    assert {port.inputs["networkId"] for port in plan.by_type("openstack:networking/port:Port")} == {
        config.cloud.network_id}
