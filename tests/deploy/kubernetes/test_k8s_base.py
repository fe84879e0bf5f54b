"""kustomize/base (and the ingress component) is the chart's render, committed."""

import shutil

import pytest
import yaml

from k8s_helpers import ROOT, render


def test_committed_base_matches_a_fresh_render():
    problems = render.differences(render.outputs())
    assert not problems, "run `make manifests`:\n" + "\n".join(problems)


@pytest.fixture
def fresh_base_copy(tmp_path, monkeypatch):
    """A freshly rendered base in a scratch directory the render module points at."""
    copy = tmp_path / "base"
    files = {copy / path.relative_to(render.BASE_DIR): text for path, text in render.outputs().items()
             if path.is_relative_to(render.BASE_DIR)}
    copy.mkdir()
    for path, text in files.items():
        path.write_text(text)
    monkeypatch.setattr(render, "BASE_DIR", copy)
    monkeypatch.setattr(render, "INGRESS_COMPONENT_DIR", tmp_path / "absent")
    monkeypatch.setattr(render, "ROOT", tmp_path)
    assert render.differences(files) == []
    return copy, files


def test_drift_check_notices_an_edited_base(fresh_base_copy):
    """The comparison can fail: a hand edit of a committed file is reported."""
    copy, files = fresh_base_copy
    deployment = copy / "deployment.yaml"
    document = yaml.safe_load(deployment.read_text())
    document["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 5
    deployment.write_text(yaml.safe_dump(document))
    assert render.differences(files) == ["base/deployment.yaml: differs from a fresh render"]


def test_drift_check_ignores_layout_and_comments(fresh_base_copy):
    copy, files = fresh_base_copy
    service = copy / "service.yaml"
    service.write_text("# reformatted\n" + yaml.safe_dump(yaml.safe_load(service.read_text()), sort_keys=True, indent=4))
    assert render.differences(files) == []


def test_drift_check_notices_a_file_the_chart_no_longer_produces(fresh_base_copy):
    copy, files = fresh_base_copy
    (copy / "leftover.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    assert render.differences(files) == ["base/leftover.yaml: not produced by the chart"]


def test_base_kustomization_lists_every_rendered_file():
    kustomization = yaml.safe_load((render.BASE_DIR / "kustomization.yaml").read_text())
    on_disk = sorted(p.name for p in render.BASE_DIR.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(kustomization["resources"]) == on_disk
    assert kustomization["namespace"] == "roster"


def test_base_holds_no_helm_hook():
    for path in render.BASE_DIR.glob("*.yaml"):
        for document in yaml.safe_load_all(path.read_text()):
            assert not render.is_hook(document or {}), path.name


def test_render_pins_kubernetes_and_api_versions():
    assert render.KUBE_VERSION.startswith("v1.")
    assert {"autoscaling/v2", "policy/v1", "networking.k8s.io/v1"} <= set(render.API_VERSIONS)


@pytest.mark.parametrize("target", ["manifests", "check-manifests"])
def test_makefile_has_the_render_targets(target):
    makefile = (ROOT / "Makefile").read_text()
    assert f"\n{target}:" in makefile
    assert "scripts/render-manifests" in makefile
