"""The GitOps examples of gitops/: Flux (a GitRepository and a Kustomization per cluster)
and Argo CD (an AppProject and an Application per cluster) deliver each committed
overlay continuously. They are checked against the controllers' CRD schemas (the parts
written down in crds/, each file saying where upstream it comes from), and every path
they name exists here and builds with `kubectl kustomize`."""

import shutil
import tomllib
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
GITOPS = ROOT / "gitops"
CRDS = Path(__file__).parent / "crds"
OVERLAYS = sorted(p.name for p in (ROOT / "kustomize" / "overlays").iterdir() if p.is_dir())
SCHEMAS = {
    ("source.toolkit.fluxcd.io/v1", "GitRepository"): "gitrepository",
    ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"): "kustomization",
    ("argoproj.io/v1alpha1", "Application"): "application",
    ("argoproj.io/v1alpha1", "AppProject"): "appproject",
}
# Kinds without a namespace that an overlay could hold; the project must allow each.
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass", "StorageClass"}
IN_CLUSTER = "https://kubernetes.default.svc"


def documents(pattern: str) -> list[tuple[Path, dict]]:
    found = [(path, doc) for path in sorted(GITOPS.glob(pattern)) for doc in yaml.safe_load_all(path.read_text()) if doc]
    assert found, f"gitops/{pattern} holds nothing"
    return found


def kind(pattern: str, name: str) -> list[tuple[Path, dict]]:
    return [(path, doc) for path, doc in documents(pattern) if doc["kind"] == name]


def schema(name: str) -> dict:
    return yaml.safe_load((CRDS / f"{name}.schema.yaml").read_text())


def build(relative: str) -> list[dict]:
    directory = ROOT / relative.removeprefix("./")
    assert directory.is_dir() and (directory / "kustomization.yaml").is_file(), f"{relative}: no overlay there"
    kubectl = shutil.which("kubectl") or pytest.fail("kubectl is needed (kubectl kustomize)")
    result = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"kubectl kustomize {relative}:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.mark.parametrize("path", sorted(GITOPS.rglob("*.yaml")), ids=lambda p: str(p.relative_to(GITOPS)))
def test_every_gitops_object_matches_its_crd_schema(path):
    for document in yaml.safe_load_all(path.read_text()):
        key = (document["apiVersion"], document["kind"])
        assert key in SCHEMAS, f"{path.name}: no schema for {key}"
        jsonschema.validate(document, schema(SCHEMAS[key]))


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("kustomization", lambda d: d["spec"].update(prunne=True)),
        ("kustomization", lambda d: d["spec"].pop("prune")),
        ("gitrepository", lambda d: d["spec"].update(url="git@github.com:example/roster.git")),
        ("application", lambda d: d["spec"]["syncPolicy"]["automated"].update(selfheal=True)),
    ],
    ids=["misspelt-field", "missing-required", "url-pattern", "misspelt-nested"],
)
def test_the_schemas_refuse_broken_objects(name, change):
    pattern = {"kustomization": "flux/eks/*.yaml", "gitrepository": "flux/eks/*.yaml", "application": "argocd/eks.yaml"}[name]
    kind_name = {"kustomization": "Kustomization", "gitrepository": "GitRepository", "application": "Application"}[name]
    document = kind(pattern, kind_name)[0][1]
    change(document)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema(name))


def test_flux_delivers_each_overlay_from_its_own_directory():
    paths = {}
    for path, kustomization in kind("flux/*/*.yaml", "Kustomization"):
        cluster = path.parent.name
        spec = kustomization["spec"]
        assert spec["path"] == f"./kustomize/overlays/{cluster}", path
        paths[cluster] = spec["path"]
        sources = [doc for p, doc in kind(f"flux/{cluster}/*.yaml", "GitRepository")]
        source = [s for s in sources if s["metadata"]["name"] == spec["sourceRef"]["name"]]
        assert spec["sourceRef"]["kind"] == "GitRepository" and len(source) == 1, path
        assert source[0]["metadata"]["namespace"] == spec["sourceRef"].get("namespace", kustomization["metadata"]["namespace"])
        assert "!/kustomize/" in source[0]["spec"]["ignore"].split(), "the artifact must hold the Kustomize tree"
    assert sorted(paths) == OVERLAYS


@pytest.mark.parametrize("path", sorted(GITOPS.glob("flux/*/*.yaml")), ids=lambda p: p.parent.name)
def test_flux_prunes_waits_for_health_and_builds_the_overlay(path):
    for document in yaml.safe_load_all(path.read_text()):
        if document["kind"] != "Kustomization":
            continue
        spec = document["spec"]
        assert spec["prune"] is True
        # wait makes Flux health-check every applied object; a healthChecks list is then
        # ignored (the CRD says so), so there must not be one pretending otherwise.
        assert spec["wait"] is True and "healthChecks" not in spec
        assert spec["timeout"] and spec["interval"]
        built = build(spec["path"])
        assert {"Namespace", "Deployment", "Service"} <= {d["kind"] for d in built}


def test_argo_cd_delivers_each_overlay_within_its_project():
    projects = {doc["metadata"]["name"]: doc for _, doc in kind("argocd/*.yaml", "AppProject")}
    paths = {}
    for path, application in kind("argocd/*.yaml", "Application"):
        spec = application["spec"]
        project = projects[spec["project"]]["spec"]
        assert spec["source"]["path"] == f"kustomize/overlays/{path.stem}", path
        paths[path.stem] = spec["source"]["path"]
        assert spec["source"]["repoURL"] in project["sourceRepos"]
        destination = spec["destination"]
        assert destination["server"] == IN_CLUSTER and destination in project["destinations"]
        automated = spec["syncPolicy"]["automated"]
        assert automated["prune"] is True and automated["selfHeal"] is True
        allowed_cluster_kinds = {(r["group"], r["kind"]) for r in project["clusterResourceWhitelist"]}
        for document in build(spec["source"]["path"]):
            group = document["apiVersion"].rpartition("/")[0]
            if document["kind"] in CLUSTER_SCOPED:
                assert (group, document["kind"]) in allowed_cluster_kinds, f"{path.name}: project refuses {document['kind']}"
            else:
                namespace = document["metadata"].get("namespace")
                assert any(d["namespace"] == namespace for d in project["destinations"]), \
                    f"{path.name}: {document['kind']}/{document['metadata']['name']} lands in {namespace}"
    assert sorted(paths) == OVERLAYS


def test_every_gitops_object_reads_one_repository():
    """One placeholder to replace: the same repository and branch everywhere, also in the
    rules' runbook links."""
    urls = {doc["spec"]["url"] for _, doc in kind("flux/*/*.yaml", "GitRepository")}
    urls |= {doc["spec"]["source"]["repoURL"] for _, doc in kind("argocd/*.yaml", "Application")}
    urls |= {url for _, doc in kind("argocd/*.yaml", "AppProject") for url in doc["spec"]["sourceRepos"]}
    assert len(urls) == 1, urls
    (url,) = urls
    branches = {doc["spec"]["ref"]["branch"] for _, doc in kind("flux/*/*.yaml", "GitRepository")}
    branches |= {doc["spec"]["source"]["targetRevision"] for _, doc in kind("argocd/*.yaml", "Application")}
    assert branches == {"main"}
    assert f"{url}/blob/main/docs/runbook.md#" in (ROOT / "monitoring" / "roster.rules.yml").read_text()
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    assert url in (cargo["package"]["repository"], cargo["package"]["repository"] + ".git"), (
        "Cargo.toml's repository (the image's source label) names another repository"
    )
