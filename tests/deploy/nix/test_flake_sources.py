"""What each derivation of the flake is built from, and how the manifests are rendered.

nix/source.nix is evaluated for real, with lib.cleanSourceWith replaced by a function that
returns its arguments. Its filter (what builtins.path applies when the source is copied
into the store) is then called on every file `git ls-files` lists and on every directory
above it, as the copy walks the tree. A flake's source is its git tree, so the result is
exactly the set of files each derivation sees.

What the Rust build must and may read is worked out independently, from `cargo metadata`
(the workspace members and their targets) and the Rust sources (include_str! and friends).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import re
import subprocess
from pathlib import PurePosixPath

import pytest

from conftest import REPO

SELECT = r"""
{ json }:
let
  entries = builtins.fromJSON json;
  lib = {
    removePrefix = prefix: s: let
      n = builtins.stringLength prefix;
    in
      if builtins.substring 0 n s == prefix
      then builtins.substring n (builtins.stringLength s - n) s
      else s;
    cleanSourceWith = args: args;
    inherit (builtins) mapAttrs;
  };
  sources = import ./nix/source.nix { inherit lib; root = ./.; };
  abs = src: rel: "${toString src.src}/${rel}";
  keeps = src: entry:
    builtins.all (dir: src.filter (abs src dir) "directory") entry.dirs
    && src.filter (abs src entry.path) "regular";
in
  builtins.mapAttrs (_: src: map (e: e.path) (builtins.filter (keeps src) entries)) sources
"""


def tracked_files() -> list[str]:
    result = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    return sorted(p for p in result.stdout.decode().split("\0") if p)


def directories_above(path: str) -> list[str]:
    parts = PurePosixPath(path).parts[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


@pytest.fixture(scope="module")
def tracked() -> list[str]:
    files = tracked_files()
    assert "Cargo.lock" in files and "flake.nix" in files, "git ls-files does not list the repository"
    return files


@pytest.fixture(scope="module")
def sources(nix_instantiate, tracked) -> dict[str, set[str]]:
    """Each source set of nix/source.nix, as the set of tracked files it copies."""
    entries = json.dumps([{"path": p, "dirs": directories_above(p)} for p in tracked])
    result = subprocess.run(
        [nix_instantiate, "--eval", "--strict", "--json", "--expr", SELECT, "--argstr", "json", entries],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return {name: set(paths) for name, paths in json.loads(result.stdout).items()}


@pytest.fixture(scope="module")
def workspace() -> dict:
    result = subprocess.run(
        ["cargo", "metadata", "--no-deps", "--format-version", "1", "--locked", "--offline"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def under(directory: str, path: str) -> bool:
    return directory in ("", ".") or path == directory or path.startswith(directory.rstrip("/") + "/")


def relative(path: str) -> str:
    return PurePosixPath(path).relative_to(REPO.as_posix()).as_posix()


@pytest.fixture(scope="module")
def rust_read(workspace, tracked) -> dict[str, set[str]]:
    """What cargo must read ("needed") and may read ("allowed"), from cargo metadata.

    A workspace member other than the root is its whole directory, minus any package
    inside it that is not a member (the fuzz target). The root package is its manifest,
    Cargo.lock and the directories of its targets' entry points (the module trees). The
    needed files are every Rust source in those, what the sources include_str!/
    include_bytes!, and every file of the non-root members.
    """
    members = {p["id"] for p in workspace["packages"]} & set(workspace["workspace_members"])
    packages = [p for p in workspace["packages"] if p["id"] in members]
    root = next(p for p in packages if PurePosixPath(relative(p["manifest_path"])).parent.as_posix() == ".")
    member_dirs = [PurePosixPath(relative(p["manifest_path"])).parent.as_posix() for p in packages if p is not root]
    other_packages = [PurePosixPath(f).parent.as_posix() for f in tracked
                      if PurePosixPath(f).name == "Cargo.toml" and f != "Cargo.toml"
                      and PurePosixPath(f).parent.as_posix() not in member_dirs]
    target_dirs = sorted({PurePosixPath(relative(t["src_path"])).parent.as_posix() for t in root["targets"]})

    def in_member(path: str) -> bool:
        return any(under(d, path) for d in member_dirs) and not any(under(o, path) for o in other_packages)

    allowed = {f for f in tracked
               if f in ("Cargo.toml", "Cargo.lock") or in_member(f) or any(under(d, f) for d in target_dirs)}
    needed = {"Cargo.toml", "Cargo.lock"} | {f for f in allowed if f.endswith(".rs") or in_member(f)}
    include = re.compile(r'include_(?:str|bytes)!\(\s*"([^"]+)"\s*\)')
    for f in sorted(needed):
        if f.endswith(".rs"):
            for target in include.findall((REPO / f).read_text()):
                needed.add((PurePosixPath(f).parent / target).as_posix())
    return {"needed": needed, "allowed": allowed, "target_dirs": set(target_dirs), "members": set(member_dirs)}


def test_rust_build_reads_every_file_cargo_needs(sources, rust_read):
    missing = rust_read["needed"] - sources["rust"]
    assert not missing, f"the Rust source lacks {sorted(missing)}"
    # The imaging tests run its fixture scripts, and the users page is compiled in.
    assert {"crates/imaging/tests/fixtures/make_fixtures.py", "src/http/page/index.html"} <= sources["rust"]


def test_rust_build_reads_nothing_beyond_the_workspace(sources, rust_read):
    extra = sources["rust"] - rust_read["allowed"]
    assert not extra, f"the Rust source takes files cargo never reads: {sorted(extra)}"
    assert rust_read["target_dirs"] == {"src", "tests/api"}, rust_read["target_dirs"]


def test_python_test_pins_do_not_rebuild_roster(sources, tracked):
    pins = {"tests/requirements.in", "tests/requirements.txt"}
    assert pins <= set(tracked)
    assert not pins & sources["rust"]
    python_suites = {f for f in tracked if f.startswith("tests/") and not f.endswith(".rs")}
    assert python_suites, "tests/ has no Python suites any more: revisit this test"
    assert not python_suites & sources["rust"], sorted(python_suites & sources["rust"])


def test_rust_build_leaves_out_the_fuzz_workspace_and_the_deployment(sources, tracked):
    for prefix in ("crates/imaging/fuzz/", "chart/", "kustomize/", "terraform/", "docs/", "scripts/",
                   ".github/", "nix/", "bench/"):
        assert any(f.startswith(prefix) for f in tracked), prefix
        assert not any(f.startswith(prefix) for f in sources["rust"]), prefix
    assert not {"flake.nix", "flake.lock", "README.md", "deny.toml", "rust-toolchain.toml"} & sources["rust"]


def test_deny_reads_the_rust_build_and_its_policy(sources):
    assert sources["deny"] == sources["rust"] | {"deny.toml"}


def test_manifests_read_only_the_chart_and_kustomize(sources, tracked):
    assert sources["deploy"] == {f for f in tracked if f.startswith(("chart/", "kustomize/"))}


def test_terraform_fmt_reads_only_terraform_files(sources, tracked):
    expected = {f for f in tracked if f.startswith("terraform/") and f.endswith((".tf", ".tfvars"))}
    assert expected and sources["terraform"] == expected
    assert "terraform/environments/aws/backend.tf.example" not in sources["terraform"]


def test_nix_lint_reads_every_nix_file_of_the_flake(sources, tracked):
    assert sources["nix"] == {"flake.nix"} | {f for f in tracked if f.startswith("nix/") and f.endswith(".nix")}


def test_toml_format_check_reads_every_toml_file(sources, tracked):
    expected = {f for f in tracked if f.endswith(".toml")}
    assert {"Cargo.toml", "deny.toml", "rust-toolchain.toml", "crates/imaging/Cargo.toml"} <= expected
    assert sources["toml"] == expected


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
