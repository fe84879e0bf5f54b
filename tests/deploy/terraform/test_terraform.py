"""Tests for terraform/: formatting, checkov, the AWS provider schema, and intent.

The provider cannot be downloaded here, so `terraform init/validate/plan` are out of
reach. Instead:
- `terraform fmt -check` and checkov run on the sources;
- every resource, data source and provider block is held against the hashicorp/aws
  6.25 schema (from the @cdktf/provider-aws npm package, see tfschema.py);
- intent tests read the HCL and check what matters to roster: the IAM policy allows
  exactly roster's calls on exactly its table and bucket, the IRSA trust names the
  chart's service account, the table is keyed by email, the bucket is never public.
Each intent checker also runs against a deliberately broken copy, so a checker that
stops seeing defects fails too.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tfhcl import META_ARGUMENTS, Block, Config, load_dir, load_file, substitute, unwrap_ref
from tfschema import load_schema

REPO = Path(__file__).resolve().parents[3]
TERRAFORM = REPO / "terraform"
MODULE_DIR = TERRAFORM / "modules" / "roster"
ENV_DIRS = {"local": TERRAFORM / "environments" / "local", "aws": TERRAFORM / "environments" / "aws"}
ALL_DIRS = [MODULE_DIR, *ENV_DIRS.values()]
DOCS = REPO / "docs" / "terraform.md"

# What roster calls (SPEC.md, and the server's storage code), as IAM actions.
DYNAMODB_ACTIONS = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan", "dynamodb:DescribeTable"}
OBJECT_ACTIONS = {"s3:PutObject", "s3:DeleteObject"}
BUCKET_ACTIONS = {"s3:ListBucket"}  # HeadBucket, for /readyz
ROSTER_ACTIONS = DYNAMODB_ACTIONS | OBJECT_ACTIONS | BUCKET_ACTIONS

TABLE_ARN = "${aws_dynamodb_table.users.arn}"
BUCKET_ARN = "${aws_s3_bucket.avatars.arn}"
AVATAR_OBJECTS_ARN = BUCKET_ARN + "/avatars/*"

# The Helm chart's namespace and service account (agreed with the chart's authors).
NAMESPACE = "roster"
SERVICE_ACCOUNT = "roster"
SUBJECT = f"system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"

# roster's environment variables that the environments' outputs feed.
ROSTER_ENV_COMMON = {"ROSTER_TABLE", "ROSTER_BUCKET", "ROSTER_AVATAR_BASE_URL", "AWS_REGION"}


# ---------------------------------------------------------------------------
# fixtures and small helpers
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def module() -> Config:
    return load_dir(MODULE_DIR)


@pytest.fixture(scope="module")
def envs() -> dict[str, Config]:
    return {name: load_dir(path) for name, path in ENV_DIRS.items()}


def tf_files() -> list[Path]:
    return sorted(p for p in TERRAFORM.rglob("*.tf") if ".terraform" not in p.parts)


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env, **kw)


def _tool(name: str) -> str:
    """A tool next to this interpreter (the venv) or on PATH; missing is a failure."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    assert found, f"{name} is required for these tests"
    return found


def variable_defaults(cfg: Config) -> dict[str, object]:
    return {name: v.attrs.get("default") for name, v in cfg.variables().items()}


def module_bindings(module: Config, env: Config | None) -> dict[str, dict]:
    """var.* and local.* of the roster module, as an environment (or nobody) calls it."""
    variables = dict(variable_defaults(module))
    if env is not None:
        call = env.modules()["roster"]
        env_bindings = {"var": variable_defaults(env), "local": env.locals()}
        for name, value in call.attrs.items():
            if name in variables:
                variables[name] = substitute(value, env_bindings)
    bindings = {"var": variables, "local": {}}
    bindings["local"] = {k: substitute(v, bindings) for k, v in module.locals().items()}
    return bindings


def policy_document(cfg: Config, reference: object) -> Block:
    """The aws_iam_policy_document a `policy = data.aws_iam_policy_document.X[0].json` points at."""
    ref = unwrap_ref(reference)
    m = re.fullmatch(r"data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)(\[0\])?\.json", ref or "")
    assert m, f"policy must come from an aws_iam_policy_document data source, got {reference!r}"
    return cfg.datum("aws_iam_policy_document", m.group(1))


def as_list(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def roster_policy(module: Config) -> Block:
    policies = module.resources("aws_iam_policy")
    assert [p.labels[1] for p in policies] == ["roster"], "the module must declare exactly one IAM policy, roster's"
    return policy_document(module, policies[0].attrs["policy"])


def trust_document(module: Config) -> Block:
    return policy_document(module, module.resource("aws_iam_role", "roster").attrs["assume_role_policy"])


# ---------------------------------------------------------------------------
# intent checkers: each returns the problems it finds (empty when all is well)
# ---------------------------------------------------------------------------


def policy_problems(doc: Block, bindings: dict) -> list[str]:
    problems: list[str] = []
    allowed: set[str] = set()
    expected_resources = {
        **{a: {TABLE_ARN} for a in DYNAMODB_ACTIONS},
        **{a: {AVATAR_OBJECTS_ARN} for a in OBJECT_ACTIONS},
        **{a: {BUCKET_ARN} for a in BUCKET_ACTIONS},
    }
    statements = doc.children("statement")
    if not statements:
        problems.append("the policy has no statement")
    for st in statements:
        sid = st.attrs.get("sid", "<no sid>")
        if st.attrs.get("effect", "Allow") != "Allow":
            problems.append(f"{sid}: only Allow statements belong in roster's policy")
        for forbidden in ("not_actions", "not_resources"):
            if forbidden in st.attrs:
                problems.append(f"{sid}: {forbidden} grants everything else")
        if st.children("principals") or st.children("not_principals"):
            problems.append(f"{sid}: an identity policy takes no principals")
        if st.dynamic:
            problems.append(f"{sid}: dynamic statements cannot be checked")
        actions = as_list(st.attrs.get("actions"))
        resources = [substitute(r, bindings) for r in as_list(st.attrs.get("resources"))]
        if not actions or not resources:
            problems.append(f"{sid}: needs explicit actions and resources")
        for action in actions:
            if not isinstance(action, str) or "*" in action or "?" in action:
                problems.append(f"{sid}: wildcard or computed action {action!r}")
                continue
            allowed.add(action)
            want = expected_resources.get(action)
            if want is None:
                problems.append(f"{sid}: {action} is not a call roster makes")
            elif set(resources) != want:
                problems.append(f"{sid}: {action} must apply to exactly {sorted(want)}, not {resources}")
        for resource in resources:
            if resource not in {TABLE_ARN, BUCKET_ARN, AVATAR_OBJECTS_ARN}:
                problems.append(f"{sid}: resource {resource!r} is not the table, the bucket or its avatars/ prefix")
    missing = ROSTER_ACTIONS - allowed
    if missing:
        problems.append(f"roster also needs {sorted(missing)}")
    return problems


def trust_problems(doc: Block, bindings: dict, subject: str) -> list[str]:
    problems: list[str] = []
    statements = doc.children("statement")
    if len(statements) != 1:
        return [f"the trust policy must have exactly one statement, has {len(statements)}"]
    st = statements[0]
    if st.attrs.get("effect", "Allow") != "Allow":
        problems.append("the trust statement must Allow")
    if as_list(st.attrs.get("actions")) != ["sts:AssumeRoleWithWebIdentity"]:
        problems.append(f"only sts:AssumeRoleWithWebIdentity may be trusted, got {st.attrs.get('actions')}")
    principals = st.children("principals")
    if (
        len(principals) != 1
        or principals[0].attrs.get("type") != "Federated"
        or as_list(principals[0].attrs.get("identifiers")) != ["${var.oidc_provider_arn}"]
    ):
        problems.append("the only principal must be the cluster's OIDC provider (Federated, var.oidc_provider_arn)")
    conditions: dict[str, tuple[str, list]] = {}
    issuer = re.sub(r"\s", "", str(bindings["local"].get("oidc_issuer", "")))
    if 'split(":oidc-provider/",var.oidc_provider_arn)' not in issuer:
        problems.append(f"local.oidc_issuer must be the issuer part of var.oidc_provider_arn, is {issuer!r}")
    for c in st.children("condition"):
        variable = c.attrs.get("variable")
        key = variable.rsplit(":", 1)[-1] if isinstance(variable, str) else "?"
        if variable not in ("${local.oidc_issuer}:sub", "${local.oidc_issuer}:aud"):
            problems.append(f"condition key {variable!r} is not <issuer>:sub or <issuer>:aud")
        conditions[key] = (c.attrs.get("test"), [substitute(v, bindings) for v in as_list(c.attrs.get("values"))])
    if conditions.get("sub") != ("StringEquals", [subject]):
        problems.append(f"sub must be StringEquals {subject!r}, got {conditions.get('sub')}")
    if conditions.get("aud") != ("StringEquals", ["sts.amazonaws.com"]):
        problems.append(f"aud must be StringEquals 'sts.amazonaws.com', got {conditions.get('aud')}")
    return problems


def table_problems(table: Block) -> list[str]:
    problems: list[str] = []
    if table.attrs.get("hash_key") != "email":
        problems.append(f"hash key must be email, is {table.attrs.get('hash_key')!r}")
    attributes = [(a.attrs.get("name"), a.attrs.get("type")) for a in table.children("attribute")]
    if attributes != [("email", "S")]:
        problems.append(f"the only key attribute must be email of type S, got {attributes}")
    for extra in ("range_key",):
        if extra in table.attrs:
            problems.append(f"{extra} must not be set: items are found by email alone")
    for index in ("global_secondary_index", "local_secondary_index"):
        if table.children(index):
            problems.append(f"{index}: roster queries nothing but the key")
    if table.attrs.get("billing_mode") != "PAY_PER_REQUEST":
        problems.append("billing_mode must be PAY_PER_REQUEST (on demand)")
    return problems


def public_read_problems(cfg: Config, bindings: dict) -> list[str]:
    """Anything in one configuration that could let anonymous users read the avatar bucket."""
    problems: list[str] = []
    for kind in ("aws_s3_bucket_acl", "aws_s3_bucket_website_configuration", "aws_s3_object", "aws_s3_access_point"):
        for r in cfg.resources(kind):
            problems.append(f"{kind}.{r.labels[1]} may expose objects")
    for bucket in cfg.resources("aws_s3_bucket"):
        for attr in ("acl", "policy", "website"):
            if attr in bucket.attrs or bucket.children(attr):
                problems.append(f"aws_s3_bucket.{bucket.labels[1]} sets {attr}")
    for pab in cfg.resources("aws_s3_bucket_public_access_block"):
        for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
            if pab.attrs.get(flag) is not True:
                problems.append(f"public access block: {flag} must be true")
    for oc in cfg.resources("aws_s3_bucket_ownership_controls"):
        if [r.attrs.get("object_ownership") for r in oc.children("rule")] != ["BucketOwnerEnforced"]:
            problems.append("object ownership must be BucketOwnerEnforced (ACLs disabled)")
    for bp in cfg.resources("aws_s3_bucket_policy"):
        doc = policy_document(cfg, bp.attrs.get("policy"))
        for st in doc.children("statement"):
            if st.attrs.get("effect", "Allow") != "Allow":
                continue
            sid = st.attrs.get("sid", "<no sid>")
            if st.children("not_principals") or "not_actions" in st.attrs or "not_resources" in st.attrs:
                problems.append(f"{sid}: Allow with not_* is too broad")
            for p in st.children("principals"):
                ids = as_list(p.attrs.get("identifiers"))
                if p.attrs.get("type") in ("*", "AWS") and any("*" in str(i) for i in ids):
                    problems.append(f"{sid}: allows anyone ({p.attrs.get('type')} {ids})")
                elif (p.attrs.get("type"), ids) == ("Service", ["cloudfront.amazonaws.com"]):
                    source = [
                        c
                        for c in st.children("condition")
                        if c.attrs.get("test") == "StringEquals"
                        and c.attrs.get("variable") == "AWS:SourceArn"
                        and as_list(c.attrs.get("values")) == ["${aws_cloudfront_distribution.avatars[0].arn}"]
                    ]
                    if not source:
                        problems.append(f"{sid}: CloudFront must be limited to this distribution (AWS:SourceArn)")
                    if as_list(st.attrs.get("actions")) != ["s3:GetObject"]:
                        problems.append(f"{sid}: CloudFront may only s3:GetObject")
                    resources = [substitute(r, bindings) for r in as_list(st.attrs.get("resources"))]
                    if resources != [AVATAR_OBJECTS_ARN]:
                        problems.append(f"{sid}: CloudFront may only read avatars/*, not {resources}")
                else:
                    problems.append(f"{sid}: unexpected principal {p.attrs.get('type')} {ids}")
            if not st.children("principals"):
                problems.append(f"{sid}: an Allow without principals")
    return problems


def tls_only_problems(cfg: Config) -> list[str]:
    policies = cfg.resources("aws_s3_bucket_policy")
    if len(policies) != 1:
        return [f"the avatar bucket needs exactly one bucket policy, found {len(policies)}"]
    doc = policy_document(cfg, policies[0].attrs.get("policy"))
    for st in doc.children("statement"):
        conditions = {(c.attrs.get("test"), c.attrs.get("variable"), tuple(as_list(c.attrs.get("values")))) for c in st.children("condition")}
        principals = [(p.attrs.get("type"), as_list(p.attrs.get("identifiers"))) for p in st.children("principals")]
        if (
            st.attrs.get("effect") == "Deny"
            and as_list(st.attrs.get("actions")) == ["s3:*"]
            and sorted(as_list(st.attrs.get("resources"))) == sorted([BUCKET_ARN, BUCKET_ARN + "/*"])
            and ("Bool", "aws:SecureTransport", ("false",)) in conditions
            and principals == [("*", ["*"])]
        ):
            return []
    return ["no statement denies s3:* over plain HTTP (aws:SecureTransport = false) on the bucket and its objects"]


def schema_problems(cfg: Config, schema: dict) -> list[str]:
    problems: list[str] = []

    def check(block: Block, spec: dict, where: str, top: bool) -> None:
        if spec.get("open"):
            return
        present = set(block.attrs) | {b.type for b in block.blocks}
        for name in block.attrs:
            if top and name in META_ARGUMENTS:
                continue
            if name not in spec["attrs"] and name not in spec["blocks"]:
                problems.append(f"{where}: unknown argument {name!r}")
            elif name in spec["blocks"] and name not in spec["attrs"]:
                problems.append(f"{where}: {name!r} is a block, not an argument")
        for child in block.blocks:
            if top and child.type in META_ARGUMENTS:
                continue
            sub = spec["blocks"].get(child.type)
            if sub is None:
                kind = "an argument, not a block" if child.type in spec["attrs"] else "unknown block"
                problems.append(f"{where}: {child.type!r} is {kind}")
                continue
            check(child, sub["schema"], f"{where}.{child.type}", False)
        for name, required in spec["attrs"].items():
            if required and name not in present:
                problems.append(f"{where}: required argument {name!r} missing")
        for name, sub in spec["blocks"].items():
            if sub["required"] and name not in present:
                problems.append(f"{where}: required block {name!r} missing")

    for b in cfg.of("resource"):
        spec = schema["resource"].get(b.labels[0])
        where = f"{b.file.name}: resource {b.labels[0]}.{b.labels[1]}"
        if spec is None:
            problems.append(f"{where}: no such resource type in aws {schema['provider_version']}")
        else:
            check(b, spec, where, True)
    for b in cfg.of("data"):
        spec = schema["data"].get(b.labels[0])
        where = f"{b.file.name}: data {b.labels[0]}.{b.labels[1]}"
        if spec is None:
            problems.append(f"{where}: no such data source in aws {schema['provider_version']}")
        else:
            check(b, spec, where, True)
    for b in cfg.of("provider"):
        if b.labels[0] == "aws":
            check(b, schema["provider"]["aws"], f"{b.file.name}: provider aws", True)
        else:
            problems.append(f"{b.file.name}: unexpected provider {b.labels[0]!r}")
    return problems


# ---------------------------------------------------------------------------
# formatting and checkov
# ---------------------------------------------------------------------------


def test_terraform_files_are_formatted():
    result = _run([_tool("terraform"), "fmt", "-check", "-recursive", "-diff", "terraform"])
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}{result.stderr}"


@pytest.fixture(scope="module")
def checkov_report() -> dict:
    # --skip-download: no Prisma/Bridgecrew API calls; external (registry) modules
    # are not downloaded, so only our own code is scanned.
    result = _run(
        [
            _tool("checkov"),
            "--directory", "terraform",
            "--framework", "terraform",
            "--download-external-modules", "false",
            "--skip-download",
            # not --quiet: the skipped checks are needed to spot stale skips
            "--compact",
            "--output", "json",
        ],
        timeout=600,
    )
    assert result.stdout.strip(), f"checkov printed nothing:\n{result.stderr[-3000:]}"
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    assert [r.get("check_type") for r in reports] == ["terraform"], reports
    return reports[0]


def test_checkov_reports_no_failed_check(checkov_report):
    summary = checkov_report["summary"]
    failed = [
        f"{c['check_id']} {c['check_name']} — {c['resource']} ({c['file_path']}:{c['file_line_range']})"
        for c in checkov_report["results"]["failed_checks"]
    ]
    assert summary["parsing_errors"] == 0, summary
    assert summary["resource_count"] >= 15, f"checkov scanned too little: {summary}"
    assert summary["passed"] > 0, summary
    assert not failed, "checkov failures:\n" + "\n".join(failed)


SKIP_COMMENT = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?$")


def test_checkov_skips_are_inline_with_a_reason_and_still_needed(checkov_report):
    inline: dict[str, list[str]] = {}
    for path in tf_files():
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if "checkov:skip" not in line:
                continue
            m = SKIP_COMMENT.search(line)
            assert m, f"{path}:{n}: malformed checkov skip: {line.strip()}"
            reason = (m.group(2) or "").strip()
            assert len(reason) >= 20, f"{path}:{n}: {m.group(1)} is skipped without a real reason"
            inline.setdefault(m.group(1), []).append(f"{path.relative_to(REPO)}:{n}")
    skipped = {c["check_id"] for c in checkov_report["results"]["skipped_checks"]}
    unused = {check: where for check, where in inline.items() if check not in skipped}
    assert not unused, f"skips that no longer match a check (remove them): {unused}"
    # Skips come from the code only: nothing outside it (a .checkov.yaml) may hide checks.
    for config in (".checkov.yaml", ".checkov.yml"):
        assert not (REPO / config).exists() and not (TERRAFORM / config).exists(), f"{config} must not exist"


# ---------------------------------------------------------------------------
# provider schema (hashicorp/aws 6.25 via @cdktf/provider-aws)
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aws_schema() -> dict:
    return load_schema()


@pytest.mark.parametrize("directory", ALL_DIRS, ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_resources_arguments_and_blocks_exist_in_aws_provider_6_25(directory, aws_schema):
    cfg = load_dir(directory)
    assert cfg.of("resource") or cfg.of("data") or cfg.of("provider"), f"nothing to check in {directory}"
    problems = schema_problems(cfg, aws_schema)
    assert not problems, "\n".join(problems)


def test_schema_check_catches_typos_misplaced_and_missing_arguments(module, aws_schema):
    broken = copy.deepcopy(module)
    table = broken.resource("aws_dynamodb_table", "users")
    table.attrs["hash_kee"] = table.attrs.pop("hash_key")  # typo
    del table.attrs["name"]  # required
    bucket = broken.resource("aws_s3_bucket", "avatars")
    bucket.attrs["versioning"] = True  # a block in 6.x, not an argument
    broken.blocks.append(Block(type="resource", labels=("aws_s3_bucket_acls", "x"), file=MODULE_DIR / "main.tf"))
    problems = "\n".join(schema_problems(broken, aws_schema))
    for expected in ("'hash_kee'", "required argument 'name'", "'versioning' is a block", "aws_s3_bucket_acls"):
        assert expected in problems, f"schema check missed {expected}:\n{problems}"


# ---------------------------------------------------------------------------
# module hygiene: versions, variables, outputs, tags
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("directory", ALL_DIRS, ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_versions_tf_pins_terraform_and_aws_provider_6_25(directory):
    assert (directory / "versions.tf").exists(), f"{directory} has no versions.tf"
    terraform = [b for b in load_file(directory / "versions.tf") if b.type == "terraform"]
    assert len(terraform) == 1
    assert re.match(r">=\s*1\.(9|1[0-9])\.", terraform[0].attrs.get("required_version", "")), terraform[0].attrs
    providers = terraform[0].child("required_providers").attrs
    assert providers.get("aws") == {"source": "hashicorp/aws", "version": "~> 6.25"}, providers


@pytest.mark.parametrize("directory", ALL_DIRS, ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_variables_are_typed_and_described_and_outputs_described(directory):
    cfg = load_dir(directory)
    for name, var in cfg.variables().items():
        assert var.file.name == "variables.tf", f"variable {name} belongs in variables.tf"
        assert "type" in var.attrs, f"variable {name} has no type"
        assert len(str(var.attrs.get("description", ""))) >= 10, f"variable {name} has no description"
    outputs = cfg.of("output")
    assert outputs, f"{directory} has no outputs"
    for out in outputs:
        assert out.file.name == "outputs.tf", f"output {out.labels[0]} belongs in outputs.tf"
        assert len(str(out.attrs.get("description", ""))) >= 10, f"output {out.labels[0]} has no description"


def test_variables_with_known_ranges_are_validated(module, envs):
    needs_validation = {
        "module": (module, ["table_name", "bucket_name", "namespace", "service_account", "oidc_provider_arn",
                            "noncurrent_version_expiration_days", "point_in_time_recovery_days",
                            "cloudfront_price_class", "role_name", "policy_name", "max_session_duration"]),
        "local": (envs["local"], ["endpoint", "region", "table_name", "bucket_name", "namespace", "service_account"]),
        "aws": (envs["aws"], ["region", "vpc_cidr", "kubernetes_version", "avatar_bucket_name", "namespace",
                              "service_account", "node_min_size", "node_max_size", "node_desired_size",
                              "node_capacity_type", "cluster_endpoint_public_access_cidrs", "log_retention_days",
                              "irsa_role_name"]),
    }
    for where, (cfg, names) in needs_validation.items():
        variables = cfg.variables()
        for name in names:
            assert name in variables, f"{where}: variable {name} missing"
            assert variables[name].children("validation"), f"{where}: variable {name} has no validation"


def test_aws_bucket_name_has_no_default_because_bucket_names_are_global(envs):
    var = envs["aws"].variables()["avatar_bucket_name"]
    assert "default" not in var.attrs
    assert envs["aws"].modules()["roster"].attrs["bucket_name"] == "${var.avatar_bucket_name}"


@pytest.mark.parametrize("env", ENV_DIRS)
def test_environment_provider_sets_default_tags(envs, env):
    providers = [p for p in envs[env].of("provider") if p.labels[0] == "aws"]
    assert len(providers) == 1
    tags = providers[0].child("default_tags").attrs.get("tags")
    assert tags, "default_tags needs tags"
    text = json.dumps(tags)
    assert "Application" in text and "roster" in text


def test_registry_modules_are_pinned_to_exact_versions(envs):
    for name, cfg in envs.items():
        for mod_name, mod in cfg.modules().items():
            source = mod.attrs["source"]
            if source.startswith("./") or source.startswith("../"):
                assert "version" not in mod.attrs
                continue
            assert re.fullmatch(r"terraform-aws-modules/[a-z0-9-]+/aws", source), f"{name}/{mod_name}: unexpected source {source}"
            assert re.fullmatch(r"\d+\.\d+\.\d+", str(mod.attrs.get("version", ""))), (
                f"{name}/{mod_name}: pin an exact version, not {mod.attrs.get('version')!r}"
            )


# ---------------------------------------------------------------------------
# intent: IAM policy
# ---------------------------------------------------------------------------


def test_policy_allows_exactly_the_calls_roster_makes_on_its_table_and_bucket(module):
    problems = policy_problems(roster_policy(module), module_bindings(module, None))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "mutation",
    ["wildcard_action", "extra_action", "missing_action", "wildcard_resource", "bucket_wide_objects", "not_actions"],
)
def test_policy_check_rejects_broader_or_narrower_policies(module, mutation):
    doc = copy.deepcopy(roster_policy(module))
    statements = doc.children("statement")
    by_sid = {s.attrs["sid"]: s for s in statements}
    table_st, objects_st = by_sid["UsersTable"], by_sid["AvatarObjects"]
    if mutation == "wildcard_action":
        table_st.attrs["actions"] = ["dynamodb:*"]
    elif mutation == "extra_action":
        objects_st.attrs["actions"] = objects_st.attrs["actions"] + ["s3:GetObject"]
    elif mutation == "missing_action":
        table_st.attrs["actions"] = [a for a in table_st.attrs["actions"] if a != "dynamodb:Scan"]
    elif mutation == "wildcard_resource":
        table_st.attrs["resources"] = ["*"]
    elif mutation == "bucket_wide_objects":
        objects_st.attrs["resources"] = ["${aws_s3_bucket.avatars.arn}/*"]
    elif mutation == "not_actions":
        table_st.attrs["not_actions"] = ["iam:*"]
    assert policy_problems(doc, module_bindings(module, None)), f"{mutation} went unnoticed"


def test_roster_role_gets_only_the_roster_policy(module, envs):
    attachments = module.resources("aws_iam_role_policy_attachment")
    assert [(a.attrs["role"], a.attrs["policy_arn"]) for a in attachments] == [
        ("${aws_iam_role.roster[0].name}", "${aws_iam_policy.roster.arn}")
    ]
    for cfg in [module, *envs.values()]:
        for kind in ("aws_iam_role_policy", "aws_iam_role_policies_exclusive", "aws_iam_policy_attachment"):
            assert not cfg.resources(kind), f"{cfg.directory}: {kind} would add permissions beside the roster policy"
    role = module.resource("aws_iam_role", "roster")
    assert "managed_policy_arns" not in role.attrs and not role.children("inline_policy")


# ---------------------------------------------------------------------------
# intent: IRSA trust
# ---------------------------------------------------------------------------


def _rendered_service_accounts() -> list[tuple[str, str, str]]:
    """(file, namespace, name) of roster's ServiceAccounts in the rendered Kustomize manifests."""
    found = []
    for path in sorted((REPO / "kustomize").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not isinstance(doc, dict) or doc.get("kind") != "ServiceAccount":
                continue
            meta = doc.get("metadata") or {}
            labels = meta.get("labels") or {}
            if labels.get("app.kubernetes.io/name") == "roster" or str(meta.get("name", "")).startswith("roster"):
                found.append((str(path.relative_to(REPO)), meta.get("namespace"), meta.get("name")))
    return found


def _chart_service_account() -> tuple[str | None, str | None]:
    """(namespace, name) the Helm chart declares, where it says so explicitly."""
    values = REPO / "chart" / "values.yaml"
    if not values.exists():
        return None, None
    data = yaml.safe_load(values.read_text()) or {}
    sa = data.get("serviceAccount") or {}
    name = sa.get("name") if isinstance(sa, dict) else None
    namespace = data.get("namespace") if isinstance(data.get("namespace"), str) else None
    return namespace or None, name or None


@pytest.mark.parametrize("env", [None, "local", "aws"], ids=["module-defaults", "local", "aws"])
def test_irsa_trust_allows_only_the_chart_service_account_with_sts_audience(module, envs, env):
    bindings = module_bindings(module, envs[env] if env else None)
    problems = trust_problems(trust_document(module), bindings, SUBJECT)
    assert not problems, "\n".join(problems)
    assert bindings["local"]["service_account_subject"] == SUBJECT
    chart_ns, chart_sa = _chart_service_account()
    if chart_sa:
        assert chart_sa == SERVICE_ACCOUNT, f"the chart names its service account {chart_sa!r}"
    if chart_ns:
        assert chart_ns == NAMESPACE, f"the chart's namespace is {chart_ns!r}"
    # The manifests the overlays apply (rendered from the chart), where they exist yet.
    for file, namespace, name in _rendered_service_accounts():
        assert f"system:serviceaccount:{namespace or NAMESPACE}:{name}" == SUBJECT, f"{file} declares {namespace}/{name}"


@pytest.mark.parametrize("mutation", ["other_namespace", "string_like", "no_aud", "wrong_aud", "extra_action"])
def test_trust_check_rejects_looser_trust(module, mutation):
    doc = copy.deepcopy(trust_document(module))
    st = doc.children("statement")[0]
    conditions = {c.attrs["variable"].rsplit(":", 1)[-1]: c for c in st.children("condition")}
    if mutation == "other_namespace":
        conditions["sub"].attrs["values"] = ["system:serviceaccount:default:roster"]
    elif mutation == "string_like":
        conditions["sub"].attrs["test"] = "StringLike"
        conditions["sub"].attrs["values"] = ["system:serviceaccount:roster:*"]
    elif mutation == "no_aud":
        st.blocks.remove(conditions["aud"])
    elif mutation == "wrong_aud":
        conditions["aud"].attrs["values"] = ["*"]
    elif mutation == "extra_action":
        st.attrs["actions"] = ["sts:AssumeRoleWithWebIdentity", "sts:AssumeRole"]
    assert trust_problems(doc, module_bindings(module, None), SUBJECT), f"{mutation} went unnoticed"


def test_environments_bind_the_role_to_an_oidc_provider(envs):
    assert envs["aws"].modules()["roster"].attrs["oidc_provider_arn"] == "${module.eks.oidc_provider_arn}"
    eks = envs["aws"].modules()["eks"]
    assert eks.attrs.get("enable_irsa") is True, "the EKS module must create the IAM OIDC provider"
    local = envs["local"]
    assert local.modules()["roster"].attrs["oidc_provider_arn"] == "${aws_iam_openid_connect_provider.cluster.arn}"
    provider = local.resource("aws_iam_openid_connect_provider", "cluster")
    assert provider.attrs["client_id_list"] == ["sts.amazonaws.com"]


# ---------------------------------------------------------------------------
# intent: DynamoDB table
# ---------------------------------------------------------------------------


def test_users_table_is_keyed_by_email_alone(module):
    problems = table_problems(module.resource("aws_dynamodb_table", "users"))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("mutation", ["hash_key", "range_key", "number_type"])
def test_table_check_rejects_other_keys(module, mutation):
    table = copy.deepcopy(module.resource("aws_dynamodb_table", "users"))
    if mutation == "hash_key":
        table.attrs["hash_key"] = "id"
    elif mutation == "range_key":
        table.attrs["range_key"] = "name"
    elif mutation == "number_type":
        table.children("attribute")[0].attrs["type"] = "N"
    assert table_problems(table), f"{mutation} went unnoticed"


def test_users_table_has_secure_defaults(module):
    table = module.resource("aws_dynamodb_table", "users")
    defaults = variable_defaults(module)
    assert table.attrs["deletion_protection_enabled"] == "${var.deletion_protection}"
    assert defaults["deletion_protection"] is True
    assert table.child("point_in_time_recovery").attrs["enabled"] == "${var.point_in_time_recovery}"
    assert defaults["point_in_time_recovery"] is True
    assert table.child("server_side_encryption").attrs["enabled"] is True
    assert defaults["table_name"] == "users"


# ---------------------------------------------------------------------------
# intent: S3 bucket and CloudFront
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("directory", ALL_DIRS, ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_nothing_grants_public_read_on_the_avatar_bucket(module, directory):
    cfg = load_dir(directory)
    problems = public_read_problems(cfg, module_bindings(module, None))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("mutation", ["anyone", "aws_star", "cloudfront_any_distribution", "acl", "pab_off"])
def test_public_read_check_rejects_public_grants(module, mutation):
    cfg = copy.deepcopy(module)
    doc = policy_document(cfg, cfg.resource("aws_s3_bucket_policy", "avatars").attrs["policy"])
    cf = [s for s in doc.children("statement") if s.attrs.get("sid") == "CloudFrontReadsAvatars"][0]
    if mutation == "anyone":
        cf.child("principals").attrs.update(type="*", identifiers=["*"])
    elif mutation == "aws_star":
        cf.child("principals").attrs.update(type="AWS", identifiers=["*"])
    elif mutation == "cloudfront_any_distribution":
        cf.blocks = [b for b in cf.blocks if b.type != "condition"]
    elif mutation == "acl":
        cfg.blocks.append(Block(type="resource", labels=("aws_s3_bucket_acl", "public"), attrs={"acl": "public-read"}))
    elif mutation == "pab_off":
        cfg.resource("aws_s3_bucket_public_access_block", "avatars").attrs["restrict_public_buckets"] = False
    assert public_read_problems(cfg, module_bindings(module, None)), f"{mutation} went unnoticed"


def test_bucket_policy_denies_requests_without_tls(module):
    problems = tls_only_problems(module)
    assert not problems, "\n".join(problems)


def test_bucket_is_versioned_encrypted_and_expires_old_versions(module):
    assert module.resource("aws_s3_bucket_versioning", "avatars").child("versioning_configuration").attrs["status"] == "Enabled"
    sse = module.resource("aws_s3_bucket_server_side_encryption_configuration", "avatars")
    assert sse.child("rule").child("apply_server_side_encryption_by_default").attrs["sse_algorithm"] in ("AES256", "aws:kms")
    rules = module.resource("aws_s3_bucket_lifecycle_configuration", "avatars").children("rule")
    assert any(r.attrs.get("status") == "Enabled" and r.children("noncurrent_version_expiration") for r in rules)
    assert any(r.children("abort_incomplete_multipart_upload") for r in rules)
    assert variable_defaults(module)["bucket_name"] == "roster-avatars"
    assert variable_defaults(module)["force_destroy_bucket"] is False


def test_cloudfront_reads_avatars_through_origin_access_control_over_https(module, envs):
    oac = module.resource("aws_cloudfront_origin_access_control", "avatars")
    assert (oac.attrs["origin_access_control_origin_type"], oac.attrs["signing_behavior"], oac.attrs["signing_protocol"]) == ("s3", "always", "sigv4")
    dist = module.resource("aws_cloudfront_distribution", "avatars")
    origin = dist.child("origin")
    assert origin.attrs["origin_access_control_id"] == "${aws_cloudfront_origin_access_control.avatars[0].id}"
    assert not origin.children("s3_origin_config"), "legacy origin access identity instead of OAC"
    behaviour = dist.child("default_cache_behavior")
    assert behaviour.attrs["viewer_protocol_policy"] in ("redirect-to-https", "https-only")
    assert behaviour.attrs["allowed_methods"] == ["GET", "HEAD"]
    assert behaviour.attrs["response_headers_policy_id"] == "${aws_cloudfront_response_headers_policy.avatars[0].id}"
    assert variable_defaults(module)["enable_cloudfront"] is True
    assert envs["aws"].modules()["roster"].attrs["enable_cloudfront"] is True


def test_avatar_base_url_is_the_cloudfront_url_when_enabled(module):
    value = next(o for o in module.of("output") if o.labels[0] == "avatar_base_url").attrs["value"]
    text = json.dumps(value)
    assert "aws_cloudfront_distribution.avatars[0].domain_name" in text and "https://" in text


# ---------------------------------------------------------------------------
# environments: emulator wiring and outputs for the overlays
# ---------------------------------------------------------------------------


def test_local_provider_points_every_service_at_the_emulator(envs):
    local = envs["local"]
    provider = [p for p in local.of("provider") if p.labels[0] == "aws"][0]
    endpoints = provider.child("endpoints").attrs
    assert endpoints == {s: "${var.endpoint}" for s in ("dynamodb", "s3", "iam", "sts")}
    for flag in ("s3_use_path_style", "skip_credentials_validation", "skip_metadata_api_check", "skip_requesting_account_id"):
        assert provider.attrs.get(flag) is True, f"{flag} must be true"
    assert provider.attrs.get("access_key") == "test" and provider.attrs.get("secret_key") == "test"
    assert variable_defaults(local)["endpoint"] == "http://127.0.0.1:5000"
    # Only what the emulator cannot provide is off.
    call = local.modules()["roster"].attrs
    assert call["enable_cloudfront"] is False
    for kept in ("point_in_time_recovery", "create_irsa_role"):
        assert call.get(kept, True) is not False, f"{kept} must stay on locally"


@pytest.mark.parametrize("env", ENV_DIRS)
def test_outputs_feed_the_overlays(envs, env):
    cfg = envs[env]
    outputs = {o.labels[0]: o for o in cfg.of("output")}
    wanted = {"roster_table", "roster_bucket", "aws_region", "roster_role_arn", "roster_avatar_base_url", "roster_env"}
    wanted |= {"aws": {"ecr_repository_url"}, "local": {"aws_endpoint_url"}}[env]
    assert wanted <= set(outputs), f"missing outputs: {sorted(wanted - set(outputs))}"
    env_keys = set(outputs["roster_env"].attrs["value"])
    expected = ROSTER_ENV_COMMON | {"ROSTER_BACKEND"} | ({"AWS_ENDPOINT_URL"} if env == "local" else set())
    assert env_keys == expected, f"roster_env keys {sorted(env_keys)} != {sorted(expected)}"


def test_aws_environment_has_three_zone_vpc_eks_and_immutable_scanned_ecr(envs):
    aws = envs["aws"]
    assert re.sub(r"\s", "", aws.locals()["azs"]) == "${slice(data.aws_availability_zones.available.names,0,3)}"
    mods = aws.modules()
    assert mods["eks"].attrs["subnet_ids"] == "${module.vpc.private_subnets}"
    assert "eks_managed_node_groups" in mods["eks"].attrs
    ecr = aws.resource("aws_ecr_repository", "roster")
    assert ecr.attrs["image_tag_mutability"] == "IMMUTABLE"
    assert ecr.child("image_scanning_configuration").attrs["scan_on_push"] is True
    assert (ENV_DIRS["aws"] / "backend.tf.example").exists()


def test_docs_cover_every_environment_output():
    assert DOCS.exists(), "docs/terraform.md is missing"
    text = DOCS.read_text()
    for env, path in ENV_DIRS.items():
        for out in load_dir(path).of("output"):
            assert f"`{out.labels[0]}`" in text, f"docs/terraform.md does not explain output {out.labels[0]} ({env})"
    for topic in ("terraform destroy", "cost", "backend", "moto"):
        assert topic in text.lower() or topic in text, f"docs/terraform.md does not cover {topic}"
