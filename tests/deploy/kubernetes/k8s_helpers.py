"""Helpers for the Kubernetes packaging tests: the chart rendered through Helm's Go
library (helm-python-sdk), the overlays built with `kubectl kustomize`, and the parsed
documents of each, which the test modules check.

Every tool runs offline: Helm renders in-process, kubernetes-validate ships its schemas,
checkov runs with --skip-download.
"""

import importlib.machinery
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
CHART_DIR = ROOT / "chart"
OVERLAYS_DIR = ROOT / "kustomize" / "overlays"
OVERLAYS = ("minikube", "eks")
EXAMPLE_VALUES = sorted((CHART_DIR / "ci").glob("*.yaml"))

# The uid and gid the Nix-built image runs as (its config's User); checked against the
# flake when it declares one.
IMAGE_UID = 65532


def load_render_module():
    """scripts/render-manifests, imported as a module (it has no .py suffix)."""
    path = ROOT / "scripts" / "render-manifests"
    loader = importlib.machinery.SourceFileLoader("render_manifests", str(path))
    spec = importlib.util.spec_from_loader("render_manifests", loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["render_manifests"] = module
    loader.exec_module(module)
    return module


render = load_render_module()


def flatten(manifests: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [doc for docs in manifests.values() for doc in docs]


def find(documents: list[dict[str, Any]], kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [
        doc
        for doc in documents
        if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
    ]


def one(documents: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = find(documents, kind, name)
    assert len(found) == 1, f"expected exactly one {kind} {name or ''}, found {len(found)}"
    return found[0]


def roster_deployment(documents: list[dict[str, Any]]) -> dict[str, Any]:
    return one(documents, "Deployment", "roster")


def container(deployment: dict[str, Any], name: str = "roster") -> dict[str, Any]:
    containers = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == name]
    assert len(containers) == 1, f"no single container {name!r} in {deployment['metadata']['name']}"
    return containers[0]


def env_of(container_spec: dict[str, Any]) -> dict[str, str]:
    """The container's literal environment (valueFrom entries map to None)."""
    names = [entry["name"] for entry in container_spec.get("env", [])]
    duplicates = {name for name in names if names.count(name) > 1}
    assert not duplicates, f"environment variables set twice: {sorted(duplicates)}"
    return {entry["name"]: entry.get("value") for entry in container_spec.get("env", [])}


def values_file_id(path: Path | None) -> str:
    return "defaults" if path is None else path.stem


# Everything that can reach a cluster, as the conftest's `targets` fixture keys it.
TARGETS = ["chart-defaults", *[f"chart-{values_file_id(p)}" for p in EXAMPLE_VALUES], *OVERLAYS]


def read_values(path: Path | None) -> dict[str, Any] | None:
    return None if path is None else yaml.safe_load(path.read_text())


def kustomize_build(directory: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is needed to build the overlays (kubectl kustomize)")
    result = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    return render.load_documents(result.stdout)


def served_get_routes() -> set[str]:
    """GET routes the server declares (poem-openapi #[oai(path = ..., method = "get")])."""
    routes = set()
    for source in (ROOT / "src").rglob("*.rs"):
        for match in re.finditer(r'#\[oai\(\s*path\s*=\s*"([^"]+)"\s*,\s*method\s*=\s*"get"', source.read_text()):
            routes.add(match.group(1))
    return routes


def declared_roster_variables() -> set[str]:
    """ROSTER_* environment variables the server's configuration reads."""
    variables = set()
    for source in (ROOT / "src").rglob("*.rs"):
        variables |= set(re.findall(r'env\s*=\s*"(ROSTER_[A-Z_]+)"', source.read_text()))
    return variables


def parse_duration_seconds(text: str) -> float:
    """A humantime-style duration as ROSTER_SHUTDOWN_TIMEOUT takes it: 20s, 1m, 1m30s, 500ms."""
    units = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
    parts = re.findall(r"(\d+)\s*(ms|sec|min|s|m|h)", text)
    assert parts and "".join(f"{n}{u}" for n, u in parts) == text.replace(" ", ""), f"unreadable duration {text!r}"
    return sum(int(number) * units[unit] for number, unit in parts)


def chart_defaults() -> dict[str, Any]:
    return yaml.safe_load((CHART_DIR / "values.yaml").read_text())


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """override laid over base the way Helm coalesces values files (maps merge, the rest replaces)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


QUANTITY_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def quantity_bytes(quantity: str | int) -> int:
    """A Kubernetes storage quantity (256Mi, 1G, 268435456) in bytes."""
    match = re.fullmatch(r"(\d+)(k|M|G|Ki|Mi|Gi)?", str(quantity))
    assert match, f"unreadable quantity {quantity!r}"
    return int(match.group(1)) * QUANTITY_UNITS[match.group(2) or ""]
