"""A moto server for roster's tests, on 127.0.0.1 and a free port.

moto's DynamoDB conditional writes are not atomic under concurrent requests (measured:
two winners in 2 of 200 rounds of 20 racing `attribute_not_exists` puts), so this
launcher serialises DynamoDB requests with one lock; S3 and the rest stay concurrent.
That way the tests judge roster's use of conditional writes, not the emulator's races.

It also mends one S3 bug of moto 5.2.5 that AWS does not have: in a bucket whose
versioning is *suspended*, `DeleteObject(s)` with a `VersionId` ignores the version, drops
every version of the key and crashes (HTTP 500) when one of them is a delete marker.
`terraform destroy` of a versioned bucket suspends versioning first
(`aws_s3_bucket_versioning` goes before the bucket), then `force_destroy` deletes each
version by id: with moto that is a 500 the SDK retries for minutes. AWS deletes exactly the
version named, whatever the bucket's versioning state; so does this launcher.

With `--enforce-iam` it authenticates and authorises every request the way moto's
IAM-like access control does (moto's `INITIAL_NO_AUTH_ACTION_COUNT`): the first three
requests create an administrator (an IAM user whose inline policy allows everything) and
from then on only signed requests of known access keys whose policies allow the action on
the resource pass. Two things moto does not do like AWS are mended in that mode: moto
authorises DynamoDB calls against the resource `*` (so no policy naming a table could
ever match), here against the table's ARN; and moto authorises HeadBucket as
`s3:HeadBucket`, which is not an IAM action, here as `s3:ListBucket`, as AWS does.

It prints `PORT <n>` once it listens (in `--enforce-iam` mode followed by
`ADMIN <access key id>:<secret access key>`), and exits when its standard input closes,
so a test process that dies never leaves a server behind.
"""

import argparse
import os
import sys
import threading

import boto3
from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.s3 import responses as s3_responses
from moto.s3.models import FakeBucket, S3Backend
from moto.utilities.utils import get_partition
from werkzeug.serving import make_server

# The administrator made in enforce-iam mode, and the number of requests that takes.
ADMIN_USER = "moto-admin"
ADMIN_POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
ADMIN_BOOTSTRAP_REQUESTS = 3


class SerialisedDynamoDB:
    """WSGI middleware taking one lock around every DynamoDB request."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("DynamoDB_"):
            return self.app(environ, start_response)
        with self.lock:
            # Materialise the body inside the lock: the write happens while it is built.
            return list(self.app(environ, start_response))


_deleting_a_version = threading.local()


def delete_versions_in_suspended_buckets():
    """Make a delete that names a version remove exactly that version, as AWS does."""
    enabled = FakeBucket.is_versioned.fget

    def is_versioned(bucket):
        suspended = bucket.versioning_status == "Suspended"
        return enabled(bucket) or (suspended and getattr(_deleting_a_version, "active", False))

    delete_object = S3Backend.delete_object

    def delete_object_by_version(self, bucket_name, key_name, version_id=None, bypass=False):
        # Thread-local: the server is threaded and other requests see the bucket as it is.
        _deleting_a_version.active = version_id is not None
        try:
            return delete_object(self, bucket_name, key_name, version_id=version_id, bypass=bypass)
        finally:
            _deleting_a_version.active = False

    FakeBucket.is_versioned = property(is_versioned)
    S3Backend.delete_object = delete_object_by_version


def authorise_like_aws():
    """The two corrections to moto's IAM-like access control described above."""

    def table_resource(self):
        for name in ("TableName", "ResourceArn"):
            value = self.body.get(name) if isinstance(self.body, dict) else None
            if isinstance(value, str) and value:
                if value.startswith("arn:"):
                    return value
                return f"arn:{get_partition(self.region)}:dynamodb:{self.region}:{self.current_account}:table/{value}"
        return "*"

    DynamoHandler._determine_resource = table_resource
    s3_responses.ACTION_MAP["BUCKET"]["HEAD"]["DEFAULT"] = "ListBucket"


def bootstrap_admin(endpoint: str) -> str:
    """Spend the unauthenticated requests on an administrator; returns `KEYID:SECRET`."""
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bootstrap",
        aws_secret_access_key="bootstrap",
    )
    iam.create_user(UserName=ADMIN_USER)
    iam.put_user_policy(UserName=ADMIN_USER, PolicyName="everything", PolicyDocument=ADMIN_POLICY)
    key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
    if ActionAuthenticatorMixin.request_count != ADMIN_BOOTSTRAP_REQUESTS:
        raise SystemExit(f"moto counted {ActionAuthenticatorMixin.request_count} requests while bootstrapping IAM")
    return f"{key['AccessKeyId']}:{key['SecretAccessKey']}"


def exit_when_stdin_closes():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="do not watch standard input (for running by hand)",
    )
    parser.add_argument(
        "--enforce-iam",
        action="store_true",
        help="authenticate and authorise every request after bootstrapping an administrator",
    )
    arguments = parser.parse_args()

    delete_versions_in_suspended_buckets()
    if arguments.enforce_iam:
        authorise_like_aws()
        ActionAuthenticatorMixin.request_count = 0
        settings.INITIAL_NO_AUTH_ACTION_COUNT = ADMIN_BOOTSTRAP_REQUESTS

    app = SerialisedDynamoDB(DomainDispatcherApplication(create_backend_app))
    server = make_server(
        "127.0.0.1",
        arguments.port,
        app,
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    os.environ["MOTO_PORT"] = str(server.port)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()

    # The port is announced only after the bootstrap, so nobody else can spend the
    # unauthenticated requests.
    lines = [f"PORT {server.port}"]
    if arguments.enforce_iam:
        lines.append(f"ADMIN {bootstrap_admin(f'http://127.0.0.1:{server.port}')}")
    print("\n".join(lines), flush=True)

    if arguments.keep_running:
        serving.join()
    else:
        exit_when_stdin_closes()


if __name__ == "__main__":
    main()
