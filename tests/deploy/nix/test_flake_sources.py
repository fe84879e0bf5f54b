"""What each derivation of the flake is built from, and how the manifests are rendered.

nix/source.nix and nix/manifests.nix are evaluated for real against a small stand-in for
nixpkgs' lib.fileset that records each file set instead of copying it, so the test sees
which paths the Rust build reads: a change to the chart, Kustomize, Terraform or the
docs must not rebuild the binary.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path

import pytest

from conftest import REPO

SAMPLE_FILES = ["api.rs", "avatar.png", "test_chart.py", "conftest.cpython-311.pyc", "main.tf", "x.nix"]

FILESET_STUB = """
let
  norm = x: if builtins.isList x then x else [{ path = toString x; }];
  sample = map (name: { inherit name; hasExt = ext: builtins.match ".*\\\\.${ext}" name != null; })
    [ %s ];
  fileset = {
    toSource = { root, fileset }: { root = toString root; entries = norm fileset; };
    unions = sets: builtins.concatLists (map norm sets);
    maybeMissing = p: [{ path = toString p; optional = true; }];
    fileFilter = pred: p: [{ path = toString p; accepts = map (f: f.name) (builtins.filter pred sample); }];
    difference = a: b: map (e: e // { minus = map (x: x.path) (norm b); }) (norm a);
  };
in
  import ./nix/source.nix { lib = { inherit fileset; }; root = ./.; }
""" % " ".join(f'"{n}"' for n in SAMPLE_FILES)


@pytest.fixture(scope="module")
def sources(nix_eval) -> dict:
    return nix_eval(FILESET_STUB)


def relative(entry: dict) -> str:
    return Path(entry["path"]).relative_to(REPO).as_posix()


def test_rust_build_reads_only_the_crate(sources):
    paths = {relative(e) for e in sources["rust"]["entries"]}
    assert {"Cargo.toml", "Cargo.lock", "src", "tests", "crates"} <= paths
    for unrelated in ("chart", "kustomize", "terraform", "docs", "scripts", ".github", "flake.nix", "nix", "README.md"):
        assert not any(p == unrelated or p.startswith(unrelated + "/") for p in paths), unrelated


def test_rust_build_takes_workspace_members_without_the_fuzz_target(sources):
    crates = next(e for e in sources["rust"]["entries"] if relative(e) == "crates")
    assert [Path(p).relative_to(REPO).as_posix() for p in crates["minus"]] == ["crates/imaging/fuzz"]


def test_rust_build_takes_tests_without_the_python_suites(sources):
    tests = next(e for e in sources["rust"]["entries"] if relative(e) == "tests")
    assert tests["accepts"] == ["api.rs", "avatar.png", "main.tf", "x.nix"]
    assert [Path(p).relative_to(REPO).as_posix() for p in tests["minus"]] == ["tests/deploy"]


def test_manifests_read_only_the_chart_and_kustomize(sources):
    assert {relative(e) for e in sources["deploy"]["entries"]} == {"chart", "kustomize"}


def test_terraform_fmt_reads_only_terraform_files(sources):
    (entry,) = sources["terraform"]["entries"]
    assert relative(entry) == "terraform"
    assert entry["accepts"] == ["main.tf"]


def test_nix_lint_reads_every_nix_file_of_the_flake(sources):
    entries = sources["nix"]["entries"]
    assert {relative(e) for e in entries} == {"flake.nix", "nix"}
    assert next(e for e in entries if relative(e) == "nix")["accepts"] == ["x.nix"]


@pytest.fixture(scope="module")
def nix_render(nix_eval) -> dict:
    stub = ("import ./nix/manifests.nix { lib = { filterAttrs = pred: set: builtins.removeAttrs set"
            " (builtins.filter (n: !(pred n set.${n})) (builtins.attrNames set)); };"
            " runCommand = null; kubernetes-helm = null; kustomize = null; python3 = null;"
            " root = ./.; src = null; }")
    return nix_eval(f"let m = {stub}; in {{ inherit (m) render overlays; }}")


def render_script():
    path = REPO / "scripts" / "render-manifests"
    if not path.exists():
        pytest.fail("scripts/render-manifests is missing")
    loader = importlib.machinery.SourceFileLoader("render_manifests", str(path))
    spec = importlib.util.spec_from_loader("render_manifests", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_nix_renders_the_chart_as_the_committed_base_was_rendered(nix_render):
    script = render_script()
    render = nix_render["render"]
    assert render["release"] == script.RELEASE_NAME
    assert render["namespace"] == script.NAMESPACE
    assert render["kubeVersion"].lstrip("v") == script.KUBE_VERSION.lstrip("v")
    assert sorted(render["apiVersions"]) == sorted(script.API_VERSIONS)


def test_manifests_build_every_overlay(nix_render):
    overlays_dir = REPO / "kustomize" / "overlays"
    expected = sorted(p.name for p in overlays_dir.iterdir() if p.is_dir()) if overlays_dir.is_dir() else []
    assert nix_render["overlays"] == expected
    assert {"minikube", "eks"} <= set(expected) or not overlays_dir.is_dir()
