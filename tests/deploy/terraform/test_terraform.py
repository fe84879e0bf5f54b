"""Static tests for terraform/: formatting, checkov, provider schemas, and intent.

Terraform itself runs in test_terraform_local.py (the module and environments/local, on
moto) and test_terraform_aws.py (environments/aws with stand-ins for its registry
modules). This file reads the sources:
- `terraform fmt -check` and checkov;
- every resource, data source and provider block is held against the hashicorp/aws
  6.25 and hashicorp/helm 3.1 schemas (from the CDKTF npm packages, see tfschema.py),
  so the configuration stays valid on the 6.x line while the live tests run 5.100;
- intent tests read the HCL and check what matters to roster: the IAM policy allows
  exactly roster's calls on exactly its table and bucket, the IRSA trust names the
  chart's service account, the table is keyed by email, the bucket is never public.
Each intent checker also runs against a deliberately broken copy, so a checker that
stops seeing defects fails too.
"""

from __future__ import annotations

import copy
import hashlib
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
CONTROLLERS_DIR = TERRAFORM / "modules" / "eks-controllers"
ENV_DIRS = {"local": TERRAFORM / "environments" / "local", "aws": TERRAFORM / "environments" / "aws"}
ALL_DIRS = [MODULE_DIR, CONTROLLERS_DIR, *ENV_DIRS.values()]
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


def tls_only_problems(cfg: Config, bindings: dict) -> list[str]:
    """The bucket policy denies plain HTTP unless var.enforce_tls is false (as bound)."""
    policies = cfg.resources("aws_s3_bucket_policy")
    if len(policies) != 1:
        return [f"the avatar bucket needs exactly one bucket policy resource, found {len(policies)}"]
    count = re.sub(r"\s", "", str(policies[0].attrs.get("count", "")))
    if count and "var.enforce_tls" not in count:
        return [f"the bucket policy's count must keep it whenever enforce_tls is on, is {count!r}"]
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
            if not st.dynamic:
                return []
            condition = re.sub(r"\s", "", str(st.for_each))
            if condition != "${var.enforce_tls?[1]:[]}":
                return [f"the TLS-only statement may only depend on var.enforce_tls, has for_each = {st.for_each!r}"]
            if bindings["var"].get("enforce_tls") is True:
                return []
            return ["enforce_tls is off here: plain HTTP is allowed"]
    return ["no statement denies s3:* over plain HTTP (aws:SecureTransport = false) on the bucket and its objects"]


def schema_problems(cfg: Config, schemas: dict[str, dict]) -> list[str]:
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

    def provider_of(type_: str) -> dict | None:
        return schemas.get(type_.split("_", 1)[0])

    for kind, label in (("resource", "resource type"), ("data", "data source")):
        for b in cfg.of(kind):
            type_ = b.labels[0]
            where = f"{b.file.name}: {kind} {type_}.{b.labels[1]}"
            if type_ == "terraform_data":
                continue  # built into Terraform
            schema = provider_of(type_)
            spec = schema[kind].get(type_) if schema else None
            if spec is None:
                version = f" {schema['provider_version']}" if schema else ""
                problems.append(f"{where}: no such {label} in {type_.split('_', 1)[0]}{version}")
            else:
                check(b, spec, where, True)
    for b in cfg.of("provider"):
        schema = schemas.get(b.labels[0])
        if schema:
            check(b, schema["provider"][b.labels[0]], f"{b.file.name}: provider {b.labels[0]}", True)
        else:
            problems.append(f"{b.file.name}: unexpected provider {b.labels[0]!r}")
    return problems


# ---------------------------------------------------------------------------
# formatting and checkov
# ---------------------------------------------------------------------------


def test_terraform_files_are_formatted():
    result = _run([_tool("terraform"), "fmt", "-check", "-recursive", "-diff", "terraform"])
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}{result.stderr}"


def _checkov(directory: Path) -> dict:
    # --skip-download: no Prisma/Bridgecrew API calls; external (registry) modules
    # are not downloaded, so only our own code is scanned.
    result = subprocess.run(
        [
            _tool("checkov"),
            "--directory", str(directory),
            "--framework", "terraform",
            "--download-external-modules", "false",
            "--skip-download",
            # not --quiet: the skipped checks are needed to spot stale skips
            "--compact",
            "--output", "json",
        ],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )
    assert result.stdout.strip(), f"checkov printed nothing:\n{result.stderr[-3000:]}"
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    assert [r.get("check_type") for r in reports] == ["terraform"], reports
    return reports[0]


@pytest.fixture(scope="module")
def checkov_report() -> dict:
    return _checkov(TERRAFORM)


@pytest.fixture(scope="module")
def checkov_report_without_skips(tmp_path_factory) -> dict:
    """checkov on a copy of terraform/ whose skip comments are removed."""
    copy_root = tmp_path_factory.mktemp("checkov") / "terraform"
    shutil.copytree(TERRAFORM, copy_root, ignore=shutil.ignore_patterns(".terraform"))
    for path in copy_root.rglob("*.tf"):
        path.write_text(re.sub(r"[ \t]*#\s*checkov:skip=[^\n]*", "", path.read_text()))
    return _checkov(copy_root)


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


def test_checkov_skips_are_inline_with_a_reason_and_still_needed(checkov_report, checkov_report_without_skips):
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
    skipped = {(c["check_id"], c["file_path"]) for c in checkov_report["results"]["skipped_checks"]}
    unused = {check: where for check, where in inline.items() if check not in {c for c, _ in skipped}}
    assert not unused, f"skips that no longer match a check (remove them): {unused}"
    # Each skip must hide a real failure: without the comments, checkov fails exactly those
    # checks in those files (the module is scanned alone and through each environment, so
    # one skip can stand for several resource addresses).
    failing = {(c["check_id"], c["file_path"]) for c in checkov_report_without_skips["results"]["failed_checks"]}
    needless = sorted(skipped - failing)
    assert not needless, f"skips of checks that pass anyway (remove them): {needless}"
    assert failing <= skipped, f"failures without a skip: {sorted(failing - skipped)}"
    # Skips come from the code only: nothing outside it (a .checkov.yaml) may hide checks.
    for config in (".checkov.yaml", ".checkov.yml"):
        assert not (REPO / config).exists() and not (TERRAFORM / config).exists(), f"{config} must not exist"


# ---------------------------------------------------------------------------
# provider schema (hashicorp/aws 6.25 via @cdktf/provider-aws)
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict]:
    return {"aws": load_schema("aws"), "helm": load_schema("helm")}


@pytest.mark.parametrize("directory", ALL_DIRS, ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_resources_arguments_and_blocks_exist_in_aws_6_25_and_helm_3_1(directory, schemas):
    cfg = load_dir(directory)
    assert cfg.of("resource") or cfg.of("data") or cfg.of("provider"), f"nothing to check in {directory}"
    problems = schema_problems(cfg, schemas)
    assert not problems, "\n".join(problems)


def test_schema_check_catches_typos_misplaced_and_missing_arguments(module, schemas):
    broken = copy.deepcopy(module)
    table = broken.resource("aws_dynamodb_table", "users")
    table.attrs["hash_kee"] = table.attrs.pop("hash_key")  # typo
    del table.attrs["name"]  # required
    bucket = broken.resource("aws_s3_bucket", "avatars")
    bucket.attrs["versioning"] = True  # a block in 6.x, not an argument
    broken.blocks.append(Block(type="resource", labels=("aws_s3_bucket_acls", "x"), file=MODULE_DIR / "main.tf"))
    release = Block(type="resource", labels=("helm_release", "x"), attrs={"name": "x", "chart": "x", "valuez": []}, file=MODULE_DIR / "main.tf")
    broken.blocks.append(release)
    problems = "\n".join(schema_problems(broken, schemas))
    for expected in ("'hash_kee'", "required argument 'name'", "'versioning' is a block", "aws_s3_bucket_acls", "'valuez'"):
        assert expected in problems, f"schema check missed {expected}:\n{problems}"


# ---------------------------------------------------------------------------
# module hygiene: versions, variables, outputs, tags
# ---------------------------------------------------------------------------


def constraint_admits(constraint: str, version: str) -> bool:
    """Terraform's version constraint syntax (>=, >, <=, <, =, !=, ~>), for release versions."""
    def parse(v: str) -> tuple[int, ...]:
        return tuple(int(part) for part in v.split("."))

    wanted = parse(version)
    for clause in constraint.split(","):
        m = re.fullmatch(r"\s*(>=|<=|!=|~>|>|<|=)?\s*([0-9]+(?:\.[0-9]+)*)\s*", clause)
        assert m, f"unreadable constraint {clause!r}"
        op, bound_text = m.group(1) or "=", m.group(2)
        bound = parse(bound_text)
        padded = bound + (0,) * (3 - len(bound))
        if op == "~>":
            upper = list(bound[:-1])
            upper[-1] += 1
            ok = wanted >= padded and wanted < tuple(upper) + (0,) * (3 - len(upper))
        else:
            ok = {"=": wanted == padded, "!=": wanted != padded, ">": wanted > padded, ">=": wanted >= padded,
                  "<": wanted < padded, "<=": wanted <= padded}[op]
        if not ok:
            return False
    return True


def test_constraint_reader_knows_terraforms_operators():
    assert constraint_admits(">= 5.100.0, < 7.0.0", "6.25.0") and constraint_admits(">= 5.100.0, < 7.0.0", "5.100.0")
    assert not constraint_admits(">= 5.100.0, < 7.0.0", "7.0.0") and not constraint_admits(">= 5.100.0, < 7.0.0", "5.99.0")
    assert constraint_admits("~> 6.25", "6.99.1") and not constraint_admits("~> 6.25", "7.0.0") and not constraint_admits("~> 6.25", "5.100.0")
    assert constraint_admits("~> 3.1", "3.1.1") and not constraint_admits("~> 3.1.0", "3.2.0")


# provider -> versions each directory's constraint must admit. The module and the local
# environment run on both majors: 5.100.0 is what the live tests here initialise, 6.25.0
# what AWS users get today. environments/aws is 6.x only: its registry modules need it.
PROVIDER_VERSIONS = {
    MODULE_DIR: {"aws": (["5.100.0", "6.25.0"], ["5.99.0", "7.0.0"])},
    ENV_DIRS["local"]: {"aws": (["5.100.0", "6.25.0"], ["5.99.0", "7.0.0"])},
    ENV_DIRS["aws"]: {"aws": (["6.25.0"], ["5.100.0", "7.0.0"])},
    CONTROLLERS_DIR: {"helm": (["3.1.1"], ["2.17.0", "4.0.0"])},
}


@pytest.mark.parametrize("directory", ALL_DIRS, ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_versions_tf_pins_terraform_and_providers(directory):
    assert (directory / "versions.tf").exists(), f"{directory} has no versions.tf"
    terraform = [b for b in load_file(directory / "versions.tf") if b.type == "terraform"]
    assert len(terraform) == 1
    assert re.match(r">=\s*1\.(9|1[0-9])\.", terraform[0].attrs.get("required_version", "")), terraform[0].attrs
    providers = terraform[0].child("required_providers").attrs
    expected = PROVIDER_VERSIONS[directory]
    assert set(providers) == set(expected), providers
    for name, (admitted, refused) in expected.items():
        assert providers[name]["source"] == f"hashicorp/{name}"
        constraint = providers[name]["version"]
        for version in admitted:
            assert constraint_admits(constraint, version), f"{name} {constraint!r} refuses {version}"
        for version in refused:
            assert not constraint_admits(constraint, version), f"{name} {constraint!r} admits {version}"


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
                            "cloudfront_price_class", "role_name", "policy_name", "max_session_duration",
                            "avatar_max_age_seconds"]),
        "local": (envs["local"], ["endpoint", "region", "table_name", "bucket_name", "namespace", "service_account"]),
        "aws": (envs["aws"], ["region", "environment", "vpc_cidr", "kubernetes_version", "avatar_bucket_name", "namespace",
                              "service_account", "node_min_size_per_zone", "node_max_size_per_zone",
                              "node_desired_size_per_zone", "node_capacity_type", "cluster_endpoint_public_access_cidrs",
                              "log_retention_days", "irsa_role_name", "availability_zone_ids", "single_nat_gateway",
                              "cluster_autoscaler_chart_version", "cluster_autoscaler_image_tag", "hostname",
                              "certificate_arn", "route53_zone_id", "github_repository", "avatar_max_age_seconds",
                              "avatar_noncurrent_version_days"]),
        "controllers": (load_dir(CONTROLLERS_DIR), ["region", "vpc_id", "load_balancer_controller", "cluster_autoscaler"]),
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


@pytest.mark.parametrize("env", [None, "aws"], ids=["module-defaults", "aws"])
def test_bucket_policy_denies_requests_without_tls_on_aws(module, envs, env):
    problems = tls_only_problems(module, module_bindings(module, envs[env] if env else None))
    assert not problems, "\n".join(problems)
    assert variable_defaults(module)["enforce_tls"] is True


def test_only_the_local_environment_turns_tls_enforcement_off(module, envs):
    # moto evaluates bucket policies (and ignores their conditions): roster's http://
    # calls would all be refused locally with the deny in place.
    assert tls_only_problems(module, module_bindings(module, envs["local"])) == ["enforce_tls is off here: plain HTTP is allowed"]
    assert "enforce_tls" not in envs["aws"].modules()["roster"].attrs


@pytest.mark.parametrize("mutation", ["unconditional_count", "other_switch", "allow"])
def test_tls_check_rejects_a_policy_that_can_lose_its_deny(module, mutation):
    cfg = copy.deepcopy(module)
    policy = cfg.resource("aws_s3_bucket_policy", "avatars")
    doc = policy_document(cfg, policy.attrs["policy"])
    deny = [s for s in doc.children("statement") if s.attrs.get("sid") == "DenyInsecureTransport"][0]
    if mutation == "unconditional_count":
        policy.attrs["count"] = "${var.enable_cloudfront ? 1 : 0}"
    elif mutation == "other_switch":
        deny.for_each = "${var.enable_cloudfront ? [1] : []}"
    elif mutation == "allow":
        deny.attrs["effect"] = "Allow"
    assert tls_only_problems(cfg, module_bindings(module, None)), f"{mutation} went unnoticed"


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
    assert provider.attrs.get("access_key") == "${var.access_key}" and provider.attrs.get("secret_key") == "${var.secret_key}"
    defaults = variable_defaults(local)
    assert (defaults["access_key"], defaults["secret_key"]) == ("test", "test"), "the emulators' documented dummy key by default"
    assert local.variables()["secret_key"].attrs.get("sensitive") is True
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
    wanted = {"roster_table", "roster_bucket", "aws_region", "roster_role_arn", "roster_avatar_base_url"}
    wanted |= {"aws": {"ecr_repository_url", "overlay_env", "github_actions_role_arn"},
               "local": {"aws_endpoint_url", "roster_env", "roster_access_key_id", "roster_secret_access_key"}}[env]
    assert wanted <= set(outputs), f"missing outputs: {sorted(wanted - set(outputs))}"
    if env == "local":
        env_keys = set(outputs["roster_env"].attrs["value"])
        expected = ROSTER_ENV_COMMON | {"ROSTER_BACKEND", "AWS_ENDPOINT_URL"}
        assert env_keys == expected, f"roster_env keys {sorted(env_keys)} != {sorted(expected)}"
        assert outputs["roster_secret_access_key"].attrs.get("sensitive") is True


# The keys kustomize/overlays/eks/terraform.env holds (issue 20, item 8): exactly these.
OVERLAY_KEYS = {"ROSTER_TABLE", "ROSTER_BUCKET", "ROSTER_AVATAR_BASE_URL", "AWS_REGION", "ROSTER_ROLE_ARN",
                "ROSTER_CERTIFICATE_ARN", "ROSTER_HOSTNAME"}


def test_overlay_env_output_has_exactly_the_overlays_keys(envs):
    value = next(o for o in envs["aws"].of("output") if o.labels[0] == "overlay_env").attrs["value"]
    assert set(value) == OVERLAY_KEYS, sorted(value)
    assert "roster_env" not in {o.labels[0] for o in envs["aws"].of("output")}, "one source for the overlay, not two"


def test_aws_environment_has_three_zone_vpc_eks_and_immutable_scanned_ecr(envs):
    aws = envs["aws"]
    assert aws.locals()["azs"] == "${data.aws_availability_zones.selected.names}"
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


# ---------------------------------------------------------------------------
# environments/aws: zones, controllers, GitHub Actions, avatars at the edge
# ---------------------------------------------------------------------------


def test_zones_are_pinned_by_id_and_an_impaired_zone_cannot_shrink_the_list(envs):
    data = envs["aws"].datum("aws_availability_zones", "selected")
    filters = [(f.attrs.get("name"), f.attrs.get("values")) for f in data.children("filter")]
    assert filters == [("zone-id", "${var.availability_zone_ids}")], filters
    # `state = "available"` would drop a zone while it is impaired and move its subnets.
    assert "state" not in data.attrs and "all_availability_zones" not in data.attrs
    postconditions = data.child("lifecycle").children("postcondition")
    assert any("length(self.names)" in str(p.attrs.get("condition")) for p in postconditions)


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


# kubernetes-sigs/aws-load-balancer-controller, docs/install/iam_policy.json at tag v3.5.0
# (commit 11eb202c97e4): the git blob id of that file, so the copy is provably AWS's own.
LOAD_BALANCER_CONTROLLER_POLICY = ("v3.5.0", "761d0e733c41089c91ea009dd29faf71918085e5")


def test_load_balancer_controller_policy_is_the_published_one_for_the_installed_release(envs):
    tag, blob = LOAD_BALANCER_CONTROLLER_POLICY
    aws = envs["aws"]
    assert aws.locals()["load_balancer_controller_version"] == tag
    path = ENV_DIRS["aws"] / "policies" / f"aws-load-balancer-controller-{tag}.json"
    assert git_blob_id(path.read_bytes()) == blob, f"{path} is not upstream's docs/install/iam_policy.json at {tag}"
    assert sorted(p.name for p in (ENV_DIRS["aws"] / "policies").iterdir()) == [path.name], "one policy file, the installed release's"
    controllers = aws.locals()["controllers"]
    assert "aws-load-balancer-controller-${local.load_balancer_controller_version}.json" in controllers["load_balancer_controller"]["policy"]
    chart = aws.modules()["controllers"].attrs["load_balancer_controller"]["chart_version"]
    assert re.sub(r"\s", "", chart) == '${trimprefix(local.load_balancer_controller_version,"v")}'


def test_controllers_run_as_the_service_accounts_their_roles_trust(envs):
    aws = envs["aws"]
    trust = aws.datum("aws_iam_policy_document", "controller_trust")
    assert trust.attrs["for_each"] == "${local.controllers}"
    st = trust.child("statement")
    subjects = [c.attrs["values"] for c in st.children("condition") if c.attrs["variable"].endswith(":sub")]
    assert subjects == [["system:serviceaccount:${each.value.namespace}:${each.value.service_account}"]]
    assert [c.attrs["values"] for c in st.children("condition") if c.attrs["variable"].endswith(":aud")] == [["sts.amazonaws.com"]]
    call = aws.modules()["controllers"].attrs
    for key, arg in (("load_balancer_controller", "load_balancer_controller"), ("cluster_autoscaler", "cluster_autoscaler")):
        passed = call[arg]
        assert passed["namespace"] == f"${{local.controllers.{key}.namespace}}"
        assert passed["service_account"] == f"${{local.controllers.{key}.service_account}}"
        assert passed["role_arn"] == f'${{aws_iam_role.controller["{key}"].arn}}'
    releases = {r.labels[1]: r for r in load_dir(CONTROLLERS_DIR).resources("helm_release")}
    assert set(releases) == {"aws_load_balancer_controller", "cluster_autoscaler"}
    for name, release in releases.items():
        var = "load_balancer_controller" if name == "aws_load_balancer_controller" else "cluster_autoscaler"
        assert release.attrs["version"] == f"${{var.{var}.chart_version}}", "charts are pinned by exact version"
        assert release.attrs["namespace"] == f"${{var.{var}.namespace}}"
        assert release.attrs["repository"].startswith("https://")
        values = json.dumps(release.attrs["values"])
        assert f"var.{var}.service_account" in values and f"var.{var}.role_arn" in values and "eks.amazonaws.com/role-arn" in values


def test_cluster_autoscaler_may_only_resize_this_clusters_node_groups(envs):
    doc = envs["aws"].datum("aws_iam_policy_document", "cluster_autoscaler")
    writes = {"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"}
    for st in doc.children("statement"):
        actions = set(as_list(st.attrs["actions"]))
        assert all(a.split(":")[1].startswith(("Describe", "Get")) for a in actions - writes), actions
        if actions & writes:
            assert actions <= writes
            conditions = [(c.attrs["test"], c.attrs["variable"], c.attrs["values"]) for c in st.children("condition")]
            assert conditions == [("StringEquals", "aws:ResourceTag/k8s.io/cluster-autoscaler/${module.eks.cluster_name}", ["owned"])]


def test_github_actions_role_is_trusted_only_for_main_and_pull_requests_of_one_repository(envs):
    st = envs["aws"].datum("aws_iam_policy_document", "github_trust").child("statement")
    assert as_list(st.attrs["actions"]) == ["sts:AssumeRoleWithWebIdentity"]
    conditions = {c.attrs["variable"]: (c.attrs["test"], c.attrs["values"]) for c in st.children("condition")}
    assert conditions == {
        "${local.github_oidc_host}:aud": ("StringEquals", ["sts.amazonaws.com"]),
        "${local.github_oidc_host}:sub": ("StringEquals", ["repo:${var.github_repository}:ref:refs/heads/main",
                                                           "repo:${var.github_repository}:pull_request"]),
    }
    assert envs["aws"].locals()["github_oidc_host"] == "token.actions.githubusercontent.com"


def test_github_actions_role_pushes_only_to_rosters_repository_and_reads_no_user_data(envs):
    doc = envs["aws"].datum("aws_iam_policy_document", "github_actions")
    item_reads = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:ExportTableToPointInTime"}
    seen_push = False
    for st in doc.children("statement"):
        actions = set(as_list(st.attrs["actions"]))
        resources = as_list(st.attrs["resources"])
        assert st.attrs.get("effect", "Allow") == "Allow" and "not_actions" not in st.attrs
        assert not actions & item_reads, f"{st.attrs.get('sid')} reads table items"
        if any(a.startswith("s3:GetObject") for a in actions):
            assert st.attrs.get("sid") in ("StateRead", "StateLock"), f"{st.attrs.get('sid')} reads objects outside the state"
        writes = {a for a in actions if a.split(":")[1].startswith(("Put", "Upload", "Complete", "Initiate", "Delete", "Create"))}
        if writes and st.attrs.get("sid") == "PushRosterImages":
            seen_push = True
            assert resources == ["${aws_ecr_repository.roster.arn}"]
            assert writes == {"ecr:PutImage", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload"}
        elif writes:
            assert st.attrs.get("sid") == "StateLock" and writes == {"s3:PutObject", "s3:DeleteObject"}, st.attrs
            assert resources == ["arn:aws:s3:::${statement.value}/${local.state_lock_key}"]
        for action in actions:
            assert "*" not in action or action.split(":")[1].startswith(("Describe", "List")), f"broad action {action}"
    assert seen_push


def test_avatars_leave_the_edge_within_rosters_cache_control_max_age(module, envs):
    policy = module.resource("aws_cloudfront_cache_policy", "avatars")
    assert policy.attrs["min_ttl"] == 0
    assert policy.attrs["max_ttl"] == "${var.avatar_max_age_seconds}" == policy.attrs["default_ttl"]
    behaviour = module.resource("aws_cloudfront_distribution", "avatars").child("default_cache_behavior")
    assert behaviour.attrs["cache_policy_id"] == "${aws_cloudfront_cache_policy.avatars[0].id}"
    assert not module.data("aws_cloudfront_cache_policy"), "a managed policy (CachingOptimized keeps objects for a day) is back"
    # roster writes Cache-Control: public, max-age=ROSTER_AVATAR_MAX_AGE (300 s by default).
    roster_max_age = 300
    assert variable_defaults(module)["avatar_max_age_seconds"] <= roster_max_age
    assert variable_defaults(envs["aws"])["avatar_max_age_seconds"] <= roster_max_age
    assert envs["aws"].modules()["roster"].attrs["avatar_max_age_seconds"] == "${var.avatar_max_age_seconds}"
    key = policy.child("parameters_in_cache_key_and_forwarded_to_origin")
    assert key.child("cookies_config").attrs["cookie_behavior"] == "none"
    assert key.child("query_strings_config").attrs["query_string_behavior"] == "none"


def test_deleted_avatars_leave_the_bucket_within_a_week(module, envs):
    assert variable_defaults(module)["noncurrent_version_expiration_days"] == 7
    assert variable_defaults(envs["aws"])["avatar_noncurrent_version_days"] == 7
    assert envs["aws"].modules()["roster"].attrs["noncurrent_version_expiration_days"] == "${var.avatar_noncurrent_version_days}"
