"""Fixtures for the end-to-end tests: the real roster binary on a free port, on either
backend (embedded, with a temporary data directory; aws, on a moto server of its own),
and the helpers the contract and browser tests share.

Every wait is bounded, and only processes started here are stopped, by their PID.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterator, Optional

import pytest

from e2e_helpers import ARTIFACTS, REPO, png_image

MOTO_SERVER = REPO / "tests" / "support" / "moto_server.py"

BACKENDS = ("embedded", "aws")

START_TIMEOUT = 30.0  # seconds for a process to print its address and become ready
STOP_TIMEOUT = 25.0  # above ROSTER_SHUTDOWN_TIMEOUT's 20 s default
BUILD_TIMEOUT = 900.0  # a cold `cargo build`; a warm one (after `cargo test`) is a no-op

# Variables that would steer a started roster elsewhere than the fixture says.
_INHERITED_PREFIXES = ("ROSTER_", "AWS_", "OTEL_")


def clean_environment(**overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_INHERITED_PREFIXES) and key != "RUST_LOG"
    }
    env.update(overrides)
    return env


class _LineReader:
    """Copies a child's output into a log file and hands each line to a queue, so the
    parent can wait for a line with a deadline instead of blocking on the pipe."""

    def __init__(self, stream: IO[str], log_path: Path):
        self.lines: "queue.Queue[Optional[str]]" = queue.Queue()
        self._thread = threading.Thread(
            target=self._run, args=(stream, log_path), daemon=True
        )
        self._thread.start()

    def _run(self, stream: IO[str], log_path: Path) -> None:
        with log_path.open("a", encoding="utf-8") as log:
            for line in stream:
                log.write(line)
                log.flush()
                self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, predicate, deadline: float, what: str, log_path: Path):
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {what} in time; log: {log_path}")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(
                    f"the process exited before {what}:\n{log_path.read_text()}"
                )
            found = predicate(line)
            if found is not None:
                return found


def _stop(process: subprocess.Popen, how: int = signal.SIGTERM) -> None:
    """Stops one process this module started, by its PID: a signal, a bounded wait,
    then SIGKILL."""
    if process.poll() is not None:
        return
    try:
        os.kill(process.pid, how)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)


@dataclass
class Moto:
    process: subprocess.Popen
    endpoint: str
    log_path: Path

    def client(self, service: str):
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )


@dataclass
class Roster:
    backend: str
    process: subprocess.Popen
    base_url: str  # http://127.0.0.1:<port>
    log_path: Path
    avatar_origin: str  # where avatar images are fetched from: the server, or moto
    aws_resources: dict = field(default_factory=dict)

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[1]

    def url(self, path: str) -> str:
        return self.base_url + path

    def request(self, method: str, path: str, data: bytes | None = None, headers=None):
        """(status, headers, body) of one request, errors included."""
        request = urllib.request.Request(
            self.url(path), data=data, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def create_user(self, name: str, email: str, avatar: bytes | None = None):
        """POST /user with a multipart form; returns (status, parsed JSON body)."""
        boundary = uuid.uuid4().hex
        parts = []
        for field_name, value in (("name", name), ("email", email)):
            disposition = f'form-data; name="{field_name}"'
            parts.append(
                f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
                + value.encode()
                + b"\r\n"
            )
        disposition = 'form-data; name="avatar"; filename="avatar.png"'
        parts.append(
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
            "Content-Type: image/png\r\n\r\n".encode()
            + (png_image() if avatar is None else avatar)
            + b"\r\n"
        )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        status, _, payload = self.request(
            "POST",
            "/user",
            data=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        return status, json.loads(payload)


def _wait_ready(roster: Roster, deadline: float) -> None:
    last = None
    while time.monotonic() < deadline:
        if roster.process.poll() is not None:
            raise RuntimeError(
                f"roster exited with {roster.process.returncode}:\n{roster.log_path.read_text()}"
            )
        try:
            status, _, _ = roster.request("GET", "/readyz")
            if status == 200:
                return
            last = status
        except OSError as error:
            last = error
        time.sleep(0.1)
    raise TimeoutError(f"roster never became ready (last: {last}); log: {roster.log_path}")


@pytest.fixture(scope="session")
def roster_binary() -> Path:
    """The roster binary: `$ROSTER_BIN` when set, else a (normally no-op) `cargo build`."""
    given = os.environ.get("ROSTER_BIN")
    if given:
        return Path(given).resolve()
    subprocess.run(
        ["cargo", "build", "--quiet", "--locked", "--bin", "roster"],
        cwd=REPO,
        check=True,
        timeout=BUILD_TIMEOUT,
    )
    return REPO / "target" / "debug" / "roster"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def moto(tmp_path_factory) -> Iterator[Moto]:
    """One moto server for the session; it exits when its stdin closes."""
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    process = subprocess.Popen(
        [sys.executable, str(MOTO_SERVER)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=clean_environment(),
    )
    try:
        reader = _LineReader(process.stdout, log_path)
        port = reader.wait_for(
            lambda line: int(line.split()[1]) if line.startswith("PORT ") else None,
            time.monotonic() + START_TIMEOUT,
            "PORT line from moto",
            log_path,
        )
        yield Moto(process, f"http://127.0.0.1:{port}", log_path)
    finally:
        if process.stdin:
            process.stdin.close()  # the launcher's documented way to stop
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _stop(process)


def _aws_resources(moto: Moto) -> tuple[dict, dict]:
    """A fresh table and bucket; avatars/* readable anonymously, so a browser can show
    them (moto, like S3, keeps objects private otherwise)."""
    suffix = uuid.uuid4().hex[:12]
    table, bucket = f"roster-e2e-{suffix}", f"roster-e2e-{suffix}"
    moto.client("dynamodb").create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "email", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "email", "KeyType": "HASH"}],
    )
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "PublicAvatarsForTheLocalEmulator",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{bucket}/avatars/*",
                    }
                ],
            }
        ),
    )
    avatar_base = f"{moto.endpoint}/{bucket}"
    env = {
        "ROSTER_BACKEND": "aws",
        "ROSTER_TABLE": table,
        "ROSTER_BUCKET": bucket,
        "ROSTER_AVATAR_BASE_URL": avatar_base,
        "AWS_ENDPOINT_URL": moto.endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        # No profile files or instance metadata lookups on the test machine.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return env, {"table": table, "bucket": bucket, "avatar_base": avatar_base}


@pytest.fixture
def start_roster(roster_binary, tmp_path, request):
    """A factory: start_roster("embedded" | "aws") → a ready Roster, stopped at teardown."""
    started: list[subprocess.Popen] = []

    def start(backend: str) -> Roster:
        run_dir = tmp_path / f"roster-{backend}-{len(started)}"
        run_dir.mkdir()
        log_path = run_dir / "roster.log"
        env = clean_environment(
            ROSTER_LISTEN="127.0.0.1:0",
            ROSTER_LOG_FORMAT="json",
            RUST_LOG="info",
        )
        resources: dict = {}
        if backend == "embedded":
            env.update(ROSTER_BACKEND="embedded", ROSTER_DATA_DIR=str(run_dir / "data"))
        elif backend == "aws":
            aws_env, resources = _aws_resources(request.getfixturevalue("moto"))
            env.update(aws_env)
        else:
            raise ValueError(backend)
        process = subprocess.Popen(
            [str(roster_binary)],
            cwd=run_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        started.append(process)
        reader = _LineReader(process.stdout, log_path)

        def serving_address(line: str):
            try:
                record = json.loads(line)
            except ValueError:
                return None
            if record.get("message") == "serving":
                return record.get("address")
            return None

        deadline = time.monotonic() + START_TIMEOUT
        address = reader.wait_for(serving_address, deadline, '"serving" log line', log_path)
        base_url = f"http://{address}"
        roster = Roster(
            backend=backend,
            process=process,
            base_url=base_url,
            log_path=log_path,
            avatar_origin=resources.get("avatar_base", base_url),
            aws_resources=resources,
        )
        _wait_ready(roster, deadline)
        return roster

    yield start
    for process in started:
        _stop(process)


@pytest.fixture(params=BACKENDS)
def roster(request, start_roster) -> Roster:
    """A fresh roster with an empty store, once per backend."""
    return start_roster(request.param)
