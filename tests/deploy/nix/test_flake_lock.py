"""flake.lock pins exactly the reviewed inputs (the network for `nix flake lock` is not here)."""

from __future__ import annotations

import json
import re

import pytest

from conftest import REPO

# The reviewed pins: input -> (owner, repo, ref, rev, narHash, lastModified). The first
# three are shared/NIX-PINS.md's.
SHARED_PINS = {
    "nixpkgs": ("NixOS", "nixpkgs", "nixos-26.05", "531670d871c0e29724a02f3cbcac170adc65b58c",
                "sha256-ODZkEK9Gy50yg6h98u7KkitZ3oc/uuTFK00bh1CRdNA=", 1785734586),
    "crane": ("ipetkov", "crane", None, "b8d87f76ea4e4b6f30f2e6eaf3fbb60ff7d87167",
              "sha256-H++/2dMt+5+tErKU+t5z6c4Xedvj9w+UPQYrpygwIPw=", 1785631643),
    "rust-overlay": ("oxalica", "rust-overlay", None, "292249772330735cb32b90dedf44feddec40e7d0",
                     "sha256-DauSP0ACycrq3MEEmDz/Scsxhs9TPBTexwKbTuE8Bw8=", 1785736145),
}
# The RustSec advisory database (flake = false), 2026-08-21. narHash: `git archive REV | tar
# -x -C DIR` of github:rustsec/advisory-db, then `nix hash path DIR` (the method reproduces
# crane's pin above); lastModified: the commit's committer date.
NON_FLAKE_PINS = {
    "advisory-db": ("rustsec", "advisory-db", None, "bf5c0d245a92671908518d7e765914d437954ed6",
                    "sha256-6JNCbYbrWi2r0+kVgXtVi7Vu6gSuSjmyifCSWyZaS9o=", 1787293720),
}
PINS = {**SHARED_PINS, **NON_FLAKE_PINS}


@pytest.fixture(scope="module")
def lock() -> dict:
    return json.loads((REPO / "flake.lock").read_text())


@pytest.fixture(scope="module")
def flake_inputs(nix_eval) -> dict:
    """flake.nix's inputs, as Nix reads them."""
    return nix_eval("(import ./flake.nix).inputs")


def parse_github_url(url: str) -> tuple[str, str, str | None]:
    match = re.fullmatch(r"github:([^/]+)/([^/]+)(?:/([^/?]+))?", url)
    assert match, f"not a github: flake reference: {url}"
    return match.group(1), match.group(2), match.group(3)


def test_lock_file_is_version_7(lock):
    assert lock["version"] == 7
    assert lock["root"] == "root"


def test_flake_declares_the_pinned_inputs(flake_inputs):
    assert set(flake_inputs) == set(PINS)
    for name, (owner, repo, ref, *_rest) in PINS.items():
        assert parse_github_url(flake_inputs[name]["url"]) == (owner, repo, ref), name


def test_every_flake_input_has_a_root_entry_and_a_node(lock, flake_inputs):
    root_inputs = lock["nodes"][lock["root"]]["inputs"]
    assert set(root_inputs) == set(flake_inputs)
    for name in flake_inputs:
        assert root_inputs[name] in lock["nodes"], name


def test_lock_holds_no_node_beyond_the_pins(lock):
    assert set(lock["nodes"]) == {"root", *PINS}


@pytest.mark.parametrize("name", sorted(PINS))
def test_input_is_locked_at_the_pinned_revision(lock, name):
    owner, repo, ref, rev, nar_hash, last_modified = PINS[name]
    node = lock["nodes"][lock["nodes"]["root"]["inputs"][name]]
    assert node["locked"] == {
        "type": "github", "owner": owner, "repo": repo, "rev": rev,
        "narHash": nar_hash, "lastModified": last_modified,
    }
    original = {"type": "github", "owner": owner, "repo": repo}
    if ref:
        original["ref"] = ref
    assert node["original"] == original
    if name in NON_FLAKE_PINS:
        assert node.get("flake") is False, f"{name} is not a flake: its lock node says flake = false"
    else:
        assert "flake" not in node, name


def test_advisory_db_is_a_plain_source_input(flake_inputs, lock):
    assert flake_inputs["advisory-db"]["flake"] is False
    assert "inputs" not in lock["nodes"]["advisory-db"]


def test_lock_original_matches_the_url_in_flake_nix(lock, flake_inputs):
    for name, spec in flake_inputs.items():
        owner, repo, ref = parse_github_url(spec["url"])
        original = lock["nodes"][name]["original"]
        assert (original["owner"], original["repo"], original.get("ref")) == (owner, repo, ref), name


def test_rust_overlay_follows_the_root_nixpkgs(lock, flake_inputs):
    assert flake_inputs["rust-overlay"]["inputs"]["nixpkgs"]["follows"] == "nixpkgs"
    assert lock["nodes"]["rust-overlay"]["inputs"] == {"nixpkgs": ["nixpkgs"]}
    # crane has no inputs of its own, and nothing else brings a second nixpkgs.
    assert "inputs" not in lock["nodes"]["crane"]
    assert "inputs" not in lock["nodes"]["nixpkgs"]


def test_pins_agree_with_the_shared_pin_list():
    doc = REPO.parent / "shared" / "NIX-PINS.md"
    if not doc.exists():
        pytest.fail("shared/NIX-PINS.md is not beside this checkout")
    text = doc.read_text()
    for name, (_owner, _repo, _ref, rev, nar_hash, last_modified) in SHARED_PINS.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| {name} |"))
        assert rev in row and nar_hash in row and str(last_modified) in row, name
