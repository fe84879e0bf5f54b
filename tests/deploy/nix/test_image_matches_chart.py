"""The image nix/image.nix builds agrees with what the chart and the cluster expect.

nix/image.nix is evaluated for real, with dockerTools.buildLayeredImage replaced by a
function that returns its arguments, so the test sees exactly the user, ports,
entrypoint, environment and layer commands the image is built from. The chart side is
the rendered kustomize/base Deployment when it exists (what the cluster receives),
else chart/values.yaml.
"""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml

from conftest import REPO

ROSTER_OUT = "/nix/store/00000000000000000000000000000000-roster-0.1.0"
CACERT_OUT = "/nix/store/11111111111111111111111111111111-nss-cacert"


def cargo_version() -> str:
    return tomllib.loads((REPO / "Cargo.toml").read_text())["package"]["version"]


@pytest.fixture(scope="module")
def image(nix_eval) -> dict:
    return nix_eval(
        "import ./nix/image.nix {"
        " dockerTools.buildLayeredImage = args: args;"
        f' cacert = "{CACERT_OUT}";'
        f' roster = {{ outPath = "{ROSTER_OUT}"; version = "{cargo_version()}"; }};'
        ' labels = import ./nix/image-labels.nix { self = { rev = "0123abc"; }; };'
        "}"
    )


@pytest.fixture(scope="module")
def env(image) -> dict:
    return dict(item.split("=", 1) for item in image["config"]["Env"])


@pytest.fixture(scope="module")
def values() -> dict:
    path = REPO / "chart" / "values.yaml"
    if not path.exists():
        pytest.fail("chart/values.yaml is missing")
    return yaml.safe_load(path.read_text())


def rendered_deployment() -> dict | None:
    for path in sorted((REPO / "kustomize" / "base").glob("*.y*ml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "Deployment":
                return doc
    return None


def roster_container(pod_spec: dict) -> dict:
    containers = pod_spec["containers"]
    return next((c for c in containers if c.get("name") == "roster"), containers[0])


@pytest.fixture(scope="module")
def chart(values) -> dict:
    """uid, gid, fsGroup, container port and data directory, as the cluster will see them."""
    deployment = rendered_deployment()
    if deployment is not None:
        pod = deployment["spec"]["template"]["spec"]
        container = roster_container(pod)
        pod_sc, ctr_sc = pod.get("securityContext", {}), container.get("securityContext", {})
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        ports = [p["containerPort"] for p in container.get("ports", [])]
        assert len(ports) == 1, f"expected one container port, found {ports}"
        return {
            "source": "kustomize/base Deployment",
            "uid": ctr_sc.get("runAsUser", pod_sc.get("runAsUser")),
            "gid": ctr_sc.get("runAsGroup", pod_sc.get("runAsGroup")),
            "fsGroup": pod_sc.get("fsGroup"),
            "port": ports[0],
            "dataDir": env.get("ROSTER_DATA_DIR"),
            "image": container["image"],
        }
    pod_sc, ctr_sc = values.get("podSecurityContext", {}), values.get("securityContext", {})
    return {
        "source": "chart/values.yaml",
        "uid": ctr_sc.get("runAsUser", pod_sc.get("runAsUser")),
        "gid": ctr_sc.get("runAsGroup", pod_sc.get("runAsGroup")),
        "fsGroup": pod_sc.get("fsGroup"),
        "port": values.get("config", {}).get("port", values.get("service", {}).get("port")),
        "dataDir": values.get("config", {}).get("dataDir"),
        "image": None,
    }


def image_ids(image) -> tuple[int, int]:
    uid, gid = image["config"]["User"].split(":")
    return int(uid), int(gid)


def test_image_runs_as_the_non_root_user_the_chart_expects(image, chart):
    uid, gid = image_ids(image)
    assert uid != 0 and gid != 0
    assert (uid, gid) == (chart["uid"], chart["gid"]), chart["source"]


def test_chart_volumes_are_writable_by_the_image_group(image, chart):
    assert chart["fsGroup"] == image_ids(image)[1], chart["source"]


def test_image_listens_on_the_chart_container_port(image, env, chart):
    exposed = list(image["config"]["ExposedPorts"])
    assert exposed == [f"{chart['port']}/tcp"], chart["source"]
    assert env["ROSTER_LISTEN"] == f"0.0.0.0:{chart['port']}"


def test_entrypoint_is_the_roster_binary_with_no_shell(image):
    assert image["config"]["Entrypoint"] == [f"{ROSTER_OUT}/bin/roster"]
    assert "Cmd" not in image["config"]
    # Only the CA bundle joins the binary's closure: no shell, no coreutils.
    assert image["contents"] == [CACERT_OUT]


def test_image_trusts_the_ca_bundle(env):
    assert env["SSL_CERT_FILE"] == f"{CACERT_OUT}/etc/ssl/certs/ca-bundle.crt"


def test_image_has_a_world_writable_sticky_tmp(image, env):
    commands = image["fakeRootCommands"]
    assert re.search(r"mkdir -p [^\n]*\./tmp\b", commands)
    assert re.search(r"chmod 1777 \./tmp\b", commands)
    assert env.get("TMPDIR", "/tmp") == "/tmp"


def test_embedded_data_dir_is_owned_by_the_image_user(image, env, chart):
    uid, gid = image_ids(image)
    data_dir = env["ROSTER_DATA_DIR"]
    commands = image["fakeRootCommands"]
    assert re.search(rf"mkdir -p [^\n]*\.{re.escape(data_dir)}\b", commands)
    assert f"chown {uid}:{gid} .{data_dir}" in commands
    if chart["dataDir"] is not None:
        assert chart["dataDir"] == data_dir, chart["source"]


def test_image_user_has_a_passwd_entry(image):
    uid, gid = image_ids(image)
    assert re.search(rf"^echo '[a-z]+:x:{uid}:{gid}:", image["fakeRootCommands"], re.M)


def cargo_license() -> str:
    return tomllib.loads((REPO / "Cargo.toml").read_text())["package"]["license"]


def test_image_carries_oci_labels(image):
    labels = image["config"]["Labels"]
    assert labels["org.opencontainers.image.version"] == cargo_version()
    assert labels["org.opencontainers.image.revision"] == "0123abc"
    assert labels["org.opencontainers.image.licenses"] == cargo_license()
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", labels["org.opencontainers.image.source"])
    for key in ("title", "description"):
        assert labels[f"org.opencontainers.image.{key}"], key


@pytest.mark.parametrize("self_attrs, revision", [
    ('{ rev = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"; }', "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"),
    # A tree with uncommitted changes: flakes give dirtyRev and no rev.
    ('{ dirtyRev = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b-dirty"; }', "dirty"),
    ("{ }", "dirty"),
])
def test_image_revision_is_the_clean_commit_or_dirty(nix_eval, self_attrs, revision):
    labels = nix_eval(f"import ./nix/image-labels.nix {{ self = {self_attrs}; }}")
    assert labels["revision"] == revision
    assert labels["license"] == cargo_license()


def test_image_name_and_tag_are_what_the_chart_pulls(image, values):
    chart_meta = yaml.safe_load((REPO / "chart" / "Chart.yaml").read_text())
    tag = values["image"].get("tag") or chart_meta["appVersion"]
    assert (image["name"], image["tag"]) == (values["image"]["repository"], tag)
    assert image["tag"] == cargo_version()
