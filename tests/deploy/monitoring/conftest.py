"""The live fixture of the monitoring tests: a real roster (aws backend, on a moto the test
starts late and kills early, which gives true 503s), scraped by a real Prometheus loading
monitoring/roster.rules.yml, while the test sends traffic whose every outcome it records.

Processes start the way tests/e2e/conftest.py starts them (its launcher code is imported
from there, not copied), on 127.0.0.1, each with a bounded wait, and are stopped by PID.

Why the traffic runs in this order: rate() extrapolates each series from its first and
last samples in the window, and a series first appears in /metrics when its first request
is counted. For the recorded ratios to equal the test's own counts exactly, every series
the measured traffic touches must already exist, with the same first sample, before it:
so one round of each kind of request (the warm-up) is sent before Prometheus starts, and
only what follows its first scrape is measured.
"""

from __future__ import annotations

import http.client
import importlib.machinery
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import yaml

from monitoring_helpers import ROOT, RULES_FILE, tool

E2E_DIR = ROOT / "tests" / "e2e"


def _load_e2e_fixtures():
    sys.path.insert(0, str(E2E_DIR))  # its own imports (e2e_helpers)
    loader = importlib.machinery.SourceFileLoader("roster_e2e_fixtures", str(E2E_DIR / "conftest.py"))
    spec = importlib.util.spec_from_loader("roster_e2e_fixtures", loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    loader.exec_module(module)
    return module


e2e = _load_e2e_fixtures()

SCRAPE_INTERVAL_SECONDS = 1
# Slower than POST /user's 2.5 s latency threshold, well inside the 15 s stall timeout.
SLOW_BODY_PAUSE_SECONDS = 3.0
WAIT_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.2)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s (last: {last!r})")


@dataclass
class Sent:
    """One request the test sent and what came back."""

    phase: str  # warm-up or measured
    method: str
    route: str  # the route template roster reports
    status: int
    request_id: str
    client_seconds: float


@dataclass
class Prometheus:
    process: subprocess.Popen
    base_url: str
    log_path: Path

    def query(self, expr: str) -> list[dict[str, Any]]:
        url = f"{self.base_url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.load(response)
        assert body["status"] == "success", body
        return body["data"]["result"]

    def scalar(self, expr: str) -> float | None:
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None


@dataclass
class SloRun:
    prometheus: Prometheus
    sent: list[Sent]
    metrics_text: str
    server_seconds: dict[str, float] = field(default_factory=dict)  # request id -> elapsed

    def measured(self) -> list[Sent]:
        return [s for s in self.sent if s.phase == "measured"]


def multipart_user(name: str, email: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n{name}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="email"\r\n\r\n{email}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="avatar"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n".encode() + e2e.png_image() + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Client:
    """Sends requests to one roster, each with its own x-request-id, and records them."""

    def __init__(self, roster):
        self.roster = roster
        self.sent: list[Sent] = []
        self.phase = "warm-up"

    def _record(self, method, route, status, request_id, started) -> int:
        self.sent.append(Sent(self.phase, method, route, status, request_id, time.monotonic() - started))
        return status

    def request(self, method: str, path: str, route: str, data: bytes | None = None, content_type: str | None = None) -> int:
        request_id = f"slo-{uuid.uuid4().hex}"
        headers = {"x-request-id": request_id}
        if content_type:
            headers["Content-Type"] = content_type
        started = time.monotonic()
        status, _, _ = self.roster.request(method, path, data=data, headers=headers)
        return self._record(method, route, status, request_id, started)

    def create(self, email: str) -> int:
        body, content_type = multipart_user("Slo Test", email)
        return self.request("POST", "/user", "/user", body, content_type)

    def create_slowly(self, email: str) -> int:
        """A POST /user whose body stops half-way for SLOW_BODY_PAUSE_SECONDS."""
        body, content_type = multipart_user("Slow Sender", email)
        request_id = f"slo-{uuid.uuid4().hex}"
        host, port = self.roster.host.rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        started = time.monotonic()
        try:
            connection.putrequest("POST", "/user")
            for header, value in (("Content-Type", content_type), ("Content-Length", str(len(body))), ("x-request-id", request_id)):
                connection.putheader(header, value)
            connection.endheaders()
            connection.send(body[: len(body) // 2])
            time.sleep(SLOW_BODY_PAUSE_SECONDS)
            connection.send(body[len(body) // 2 :])
            status = connection.getresponse().status
        finally:
            connection.close()
        return self._record("POST", "/user", status, request_id, started)

    def get_user(self, email: str) -> int:
        return self.request("GET", f"/user/{email}", "/user/{email}")

    def delete_user(self, email: str) -> int:
        return self.request("DELETE", f"/user/{email}", "/user/{email}")


def start_roster(binary: Path, run_dir: Path, moto_endpoint: str, table: str, bucket: str):
    log_path = run_dir / "roster.log"
    env = e2e.clean_environment(
        ROSTER_LISTEN="127.0.0.1:0",
        ROSTER_LOG_FORMAT="json",
        RUST_LOG="info",
        ROSTER_BACKEND="aws",
        ROSTER_TABLE=table,
        ROSTER_BUCKET=bucket,
        ROSTER_AVATAR_BASE_URL=f"{moto_endpoint}/{bucket}",
        AWS_ENDPOINT_URL=moto_endpoint,
        AWS_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    process = subprocess.Popen(
        [str(binary)], cwd=run_dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, env=env,
    )
    reader = e2e._LineReader(process.stdout, log_path)

    def serving_address(line: str):
        try:
            record = json.loads(line)
        except ValueError:
            return None
        return record.get("address") if record.get("message") == "serving" else None

    address = reader.wait_for(serving_address, time.monotonic() + e2e.START_TIMEOUT, '"serving" log line', log_path)
    return e2e.Roster("aws", process, f"http://{address}", log_path, avatar_origin=f"{moto_endpoint}/{bucket}")


def start_moto(port: int, log_path: Path, table: str, bucket: str):
    process = subprocess.Popen(
        [sys.executable, str(e2e.MOTO_SERVER), "--port", str(port)], cwd=ROOT, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=e2e.clean_environment(),
    )
    reader = e2e._LineReader(process.stdout, log_path)
    reader.wait_for(lambda line: line.startswith("PORT ") or None, time.monotonic() + e2e.START_TIMEOUT, "PORT line from moto", log_path)
    moto = e2e.Moto(process, f"http://127.0.0.1:{port}", log_path)
    moto.client("dynamodb").create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "email", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "email", "KeyType": "HASH"}],
    )
    moto.client("s3").create_bucket(Bucket=bucket)
    return moto


def stop_moto(moto) -> None:
    """The launcher's own way to stop: close its standard input; by PID if it lingers."""
    if moto.process.stdin:
        moto.process.stdin.close()
    try:
        moto.process.wait(timeout=e2e.STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        e2e._stop(moto.process)


def start_prometheus(run_dir: Path, roster_host: str) -> Prometheus:
    port = free_port()
    config = run_dir / "prometheus.yml"
    config.write_text(yaml.safe_dump({
        "global": {
            "scrape_interval": f"{SCRAPE_INTERVAL_SECONDS}s",
            "scrape_timeout": f"{SCRAPE_INTERVAL_SECONDS}s",
            "evaluation_interval": f"{SCRAPE_INTERVAL_SECONDS}s",
        },
        "rule_files": [str(RULES_FILE)],
        "scrape_configs": [{"job_name": "roster", "static_configs": [{"targets": [roster_host]}]}],
    }))
    log_path = run_dir / "prometheus.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [tool("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={run_dir / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            cwd=run_dir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )
    prometheus = Prometheus(process, f"http://127.0.0.1:{port}", log_path)

    def ready():
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{prometheus.base_url}/-/ready", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    wait_until(ready, "prometheus ready")
    return prometheus


def server_durations(log_path: Path, request_ids: set[str]) -> dict[str, float]:
    """Each request's duration as roster measured it (its `request finished` log line
    carries the same elapsed time as the histogram observation)."""
    found = {}
    for line in log_path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        request_id = (record.get("span") or {}).get("request_id")
        if record.get("message") == "request finished" and request_id in request_ids:
            found[request_id] = record["elapsed_ms"] / 1000
    return found


def send_round(client: Client, moto_up: bool, users: list[str], slow: bool) -> None:
    """One round of every kind of request the SLOs judge (and a few they must ignore).
    With the store down, reads and creates answer 503."""
    if not moto_up:
        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(lambda f: f(), [
                lambda: client.get_user(users[0]),
                lambda: client.get_user(users[0]),
                lambda: client.create(f"down-{uuid.uuid4().hex[:8]}@example.com"),
                lambda: client.create(f"down-{uuid.uuid4().hex[:8]}@example.com"),
            ]))
        assert statuses == [503] * 4, statuses
        return
    with ThreadPoolExecutor(1) as pool:
        slow_create = pool.submit(client.create_slowly, users[2]) if slow else None
        for email in users[:2]:
            assert client.create(email) == 201
        for _ in range(2):
            assert client.create("not-an-email") == 422
        for _ in range(4 if slow else 2):
            assert client.get_user(users[0]) == 200
        for _ in range(2):
            assert client.get_user(f"nobody-{uuid.uuid4().hex[:8]}@example.com") == 404
            assert client.request("GET", "/users", "/users") == 200
            assert client.request("GET", "/no/such/path", "unmatched") == 404
        assert client.delete_user(users[1]) == 204
        assert client.request("GET", "/healthz", "/healthz") == 200
        if slow_create:
            assert slow_create.result() == 201


@pytest.fixture(scope="session")
def roster_binary() -> Path:
    """$ROSTER_BIN when set, else `cargo build` (the e2e tests' convention)."""
    given = os.environ.get("ROSTER_BIN")
    if given:
        return Path(given).resolve()
    subprocess.run(["cargo", "build", "--quiet", "--locked", "--bin", "roster"], cwd=ROOT, check=True, timeout=e2e.BUILD_TIMEOUT)
    return ROOT / "target" / "debug" / "roster"


@pytest.fixture(scope="session")
def slo_run(roster_binary, tmp_path_factory) -> Iterator[SloRun]:
    run_dir = tmp_path_factory.mktemp("slo-run")
    suffix = uuid.uuid4().hex[:10]
    table = bucket = f"roster-slo-{suffix}"
    moto_port = free_port()
    moto_endpoint = f"http://127.0.0.1:{moto_port}"
    started = []
    moto = None
    try:
        # The store is not up yet: the warm-up's 503s.
        roster = start_roster(roster_binary, run_dir, moto_endpoint, table, bucket)
        started.append(roster.process)
        client = Client(roster)
        send_round(client, moto_up=False, users=["warm-0@example.com"], slow=False)
        moto = start_moto(moto_port, run_dir / "moto.log", table, bucket)
        send_round(client, moto_up=True, users=["warm-0@example.com", "warm-1@example.com"], slow=False)

        prometheus = start_prometheus(run_dir, roster.host)
        started.append(prometheus.process)
        counted = 'sum(http_requests_total{job="roster", route!="/metrics"})'
        wait_until(lambda: prometheus.scalar(counted) == len(client.sent), "the warm-up in Prometheus")

        client.phase = "measured"
        send_round(client, moto_up=True, users=["m-0@example.com", "m-1@example.com", "m-2@example.com"], slow=True)
        stop_moto(moto)
        send_round(client, moto_up=False, users=["m-0@example.com"], slow=False)

        wait_until(lambda: prometheus.scalar(counted) == len(client.sent), "every request in Prometheus")
        last_scrape = prometheus.scalar('max(timestamp(up{job="roster"}))')
        records = [f"roster:slo_{sli}_errors:ratio_rate{window}" for sli in ("availability", "latency")
                   for window in ("5m", "30m", "1h", "2h", "6h", "1d", "3d")]
        wait_until(lambda: all((prometheus.scalar(f"min(timestamp({r}))") or 0) > last_scrape for r in records),
                   "a rule evaluation after the last scrape")
        # Enough samples for rate() to extrapolate every series alike: a series' zero point
        # (first value / increase x its sampled span) must lie beyond 1.1 sample intervals,
        # which the warm-up's share of each count gives from eight scrapes on.
        wait_until(lambda: (prometheus.scalar('min(count_over_time(up{job="roster"}[5m]))') or 0) >= 8,
                   "eight scrapes")

        with urllib.request.urlopen(roster.url("/metrics"), timeout=10) as response:
            metrics_text = response.read().decode()
        ids = {s.request_id for s in client.sent}

        def every_duration():
            found = server_durations(roster.log_path, ids)
            return found if len(found) == len(ids) else None

        durations = wait_until(every_duration, "a log line for every request")
        yield SloRun(prometheus, client.sent, metrics_text, durations)
    finally:
        if moto is not None and moto.process.poll() is None:
            stop_moto(moto)
        for process in reversed(started):
            e2e._stop(process, signal.SIGTERM)
