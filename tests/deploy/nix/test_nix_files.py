"""Every Nix file parses, has no dead code, and has Alejandra's format.

statix is on no registry this suite can install from (crates.io's `statix` is an unrelated
crate), so it runs where Nix is: `nix flake check` (the `nix-lint` check) and `nix develop`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import REPO, find_tool, nix_files

NIX_FILES = nix_files()


def test_the_flake_and_its_modules_are_all_found():
    names = {p.relative_to(REPO).as_posix() for p in NIX_FILES}
    assert {"flake.nix", "nix/image.nix", "nix/image-settings.nix", "nix/manifests.nix",
            "nix/rust.nix", "nix/source.nix"} <= names


@pytest.mark.parametrize("path", NIX_FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_nix_file_parses(path: Path, nix_instantiate: str):
    result = subprocess.run([nix_instantiate, "--parse", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def run_lint(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_deadnix_finds_no_unused_bindings(tools_bin: Path):
    deadnix = find_tool("deadnix", tools_bin)
    assert deadnix, "deadnix missing: scripts/install-nix-tools installs it"
    result = run_lint([deadnix, "--fail", "--no-underscore", *map(str, NIX_FILES)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_alejandra_leaves_every_file_unchanged(tools_bin: Path):
    # Inside nix develop the real CLI is on PATH; elsewhere the same library through
    # scripts/nix-tools/alejandra-check.
    alejandra = find_tool("alejandra-check", tools_bin) or find_tool("alejandra")
    assert alejandra, "alejandra-check missing: scripts/install-nix-tools builds it"
    result = run_lint([alejandra, "--check", *map(str, NIX_FILES)])
    assert result.returncode == 0, result.stdout + result.stderr
