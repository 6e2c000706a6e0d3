"""Entities of the local test cloud, created idempotently (run by cloud.sh with Debian's /usr/bin/python3).

    bootstrap.py identity    service users, roles, catalog, project hub and user hubadmin (Keystone only)
    bootstrap.py resources   waits for compute and volume services, then network public, image, flavors, quotas,
                             clouds.yaml and cloud.json in $STATE

Passwords and paths come from the environment (cloud.sh passes them).
"""
import datetime
import glob
import json
import os
import subprocess
import sys
import time

import openstack
import yaml

STATE = os.environ["STATE"]
ETC = os.environ["ETC"]
AUTH_URL = "http://127.0.0.1:5000/v3"
# The same Keystone over HTTPS (cloud.sh's certificate): the Keystone URL a hub's config can name.
TLS_AUTH_URL = "https://127.0.0.1:5001/v3"
REGION = "RegionOne"
# The external network's addresses (TEST-NET-2): floating IPs come from here. cloud.sh makes them unreachable from
# this machine, so no dial to one leaves it (a test may route one address to a stand-in of its own).
EXTERNAL_CIDR = "198.51.100.0/24"
SERVICE_USERS = ["glance", "nova", "placement", "neutron", "cinder"]
CATALOG = [  # name, type, url
    ("glance", "image", "http://127.0.0.1:9292"),
    ("placement", "placement", "http://127.0.0.1:8778"),
    ("nova", "compute", "http://127.0.0.1:8774/v2.1"),
    ("neutron", "network", "http://127.0.0.1:9696"),
    ("cinderv3", "volumev3", "http://127.0.0.1:8776/v3/%(project_id)s"),
]
FLAVORS = {
    "local.small": {"vcpus": 1, "ramMb": 2048, "diskGb": 0},
    "local.medium": {"vcpus": 2, "ramMb": 4096, "diskGb": 0},
    "local.large": {"vcpus": 4, "ramMb": 8192, "diskGb": 0},
}
IMAGE_NAME = "hubstack-fake"
QUOTAS = {
    "compute": {"instances": 100, "cores": 400, "ram": 819200, "key_pairs": 100},
    "network": {"network": 100, "subnet": 100, "port": 500, "router": 50, "floatingip": 100,
                "security_group": 200, "security_group_rule": 2000},
    "volume": {"volumes": 200, "gigabytes": 4000, "snapshots": 200, "per_volume_gigabytes": -1},
}


def log(msg):
    print(f"bootstrap: {msg}", flush=True)


def fail(msg):
    print(f"bootstrap: ERROR: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def connect():
    return openstack.connection.Connection(
        auth_url=AUTH_URL, username="admin", password=os.environ["ADMINPASS"], project_name="admin",
        user_domain_name="Default", project_domain_name="Default", region_name=REGION,
        identity_api_version="3", interface="public")


def wait(what, check, timeout, log_hint):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        for pidfile in glob.glob(os.path.join(STATE, "run", "*.pid")):
            name = os.path.basename(pidfile)[:-4]
            try:
                with open(pidfile) as f:
                    os.kill(int(f.read().strip()), 0)
            except (OSError, ValueError):
                fail(f"{name} is not running (waiting for {what}), see {STATE}/logs/{name}.log")
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # noqa: BLE001 - services still starting answer with all kinds of errors
            last = exc
        time.sleep(0.25)
    fail(f"{what} not ready after {timeout}s ({last or 'condition not met'}), see {log_hint}")


def identity(conn):
    wait("keystone", conn.authorize, 60,
         f"{STATE}/logs/keystone.log")
    ident = conn.identity
    roles = {}
    for name in ("admin", "member", "reader", "service"):
        roles[name] = ident.find_role(name) or ident.create_role(name=name)
    domain = ident.find_domain("default") or fail("domain default missing")

    def project(name, description):
        return (ident.find_project(name, domain_id=domain.id)
                or ident.create_project(name=name, domain_id=domain.id, description=description))

    def user(name, password, default_project):
        found = ident.find_user(name, domain_id=domain.id)
        if found:
            return found
        log(f"user {name}")
        return ident.create_user(name=name, password=password, domain_id=domain.id,
                                 default_project_id=default_project.id)

    def grant(project_, user_, role_names):
        for role_name in role_names:
            ident.assign_project_role_to_user(project_, user_, roles[role_name])

    service_project = project("service", "OpenStack service users")
    for name in SERVICE_USERS:
        grant(service_project, user(name, os.environ["SVCPASS"], service_project), ["admin", "service"])

    services = {s.type: s for s in ident.services()}
    endpoints = list(ident.endpoints())
    for name, stype, url in CATALOG:
        service = services.get(stype) or ident.create_service(name=name, type=stype, description=name)
        have = {e.interface for e in endpoints if e.service_id == service.id and e.region_id == REGION}
        for interface in ("public", "internal", "admin"):
            if interface not in have:
                ident.create_endpoint(service_id=service.id, interface=interface, url=url, region_id=REGION)
        log(f"catalog {stype} {url}")

    hub = project("hub", "the test suite's project")
    hubadmin = user("hubadmin", os.environ["HUBPASS"], hub)
    grant(hub, hubadmin, ["member", "reader"])
    log("identity done: project hub, user hubadmin (member, reader)")


def compute_ready(conn):
    started = datetime.datetime.fromtimestamp(int(os.environ["COMPUTE_STARTED"]), datetime.timezone.utc)
    started = started.replace(tzinfo=None)

    def reported():
        for service in conn.compute.services(binary="nova-compute"):
            updated = service.updated_at and datetime.datetime.fromisoformat(service.updated_at.rstrip("Z"))
            if service.state == "up" and updated and updated.replace(tzinfo=None) >= started:
                return True
        return False

    wait("nova-compute (service report after its start)", reported, 120, f"{STATE}/logs/nova-compute.log")
    discovered = []

    def hypervisor():
        if list(conn.compute.hypervisors()):
            return True
        if not discovered:  # a new compute host is mapped to the cell once
            subprocess.run(["nova-manage", "--config-file", f"{ETC}/nova.conf", "--config-file",
                            f"{ETC}/nova-db.conf", "cell_v2", "discover_hosts"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            discovered.append(True)
        return False

    wait("nova hypervisor (cell_v2 discover_hosts)", hypervisor, 60, f"{STATE}/logs/nova-compute.log")

    def inventory():
        providers = conn.placement.get("/resource_providers").json()["resource_providers"]
        for rp in providers:
            inv = conn.placement.get(f"/resource_providers/{rp['uuid']}/inventories").json()["inventories"]
            if "VCPU" in inv and "MEMORY_MB" in inv:
                return True
        return False

    wait("placement inventory of the compute node", inventory, 60, f"{STATE}/logs/nova-compute.log")
    log("compute ready")


def volume_ready(conn):
    def pool():
        pools = conn.block_storage.get("/scheduler-stats/get_pools").json().get("pools", [])
        return any(p["name"].endswith("@fake#fake") for p in pools)

    wait("cinder scheduler's fake pool (cinder-volume report)", pool, 120,
         f"{STATE}/logs/cinder-volume.log and cinder-scheduler.log")
    log("volume ready")


def network_ready(conn):
    wait("neutron", lambda: list(conn.network.extensions()), 60, f"{STATE}/logs/neutron-server.log")


def public_network(conn):
    net = conn.network.find_network("public")
    if not net:
        net = conn.network.create_network(name="public", is_router_external=True, is_shared=False,
                                          provider_network_type="flat", provider_physical_network="provider")
        log("network public")
    subnets = list(conn.network.subnets(network_id=net.id))
    if not subnets:
        conn.network.create_subnet(name="public-subnet", network_id=net.id, ip_version=4,
                                   cidr=EXTERNAL_CIDR, gateway_ip="198.51.100.1", is_dhcp_enabled=False,
                                   allocation_pools=[{"start": "198.51.100.10", "end": "198.51.100.250"}])
        log(f"subnet {EXTERNAL_CIDR}")
    return net


def image(conn):
    for img in conn.image.images(name=IMAGE_NAME):
        if img.status == "active":
            return img
        conn.image.delete_image(img)  # a half-made one from an interrupted start
    created = conn.image.post("/images", json={
        "name": IMAGE_NAME, "disk_format": "raw", "container_format": "bare", "visibility": "public",
        "min_disk": 0, "min_ram": 0}).json()
    conn.image.put(f"/images/{created['id']}/file", data=b"\0" * (1024 * 1024),
                   headers={"Content-Type": "application/octet-stream"})
    img = wait("glance image upload", lambda: (lambda i: i if i.status == "active" else None)(
        conn.image.get_image(created["id"])), 30, f"{STATE}/logs/glance-api.log")
    log(f"image {IMAGE_NAME} {img.id}")
    return img


def flavors(conn):
    existing = {f.name: f for f in conn.compute.flavors(is_public=None)}
    for name, spec in FLAVORS.items():
        found = existing.get(name)
        if found:
            if (found.vcpus, found.ram, found.disk) != (spec["vcpus"], spec["ramMb"], spec["diskGb"]):
                log(f"WARNING: flavor {name} exists with other sizes, left as it is")
            continue
        conn.compute.create_flavor(name=name, vcpus=spec["vcpus"], ram=spec["ramMb"], disk=spec["diskGb"],
                                   is_public=True)
        log(f"flavor {name}")


def quotas(conn, hub_id):
    conn.compute.put(f"/os-quota-sets/{hub_id}", json={"quota_set": QUOTAS["compute"]}).raise_for_status()
    conn.network.put(f"/quotas/{hub_id}", json={"quota": QUOTAS["network"]}).raise_for_status()
    conn.block_storage.put(f"/os-quota-sets/{hub_id}",
                           json={"quota_set": QUOTAS["volume"]}).raise_for_status()


def write_private(path, text):
    # clouds.yaml holds passwords: readable by its owner only, and never seen half-written.
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def write_files(net, img):
    def cloud(user, password, project, auth_url=AUTH_URL):
        return {"auth": {"auth_url": auth_url, "username": user, "password": password, "project_name": project,
                         "user_domain_name": "Default", "project_domain_name": "Default"},
                "region_name": REGION, "identity_api_version": 3, "interface": "public"}

    clouds = {"clouds": {"hubstack-local": cloud("hubadmin", os.environ["HUBPASS"], "hub"),
                         "hubstack-local-admin": cloud("admin", os.environ["ADMINPASS"], "admin"),
                         "hubstack-local-tls": {**cloud("hubadmin", os.environ["HUBPASS"], "hub", TLS_AUTH_URL),
                                                "cacert": os.path.join(STATE, "tls", "ca.crt")}}}
    path = os.path.join(STATE, "clouds.yaml")
    write_private(path, yaml.safe_dump(clouds, default_flow_style=False, sort_keys=False))
    info = {"authUrl": AUTH_URL, "region": REGION, "cloud": "hubstack-local", "adminCloud": "hubstack-local-admin",
            "tlsCloud": "hubstack-local-tls", "tlsAuthUrl": TLS_AUTH_URL,
            "externalNetwork": "public", "externalNetworkId": net.id, "externalCidr": EXTERNAL_CIDR,
            "imageId": img.id, "flavors": FLAVORS,
            "availabilityZone": "nova", "cloudsYaml": path}
    write_private(os.path.join(STATE, "cloud.json"), json.dumps(info, indent=2) + "\n")


def resources(conn):
    t0 = time.monotonic()
    network_ready(conn)
    compute_ready(conn)
    volume_ready(conn)
    log(f"services ready after {time.monotonic() - t0:.1f}s of waiting")
    net = public_network(conn)
    img = image(conn)
    flavors(conn)
    hub = conn.identity.find_project("hub", domain_id="default") or fail("project hub missing: run identity first")
    quotas(conn, hub.id)
    write_files(net, img)
    log(f"resources done in {time.monotonic() - t0:.1f}s")


def main():
    for key in [k for k in os.environ if k.startswith("OS_")]:
        del os.environ[key]
    phase = sys.argv[1] if len(sys.argv) > 1 else ""
    conn = connect()
    if phase == "identity":
        identity(conn)
    elif phase == "resources":
        resources(conn)
    else:
        fail("usage: bootstrap.py identity|resources")


if __name__ == "__main__":
    main()
