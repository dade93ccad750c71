"""Write a tempest.conf for a running kumo.

Usage: conf.py CLOUDS_YAML CLOUD OUT_CONF

Everything Tempest needs is read from kumo itself: the admin credentials
from clouds.yaml, the compute microversion range from GET /v2.1/, the
images and flavors from the APIs (a second tiny image is uploaded when
kumo holds only one). Feature flags for server actions are probed, so a
run reflects what kumo does at that moment and flips by itself as actions
land: an action kumo does not know answers 400 "There is no such action".
"""

import json
import sys
import urllib.error
import urllib.request
import uuid

import yaml


def request(method, url, token=None, body=None, raw=None, headers=None):
    h = {"Accept": "application/json"}
    if token:
        h["X-Auth-Token"] = token
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    elif raw is not None:
        data = raw
        h["Content-Type"] = "application/octet-stream"
    h.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            text = r.read()
            return r.status, dict(r.headers), (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text.decode(errors="replace")
        return e.code, dict(e.headers), parsed


def login(auth):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": auth["username"], "password": auth["password"],
        "domain": {"name": auth.get("user_domain_name", "Default")}}}},
        "scope": {"project": {"name": auth["project_name"],
                              "domain": {"name": auth.get("project_domain_name", "Default")}}}}}
    status, headers, reply = request("POST", auth["auth_url"].rstrip("/") + "/auth/tokens", body=body)
    if status != 201:
        sys.exit("conf.py: login failed: %s %s" % (status, reply))
    token = headers.get("X-Subject-Token") or headers.get("x-subject-token")
    catalog = {}
    for svc in reply["token"]["catalog"]:
        for ep in svc["endpoints"]:
            if ep["interface"] == "public":
                catalog[svc["type"]] = ep["url"].rstrip("/")
    return token, catalog


def active_images(image_url, token):
    status, _, reply = request("GET", image_url + "/v2/images?status=active&visibility=public&limit=100", token)
    if status != 200:
        sys.exit("conf.py: list images: %s %s" % (status, reply))
    images = [i for i in reply["images"] if i.get("disk_format") and i.get("container_format")]
    # Oldest first: kumo's built-in image is image_ref on every run.
    return sorted(images, key=lambda i: (i["created_at"], i["id"]))


def upload_alt_image(image_url, token):
    status, _, img = request("POST", image_url + "/v2/images", token, body={
        "name": "kumo-tempest-alt", "disk_format": "raw", "container_format": "bare",
        "visibility": "public"})
    if status != 201:
        sys.exit("conf.py: create alt image: %s %s" % (status, img))
    status, _, reply = request("PUT", image_url + "/v2/images/%s/file" % img["id"], token,
                               raw=b"\0" * 65536)
    if status != 204:
        sys.exit("conf.py: upload alt image: %s %s" % (status, reply))
    return img


def flavors(compute_url, token):
    status, _, reply = request("GET", compute_url + "/flavors/detail", token)
    if status != 200:
        sys.exit("conf.py: list flavors: %s %s" % (status, reply))
    public = [f for f in reply["flavors"] if f.get("os-flavor-access:is_public", True)]
    return sorted(public, key=lambda f: (f["ram"], f["vcpus"], f["disk"], f["id"]))


def compute_nodes(compute_url, token):
    """The enabled nova-compute services that are up: Tempest's
    min_compute_nodes (its multi-host tests run only with 2 or more)."""
    status, _, reply = request("GET", compute_url + "/os-services?binary=nova-compute", token)
    if status != 200:
        sys.exit("conf.py: list services: %s %s" % (status, reply))
    return sum(1 for s in reply["services"] if s["state"] == "up" and s["status"] == "enabled")


def known_action(compute_url, token, action):
    """Whether kumo dispatches a server action (404 for the absent server
    or 400 for the empty body, but not "There is no such action")."""
    status, _, reply = request("POST", compute_url + "/servers/%s/action" % uuid.uuid4(), token,
                               body={action: {}},
                               headers={"OpenStack-API-Version": "compute 2.1"})
    text = json.dumps(reply)
    return not (status == 400 and "There is no such action" in text)


def known_route(url, token):
    """Whether kumo routes a GET (anything but a bare 404 without a Nova fault)."""
    status, _, _ = request("GET", url, token)
    return status != 404


def network_settings(network_url, token):
    """What Tempest needs to know of kumo's networking API: the extensions
    it serves (Tempest skips tests of the others) and the external network
    floating IPs come from. None when the cloud has no network endpoint."""
    if not network_url:
        return None
    status, _, reply = request("GET", network_url + "/v2.0/extensions", token)
    if status != 200:
        sys.exit("conf.py: list network extensions: %s %s" % (status, reply))
    extensions = sorted(e["alias"] for e in reply["extensions"])
    status, _, reply = request("GET", network_url + "/v2.0/networks?router:external=true", token)
    if status != 200 or not reply["networks"]:
        sys.exit("conf.py: find the external network: %s %s" % (status, reply))
    public = sorted(reply["networks"], key=lambda n: n["created_at"])[0]
    return {"extensions": extensions, "public_id": public["id"], "public_name": public["name"]}


def volume_settings(volume_url, token):
    """What Tempest needs to know of kumo's block storage API: its
    microversion range and the extensions it lists. None when the cloud
    has no volumev3 endpoint."""
    if not volume_url:
        return None
    # The catalog's endpoint ends in the project id; the version document
    # is the one above it.
    base = volume_url.rsplit("/", 1)[0] + "/"
    status, _, reply = request("GET", base, token)
    if status != 200:
        sys.exit("conf.py: GET %s: %s %s" % (base, status, reply))
    version = reply["versions"][0]
    status, _, reply = request("GET", volume_url + "/extensions", token)
    if status != 200:
        sys.exit("conf.py: list volume extensions: %s %s" % (status, reply))
    return {"min": version["min_version"], "max": version["version"],
            "extensions": sorted(e["alias"] for e in reply["extensions"])}


def main():
    clouds_file, cloud, out = sys.argv[1:4]
    with open(clouds_file) as f:
        auth = yaml.safe_load(f)["clouds"][cloud]["auth"]
    token, catalog = login(auth)
    compute_url, image_url = catalog["compute"], catalog["image"]
    network = network_settings(catalog.get("network"), token)
    volume = volume_settings(catalog.get("volumev3"), token)

    status, _, version = request("GET", compute_url + "/", token)
    if status != 200:
        sys.exit("conf.py: GET /v2.1/: %s %s" % (status, version))
    min_mv, max_mv = version["version"]["min_version"], version["version"]["version"]

    images = active_images(image_url, token)
    if len(images) < 2:
        images.append(upload_alt_image(image_url, token))
    fl = flavors(compute_url, token)
    if len(fl) < 2:
        sys.exit("conf.py: kumo needs two public flavors, has %d" % len(fl))

    act = lambda name: known_action(compute_url, token, name)
    rebuild, resize = act("rebuild"), act("resize")
    features = {
        "api_extensions": "all",
        "pause": act("pause"),
        "suspend": act("suspend"),
        "change_password": act("changePassword"),
        "console_output": act("os-getConsoleOutput"),
        "resize": resize,
        "disk_config": rebuild and resize,
        "snapshot": act("createImage"),
        "shelve": act("shelve"),
        "shelve_migrate": False,
        "rescue": act("rescue"),
        "stable_rescue": False,
        "cold_migration": act("migrate"),
        "live_migration": act("os-migrateLive"),
        # kumo's live migration copies the disks when asked (2.25 "auto"
        # or block_migration true), and its scheduler runs every filter.
        "block_migration_for_live_migration": act("os-migrateLive"),
        "scheduler_enabled_filters": "all",
        "enable_instance_password": True,
        # Tempest 33 runs the server metadata tests only with xenapi_apis.
        "xenapi_apis": True,
        "personality": False,
        "config_drive": False,
        "metadata_service": False,
        "interface_attach": network is not None,
        "attach_encrypted_volume": False,
        "block_migrate_cinder_iscsi": False,
        "vnc_console": False,
        "spice_console": False,
        "serial_console": False,
        "rdp_console": False,
        # Nova refuses a swap Cinder did not start (bug 2112187), as kumo
        # does: Tempest's swap tests call it directly.
        "swap_volume": False,
        "volume_multiattach": False,
        "volume_backed_live_migration": act("os-migrateLive"),
        "ide_bus": False,
        "unified_limits": False,
        "hostname_fqdn_sanitization": True,
    }

    def b(v):
        return "true" if v is True else "false" if v is False else str(v)

    identity_uri = auth["auth_url"].rstrip("/")
    conf = {
        "DEFAULT": {"log_file": "tempest.log", "use_stderr": "false"},
        "auth": {
            "admin_username": auth["username"],
            "admin_password": auth["password"],
            "admin_project_name": auth["project_name"],
            "admin_domain_name": auth.get("user_domain_name", "Default"),
            "use_dynamic_credentials": "true",
            # As in DevStack: each test project gets its own network, subnet
            # and router (with a gateway on the external network).
            "create_isolated_networks": b(network is not None),
            "tempest_roles": "member",
        },
        "identity": {
            "uri_v3": identity_uri,
            "auth_version": "v3",
            "region": "RegionOne",
            "v3_endpoint_type": "public",
            "default_domain_id": "default",
            "admin_role": "admin",
        },
        # security_compliance stays off: it also runs the password history
        # and minimum password age tests (Keystone's unique_last_password_count,
        # minimum_password_age), which kumo does not have, and the lockout
        # test, which needs a kumo served with --lockout-failure-attempts.
        "identity-feature-enabled": {
            "api_v2": "false", "api_v2_admin": "false", "api_v3": "true",
            "trust": "true", "domain_specific_drivers": "false",
            "security_compliance": "false", "project_tags": "true",
            "application_credentials": "true", "access_rules": "true",
        },
        "compute": {
            "image_ref": images[0]["id"],
            "image_ref_alt": images[1]["id"],
            "flavor_ref": fl[0]["id"],
            "flavor_ref_alt": fl[1]["id"],
            "min_microversion": min_mv,
            "max_microversion": max_mv,
            "min_compute_nodes": str(compute_nodes(compute_url, token)),
            "build_timeout": "60",
            "region": "RegionOne",
            "endpoint_type": "publicURL",
        },
        "compute-feature-enabled": {k: b(v) for k, v in features.items()},
        "image": {"region": "RegionOne", "endpoint_type": "publicURL",
                  "build_timeout": "60"},
        "image-feature-enabled": {"api_v2": "true", "api_v1": "false",
                                  "import_image": "true", "os_glance_reserved": "true",
                                  "manage_locations": "false"},
        "service_available": {"nova": "true", "glance": "true", "neutron": b(network is not None),
                              "cinder": b(volume is not None), "swift": "false", "horizon": "false",
                              "placement": "false"},
        "validation": {"run_validation": "false"},
        "oslo_concurrency": {"lock_path": "tempest_lock"},
    }
    if network is None:
        conf["network-feature-enabled"] = {"floating_ips": "false", "ipv6": "false"}
    else:
        conf["network"] = {
            "region": "RegionOne", "endpoint_type": "publicURL",
            "public_network_id": network["public_id"],
            "floating_network_name": network["public_name"],
            "build_timeout": "60",
        }
        conf["network-feature-enabled"] = {
            "api_extensions": ",".join(network["extensions"]),
            "available_features": "",
            "ipv6": "true", "ipv6_subnet_attributes": "true",
            "port_admin_state_change": "true", "port_security": "true",
            "floating_ips": "true",
        }
    if volume is not None:
        conf["volume"] = {
            "catalog_type": "volumev3", "region": "RegionOne", "endpoint_type": "publicURL",
            "build_timeout": "60",
            "min_microversion": volume["min"], "max_microversion": volume["max"],
            "volume_size": "1", "disk_format": "raw",
        }
        conf["volume-feature-enabled"] = {
            "api_extensions": ",".join(volume["extensions"]),
            "backup": "true", "snapshot": "true", "clone": "true",
            # kumo unmanages snapshots but has no os-snapshot-manage.
            "manage_volume": "true", "manage_snapshot": "false",
            "extend_attached_volume": "true", "extend_attached_encrypted_volume": "false",
        }
    with open(out, "w") as f:
        for section, opts in conf.items():
            f.write("[%s]\n" % section)
            for k, v in opts.items():
                f.write("%s = %s\n" % (k, v))
            f.write("\n")
    print("conf.py: compute %s-%s, images %s/%s, flavors %s/%s; features: %s" % (
        min_mv, max_mv, images[0]["id"], images[1]["id"], fl[0]["id"], fl[1]["id"],
        " ".join("%s=%s" % (k, b(v)) for k, v in features.items() if k != "api_extensions")))


if __name__ == "__main__":
    main()
