"""Every document that can reach a cluster passes kubernetes-validate --strict and checkov.

Targets: the chart rendered with its defaults and each example values file, and each
overlay built with `kubectl kustomize`.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate.utils
import pytest
import yaml

from k8s_helpers import OVERLAYS, TARGETS, render

# The version the chart is rendered for, and the newest kubernetes-validate ships.
KUBERNETES_VERSIONS = sorted({render.KUBE_VERSION.lstrip("v"), kubernetes_validate.utils.latest_version()})
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = BIN / name
    return str(path) if path.exists() else (shutil.which(name) or pytest.fail(f"{name} is not installed"))


@pytest.fixture(scope="session")
def target_files(targets, tmp_path_factory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("targets")
    files = {}
    for name, documents in targets.items():
        files[name] = directory / f"{name}.yaml"
        files[name].write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return files


def test_overlays_build_with_kubectl_kustomize(overlays):
    for name in OVERLAYS:
        kinds = {doc["kind"] for doc in overlays[name]}
        assert {"Namespace", "Deployment", "Service", "ServiceAccount"} <= kinds, name


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("target", TARGETS)
def test_every_document_passes_kubernetes_validate_strict(target, version, target_files):
    result = subprocess.run(
        [tool("kubernetes-validate"), "--strict", "--quiet", "--kubernetes-version", version, str(target_files[target])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_kubernetes_validate_strict_rejects_an_unknown_field(tmp_path):
    """The validation can fail: a misspelt field is refused."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n"
        "spec: {ports: [{port: 80, targetport: 8080}]}\n"
    )
    result = subprocess.run(
        [tool("kubernetes-validate"), "--strict", "--quiet", "-k", KUBERNETES_VERSIONS[0], str(bad)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0


def holds_monitoring_templates(document: dict) -> bool:
    """The PrometheusRule (Prometheus' alert templates) and the Grafana dashboard
    ConfigMap (legend templates) hold "{{" by design."""
    labels = document.get("metadata", {}).get("labels") or {}
    return document["kind"] == "PrometheusRule" or (document["kind"] == "ConfigMap" and "grafana_dashboard" in labels)


@pytest.fixture(scope="session")
def checkov_files(targets, tmp_path_factory) -> dict[str, Path]:
    """The targets as checkov can read them. checkov skips a whole file holding "{{",
    taking it for an unrendered Helm template; it has no check for the two kinds of
    documents that hold such text on purpose, so they stay out, and no other may."""
    directory = tmp_path_factory.mktemp("checkov-targets")
    files = {}
    for name, documents in targets.items():
        text = yaml.safe_dump_all([d for d in documents if not holds_monitoring_templates(d)], sort_keys=False)
        assert "{{" not in text, f"{name}: checkov would skip this file as an unrendered template"
        files[name] = directory / f"{name}.yaml"
        files[name].write_text(text)
    return files


@pytest.fixture(scope="session")
def checkov_report(checkov_files, tmp_path_factory) -> dict:
    """One offline checkov run over every target (--skip-download: no Prisma Cloud)."""
    environment = {
        **os.environ,
        "BC_SKIP_MAPPING": "TRUE",
        "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
        "LOG_LEVEL": "WARNING",
    }
    environment.pop("BC_API_KEY", None)
    result = subprocess.run(
        [tool("checkov"), "--framework", "kubernetes", "--skip-download", "--compact", "--output", "json",
         "--file", *map(str, checkov_files.values())],
        capture_output=True, text=True, timeout=300, env=environment,
        cwd=tmp_path_factory.mktemp("checkov"),
    )
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["parsing_errors"] == 0, report["summary"]
    return report


def checks_for(report: dict, kind: str, target: str) -> list[dict]:
    return [c for c in report["results"].get(kind, []) if Path(c["file_path"]).stem == target]


@pytest.mark.parametrize("target", TARGETS)
def test_checkov_reports_no_failed_check(target, checkov_report):
    failed = [f"{c['resource']}: {c['check_id']} {c['check_name']}" for c in checks_for(checkov_report, "failed_checks", target)]
    assert not failed, failed
    assert checks_for(checkov_report, "passed_checks", target), "checkov checked nothing"


@pytest.mark.parametrize("target", TARGETS)
def test_checkov_skips_are_inline_with_a_reason(target, checkov_report):
    for check in checks_for(checkov_report, "skipped_checks", target):
        reason = (check.get("check_result") or {}).get("suppress_comment") or ""
        assert len(reason.split()) >= 5, f"{check['resource']}: {check['check_id']} skipped without a reason"
