"""environments/aws with the real provider, as far as this machine allows.

Its two registry modules (terraform-aws-modules/vpc 6.5.1, eks 21.11.0) cannot be
downloaded and the Helm provider is not in the offline mirror. So a scratch copy is
changed in exactly three ways, and everything else is Terraform's own work:
- the two module sources point at stand-ins (tests/deploy/terraform/standins) that
  declare the very input and output names of those releases, record the inputs they are
  given in a `terraform_data` (so the plan shows what the environment passes, evaluated)
  and return placeholder outputs;
- helm.tf (the Helm provider and the controllers' releases) is left out: it is held
  against the hashicorp/helm 3.1 schema and read by test_terraform.py instead;
- override files point the provider at moto with dummy credentials and admit the
  mirror's 5.100.0 (the real constraint is ~> 6.25, checked statically).
Then `init`, `validate` and `plan` run for real (data sources are read from moto).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tfrun import REPO, STANDINS, Terraform, client

AWS = "environments/aws"
SCRIPT = REPO / "scripts" / "terraform-outputs-to-overlay"
OVERLAY_KEYS = ["ROSTER_TABLE", "ROSTER_BUCKET", "ROSTER_AVATAR_BASE_URL", "AWS_REGION", "ROSTER_ROLE_ARN",
                "ROSTER_CERTIFICATE_ARN", "ROSTER_HOSTNAME"]
REQUIRED_VARS = {
    "avatar_bucket_name": "roster-avatars-123456789012",
    "hostname": "roster.example.com",
    "cluster_endpoint_public_access_cidrs": '["203.0.113.0/24"]',
    "github_repository": "acme/roster",
    "create_github_oidc_provider": "false",
    "terraform_state_bucket": "acme-terraform-state",
}
# Every service the configuration could call, so nothing can reach AWS.
SERVICES = ["acm", "cloudfront", "dynamodb", "ec2", "ecr", "eks", "iam", "kms", "logs", "route53", "s3", "sts"]


def providers_override(endpoint: str) -> str:
    endpoints = "\n".join(f'    {service} = "{endpoint}"' for service in SERVICES)
    return f"""provider "aws" {{
  access_key                  = "test"
  secret_key                  = "test"
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true

  endpoints {{
{endpoints}
  }}
}}
"""


VERSIONS_OVERRIDE = """terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100.0, < 7.0.0"
    }
  }
}
"""


@pytest.fixture(scope="module")
def moto(plain_moto):
    # The account's GitHub OIDC provider exists already (create_github_oidc_provider =
    # false), so the role's trust policy is known at plan time and can be read.
    client("iam", plain_moto.endpoint, ("test", "test")).create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40]
    )
    return plain_moto


@pytest.fixture(scope="module")
def terraform(tmp_path_factory, moto) -> Terraform:
    tmp = tmp_path_factory.mktemp("tf-aws")
    tf = Terraform.scratch(tmp)
    (tmp / "standins").mkdir()
    for module in ("vpc", "eks"):
        (tmp / "standins" / module).mkdir()
        (tmp / "standins" / module / "main.tf").write_text((STANDINS / module / "main.tf").read_text())
    env = tf.dir(AWS)
    (env / "helm.tf").unlink()
    main = (env / "main.tf").read_text()
    for module in ("vpc", "eks"):
        main, swapped = re.subn(
            rf'source  = "terraform-aws-modules/{module}/aws"\n  version = "[0-9.]+"\n',
            f'source = "../../../standins/{module}"\n',
            main,
        )
        assert swapped == 1, f"module {module}'s registry source is not where the stand-in goes"
    (env / "main.tf").write_text(main)
    (env / "providers_override.tf").write_text(providers_override(moto.endpoint))
    (env / "versions_override.tf").write_text(VERSIONS_OVERRIDE)
    tf.ok(AWS, "init", "-backend=false", "-input=false", "-no-color")
    return tf


def var_args(**overrides: str) -> list[str]:
    values = {**REQUIRED_VARS, **overrides}
    return [f"-var={name}={value}" for name, value in values.items()]


def plan(terraform: Terraform, name: str, **overrides: str) -> dict:
    terraform.ok(AWS, "plan", "-input=false", "-no-color", "-lock=false", f"-out={name}.tfplan", *var_args(**overrides))
    return terraform.plan_json(AWS, f"{name}.tfplan")


@pytest.fixture(scope="module")
def prod(terraform) -> dict:
    return plan(terraform, "prod")


@pytest.fixture(scope="module")
def staging(terraform) -> dict:
    return plan(terraform, "staging", environment="staging")


def change(plan_json: dict, address: str) -> dict:
    found = [rc for rc in plan_json["resource_changes"] if rc["address"] == address]
    assert len(found) == 1, f"{address} not planned; planned: {[rc['address'] for rc in plan_json['resource_changes']]}"
    return found[0]["change"]


def inputs(plan_json: dict, module: str) -> dict:
    return change(plan_json, f"module.{module}.terraform_data.inputs")["after"]["input"]


def output(plan_json: dict, name: str) -> tuple[object, object]:
    entry = plan_json["output_changes"][name]
    return entry["after"], entry.get("after_unknown")


# ---------------------------------------------------------------------------


def test_validate_passes_with_the_real_provider_and_the_modules_real_interfaces(terraform):
    result = terraform.ok(AWS, "validate", "-json", "-no-color")
    report = json.loads(result.stdout)
    assert report["valid"] is True and report["error_count"] == 0, report


def test_validate_catches_an_argument_the_registry_module_does_not_have(terraform):
    main = terraform.dir(AWS) / "main.tf"
    original = main.read_text()
    main.write_text(original.replace("  enable_irsa = true\n", "  enable_irsa_typo = true\n", 1))
    try:
        result = terraform.run(AWS, "validate", "-no-color")
    finally:
        main.write_text(original)
    assert result.returncode != 0 and 'An argument named "enable_irsa_typo" is not expected here' in result.stderr, result.stderr


def test_zones_come_from_their_ids(prod, moto):
    # moto maps use1-az1, use1-az2, use1-az4 to us-east-1b, c, d (names differ per account).
    assert inputs(prod, "vpc")["azs"] == ["us-east-1b", "us-east-1c", "us-east-1d"]
    assert output(prod, "availability_zones")[0] == ["us-east-1b", "us-east-1c", "us-east-1d"]


def test_production_gets_one_nat_gateway_per_zone(prod):
    vpc = inputs(prod, "vpc")
    assert (vpc["enable_nat_gateway"], vpc["single_nat_gateway"], vpc["one_nat_gateway_per_az"]) == (True, False, True)
    assert len(vpc["public_subnets"]) == len(vpc["azs"]) == 3, "one_nat_gateway_per_az needs a public subnet per zone"
    # The stand-in counts gateways and route tables the way the module's main.tf does.
    assert len(output(prod, "nat_gateway_ids")[0]) == 3


def test_other_environments_default_to_one_nat_gateway(staging):
    vpc = inputs(staging, "vpc")
    assert (vpc["single_nat_gateway"], vpc["one_nat_gateway_per_az"]) == (True, False)
    assert len(output(staging, "nat_gateway_ids")[0]) == 1


def test_production_refuses_a_single_nat_gateway(terraform):
    result = terraform.run(AWS, "plan", "-input=false", "-no-color", "-lock=false", *var_args(single_nat_gateway="true"))
    assert result.returncode != 0
    assert "single_nat_gateway = true makes one zone a single point of failure" in result.stderr, result.stderr


@pytest.mark.parametrize("scenario", ["prod", "staging"])
def test_s3_and_dynamodb_gateway_endpoints_serve_every_private_route_table(prod, staging, scenario):
    planned = {"prod": prod, "staging": staging}[scenario]
    route_tables = [f"rtb-{i:017d}" for i in range(3 if scenario == "prod" else 1)]
    endpoints = {rc["address"]: rc["change"]["after"] for rc in planned["resource_changes"] if rc["type"] == "aws_vpc_endpoint"}
    assert set(endpoints) == {'aws_vpc_endpoint.gateway["s3"]', 'aws_vpc_endpoint.gateway["dynamodb"]'}
    for service in ("s3", "dynamodb"):
        endpoint = endpoints[f'aws_vpc_endpoint.gateway["{service}"]']
        assert endpoint["vpc_endpoint_type"] == "Gateway"
        assert endpoint["service_name"] == f"com.amazonaws.us-east-1.{service}"
        assert sorted(endpoint["route_table_ids"]) == route_tables


def test_one_node_group_per_zone_each_in_its_zone_with_room_to_grow(prod):
    vpc, eks = inputs(prod, "vpc"), inputs(prod, "eks")
    groups = eks["eks_managed_node_groups"]
    assert sorted(groups) == sorted(vpc["azs"])
    private_subnet_ids = [f"subnet-{i:017d}" for i in range(3)]  # the stand-in's ids, in the order of azs
    for index, zone in enumerate(vpc["azs"]):
        group = groups[zone]
        assert group["subnet_ids"] == [private_subnet_ids[index]], f"{zone}'s group is not in {zone}'s subnet"
        assert group["min_size"] >= 1 and group["desired_size"] >= group["min_size"] and group["max_size"] > group["desired_size"]
        assert group["update_config"] == {"max_unavailable": 1}
        assert group["metadata_options"]["http_put_response_hop_limit"] == 1


def test_metrics_server_is_installed_as_an_eks_addon(prod):
    assert "metrics-server" in inputs(prod, "eks")["addons"]


def test_controller_roles_hold_the_published_policy_and_trust_their_service_accounts(prod):
    published = json.loads((REPO / "terraform" / AWS / "policies" / "aws-load-balancer-controller-v3.5.0.json").read_text())
    planned = json.loads(change(prod, 'aws_iam_policy.controller["load_balancer_controller"]')["after"]["policy"])
    assert planned == published
    issuer = "oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
    for key, subject in (("load_balancer_controller", "system:serviceaccount:kube-system:aws-load-balancer-controller"),
                         ("cluster_autoscaler", "system:serviceaccount:kube-system:cluster-autoscaler")):
        trust = json.loads(change(prod, f'aws_iam_role.controller["{key}"]')["after"]["assume_role_policy"])
        (statement,) = trust["Statement"]
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Condition"] == {"StringEquals": {f"{issuer}:sub": subject, f"{issuer}:aud": "sts.amazonaws.com"}}
    autoscaler = json.loads(change(prod, 'aws_iam_policy.controller["cluster_autoscaler"]')["after"]["policy"])
    scaling = [s for s in autoscaler["Statement"] if "autoscaling:SetDesiredCapacity" in s["Action"]]
    assert scaling[0]["Condition"] == {"StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/roster-prod": "owned"}}


def test_github_actions_role_trusts_main_and_pull_requests_only(prod):
    trust = json.loads(change(prod, "aws_iam_role.github_actions[0]")["after"]["assume_role_policy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"]["Federated"].endswith(":oidc-provider/token.actions.githubusercontent.com")
    conditions = statement["Condition"]
    assert list(conditions) == ["StringEquals"], "no StringLike: exact subjects only"
    assert conditions["StringEquals"]["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    assert sorted(conditions["StringEquals"]["token.actions.githubusercontent.com:sub"]) == [
        "repo:acme/roster:pull_request",
        "repo:acme/roster:ref:refs/heads/main",
    ]


def test_avatar_cache_policy_keeps_objects_at_most_rosters_max_age(prod):
    policy = change(prod, "module.roster.aws_cloudfront_cache_policy.avatars[0]")["after"]
    assert (policy["min_ttl"], policy["default_ttl"], policy["max_ttl"]) == (0, 300, 300)
    lifecycle = change(prod, "module.roster.aws_s3_bucket_lifecycle_configuration.avatars")["after"]
    assert lifecycle["rule"][0]["noncurrent_version_expiration"][0]["noncurrent_days"] == 7


def test_overlay_env_output_has_exactly_the_seven_keys(prod):
    after, unknown = output(prod, "overlay_env")
    keys = set(after or {}) | set(unknown or {} if isinstance(unknown, dict) else {})
    assert sorted(keys) == sorted(OVERLAY_KEYS)
    assert after["ROSTER_HOSTNAME"] == "roster.example.com" and after["AWS_REGION"] == "us-east-1"
    assert after["ROSTER_BUCKET"] == "roster-avatars-123456789012" and after["ROSTER_TABLE"] == "users"


# ---------------------------------------------------------------------------
# scripts/terraform-outputs-to-overlay
# ---------------------------------------------------------------------------


def outputs_document(prod: dict) -> dict:
    """`terraform output -json` as it will read after apply: the plan's known values, and
    for what only apply can know (ARNs, the CloudFront host) values of the same form."""
    after, _ = output(prod, "overlay_env")
    known_after_apply = {
        "ROSTER_AVATAR_BASE_URL": "https://d111111abcdef8.cloudfront.net",
        "ROSTER_ROLE_ARN": "arn:aws:iam::123456789012:role/roster",
        "ROSTER_CERTIFICATE_ARN": "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000",
    }
    value = {key: after.get(key) or known_after_apply[key] for key in OVERLAY_KEYS}
    return {
        "overlay_env": {"sensitive": False, "type": ["object", {k: "string" for k in value}], "value": value},
        "roster_table": {"sensitive": False, "type": "string", "value": value["ROSTER_TABLE"]},
    }


def run_script(tmp_path, document: dict | str) -> tuple[subprocess.CompletedProcess, object]:
    source = tmp_path / "outputs.json"
    source.write_text(document if isinstance(document, str) else json.dumps(document))
    target = tmp_path / "overlay" / "terraform.env"
    result = subprocess.run([sys.executable, str(SCRIPT), "--from", str(source), "--output", str(target)], capture_output=True, text=True)
    return result, target


def test_script_writes_exactly_the_overlays_keys(tmp_path, prod):
    document = outputs_document(prod)
    result, target = run_script(tmp_path, document)
    assert result.returncode == 0, result.stderr
    lines = [line for line in target.read_text().splitlines() if not line.startswith("#")]
    assert [line.split("=", 1)[0] for line in lines] == OVERLAY_KEYS
    assert dict(line.split("=", 1) for line in lines) == document["overlay_env"]["value"]


@pytest.mark.parametrize("defect", ["missing_key", "extra_key", "null_value", "newline", "no_output", "not_json"])
def test_script_refuses_incomplete_outputs_and_leaves_the_file_alone(tmp_path, prod, defect):
    document = outputs_document(prod)
    value = document["overlay_env"]["value"]
    if defect == "missing_key":
        del value["ROSTER_CERTIFICATE_ARN"]
    elif defect == "extra_key":
        value["ROSTER_BACKEND"] = "aws"
    elif defect == "null_value":
        value["ROSTER_ROLE_ARN"] = None
    elif defect == "newline":
        value["ROSTER_HOSTNAME"] = "roster.example.com\nEVIL=1"
    elif defect == "no_output":
        del document["overlay_env"]
    target = tmp_path / "overlay" / "terraform.env"
    target.parent.mkdir()
    target.write_text("PREVIOUS=1\n")
    result, _ = run_script(tmp_path, "{not json" if defect == "not_json" else document)
    assert result.returncode == 1 and "terraform-outputs-to-overlay:" in result.stderr, (result.returncode, result.stderr)
    assert target.read_text() == "PREVIOUS=1\n"
