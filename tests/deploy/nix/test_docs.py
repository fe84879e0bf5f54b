"""docs/nix.md tells how to run, build, load, check and develop with the flake."""

from __future__ import annotations

import pytest

from conftest import REPO

COMMANDS = [
    "nix run",
    "nix build .#image",
    "docker load < result",
    "minikube image load",
    "nix build .#manifests",
    "nix flake check",
    "nix develop",
    "nix flake update",
    "nix flake lock --update-input advisory-db",
    "nix build .#sbom",
    "cargo deny --locked --workspace check licenses bans sources",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_nix_docs_show_the_command(command):
    assert command in (REPO / "docs" / "nix.md").read_text()
