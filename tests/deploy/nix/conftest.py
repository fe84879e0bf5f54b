"""Shared fixtures for the checks of the Nix flake and the CI workflow.

`nix build` cannot run here (no network for the inputs), so these tests check what can
be checked without it: the Nix files parse, lint and format clean, the lock file pins
exactly the reviewed inputs, the pure parts of the flake evaluate to what the chart
expects, and the GitHub workflow passes actionlint and zizmor.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def tools_bin() -> Path:
    """The directory of the cargo-built tools, installed once by scripts/install-nix-tools."""
    result = subprocess.run(
        [str(REPO / "scripts" / "install-nix-tools")],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if result.returncode != 0:
        pytest.fail(f"scripts/install-nix-tools failed:\n{result.stderr}")
    return Path(result.stdout.strip().splitlines()[-1])


def find_tool(name: str, *extra_dirs: Path) -> str | None:
    """A tool next to this Python (the test venv), in extra_dirs, or on PATH."""
    for directory in (Path(sys.executable).parent, *extra_dirs):
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


@pytest.fixture(scope="session")
def nix_instantiate(tools_bin: Path) -> str:
    tool = find_tool("nix-instantiate")
    if tool is None:
        pytest.fail("nix-instantiate not found: apt-get install nix-bin (scripts/install-nix-tools does)")
    return tool


@pytest.fixture(scope="session")
def nix_eval(nix_instantiate: str):
    """Evaluate a Nix expression (strictly) in the repository and return it as JSON."""

    def evaluate(expr: str):
        result = subprocess.run(
            [nix_instantiate, "--eval", "--strict", "--json", "--expr", expr],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"nix-instantiate --eval failed:\n{result.stderr}"
        return json.loads(result.stdout)

    return evaluate


def nix_files() -> list[Path]:
    skip = {".git", "target", ".venv", "node_modules", ".direnv", ".cache"}
    found = []
    for path in sorted(REPO.rglob("*.nix")):
        if not skip.intersection(path.relative_to(REPO).parts):
            found.append(path)
    return found
