"""Terraform for real on this machine: the roster module and environments/local are
initialised and validated with the real hashicorp/aws 5.100.0 provider, then
environments/local is planned, applied, planned again (no changes), used by roster's own
AWS tests with credentials that hold only the Terraform-made policy, and destroyed,
against a moto server that enforces IAM.

The tests in this file run in order and share one moto server and one state: the
applying fixture is the first step, `test_destroy_...` the last.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import botocore.exceptions
import pytest

from tfrun import REPO, Terraform, client

LOCAL = "environments/local"
NAMES = {"table_name": "users-tf", "bucket_name": "roster-avatars-tf"}
# Resources outside the policy, made with the administrator's key, for the refusals.
OTHER_TABLE = "someone-elses-table"
OTHER_BUCKET = "someone-elses-bucket"


@pytest.fixture(scope="module")
def terraform(tmp_path_factory) -> Terraform:
    return Terraform.scratch(tmp_path_factory.mktemp("tf-local"))


@pytest.fixture(scope="module")
def moto(iam_moto):
    return iam_moto


@pytest.fixture(scope="module")
def tf_env(moto) -> dict[str, str]:
    key, secret = moto.admin
    return {
        "TF_VAR_endpoint": moto.endpoint,
        "TF_VAR_access_key": key,
        "TF_VAR_secret_key": secret,
        "TF_VAR_table_name": NAMES["table_name"],
        "TF_VAR_bucket_name": NAMES["bucket_name"],
    }


@pytest.fixture(scope="module")
def applied(terraform, moto, tf_env):
    """init, plan -out, apply of that plan; yields the outputs; destroys if a test did not."""
    terraform.ok(LOCAL, "init", "-input=false", "-no-color")
    terraform.ok(LOCAL, "plan", "-input=false", "-no-color", "-out=local.tfplan", extra_env=tf_env)
    terraform.ok(LOCAL, "apply", "-input=false", "-no-color", "local.tfplan", extra_env=tf_env)
    outputs = terraform.outputs(LOCAL, extra_env=tf_env)
    state = {"outputs": outputs, "destroyed": False}
    yield state
    if not state["destroyed"]:
        terraform.run(LOCAL, "destroy", "-auto-approve", "-input=false", "-no-color", extra_env=tf_env)


@pytest.fixture(scope="module")
def admin(moto):
    return {service: client(service, moto.endpoint, moto.admin) for service in ("dynamodb", "s3", "iam")}


@pytest.fixture(scope="module")
def roster_clients(moto, applied):
    outputs = applied["outputs"]
    credentials = (outputs["roster_access_key_id"], outputs["roster_secret_access_key"])
    return {service: client(service, moto.endpoint, credentials) for service in ("dynamodb", "s3", "iam")}


# ---------------------------------------------------------------------------
# init and validate, with the real provider
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("directory", ["modules/roster", LOCAL])
def test_init_and_validate_with_the_mirrored_aws_provider(terraform, directory):
    init = terraform.ok(directory, "init", "-backend=false", "-input=false", "-no-color")
    assert "hashicorp/aws v5.100.0" in init.stdout, init.stdout
    validate = terraform.ok(directory, "validate", "-json", "-no-color")
    assert '"valid": true' in validate.stdout and '"error_count": 0' in validate.stdout, validate.stdout


def test_cli_configuration_installs_from_the_mirror_only(terraform):
    config = open(terraform.env["TF_CLI_CONFIG_FILE"]).read()
    assert "filesystem_mirror" in config and "/opt/tf-plugins" in config and "direct" not in config


# ---------------------------------------------------------------------------
# plan, apply, plan again
# ---------------------------------------------------------------------------


def test_a_second_plan_after_apply_has_no_changes(terraform, applied, tf_env):
    result = terraform.run(LOCAL, "plan", "-detailed-exitcode", "-input=false", "-no-color", extra_env=tf_env)
    assert result.returncode == 0, f"the second plan is not empty (exit {result.returncode}):\n{result.stdout[-4000:]}{result.stderr[-2000:]}"


def test_outputs_name_the_table_bucket_and_a_user_holding_only_the_roster_policy(applied, admin, moto):
    outputs = applied["outputs"]
    assert outputs["roster_table"] == NAMES["table_name"] and outputs["roster_bucket"] == NAMES["bucket_name"]
    table = admin["dynamodb"].describe_table(TableName=outputs["roster_table"])["Table"]
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [("email", "HASH")]
    admin["s3"].head_bucket(Bucket=outputs["roster_bucket"])
    assert admin["s3"].get_bucket_versioning(Bucket=outputs["roster_bucket"])["Status"] == "Enabled"
    # Locally there is no bucket policy: the TLS statements are off and there is no CloudFront.
    with pytest.raises(botocore.exceptions.ClientError, match="NoSuchBucketPolicy"):
        admin["s3"].get_bucket_policy(Bucket=outputs["roster_bucket"])

    iam = admin["iam"]
    user = next(u for u in iam.list_users()["Users"] if any(k["AccessKeyId"] == outputs["roster_access_key_id"] for k in iam.list_access_keys(UserName=u["UserName"])["AccessKeyMetadata"]))
    attached = [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=user["UserName"])["AttachedPolicies"]]
    assert attached == [outputs["roster_policy_arn"]]
    assert iam.list_user_policies(UserName=user["UserName"])["PolicyNames"] == []
    assert iam.list_groups_for_user(UserName=user["UserName"])["Groups"] == []
    # The role IRSA assumes on EKS carries the very same policy.
    role = outputs["roster_role_arn"].rsplit("/", 1)[1]
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]] == attached
    assert outputs["aws_endpoint_url"] == moto.endpoint
    assert outputs["roster_avatar_base_url"] == f"{moto.endpoint}/{NAMES['bucket_name']}"


# ---------------------------------------------------------------------------
# the policy, proven by moto's IAM enforcement
# ---------------------------------------------------------------------------


def test_roster_aws_tests_pass_on_what_terraform_made_with_only_its_policy(applied, moto):
    """roster's own AWS tests (`provisioned::` of tests/api), on this table and bucket, with
    roster running on the Terraform-made key and the tests inspecting with the admin's."""
    cargo = shutil.which("cargo")
    assert cargo, "cargo is required"
    outputs = applied["outputs"]
    env = {
        **os.environ,
        "ROSTER_TEST_AWS_ENDPOINT": moto.endpoint,
        "ROSTER_TEST_AWS_TABLE": outputs["roster_table"],
        "ROSTER_TEST_AWS_BUCKET": outputs["roster_bucket"],
        "ROSTER_TEST_AWS_ADMIN_CREDENTIALS": ":".join(moto.admin),
        "ROSTER_TEST_AWS_ROSTER_CREDENTIALS": f"{outputs['roster_access_key_id']}:{outputs['roster_secret_access_key']}",
    }
    result = subprocess.run(
        [cargo, "test", "--locked", "--test", "api", "provisioned::", "--", "--test-threads=1"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    summaries = re.findall(r"test result: (\w+)\. (\d+) passed; (\d+) failed", result.stdout)
    assert result.returncode == 0, f"cargo test failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    assert summaries, f"no test summary in cargo's output:\n{result.stdout[-3000:]}"
    passed = sum(int(p) for _, p, _ in summaries)
    assert passed > 0, "cargo ran no provisioned:: test (tests/api has no `provisioned` module yet?)"


def test_roster_credentials_make_every_call_roster_makes(applied, roster_clients):
    outputs = applied["outputs"]
    table, bucket = outputs["roster_table"], outputs["roster_bucket"]
    ddb, s3 = roster_clients["dynamodb"], roster_clients["s3"]
    ddb.describe_table(TableName=table)
    s3.head_bucket(Bucket=bucket)
    item = {"email": {"S": "policy@example.com"}, "name": {"S": "Policy"}, "avatar_url": {"S": "x"}}
    ddb.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(email)")
    assert ddb.get_item(TableName=table, Key={"email": item["email"]})["Item"] == item
    assert any(i["email"] == item["email"] for i in ddb.scan(TableName=table)["Items"])
    ddb.delete_item(TableName=table, Key={"email": item["email"]}, ReturnValues="ALL_OLD")
    key = "avatars/00000000000000000000000000000000.png"
    s3.put_object(Bucket=bucket, Key=key, Body=b"\x89PNG", ContentType="image/png", CacheControl="public, max-age=300")
    # The orphan sweep lists the prefix (s3:ListBucket on the bucket).
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="avatars/").get("Contents", [])] == [key]
    s3.delete_object(Bucket=bucket, Key=key)


@pytest.fixture(scope="module")
def other_resources(admin, applied):
    admin["dynamodb"].create_table(
        TableName=OTHER_TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    admin["s3"].create_bucket(Bucket=OTHER_BUCKET)
    # An avatar to try to read back; it stays for destroy, which must remove it too.
    admin["s3"].put_object(Bucket=applied["outputs"]["roster_bucket"], Key="avatars/11111111111111111111111111111111.png", Body=b"avatar")
    yield
    for version in admin["s3"].list_object_versions(Bucket=OTHER_BUCKET).get("Versions", []):
        admin["s3"].delete_object(Bucket=OTHER_BUCKET, Key=version["Key"], VersionId=version["VersionId"])
    admin["s3"].delete_bucket(Bucket=OTHER_BUCKET)
    admin["dynamodb"].delete_table(TableName=OTHER_TABLE)


REFUSED = {
    # roster never reads an avatar back: browsers fetch them from avatar_url.
    "GetObject of an avatar": lambda c, t, b: c["s3"].get_object(Bucket=b, Key="avatars/11111111111111111111111111111111.png"),
    "PutObject outside avatars/": lambda c, t, b: c["s3"].put_object(Bucket=b, Key="elsewhere/x.png", Body=b"x"),
    "PutObject to another bucket": lambda c, t, b: c["s3"].put_object(Bucket=OTHER_BUCKET, Key="avatars/x.png", Body=b"x"),
    "Scan of another table": lambda c, t, b: c["dynamodb"].scan(TableName=OTHER_TABLE),
    "PutItem into another table": lambda c, t, b: c["dynamodb"].put_item(TableName=OTHER_TABLE, Item={"id": {"S": "x"}}),
    "DeleteTable of roster's table": lambda c, t, b: c["dynamodb"].delete_table(TableName=t),
    "ListTables": lambda c, t, b: c["dynamodb"].list_tables(),
    "ListBuckets": lambda c, t, b: c["s3"].list_buckets(),
    "PutBucketVersioning (suspending it)": lambda c, t, b: c["s3"].put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"}),
    "iam:ListUsers": lambda c, t, b: c["iam"].list_users(),
}


DESTRUCTIVE = {"DeleteTable of roster's table", "PutBucketVersioning (suspending it)"}


@pytest.mark.parametrize("call", REFUSED, ids=list(REFUSED))
def test_calls_outside_the_policy_are_refused_but_allowed_to_the_admin(applied, roster_clients, admin, other_resources, call):
    table, bucket = applied["outputs"]["roster_table"], applied["outputs"]["roster_bucket"]
    if call not in DESTRUCTIVE:
        # The same call with the administrator's key works: what refuses it is the policy.
        REFUSED[call](admin, table, bucket)
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        REFUSED[call](roster_clients, table, bucket)
    error = refused.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403, error
    assert error["Error"]["Code"] in ("AccessDenied", "AccessDeniedException", "403"), error


def test_unknown_credentials_are_refused(moto, applied):
    stranger = client("dynamodb", moto.endpoint, ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        stranger.describe_table(TableName=applied["outputs"]["roster_table"])
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


# ---------------------------------------------------------------------------
# destroy
# ---------------------------------------------------------------------------


def test_destroy_removes_a_versioned_bucket_with_old_versions_and_delete_markers(terraform, applied, tf_env, admin):
    outputs = applied["outputs"]
    bucket = outputs["roster_bucket"]
    versions = admin["s3"].list_object_versions(Bucket=bucket)
    assert versions.get("Versions") and versions.get("DeleteMarkers"), (
        "the earlier tests should have left old versions and delete markers behind, the case destroy must handle"
    )
    terraform.ok(LOCAL, "destroy", "-auto-approve", "-input=false", "-no-color", extra_env=tf_env, timeout=600)
    applied["destroyed"] = True
    assert bucket not in [b["Name"] for b in admin["s3"].list_buckets()["Buckets"]]
    assert outputs["roster_table"] not in admin["dynamodb"].list_tables()["TableNames"]
    assert all(p["Arn"] != outputs["roster_policy_arn"] for p in admin["iam"].list_policies(Scope="Local")["Policies"])
    assert not any(u["UserName"] != "moto-admin" for u in admin["iam"].list_users()["Users"])
    state = terraform.ok(LOCAL, "state", "list", extra_env=tf_env).stdout.split()
    assert state == [], state
