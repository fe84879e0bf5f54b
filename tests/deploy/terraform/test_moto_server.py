"""What the Terraform tests rely on from tests/support/moto_server.py, and what moto
5.2.5 itself does that the docs describe (docs/terraform.md, "What the emulator enforces")."""

from __future__ import annotations

import json

import botocore.exceptions
import pytest

from tfrun import Moto, client

DUMMY = ("test", "test")


@pytest.fixture(scope="module")
def plain(plain_moto):
    return plain_moto


@pytest.fixture(scope="module")
def enforcing(iam_moto):
    return iam_moto


def test_deleting_versions_of_a_suspended_bucket_removes_exactly_those(plain):
    """What `terraform destroy` of a versioned force_destroy bucket does: suspend versioning
    (aws_s3_bucket_versioning goes first), then delete every version and delete marker by id.
    Unmended, moto 5.2.5 answers 500 here and the provider retries for minutes."""
    s3 = client("s3", plain.endpoint, DUMMY)
    s3.create_bucket(Bucket="suspended")
    s3.put_bucket_versioning(Bucket="suspended", VersioningConfiguration={"Status": "Enabled"})
    for body in (b"one", b"two"):
        s3.put_object(Bucket="suspended", Key="avatars/a.png", Body=body)
    s3.delete_object(Bucket="suspended", Key="avatars/a.png")  # a delete marker
    s3.put_object(Bucket="suspended", Key="avatars/b.png", Body=b"b")
    s3.put_bucket_versioning(Bucket="suspended", VersioningConfiguration={"Status": "Suspended"})
    listing = s3.list_object_versions(Bucket="suspended")
    everything = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in listing["Versions"] + listing["DeleteMarkers"]]
    assert len(everything) == 4
    first = next(o for o in everything if o["Key"] == "avatars/a.png")
    assert not s3.delete_objects(Bucket="suspended", Delete={"Objects": [first], "Quiet": True}).get("Errors")
    left = s3.list_object_versions(Bucket="suspended")
    remaining = [(v["Key"], v["VersionId"]) for v in left.get("Versions", []) + left.get("DeleteMarkers", [])]
    assert (first["Key"], first["VersionId"]) not in remaining and len(remaining) == 3
    rest = [{"Key": k, "VersionId": v} for k, v in remaining]
    assert not s3.delete_objects(Bucket="suspended", Delete={"Objects": rest, "Quiet": True}).get("Errors")
    s3.delete_bucket(Bucket="suspended")


def test_moto_applies_bucket_policy_statements_without_their_conditions(plain):
    """A Deny that on AWS only concerns TLS requests (aws:SecureTransport = true) refuses
    this plain-HTTP request too: moto treats every condition of a bucket policy as met. So the TLS-only deny refuses every object request in moto, over http://
    and https:// alike, which is why environments/local turns it off."""
    s3 = client("s3", plain.endpoint, DUMMY)
    s3.create_bucket(Bucket="conditions")
    s3.put_object(Bucket="conditions", Key="avatars/a.png", Body=b"a")
    deny_tls_requests = {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::conditions", "arn:aws:s3:::conditions/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        }],
    }
    s3.put_bucket_policy(Bucket="conditions", Policy=json.dumps(deny_tls_requests))
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        s3.put_object(Bucket="conditions", Key="avatars/b.png", Body=b"b")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    s3.delete_bucket_policy(Bucket="conditions")


def _user_with_policy(enforcing: Moto, name: str, statements: list[dict]) -> tuple[str, str]:
    iam = client("iam", enforcing.endpoint, enforcing.admin)
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="only", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_enforcing_mode_refuses_unknown_keys_and_admits_the_administrator(enforcing):
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        client("dynamodb", enforcing.endpoint, DUMMY).list_tables()
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert client("dynamodb", enforcing.endpoint, enforcing.admin).list_tables()["TableNames"] == []


def test_enforcing_mode_authorises_dynamodb_calls_on_the_named_table(enforcing):
    admin = client("dynamodb", enforcing.endpoint, enforcing.admin)
    for table in ("mine", "theirs"):
        admin.create_table(
            TableName=table, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "email", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "email", "KeyType": "HASH"}],
        )
    key = _user_with_policy(enforcing, "table-user", [
        {"Effect": "Allow", "Action": ["dynamodb:Scan"], "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/mine"},
    ])
    user = client("dynamodb", enforcing.endpoint, key)
    assert user.scan(TableName="mine")["Items"] == []  # plain moto would refuse: it authorises against "*"
    with pytest.raises(botocore.exceptions.ClientError):
        user.scan(TableName="theirs")


def test_enforcing_mode_authorises_head_bucket_as_list_bucket(enforcing):
    client("s3", enforcing.endpoint, enforcing.admin).create_bucket(Bucket="headed")
    allowed = _user_with_policy(enforcing, "lister", [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::headed"}])
    client("s3", enforcing.endpoint, allowed).head_bucket(Bucket="headed")
    other = _user_with_policy(enforcing, "putter", [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::headed/*"}])
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        client("s3", enforcing.endpoint, other).head_bucket(Bucket="headed")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
