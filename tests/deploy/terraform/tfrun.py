"""Running Terraform for real, offline: the hashicorp/aws 5.100.0 filesystem mirror at
/opt/tf-plugins, a CLI configuration of the tests' own pointing at it, a scratch copy of
terraform/ per test module (state, lock files and .terraform/ never touch the tree), and
a moto server the tests start and stop by PID.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
TERRAFORM = REPO / "terraform"
STANDINS = Path(__file__).resolve().parent / "standins"
MOTO_SERVER = REPO / "tests" / "support" / "moto_server.py"

MIRROR = Path("/opt/tf-plugins")
MIRRORED_PROVIDER = MIRROR / "registry.terraform.io" / "hashicorp" / "aws" / "5.100.0" / "linux_amd64"

CLI_CONFIG = f"""# Written by tests/deploy/terraform: install providers from the offline mirror only.
provider_installation {{
  filesystem_mirror {{
    path    = "{MIRROR}"
    include = ["registry.terraform.io/*/*"]
  }}
}}
"""


def require_mirror() -> None:
    if not any(MIRRORED_PROVIDER.glob("terraform-provider-aws_*")):
        pytest.fail(
            f"{MIRRORED_PROVIDER}/terraform-provider-aws_* is missing: these tests run Terraform against "
            f"the hashicorp/aws 5.100.0 filesystem mirror at {MIRROR}, which this machine does not have",
            pytrace=False,
        )


def terraform_binary() -> str:
    found = shutil.which("terraform")
    assert found, "terraform is required for these tests"
    return found


@dataclass
class Terraform:
    """A scratch copy of terraform/ and the environment Terraform runs in there."""

    root: Path  # the copy's terraform/ directory
    env: dict[str, str]

    @classmethod
    def scratch(cls, tmp: Path) -> "Terraform":
        require_mirror()
        cli_config = tmp / "terraform.tfrc"
        cli_config.write_text(CLI_CONFIG)
        root = tmp / "terraform"
        shutil.copytree(
            TERRAFORM,
            root,
            ignore=shutil.ignore_patterns(".terraform", "*.tfstate", "*.tfstate.*", ".terraform.lock.hcl", "*.tfplan"),
        )
        env = {
            **os.environ,
            "TF_CLI_CONFIG_FILE": str(cli_config),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
        }
        for inherited in ("TF_DATA_DIR", "TF_PLUGIN_CACHE_DIR", "TF_WORKSPACE", "TF_LOG", "TF_LOG_PATH"):
            env.pop(inherited, None)
        return cls(root=root, env=env)

    def dir(self, relative: str) -> Path:
        return self.root / relative

    def run(self, relative: str, *args: str, extra_env: dict[str, str] | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
        return subprocess.run(
            [terraform_binary(), *args],
            cwd=self.dir(relative),
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def ok(self, relative: str, *args: str, **kw) -> subprocess.CompletedProcess:
        result = self.run(relative, *args, **kw)
        assert result.returncode == 0, f"terraform {' '.join(args)} in {relative} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        return result

    def outputs(self, relative: str, **kw) -> dict:
        raw = json.loads(self.ok(relative, "output", "-json", **kw).stdout)
        return {name: entry["value"] for name, entry in raw.items()}

    def plan_json(self, relative: str, plan_file: str, **kw) -> dict:
        return json.loads(self.ok(relative, "show", "-json", plan_file, **kw).stdout)


class Moto:
    """tests/support/moto_server.py on 127.0.0.1, owned by this test process."""

    def __init__(self, *, enforce_iam: bool):
        command = [sys.executable, str(MOTO_SERVER)]
        if enforce_iam:
            command.append("--enforce-iam")
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        first = self.process.stdout.readline().split()
        assert first[:1] == ["PORT"], f"moto said {first!r}"
        self.endpoint = f"http://127.0.0.1:{first[1]}"
        self.admin: tuple[str, str] | None = None
        if enforce_iam:
            second = self.process.stdout.readline().split()
            assert second[:1] == ["ADMIN"], f"moto said {second!r}"
            key, secret = second[1].split(":", 1)
            self.admin = (key, secret)

    def stop(self) -> None:
        # Closing stdin makes the server exit; the PID is ours, so end it if it lingers.
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def client(service: str, endpoint: str, credentials: tuple[str, str]):
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=credentials[0],
        aws_secret_access_key=credentials[1],
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )
