"""roster's on-demand benchmark: prints Markdown tables and writes target/bench/results.json.

Run it with `bench/run` (see bench/README.md). Sections:

  nginx       GET /users (100 users, embedded) against nginx serving the same body as a file
  create      POST /user with a 10 KB PNG, embedded and AWS-on-moto
  memory      startup-to-ready, idle RSS, 64 concurrent 5 MiB uploads (peak RSS, CPU)
  growth      embedded at 1,000 / 10,000 / 100,000 users: GET /user/{email}, a 100-user
              page, and a full streamed GET /users (time to first byte, MB/s, RSS growth)
  growth-aws  AWS on moto with 40,000 users written straight into the table: full listing

The server is pinned to CPU 0 and everything that makes load (wrk, this script, moto) to
CPU 1. Every process this script starts is stopped by its PID when it ends, also on errors.
Nothing here asserts a time bound: figures are printed next to their targets as met/missed.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BINARY = ROOT / "target" / "release" / "roster"
OUT_DIR = ROOT / "target" / "bench"
MOTO = ROOT / "tests" / "support" / "moto_server.py"
SERVER_CPU = "0"
LOAD_CPU = "1"
CLK_TCK = os.sysconf("SC_CLK_TCK")
MiB = 1024 * 1024
SECTIONS = ["nginx", "create", "aws-cpu", "durability", "hostile", "memory", "strip", "growth", "growth-aws"]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# processes: every one started is remembered and stopped by PID


class Processes:
    def __init__(self) -> None:
        self.running: list[subprocess.Popen] = []

    def start(self, argv: list[str], **kwargs) -> subprocess.Popen:
        process = subprocess.Popen(argv, **kwargs)
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen, sig: int = signal.SIGTERM, grace: float = 15.0) -> None:
        if process.poll() is None:
            try:
                os.kill(process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                log(f"pid {process.pid} did not stop within {grace}s; SIGKILL")
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if process.stdin:
            try:
                process.stdin.close()
            except OSError:
                pass
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.running)):
            try:
                self.stop(process, grace=5.0)
            except Exception as error:  # keep stopping the others
                log(f"cannot stop pid {process.pid}: {error}")


PROCS = Processes()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------------------
# /proc readings of one process


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all its threads), in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); utime is field 14, stime field 15
    return (int(fields[11]) + int(fields[12])) / CLK_TCK



def thread_cpu_seconds(pid: int) -> float:
    """The CPU time of a single-threaded process, to the nanosecond (schedstat), where
    cpu_seconds has 10 ms steps."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9


def paced_cpu_us(port: int, pid: int, path: str, rate: float, seconds: float) -> float:
    """CPU µs per request of the single-threaded server `pid` when one keep-alive client
    sends it a GET every 1/rate s, waiting for each answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for _ in range(20):
            conn.request("GET", path)
            conn.getresponse().read()
        count = max(1, round(rate * seconds))
        before = thread_cpu_seconds(pid)
        started = time.monotonic()
        for index in range(count):
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {path}: {response.status}")
            time.sleep(max(0.0, started + (index + 1) / rate - time.monotonic()))
        return (thread_cpu_seconds(pid) - before) / count * 1e6
    finally:
        conn.close()

def status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def vmrss(pid: int) -> float:
    return status_kib(pid, "VmRSS") / 1024


def vmhwm(pid: int) -> float:
    return status_kib(pid, "VmHWM") / 1024


def reset_hwm(pid: int) -> None:
    """Reset the peak RSS (VmHWM) to the current RSS."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


class RssSampler:
    """Samples VmRSS every few ms in a thread; a cross-check of VmHWM."""

    def __init__(self, pid: int, interval: float = 0.002) -> None:
        self.pid, self.interval, self.peak = pid, interval, 0.0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.peak = max(self.peak, vmrss(self.pid))
            except (OSError, KeyError):
                return
            self.stopping.wait(self.interval)

    def __enter__(self) -> "RssSampler":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)


def uptime_line() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "load average: " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ---------------------------------------------------------------------------------------
# images


def png(width: int, height: int, pixels: bytes, level: int = 9) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = width * 3
    raw = b"".join(b"\x00" + pixels[y * row : (y + 1) * row] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, level))
        + chunk(b"IEND", b"")
    )


def random_png_at_most(limit: int, width: int, rng: random.Random) -> bytes:
    """A PNG of random (incompressible) RGB pixels, as large as possible but <= limit."""
    height = max(1, limit // (width * 3 + 1))
    for _ in range(10_000):  # bounded: shrinks by one row each time
        image = png(width, height, rng.randbytes(width * height * 3), level=1)
        if len(image) <= limit:
            return image
        height -= max(1, (len(image) - limit) // (width * 3 + 1))
    raise RuntimeError("cannot make a PNG under the limit")


TINY_PNG = png(1, 1, b"\x10\x20\x30")


# ---------------------------------------------------------------------------------------
# HTTP helpers (only ever 127.0.0.1)

BOUNDARY = "roster-bench-5d0c3e71"


def multipart_parts(name: str, email: str, avatar: bytes) -> list[bytes]:
    head = (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n{name}\r\n"
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\n{email}\r\n"
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\n"
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    return [head, avatar, f"\r\n--{BOUNDARY}--\r\n".encode()]


def post_user(conn: http.client.HTTPConnection, name: str, email: str, avatar: bytes) -> int:
    parts = multipart_parts(name, email, avatar)
    headers = {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(sum(map(len, parts))),
    }
    conn.request("POST", "/user", body=parts if len(avatar) > 65536 else b"".join(parts), headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


def get(port: int, path: str, timeout: float = 60.0) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def probe_ready(port: int) -> bool:
    """One raw GET /readyz; True on a 200."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


# ---------------------------------------------------------------------------------------
# servers


class Roster:
    def __init__(self, env: dict[str, str], data_dir: Path, log_path: Path) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.log_path = log_path
        full_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "ROSTER_LISTEN": f"127.0.0.1:{self.port}",
            "ROSTER_DATA_DIR": str(data_dir),
            "RUST_LOG": "warn",
            **env,
        }
        self.log_file = open(log_path, "ab")
        self.spawned = time.perf_counter()
        self.process = PROCS.start(
            ["taskset", "-c", SERVER_CPU, str(BINARY)],
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        self.pid = self.process.pid  # taskset execs the binary: same PID
        self.ready_after = self.wait_ready()
        comm = Path(f"/proc/{self.pid}/comm").read_text().strip()
        if comm != "roster":
            raise RuntimeError(f"pid {self.pid} is {comm!r}, not roster")

    def wait_ready(self, timeout: float = 60.0) -> float:
        deadline = self.spawned + timeout
        while time.perf_counter() < deadline:
            if probe_ready(self.port):
                return time.perf_counter() - self.spawned
            if self.process.poll() is not None:
                break
            time.sleep(0.0005)
        self.stop()
        tail = self.log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"roster did not become ready (exit {self.process.returncode}):\n{tail}")

    def stop(self) -> None:
        PROCS.stop(self.process)
        self.log_file.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_nginx(workdir: Path, cpu: str, http_settings: str) -> subprocess.Popen:
    """One nginx worker in the foreground on `cpu`, with everything under `workdir` and
    `http_settings` (its server block, and what else it needs) inside `http {}`."""
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"""daemon off;
master_process off;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {workdir}/client_body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    keepalive_requests 1000000;
{http_settings}
}}
"""
    )
    return PROCS.start(
        ["taskset", "-c", cpu, "nginx", "-c", str(conf), "-p", str(workdir), "-e", f"{workdir}/error.log"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )


def nginx_error_log(workdir: Path) -> str:
    return (workdir / "error.log").read_text(errors="replace")[-1500:]


class Nginx:
    def __init__(self, workdir: Path, body: bytes) -> None:
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "www").mkdir(exist_ok=True)
        (workdir / "www" / "users").write_bytes(body)
        self.process = start_nginx(workdir, SERVER_CPU, f"""    sendfile on;
    tcp_nopush on;
    server {{
        listen 127.0.0.1:{self.port};
        root {workdir}/www;
        location = /users {{ default_type "application/json; charset=utf-8"; }}
    }}""")
        self.pid = self.process.pid
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if get(self.port, "/users", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.01)
        self.stop()
        raise RuntimeError("nginx did not start: " + nginx_error_log(workdir))

    def stop(self) -> None:
        PROCS.stop(self.process, sig=signal.SIGQUIT)


class MotoProxy:
    """nginx in front of moto on `cpu`: keep-alive connections on the client's side, a new
    connection to moto for every request (nginx keeps no upstream connections, and moto
    closes every one anyway).

    On the load CPU it lets roster keep its connections; on the server CPU, with wrk sending
    it the very requests roster's SDK sends, it is the relay floor: what any server that
    makes one call to moto per request pays in this environment, before any work of its own."""

    def __init__(self, workdir: Path, upstream_port: int, cpu: str) -> None:
        self.port = free_port()
        self.process = start_nginx(workdir, cpu, f"""    client_max_body_size 0;
    server {{
        listen 127.0.0.1:{self.port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream_port};
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_request_buffering off;
            proxy_buffering off;
        }}
    }}""")
        self.pid = self.process.pid
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.01)
        self.stop()
        raise RuntimeError("the proxy did not start: " + nginx_error_log(workdir))

    def stop(self) -> None:
        PROCS.stop(self.process, sig=signal.SIGQUIT)


def signed_request(service: str, method: str, host: str, path: str, headers: dict[str, str],
                   body: bytes) -> bytes:
    """A raw HTTP/1.1 request as an AWS SDK sends it, SigV4-signed with moto's test
    credentials (botocore signs it; moto reads the region from the credential scope and,
    as it checks no signature, takes it also once relay.lua has numbered the request)."""
    from botocore.auth import S3SigV4Auth, SigV4Auth  # the venv's
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=f"http://{host}{path}", data=body, headers=headers)
    signer = S3SigV4Auth if service == "s3" else SigV4Auth
    signer(Credentials("test", "test"), service, "us-east-1").add_auth(request)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()
              if name.lower() not in ("host", "content-length")]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def relayed_calls(port: int, avatar: bytes) -> dict[str, bytes]:
    """The calls roster's SDK makes for a listing, a create and a read of a missing user, as
    raw requests to the relay."""
    host = f"127.0.0.1:{port}"
    dynamodb = {"Content-Type": "application/x-amz-json-1.0"}
    item = {"name": {"S": "Bench User"}, "email": {"S": "relay-################@bench.example"},
            "avatar_url": {"S": "http://127.0.0.1:8080/avatars/" + "0" * 32 + ".png"}}
    return {
        "Scan of 100 items": signed_request(
            "dynamodb", "POST", host, "/", {**dynamodb, "X-Amz-Target": "DynamoDB_20120810.Scan"},
            json.dumps({"TableName": "bench-users", "Limit": 501, "ConsistentRead": True}).encode()),
        "PutObject 10 KB": signed_request(
            "s3", "PUT", host, "/bench-avatars/relay-################.png", {"Content-Type": "image/png"}, avatar),
        "PutItem": signed_request(
            "dynamodb", "POST", host, "/", {**dynamodb, "X-Amz-Target": "DynamoDB_20120810.PutItem"},
            json.dumps({"TableName": "bench-users", "Item": item,
                        "ConditionExpression": "attribute_not_exists(email)"}).encode()),
        "GetItem of a missing user": signed_request(
            "dynamodb", "POST", host, "/", {**dynamodb, "X-Amz-Target": "DynamoDB_20120810.GetItem"},
            json.dumps({"TableName": "bench-users", "Key": {"email": {"S": "nobody@bench.example"}},
                        "ConsistentRead": True}).encode()),
    }


class Moto:
    def __init__(self, workdir: Path) -> None:
        python = os.environ.get("PYTHON") or str(ROOT / ".venv" / "bin" / "python")
        self.log_file = open(workdir / "moto.log", "ab")
        self.process = PROCS.start(
            ["taskset", "-c", LOAD_CPU, python, str(MOTO), "--port", "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log_file,
            text=True,
        )
        line = self.process.stdout.readline()  # bounded: moto exits on error, closing stdout
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"moto did not start: {line!r}")
        self.port = int(line.split()[1])
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def client(self, service: str):
        import boto3  # the venv's

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def create(self, table: str, bucket: str) -> None:
        self.client("dynamodb").create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "email", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "email", "KeyType": "HASH"}],
        )
        self.client("s3").create_bucket(Bucket=bucket)

    def roster_env(self, table: str, bucket: str) -> dict[str, str]:
        return {
            "ROSTER_BACKEND": "aws",
            "ROSTER_TABLE": table,
            "ROSTER_BUCKET": bucket,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def stop(self) -> None:
        if self.process.stdin:
            try:
                self.process.stdin.close()  # moto exits when its stdin closes
            except OSError:
                pass
            self.process.stdin = None
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        PROCS.stop(self.process)
        self.log_file.close()


# ---------------------------------------------------------------------------------------
# load


def wrk(
    url: str,
    script: str,
    duration: float,
    connections: int,
    server_pid: int,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    warmup: float = 0.0,
) -> dict:
    """One wrk run pinned to the load CPU; figures plus the server's CPU per 1000 requests."""

    def run(seconds: float) -> dict:
        argv = [
            "taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
            "--timeout", "30s", "-s", str(BENCH / script), url,
        ]
        if args:
            argv += ["--", *args]
        run_env = {**os.environ, **(env or {})}
        run_env["BENCH_RUN"] = run_env.get("BENCH_RUN", "") + uuid.uuid4().hex[:8]  # distinct emails per run
        process = PROCS.start(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=run_env)
        # wrk's own CPU, read just before it exits: a load generator near a full core is the
        # limit of the run, not the server.
        load_cpu = [0.0]

        def watch() -> None:
            while process.poll() is None:
                try:
                    load_cpu[0] = cpu_seconds(process.pid)
                except (FileNotFoundError, ProcessLookupError, ValueError):
                    return
                time.sleep(0.05)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            out, err = process.communicate(timeout=seconds + 120)
        finally:
            PROCS.stop(process)
            watcher.join(timeout=1)
        for line in out.splitlines():
            if line.startswith("BENCH_JSON "):
                figures = json.loads(line[len("BENCH_JSON ") :])
                figures["load_cpu_s"] = load_cpu[0]
                return figures
        raise RuntimeError(f"wrk gave no figures (exit {process.returncode}):\n{out}\n{err}")

    if warmup > 0:
        run(warmup)
    cpu_before = cpu_seconds(server_pid)
    figures = run(duration)
    cpu = cpu_seconds(server_pid) - cpu_before
    seconds = figures["duration_us"] / 1e6
    requests = figures["requests"]
    errors = figures["errors"]
    return {
        "requests": requests,
        "seconds": round(seconds, 3),
        "rps": round(requests / seconds, 1) if seconds else 0.0,
        "p50_ms": figures["latency_us"]["p50"] / 1000,
        "p90_ms": figures["latency_us"]["p90"] / 1000,
        "p99_ms": figures["latency_us"]["p99"] / 1000,
        "max_ms": figures["latency_us"]["max"] / 1000,
        "bytes": figures["bytes"],
        "errors": errors,
        "error_count": sum(errors.values()),
        "server_cpu_s": round(cpu, 3),
        "server_cpu_s_per_1000": round(cpu / requests * 1000, 4) if requests else None,
        "load_cpu_share": round(figures["load_cpu_s"] / seconds, 2) if seconds else None,
        "connections": connections,
    }


def seed_users(port: int, start: int, stop: int, prefix: str, concurrency: int) -> dict:
    """Create users <prefix><i:07d>@seed.example for i in [start, stop) through the API."""
    counter = itertools.count(start)
    failures: list[str] = []
    created = [0]
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while not failures:
                index = next(counter)  # atomic under the GIL
                if index >= stop:
                    return
                email = f"{prefix}{index:07d}@seed.example"
                try:
                    status = post_user(conn, f"Seed User {index}", email, TINY_PNG)
                except (OSError, http.client.HTTPException) as error:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    try:
                        status = post_user(conn, f"Seed User {index}", email, TINY_PNG)
                    except (OSError, http.client.HTTPException):
                        failures.append(f"{email}: {error}")
                        return
                if status != 201:
                    failures.append(f"{email}: {status}")
                    return
                with lock:
                    created[0] += 1
        finally:
            conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    total = stop - start
    last = started
    while any(thread.is_alive() for thread in threads):
        for thread in threads:
            thread.join(timeout=0.5)
        if time.perf_counter() - last > 15:
            last = time.perf_counter()
            rate = created[0] / (last - started)
            left = (total - created[0]) / rate if rate else float("inf")
            log(f"  seeded {created[0]}/{total} ({rate:.0f}/s, ~{left:.0f}s left)")
    if failures:
        raise RuntimeError(f"seeding failed: {failures[:3]}")
    seconds = time.perf_counter() - started
    return {"users": total, "seconds": round(seconds, 2), "per_second": round(total / seconds, 1)}


def full_listing(port: int, pid: int, expected: int) -> dict:
    """A full GET /users over a raw socket: time to first byte, total, MB/s, RSS growth."""
    time.sleep(0.2)
    rss_before = vmrss(pid)
    reset_hwm(pid)
    cpu_before = cpu_seconds(pid)
    buffer = bytearray()
    with RssSampler(pid) as sampler:
        with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            started = time.perf_counter()
            sock.sendall(b"GET /users HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            first = None
            deadline = started + 600
            while time.perf_counter() < deadline:
                chunk = sock.recv(1 << 20)
                if first is None:
                    first = time.perf_counter()
                if not chunk:
                    break
                buffer += chunk
            finished = time.perf_counter()
    peak = vmhwm(pid)
    cpu = cpu_seconds(pid) - cpu_before
    head, _, raw = bytes(buffer).partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0]
    if not status_line.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"GET /users answered {status_line!r}")
    body = dechunk(raw) if b"transfer-encoding: chunked" in head.lower() else raw
    users = json.loads(body)
    if len(users) != expected:
        raise RuntimeError(f"GET /users returned {len(users)} users, expected {expected}")
    total = finished - started
    return {
        "users": len(users),
        "body_bytes": len(body),
        "ttfb_ms": round((first - started) * 1000, 2),
        "total_ms": round(total * 1000, 1),
        "mb_per_s": round(len(body) / total / 1e6, 1),
        "rss_before_mib": round(rss_before, 1),
        "peak_rss_mib": round(peak, 1),
        "peak_growth_mib": round(peak - rss_before, 1),
        "sampled_peak_growth_mib": round(max(sampler.peak, rss_before) - rss_before, 1),
        "server_cpu_s": round(cpu, 3),
    }


def dechunk(raw: bytes) -> bytes:
    out, position = [], 0
    while position < len(raw):
        end = raw.index(b"\r\n", position)
        size = int(raw[position:end].split(b";")[0], 16)
        if size == 0:
            break
        out.append(raw[end + 2 : end + 2 + size])
        position = end + 2 + size + 2
    return b"".join(out)


def median_listing(runs: list[dict]) -> dict:
    """The run with the median total time, with the worst RSS growth of all runs."""
    ordered = sorted(runs, key=lambda run: run["total_ms"])
    chosen = dict(ordered[len(ordered) // 2])
    chosen["peak_growth_mib"] = max(run["peak_growth_mib"] for run in runs)
    chosen["sampled_peak_growth_mib"] = max(run["sampled_peak_growth_mib"] for run in runs)
    chosen["runs"] = len(runs)
    chosen["total_ms_all"] = [run["total_ms"] for run in runs]
    return chosen


# ---------------------------------------------------------------------------------------
# sections


class Bench:
    def __init__(self, options: argparse.Namespace, workdir: Path) -> None:
        self.o = options
        self.workdir = workdir
        self.results: dict = {}
        self.targets: list[dict] = []
        self.markdown: list[str] = []
        self.rng = random.Random(20260701)
        self.counter = itertools.count()

    def dir(self, name: str) -> Path:
        path = self.workdir / f"{next(self.counter):02d}-{name}"
        path.mkdir(parents=True)
        return path

    def roster(self, name: str, env: dict[str, str] | None = None, data_dir: Path | None = None) -> Roster:
        where = self.dir(name)
        return Roster(env or {}, data_dir or (where / "data"), where / "roster.log")

    def target(self, what: str, goal: str, value: str, met: bool | None) -> None:
        self.targets.append({"target": what, "goal": goal, "value": value, "met": met})

    def md(self, *lines: str) -> None:
        self.markdown.extend(lines)

    # -- 1 ----------------------------------------------------------------------------
    def section_nginx(self) -> None:
        o = self.o
        log("nginx: GET /users with 100 users, roster (embedded) vs nginx")
        server = self.roster("nginx-roster")
        nginx = None
        try:
            seed_users(server.port, 0, 100, "n", 16)
            status, headers, body = get(server.port, "/users")
            if status != 200 or len(json.loads(body)) != 100:
                raise RuntimeError(f"GET /users: {status}")
            nginx = Nginx(self.dir("nginx"), body)
            if get(nginx.port, "/users")[2] != body:
                raise RuntimeError("nginx does not serve the identical body")
            targets = {"roster": (server.port, server.pid), "nginx": (nginx.port, nginx.pid)}
            by_connections: dict[int, dict] = {}
            for connections in o.connection_counts:
                runs: dict[str, list[dict]] = {"roster": [], "nginx": []}
                for round_ in range(o.rounds):  # interleaved, so both see the same background load
                    for name, (port, pid) in targets.items():
                        log(f"  wrk GET /users against {name}, {connections} connections, round {round_ + 1}")
                        runs[name].append(wrk(
                            f"http://127.0.0.1:{port}/users", "report.lua", o.duration, connections, pid,
                            warmup=o.warmup if round_ == 0 else 0,
                        ))
                table = {}
                for name, found in runs.items():
                    ordered = sorted(found, key=lambda run: run["rps"])
                    table[name] = {**ordered[len(ordered) // 2], "rps_all_rounds": [run["rps"] for run in found]}
                table["ratio_rps"] = round(table["roster"]["rps"] / table["nginx"]["rps"], 3)
                by_connections[connections] = table
        finally:
            if nginx:
                nginx.stop()
            server.stop()
        self.results["nginx"] = {"body_bytes": len(body),
                                 "by_connections": {str(c): t for c, t in by_connections.items()}}
        self.md(
            "### GET /users, 100 users: roster (embedded) vs nginx serving the same body",
            "",
            f"Body: {len(body):,} bytes of JSON. wrk: 1 thread on CPU {LOAD_CPU}, keep-alive connections, "
            f"{o.rounds} interleaved round(s) of {o.duration:g} s per server and connection count "
            f"(the median round is shown) after a {o.warmup:g} s warm-up; servers on CPU {SERVER_CPU}. "
            "nginx 1 worker, access log off, the body as a static file (Content-Length, sendfile). "
            "`wrk CPU` is the load generator's share of its core: near 1.00 it, not the server, is the "
            "limit of that run.",
            "",
            "| server | connections | req/s | p50 ms | p99 ms | server CPU µs / req | wrk CPU | errors |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        )
        for connections, table in by_connections.items():
            for name in ("roster", "nginx"):
                row = table[name]
                self.md(f"| {name} | {connections} | {row['rps']:,.0f} | {row['p50_ms']:.3f} | "
                        f"{row['p99_ms']:.3f} | {cpu_us(row)} | {fmt2(row['load_cpu_share'])} | {row['error_count']} |")
            self.md(f"| **roster / nginx** | {connections} | **{table['ratio_rps']:.2f}×** | | | "
                    f"{ratio_of(table['roster'], table['nginx'])} | | |")
            saturated = [name for name in ("roster", "nginx") if (table[name]["load_cpu_share"] or 0) >= 0.9]
            if saturated:
                self.md(f"| | {connections} | wrk saturated its core against {', '.join(saturated)}: "
                        "that side's req/s is wrk's limit | | | | | |")
        self.md("")
        for connections, table in by_connections.items():
            self.target(f"GET /users (100 users) req/s vs nginx, {connections} connections", "≥ 0.60× nginx",
                        f"{table['ratio_rps']:.2f}× (CPU per request {ratio_of(table['roster'], table['nginx'])} nginx's)",
                        table["ratio_rps"] >= 0.6)
        if 32 in by_connections:
            p99 = by_connections[32]["roster"]["p99_ms"]
            self.target("GET /users p99 at 32 connections", "< 5 ms", f"{p99:.2f} ms", p99 < 5)

    # -- 2 ----------------------------------------------------------------------------
    def section_create(self) -> None:
        o = self.o
        where = self.dir("create")
        avatar = random_png_at_most(10 * 1024, 56, self.rng)
        (where / "avatar.png").write_bytes(avatar)
        png_env = {"BENCH_PNG": str(where / "avatar.png")}
        embedded = {}
        for connections in o.create_connection_counts:
            log(f"create: POST /user with a {len(avatar):,}-byte PNG, embedded, {connections} connection(s)")
            server = self.roster(f"create-embedded-{connections}")
            try:
                embedded[connections] = wrk(server.url, "post_user.lua", o.duration, connections, server.pid,
                                            env={**png_env, "BENCH_RUN": f"e{connections}"}, warmup=o.warmup)
            finally:
                server.stop()
        self.results["create"] = {"avatar_bytes": len(avatar),
                                  "embedded": {str(c): row for c, row in embedded.items()}}
        self.md(
            f"### POST /user, embedded: a {len(avatar):,}-byte PNG (random pixels), a distinct email per request",
            "",
            f"wrk + bench/post_user.lua, {o.duration:g} s after a {o.warmup:g} s warm-up. Each create is "
            "acknowledged only once its avatar file and its user are on disk (fsync); concurrent creates share "
            "one database commit.",
            "",
            "| connections | creates/s | p50 ms | p99 ms | server CPU µs / create | errors |",
            "| ---: | ---: | ---: | ---: | ---: | ---: |",
        )
        for connections, row in embedded.items():
            self.md(f"| {connections} | {row['rps']:,.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | "
                    f"{cpu_us(row)} | {row['error_count']} |")
        self.md("")
        low, high = min(embedded), max(embedded)
        scaling = embedded[high]["rps"] / embedded[low]["rps"] if embedded[low]["rps"] else 0.0
        self.target(f"embedded creates/s at {high} connections vs {low}", "≥ 3×", f"{scaling:.2f}×", scaling >= 3)

    # -- 2b ---------------------------------------------------------------------------
    def section_aws_cpu(self) -> None:
        """roster's CPU per request on the AWS path, against moto directly (moto answers
        every request with Connection: close, so each SDK call opens a connection) and
        through a keep-alive proxy in front of moto, which takes connection setup out of
        roster's figure; and the relay floor: nginx on roster's CPU relaying the same calls
        to moto, which is what this machine charges any server for them before it does any
        work of its own."""
        o = self.o
        where = self.dir("aws-cpu")
        avatar = random_png_at_most(10 * 1024, 56, self.rng)
        (where / "avatar.png").write_bytes(avatar)
        rows: dict[str, dict] = {}
        moto = Moto(where)
        proxy = relay = None
        servers: dict[str, Roster] = {}
        try:
            moto.create("bench-users", "bench-avatars")
            proxy = MotoProxy(self.dir("aws-cpu-proxy"), moto.port, LOAD_CPU)
            relay = MotoProxy(self.dir("aws-cpu-relay"), moto.port, SERVER_CPU)
            for route, endpoint in (("direct", moto.endpoint), ("keep-alive proxy", proxy.url)):
                env = {**moto.roster_env("bench-users", "bench-avatars"), "AWS_ENDPOINT_URL": endpoint}
                servers[route] = self.roster(f"aws-cpu-{route.split()[0]}", env)
            seed_users(servers["direct"].port, 0, 100, "a", 8)
            for route, server in servers.items():
                status, _, body = get(server.port, "/users")
                if status != 200 or len(json.loads(body)) != 100:
                    raise RuntimeError(f"GET /users on moto ({route}): {status}")
            calls = relayed_calls(relay.port, avatar)

            def roster_point(route: str, path: str, script: str, env: dict | None = None):
                server = servers[route]
                return lambda warmup: wrk(f"{server.url}{path}", script, o.duration, 4, server.pid, env=env,
                                          warmup=warmup)

            def create_env(route: str) -> dict[str, str]:
                return {"BENCH_PNG": str(where / "avatar.png"), "BENCH_RUN": f"aws{route[0]}"}

            groups = [
                # Before the creates, while the table holds just the 100 users the listing reads.
                {**{f"GET /users, {route}": roster_point(route, "/users", "report.lua")
                    for route in servers},
                 "Scan of 100 items, relay floor": self.relay_point(where, relay, "Scan of 100 items", calls)},
                {**{f"POST /user, {route}": roster_point(route, "", "post_user.lua", create_env(route))
                    for route in servers},
                 **{f"{call}, relay floor": self.relay_point(where, relay, call, calls)
                    for call in ("PutObject 10 KB", "PutItem")}},
                # One call with next to nothing to decode or render: roster's fixed cost of a call.
                {"GET /user/{missing}, direct": roster_point("direct", "/user/nobody@bench.example",
                                                             "report.lua"),
                 "GetItem of a missing user, relay floor": self.relay_point(where, relay,
                                                                            "GetItem of a missing user", calls)},
            ]
            for group in groups:
                runs: dict[str, list[dict]] = {name: [] for name in group}
                for round_ in range(o.rounds):  # interleaved: each sees the same background load
                    for name, point in group.items():
                        log(f"aws-cpu: {name}, round {round_ + 1}")
                        runs[name].append(point(o.warmup if round_ == 0 else 0))
                for name, found in runs.items():
                    measured = [run for run in found if run["server_cpu_s_per_1000"] is not None]
                    if not measured:
                        raise RuntimeError(f"{name}: no request completed")
                    ordered = sorted(measured, key=lambda run: run["server_cpu_s_per_1000"])
                    rows[name] = {**ordered[len(ordered) // 2],
                                  "cpu_ms_all_rounds": [run["server_cpu_s_per_1000"] for run in found]}
        finally:
            for server in servers.values():
                server.stop()
            for nginx in (proxy, relay):
                if nginx:
                    nginx.stop()
            moto.stop()
        wake = self.wake_cost()
        floors = {
            "GET /users": rows["Scan of 100 items, relay floor"]["server_cpu_s_per_1000"],
            "POST /user": sum(rows[f"{call}, relay floor"]["server_cpu_s_per_1000"]
                              for call in ("PutObject 10 KB", "PutItem")),
            "GET /user/{missing}": rows["GetItem of a missing user, relay floor"]["server_cpu_s_per_1000"],
        }
        self.results["aws_cpu"] = {"rows": rows, "relay_floor_ms": floors, "wake_cost_us": wake}
        self.md(
            "### The AWS path: roster's CPU per request on moto",
            "",
            f"wrk, 4 connections, {o.rounds} interleaved round(s) of {o.duration:g} s per row (the round "
            "with the median CPU is shown), against roster on the aws backend with 100 users in the table (GET /users "
            "reads them all: one Scan) and 10 KB PNG creates (PutObject, then a conditional PutItem). Server "
            "CPU is the process's alone; moto saturates its core, so read CPU per request, not req/s. moto "
            "answers every request with `Connection: close`, so directly each SDK call opens a TCP "
            "connection; through a keep-alive proxy (nginx in front of moto, on the load CPU) roster keeps "
            "its connections, and the difference between the two rows is what connection setup costs roster.",
            "",
            "The relay floor is nginx on the server CPU in roster's place, sent by wrk the very requests "
            "roster's SDK sends (SigV4-signed by botocore) and relaying each to moto over a new connection, "
            "as roster does directly: the CPU this machine charges any server for one such call, its "
            "connection and its waits, before any work of its own. A create's floor is its two calls' sum "
            "(which counts one inbound request more than roster serves). `GET /user/{missing}` is one GetItem "
            "with nothing to decode or render (a 404, which wrk counts under errors): roster's fixed cost of a "
            "request and its SDK call.",
            "",
            "| request | route to moto | req/s | p50 ms | server CPU ms / req | errors |",
            "| --- | --- | ---: | ---: | ---: | ---: |",
        )
        for name, row in rows.items():
            request, route = name.split(", ")
            per = row["server_cpu_s_per_1000"]
            self.md(f"| {request} | {route} | {row['rps']:,.0f} | {row['p50_ms']:.2f} | "
                    f"{'—' if per is None else f'{per:.3f}'} | {row['error_count']} |")
        self.md("")
        for request, goal in (("GET /users", 0.5), ("POST /user", 0.55)):
            per = rows[f"{request}, direct"]["server_cpu_s_per_1000"]
            self.target(f"roster CPU per {request} on moto (100 users)" if request == "GET /users"
                        else f"roster CPU per {request} on moto", f"< {goal} ms",
                        "—" if per is None else f"{per:.3f} ms", per is not None and per < goal)
        for request, floor in floors.items():
            per = rows[f"{request}, direct"]["server_cpu_s_per_1000"]
            if per is not None:
                self.md(f"- {request}: the relay floor is {floor:.3f} ms; roster spends {per - floor:.3f} ms "
                        "above it.")
        slow, fast = wake["slow"], wake["fast"]
        self.md(f"- What waking costs on this machine: nginx serving a 6-byte file spends {slow['us']:.0f} µs of CPU "
                f"a request when one client asks {slow['rate']:g} times a second and {fast['us']:.0f} µs at "
                f"{fast['rate']:g} a second. moto answers a Scan of 100 items about 35 times a second, so every "
                "server on this path pays for waking from idle on each call.", "")

    def wake_cost(self) -> dict[str, dict]:
        """CPU a request of nginx serving a tiny file to one paced client, slow and fast."""
        nginx = Nginx(self.dir("aws-cpu-wake"), b"hello\n")
        try:
            log("aws-cpu: nginx's CPU a request at 30 and 1,000 requests a second")
            return {
                name: {"rate": rate, "us": round(paced_cpu_us(nginx.port, nginx.pid, "/users", rate, seconds), 1)}
                for name, rate, seconds in (("slow", 30.0, 10.0), ("fast", 1000.0, 5.0))
            }
        finally:
            nginx.stop()

    def relay_point(self, where: Path, relay: MotoProxy, call: str, calls: dict[str, bytes]):
        """wrk → nginx on the server CPU → moto, for one call roster's SDK makes: nginx's CPU
        per request is that call's floor."""
        path = where / f"relay-{call.split()[0].lower()}.http"
        path.write_bytes(calls[call])

        def point(warmup: float) -> dict:
            row = wrk(relay.url, "relay.lua", self.o.duration, 4, relay.pid, env={"BENCH_REQUEST": str(path)},
                      warmup=warmup)
            if row["error_count"] or not row["requests"]:
                raise RuntimeError(f"the relayed {call} failed: {row['requests']} requests, {row['errors']}")
            return row

        return point

    # -- 2c ---------------------------------------------------------------------------
    def section_durability(self) -> None:
        """Creates acknowledged under group commit survive a kill -9."""
        o = self.o
        where = self.dir("durability")
        data_dir = where / "data"
        server = Roster({}, data_dir, where / "roster.log")
        acknowledged: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def creator(index: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            counter = 0
            try:
                while not stop.is_set():
                    counter += 1
                    email = f"d{index:02d}-{counter:06d}@durable.example"
                    try:
                        status = post_user(conn, "Durable", email, TINY_PNG)
                    except (OSError, http.client.HTTPException):
                        return  # the server was killed mid-request: not acknowledged
                    if status == 201:
                        with lock:
                            acknowledged.append(email)
            finally:
                conn.close()

        log(f"durability: {o.durability_clients} clients create users, then kill -9")
        threads = [threading.Thread(target=creator, args=(index,), daemon=True)
                   for index in range(o.durability_clients)]
        for thread in threads:
            thread.start()
        time.sleep(o.durability_seconds)
        os.kill(server.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        server.log_file.close()
        with lock:
            acked = list(acknowledged)
        restarted = Roster({}, data_dir, where / "roster-restarted.log")
        try:
            lost = []
            conn = http.client.HTTPConnection("127.0.0.1", restarted.port, timeout=30)
            for email in acked:
                conn.request("GET", f"/user/{email}")
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    lost.append(email)
            conn.close()
            users = json.loads(get(restarted.port, "/users")[2])
            files = [p for p in (data_dir / "avatars").iterdir() if not p.name.startswith(".")]
        finally:
            restarted.stop()
        row = {"acknowledged": len(acked), "lost": len(lost), "stored_users": len(users),
               "avatar_files": len(files), "orphans": len(files) - len(users)}
        self.results["durability"] = row
        self.md(
            "### Durability: group-committed creates across a kill -9 (embedded)",
            "",
            f"{o.durability_clients} clients create users as fast as they can for {o.durability_seconds:g} s; the "
            "server is killed with SIGKILL mid-stream and restarted on the same data; every create that was "
            "answered 201 is read back. Avatar files no user points at (a create caught between its two writes) "
            "are left for the orphan sweep.",
            "",
            "| acknowledged creates | lost after restart | users stored | avatar files | orphans for the sweep |",
            "| ---: | ---: | ---: | ---: | ---: |",
            f"| {len(acked):,} | {len(lost)} | {len(users):,} | {len(files):,} | {len(files) - len(users)} |",
            "",
        )
        self.target("acknowledged creates lost across a kill -9", "0", str(len(lost)), not lost and acked != [])

    # -- 2d ---------------------------------------------------------------------------
    def section_hostile(self) -> None:
        """Careless and hostile clients, against the production defaults."""
        o = self.o
        raise_open_file_limit(o.silent_connections + o.half_heads + 1024)
        rows: dict[str, dict] = {}
        server = self.roster("hostile")
        try:
            seed_users(server.port, 0, 10, "h", 4)
            for name, count, opening in (
                ("silent connections", o.silent_connections, b""),
                ("half-sent heads", o.half_heads, b"GET /users HTTP/1.1\r\nHost: roster\r\nUser-Agent: hostile"),
            ):
                log(f"hostile: {count:,} {name}")
                rows[name] = hold_connections(server.port, server.pid, count, opening, o.hold_limit)
                log(f"  {rows[name]}")
            log(f"hostile: {o.tricklers} uploads trickling at 1 byte a second, normal creates beside them")
            rows["trickling uploads"] = trickle(server.port, server.pid, o.tricklers, o.normal_creates,
                                               o.trickle_limit)
            log(f"  {rows['trickling uploads']}")
            log(f"hostile: {o.unscraped_seconds:g} s of GET /healthz that nobody scrapes")
            before = vmrss(server.pid)
            unscraped = wrk(f"{server.url}/healthz", "report.lua", o.unscraped_seconds, 32, server.pid)
            time.sleep(6)  # one upkeep interval, so samples are folded as they would be
            rows["unscraped requests"] = {"requests": unscraped["requests"], "rss_before_mib": round(before, 1),
                                          "rss_after_mib": round(vmrss(server.pid), 1),
                                          "rss_growth_mib": round(vmrss(server.pid) - before, 1)}
        finally:
            server.stop()
        self.results["hostile"] = rows
        silent, half, trick = rows["silent connections"], rows["half-sent heads"], rows["trickling uploads"]
        unscraped = rows["unscraped requests"]
        self.md(
            "### Hostile and careless clients (production defaults)",
            "",
            "Connections are opened from this script as fast as the kernel takes them and held without sending "
            "more; `held` is from a connection's handshake to the server closing it. `/healthz` is asked every "
            "100 ms on a new connection all along. Trickling uploads send a `POST /user` head and then one body "
            "byte a second; normal 10 KB creates are made beside them.",
            "",
            "| what was done | count | RSS before → peak MiB | held p50 / max s | all closed after s | /healthz max ms |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        )
        for name in ("silent connections", "half-sent heads"):
            row = rows[name]
            self.md(f"| {name} | {row['opened']:,} | {row['rss_before_mib']} → {row['rss_peak_mib']} | "
                    f"{row['held_p50_s']} / {row['held_max_s']} | {row['all_closed_s']} | {row['healthz_max_ms']} |")
        self.md(
            "",
            "| trickling uploads | ended with 408 | ended after (max) s | normal creates | 201 | normal create p50 / max ms | /healthz max ms |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| {trick['tricklers']} | {trick['ended_408']} | {trick['ended_max_s']} | {trick['creates']} | "
            f"{trick['created']} | {trick['create_p50_ms']} / {trick['create_max_ms']} | {trick['healthz_max_ms']} |",
            "",
            f"Unscraped: {unscraped['requests']:,} requests of `GET /healthz` (wrk, 32 connections, "
            f"{o.unscraped_seconds:g} s) with nobody reading `/metrics`: RSS {unscraped['rss_before_mib']} → "
            f"{unscraped['rss_after_mib']} MiB.",
            "",
        )
        self.target(f"RSS with {silent['opened']:,} silent connections", "< 128 MiB",
                    f"{silent['rss_peak_mib']} MiB", silent["rss_peak_mib"] < 128)
        self.target("silent connections closed within", "30 s", f"{silent['held_max_s']} s", silent["held_max_s"] <= 30)
        growth = half["rss_peak_mib"] - half["rss_before_mib"]
        self.target(f"RSS growth with {half['opened']:,} half-sent heads", "< 64 MiB", f"{growth:.1f} MiB", growth < 64)
        self.target("half-sent heads closed within", "30 s", f"{half['held_max_s']} s", half["held_max_s"] <= 30)
        self.target(f"normal create while {trick['tricklers']} uploads trickle", "201 within 2 s",
                    f"{trick['created']}/{trick['creates']}, max {trick['create_max_ms']} ms",
                    trick["created"] == trick["creates"] and trick["create_max_ms"] <= 2000)
        self.target("trickling uploads ended within the upload deadline", "≤ 60 s",
                    f"{trick['ended_408']}/{trick['tricklers']} with 408, last after {trick['ended_max_s']} s",
                    trick["ended_408"] == trick["tricklers"] and trick["ended_max_s"] <= 61)
        healthz = max(silent["healthz_max_ms"], half["healthz_max_ms"], trick["healthz_max_ms"])
        self.target("/healthz through all of it", "< 100 ms", f"max {healthz} ms", healthz < 100)
        self.target(f"RSS growth over {unscraped['requests']:,} unscraped requests", "< 8 MiB",
                    f"{unscraped['rss_growth_mib']} MiB", unscraped["rss_growth_mib"] < 8)

    # -- 3 ----------------------------------------------------------------------------
    def section_memory(self) -> None:
        o = self.o
        log("memory: startup-to-ready and idle RSS")
        starts = []
        for attempt in range(o.starts):
            server = self.roster("startup")
            try:
                time.sleep(0.5)
                starts.append({"ready_ms": round(server.ready_after * 1000, 2), "idle_rss_mib": round(vmrss(server.pid), 1)})
            finally:
                server.stop()
        ready = statistics.median(s["ready_ms"] for s in starts)
        idle = statistics.median(s["idle_rss_mib"] for s in starts)

        limit = 5 * MiB
        big = random_png_at_most(limit - 4096, 1024, self.rng)
        log(f"memory: {o.upload_concurrency} concurrent uploads of a {len(big):,}-byte PNG, {o.upload_rounds} round(s)")
        server = self.roster("uploads")
        try:
            time.sleep(0.3)
            idle_here = vmrss(server.pid)
            reset_hwm(server.pid)
            cpu_before = cpu_seconds(server.pid)
            latencies: list[float] = []
            statuses: list[int] = []
            barrier = threading.Barrier(o.upload_concurrency)
            lock = threading.Lock()

            def uploader(worker: int) -> None:
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
                try:
                    for round_ in range(o.upload_rounds):
                        barrier.wait(timeout=300)
                        started = time.perf_counter()
                        try:
                            status = post_user(conn, "Big Upload", f"big-{round_}-{worker}@bench.example", big)
                        except (OSError, http.client.HTTPException):
                            status = -1
                        with lock:
                            latencies.append(time.perf_counter() - started)
                            statuses.append(status)
                finally:
                    conn.close()

            with RssSampler(server.pid, 0.005) as sampler:
                started = time.perf_counter()
                threads = [threading.Thread(target=uploader, args=(w,), daemon=True) for w in range(o.upload_concurrency)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=900)
                wall = time.perf_counter() - started
            cpu = cpu_seconds(server.pid) - cpu_before
            peak = vmhwm(server.pid)
            after = vmrss(server.pid)
        finally:
            server.stop()
        count = len(statuses)
        ok = statuses.count(201)
        latencies.sort()
        uploads = {
            "concurrency": o.upload_concurrency,
            "rounds": o.upload_rounds,
            "avatar_bytes": len(big),
            "uploads": count,
            "created": ok,
            "other_statuses": sorted(set(s for s in statuses if s != 201)),
            "seconds": round(wall, 2),
            "uploads_per_s": round(count / wall, 1),
            "mb_per_s": round(count * len(big) / wall / 1e6, 1),
            "p50_ms": round(percentile(latencies, 50) * 1000, 1),
            "p99_ms": round(percentile(latencies, 99) * 1000, 1),
            "rss_before_mib": round(idle_here, 1),
            "peak_rss_mib": round(peak, 1),
            "sampled_peak_rss_mib": round(sampler.peak, 1),
            "rss_after_mib": round(after, 1),
            "server_cpu_s": round(cpu, 3),
            "server_cpu_s_per_1000": round(cpu / count * 1000, 2),
        }
        self.results["memory"] = {"starts": starts, "ready_ms_median": ready, "idle_rss_mib_median": idle,
                                  "uploads": uploads}
        self.md(
            "### Start-up, idle memory, 64 concurrent 5 MiB uploads (embedded)",
            "",
            f"Start-up: from spawning the binary (`taskset -c {SERVER_CPU} target/release/roster`, empty data "
            f"dir) to the first 200 of `GET /readyz`, polled every 0.5 ms; {len(starts)} starts. Idle RSS: VmRSS "
            "0.5 s after ready. Uploads: "
            f"{o.upload_concurrency} Python clients at once, {o.upload_rounds} round(s), each a "
            f"{len(big):,}-byte PNG of random pixels (incompressible; the limit is {limit:,}); peak RSS is "
            "VmHWM of the roster process (reset through clear_refs before the uploads).",
            "",
            "| figure | value |",
            "| --- | ---: |",
            f"| startup-to-ready, median (min–max) | {ready:.1f} ms ({min(s['ready_ms'] for s in starts):.1f}–"
            f"{max(s['ready_ms'] for s in starts):.1f}) |",
            f"| idle RSS, median | {idle:.1f} MiB |",
            f"| uploads created / sent | {ok} / {count} |",
            f"| upload p50 / p99 | {uploads['p50_ms']:,.0f} / {uploads['p99_ms']:,.0f} ms |",
            f"| upload throughput | {uploads['uploads_per_s']:.1f} uploads/s, {uploads['mb_per_s']:.0f} MB/s |",
            f"| RSS before → peak (VmHWM) → after | {idle_here:.1f} → {peak:.1f} → {after:.1f} MiB |",
            f"| server CPU per 1000 uploads | {uploads['server_cpu_s_per_1000']:.1f} s |",
            "",
        )
        self.target("startup-to-ready (median)", "< 100 ms", f"{ready:.1f} ms", ready < 100)
        self.target("idle RSS (median)", "< 20 MiB", f"{idle:.1f} MiB", idle < 20)
        self.target(f"peak RSS, {o.upload_concurrency} concurrent 5 MiB uploads", "< 100 MiB", f"{peak:.1f} MiB",
                    peak < 100 and ok == count)

    def section_strip(self) -> None:
        """The cost of removing metadata: the same 5 MiB JPEG uploaded with a 64 KB EXIF
        block and without metadata, server CPU per upload and peak RSS for each."""
        import io

        from PIL import Image

        limit = 5 * MiB
        side = 1800
        while True:
            noise = Image.frombytes("RGB", (side, side), self.rng.randbytes(side * side * 3))
            plain = io.BytesIO()
            noise.save(plain, "JPEG", quality=95)
            if len(plain.getvalue()) < limit - 80 * 1024:
                break
            side -= 40
        exif = Image.Exif()
        exif[0x010F] = "BenchCamera"
        exif[0x927C] = bytes(self.rng.randbytes(64 * 1024 - 200))  # MakerNote: the 64 KB block
        with_exif = io.BytesIO()
        noise.save(with_exif, "JPEG", quality=95, exif=exif.tobytes())
        variants = {"without metadata": plain.getvalue(), "with a 64 KB EXIF block": with_exif.getvalue()}
        uploads = 8 if self.o.quick else 40
        concurrency = 8
        rows = {}
        for label, avatar in variants.items():
            log(f"strip: {uploads} uploads of a {len(avatar):,}-byte JPEG {label}")
            server = self.roster("strip")
            try:
                time.sleep(0.3)
                reset_hwm(server.pid)
                before = vmrss(server.pid)
                cpu_before = cpu_seconds(server.pid)
                statuses: list[int] = []
                lock = threading.Lock()
                counter = iter(range(uploads))

                def uploader() -> None:
                    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
                    try:
                        while True:
                            with lock:
                                index = next(counter, None)
                            if index is None:
                                return
                            status = post_user(conn, "Strip", f"strip-{index}@bench.example", avatar)
                            with lock:
                                statuses.append(status)
                    finally:
                        conn.close()

                threads = [threading.Thread(target=uploader, daemon=True) for _ in range(concurrency)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=600)
                cpu = cpu_seconds(server.pid) - cpu_before
                rows[label] = {
                    "avatar_bytes": len(avatar),
                    "uploads": len(statuses),
                    "created": statuses.count(201),
                    "server_cpu_ms_per_upload": round(cpu / max(len(statuses), 1) * 1000, 1),
                    "rss_before_mib": round(before, 1),
                    "peak_rss_mib": round(vmhwm(server.pid), 1),
                }
            finally:
                server.stop()
        self.results["strip"] = rows
        self.md(
            "### Metadata stripping: a 5 MiB JPEG with and without a 64 KB EXIF block (embedded)",
            "",
            f"{uploads} uploads of each, {concurrency} at a time, a fresh server for each; the JPEG is random "
            "pixels at quality 95 (Pillow), the EXIF a camera make and a 64 KB MakerNote. Without metadata the "
            "upload is stored as it came; with it, the stripper copies the file without the EXIF.",
            "",
            "| upload | bytes | created | server CPU ms / upload | RSS before → peak MiB |",
            "| --- | ---: | ---: | ---: | ---: |",
            *(f"| {label} | {row['avatar_bytes']:,} | {row['created']} / {row['uploads']} | "
              f"{row['server_cpu_ms_per_upload']:.1f} | {row['rss_before_mib']:.1f} → {row['peak_rss_mib']:.1f} |"
              for label, row in rows.items()),
            "",
        )

    # -- 4 ----------------------------------------------------------------------------
    def section_growth(self) -> None:
        o = self.o
        sizes = o.sizes
        where = self.dir("growth")
        data_dir = where / "data"
        points = []
        seeded = 0
        server = self.roster("growth-seed", data_dir=data_dir)
        try:
            for size in sizes:
                log(f"growth: seeding {seeded:,} → {size:,} users through the API ({o.seed_concurrency} at a time)")
                seeding = seed_users(server.port, seeded, size, "g", o.seed_concurrency)
                log(f"  {seeding['per_second']:.0f} creates/s")
                seeded = size
                server.stop()
                server = self.roster(f"growth-{size}", data_dir=data_dir)
                time.sleep(0.5)
                point = {"users": size, "seeding": seeding, "ready_ms": round(server.ready_after * 1000, 2),
                         "idle_rss_mib": round(vmrss(server.pid), 1)}
                paths = self.page_paths(server.port, size, where / f"paths-{size}.txt")
                log(f"  wrk GET /user/{{email}} at {size:,}")
                point["get_user"] = wrk(server.url, "get_user_random.lua", o.duration, o.connections, server.pid,
                                        args=[str(size), "g"], warmup=o.warmup)
                log(f"  wrk GET /users?limit=100 at {size:,} ({len(paths)} page positions)")
                point["page"] = wrk(server.url, "get_paths.lua", o.duration, o.connections, server.pid,
                                    args=[str(where / f"paths-{size}.txt")], warmup=o.warmup)
                log(f"  full GET /users at {size:,}")
                point["listing"] = median_listing(
                    [full_listing(server.port, server.pid, size) for _ in range(o.listings)])
                points.append(point)
        finally:
            server.stop()
        self.results["growth"] = {"points": points}
        self.md(
            "### Growth, embedded backend",
            "",
            "Users seeded through the API (concurrent POSTs with a 1×1 PNG), then the server restarted on the "
            f"same data dir. wrk {o.connections} connections, {o.duration:g} s per point after a {o.warmup:g} s "
            "warm-up: `GET /user/{email}` picks a random existing email per request; `GET /users?limit=100` "
            "picks a random page start among ~100 cursors spread over the whole table. Full listing: one "
            f"streamed `GET /users` read as fast as possible over a raw socket, {o.listings} runs (median total; "
            "worst RSS growth); RSS growth = VmHWM during the read (reset via clear_refs) − VmRSS before.",
            "",
            "| users | ready ms | idle RSS MiB | GET /user p50 / p99 ms | µs CPU/req | page p50 / p99 ms | µs CPU/req "
            "| listing TTFB ms | listing total ms | MB/s | body MB | RSS growth MiB |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        )
        for p in points:
            g, pg, li = p["get_user"], p["page"], p["listing"]
            self.md(
                f"| {p['users']:,} | {p['ready_ms']:.1f} | {p['idle_rss_mib']:.1f} | "
                f"{g['p50_ms']:.3f} / {g['p99_ms']:.3f} | {cpu_us(g)} | "
                f"{pg['p50_ms']:.3f} / {pg['p99_ms']:.3f} | {cpu_us(pg)} | "
                f"{li['ttfb_ms']:.1f} | {li['total_ms']:,.1f} | {li['mb_per_s']:.0f} | {li['body_bytes'] / 1e6:.1f} | "
                f"{li['peak_growth_mib']:.1f} |"
            )
        self.md("", "Seeding rate (not a benchmark figure): " + ", ".join(
            f"{p['seeding']['per_second']:.0f} creates/s up to {p['users']:,}" for p in points), "")
        if len(points) >= 2:
            small, large = points[0], points[-1]
            for key, label in (("get_user", "GET /user/{email}"), ("page", "GET /users?limit=100")):
                ratio = large[key]["p50_ms"] / small[key]["p50_ms"]
                self.target(f"{label} p50 at {large['users']:,} vs {small['users']:,} users", "≤ 1.2×",
                            f"{ratio:.2f}× (p99 {large[key]['p99_ms'] / small[key]['p99_ms']:.2f}×, CPU/req "
                            f"{ratio_of(large[key], small[key])})", ratio <= 1.2)
        last = points[-1]
        self.target(f"RSS growth, full listing of {last['users']:,} users (embedded)", "< 16 MiB",
                    f"{last['listing']['peak_growth_mib']:.1f} MiB", last["listing"]["peak_growth_mib"] < 16)

    def page_paths(self, port: int, size: int, out: Path) -> list[str]:
        """~100 page starts spread over the table: the first page plus cursors from a walk."""
        step = min(1000, max(1, size // 100))
        paths = ["/users?limit=100"]
        path = f"/users?limit={step}"
        position = 0
        for _ in range(size // step + 2):  # bounded walk
            status, headers, body = get(port, path)
            if status != 200:
                raise RuntimeError(f"GET {path}: {status}")
            position += len(json.loads(body))
            link = next((v for k, v in headers.items() if k.lower() == "link"), None)
            if not link:
                break
            next_path = link.split(">", 1)[0].lstrip("<")
            cursor = urllib.parse.parse_qs(urllib.parse.urlsplit(next_path).query)["cursor"][0]
            if position <= size - 100:
                paths.append(f"/users?limit=100&cursor={cursor}")
            path = next_path
        out.write_text("\n".join(paths) + "\n")
        return paths

    def section_growth_aws(self) -> None:
        o = self.o
        count = o.aws_users
        where = self.dir("growth-aws")
        moto = Moto(where)
        try:
            moto.create("bench-users", "bench-avatars")
            log(f"growth-aws: writing {count:,} items straight into the table (batch_write_item)")
            dynamodb = moto.client("dynamodb")
            started = time.perf_counter()
            for first in range(0, count, 25):
                batch = [
                    {"PutRequest": {"Item": {
                        "name": {"S": f"Seed User {i}"},
                        "email": {"S": f"a{i:07d}@seed.example"},
                        "avatar_url": {"S": f"https://bench-avatars.s3.us-east-1.amazonaws.com/avatars/{uuid.uuid4().hex}.png"},
                    }}}
                    for i in range(first, min(first + 25, count))
                ]
                request = {"bench-users": batch}
                for _ in range(20):  # bounded retries of unprocessed items
                    answer = dynamodb.batch_write_item(RequestItems=request)
                    request = answer.get("UnprocessedItems") or {}
                    if not request:
                        break
                else:
                    raise RuntimeError("batch_write_item kept items unprocessed")
            log(f"  written in {time.perf_counter() - started:.1f}s")
            server = self.roster("growth-aws", moto.roster_env("bench-users", "bench-avatars"))
            try:
                time.sleep(0.5)
                idle = vmrss(server.pid)
                log(f"  full GET /users of {count:,} users on moto")
                listing = median_listing([full_listing(server.port, server.pid, count) for _ in range(o.aws_listings)])
            finally:
                server.stop()
        finally:
            moto.stop()
        self.results["growth_aws"] = {"users": count, "idle_rss_mib": round(idle, 1), "listing": listing}
        self.md(
            f"### Full listing, AWS backend on moto, {count:,} users",
            "",
            "Items written straight into the table with boto3 `batch_write_item` (exactly name, email, "
            f"avatar_url, all S); roster scans it {500} users per page (`ROSTER_LIST_PAGE_SIZE` default). "
            f"{o.aws_listings} runs (median total; worst RSS growth). Times are dominated by moto's scan.",
            "",
            "| users | idle RSS MiB | TTFB ms | total ms | MB/s | body MB | RSS growth MiB | server CPU s |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| {count:,} | {idle:.1f} | {listing['ttfb_ms']:.1f} | {listing['total_ms']:,.0f} | "
            f"{listing['mb_per_s']:.1f} | {listing['body_bytes'] / 1e6:.1f} | {listing['peak_growth_mib']:.1f} | "
            f"{listing['server_cpu_s']:.2f} |",
            "",
        )
        self.target(f"RSS growth, full listing of {count:,} users (AWS on moto)", "< 16 MiB",
                    f"{listing['peak_growth_mib']:.1f} MiB", listing["peak_growth_mib"] < 16)


def raise_open_file_limit(wanted: int) -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


class HealthProbe:
    """Asks GET /healthz on a new connection every 100 ms in a thread; the slowest answer."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.worst_ms = 0.0
        self.failures = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stopped.wait(0.1):
            started = time.perf_counter()
            try:
                status = get(self.port, "/healthz", timeout=10)[0]
                if status != 200:
                    self.failures += 1
            except OSError:
                self.failures += 1
                continue
            self.worst_ms = max(self.worst_ms, (time.perf_counter() - started) * 1000)

    def __enter__(self) -> "HealthProbe":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join(timeout=15)


def hold_connections(port: int, pid: int, count: int, opening: bytes, limit: float) -> dict:
    """Opens `count` connections, sends `opening` on each (perhaps nothing), then holds them;
    returns RSS, how long each was held until the server closed it, and /healthz's worst."""
    import selectors

    selector = selectors.DefaultSelector()
    connected: dict[socket.socket, float] = {}
    held: list[float] = []
    rss_before = vmrss(pid)
    rss_peak = rss_before
    started = time.perf_counter()
    pending = count
    with HealthProbe(port) as probe:
        while (pending or connected or selector.get_map()) and time.perf_counter() - started < limit:
            # Open a batch (non-blocking: past the server's backlog the kernel retries SYNs).
            for _ in range(min(pending, 500)):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setblocking(False)
                sock.connect_ex(("127.0.0.1", port))
                selector.register(sock, selectors.EVENT_WRITE)
                pending -= 1
            for key, events in selector.select(timeout=0.05):
                sock = key.fileobj
                now = time.perf_counter()
                if sock not in connected:
                    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        selector.unregister(sock)
                        sock.close()
                        pending += 1  # refused: try again
                        continue
                    connected[sock] = now
                    if opening:
                        try:
                            sock.send(opening)
                        except OSError:
                            pass
                    selector.modify(sock, selectors.EVENT_READ)
                    continue
                try:
                    data = sock.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    held.append(now - connected.pop(sock))
                    selector.unregister(sock)
                    sock.close()
            rss_peak = max(rss_peak, vmrss(pid))
    all_closed = time.perf_counter() - started
    for sock in list(selector.get_map().values()):
        sock.fileobj.close()
    selector.close()
    held.sort()
    return {
        "opened": count,
        "closed_by_server": len(held),
        "rss_before_mib": round(rss_before, 1),
        "rss_peak_mib": round(rss_peak, 1),
        "held_p50_s": round(percentile(held, 50), 1) if held else None,
        "held_max_s": round(held[-1], 1) if held else None,
        "all_closed_s": round(all_closed, 1),
        "healthz_max_ms": round(probe.worst_ms, 1),
        "healthz_failures": probe.failures,
    }


def trickle(port: int, pid: int, tricklers: int, creates: int, limit: float) -> dict:
    """`tricklers` uploads send their head and then a body byte a second; meanwhile, normal
    creates. When each trickler was answered (408 expected), and how the creates fared."""
    boundary = "trickle"
    body_start = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nSlow\r\n"
                  f"--{boundary}\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\n\r\n")
    head = (f"POST /user HTTP/1.1\r\nHost: roster\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: 5000000\r\n\r\n{body_start}").encode()
    socks = []
    for _ in range(tricklers):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(head)
        sock.setblocking(False)
        socks.append(sock)
    started = time.perf_counter()
    answered: dict[int, tuple[float, bytes]] = {}
    latencies: list[float] = []
    created = 0
    with HealthProbe(port) as probe:
        next_byte = started
        made = 0
        while len(answered) < tricklers and time.perf_counter() - started < limit:
            now = time.perf_counter()
            if now >= next_byte:
                for index, sock in enumerate(socks):
                    if index not in answered:
                        try:
                            sock.send(b"x")
                        except OSError:
                            pass
                next_byte += 1.0
            for index, sock in enumerate(socks):
                if index in answered:
                    continue
                try:
                    data = sock.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                answered[index] = (time.perf_counter() - started, data)
            if made < creates and now - started > 2 + made:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                begun = time.perf_counter()
                status = post_user(conn, "Normal", f"normal{made}-{uuid.uuid4().hex[:6]}@hostile.example", TINY_PNG)
                latencies.append((time.perf_counter() - begun) * 1000)
                conn.close()
                created += status == 201
                made += 1
            time.sleep(0.02)
    for sock in socks:
        sock.close()
    ended = [seconds for seconds, data in answered.values() if data.startswith(b"HTTP/1.1 408")]
    latencies.sort()
    return {
        "tricklers": tricklers,
        "ended_408": len(ended),
        "ended_max_s": round(max(ended), 1) if ended else None,
        "creates": len(latencies),
        "created": created,
        "create_p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
        "create_max_ms": round(latencies[-1], 1) if latencies else None,
        "healthz_max_ms": round(probe.worst_ms, 1),
    }


def percentile(ordered: list[float], p: float) -> float:
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def fmt(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def fmt2(value) -> str:
    return "—" if value is None else f"{value:.2f}"


def cpu_us(row: dict) -> str:
    per = row.get("server_cpu_s_per_1000")
    return "—" if per is None else f"{per * 1000:.0f}"


def ratio_of(large: dict, small: dict) -> str:
    a, b = large.get("server_cpu_s_per_1000"), small.get("server_cpu_s_per_1000")
    return f"{a / b:.2f}×" if a and b else "—"


# ---------------------------------------------------------------------------------------


def ensure_tools(build: bool) -> None:
    missing = [tool for tool in ("wrk", "nginx", "taskset") if not shutil.which(tool) and not Path("/usr/sbin/" + tool).exists()]
    if missing and {"wrk", "nginx"} >= set(missing) and shutil.which("apt-get") and os.geteuid() == 0:
        log(f"installing {' '.join(missing)} (apt-get)")
        subprocess.run(["apt-get", "update"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "wrk", "nginx"], check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    elif missing:
        raise SystemExit(f"missing tools: {', '.join(missing)} (Debian: apt-get install -y wrk nginx util-linux)")
    if "/usr/sbin" not in os.environ.get("PATH", ""):
        os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin"
    if build:
        log("cargo build --release")
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    if not BINARY.exists():
        raise SystemExit(f"{BINARY} is missing: run cargo build --release")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes and short runs (a smoke run)")
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only this section (repeatable)")
    parser.add_argument("--duration", type=float, help="seconds per wrk point (default 10, quick 3)")
    parser.add_argument("--warmup", type=float, help="seconds of unrecorded wrk warm-up per point (default 2, quick 1)")
    parser.add_argument("--connections", type=int, default=4,
                        help="wrk connections of the growth section (default 4: 2 per core)")
    parser.add_argument("--connection-counts", default="4,32,256",
                        help="connection counts of the nginx comparison (default 4,32,256)")
    parser.add_argument("--sizes", help="growth sizes, comma-separated (default 1000,10000,100000)")
    parser.add_argument("--aws-users", type=int, help="users for growth-aws (default 40000, quick 4000)")
    parser.add_argument("--seed-concurrency", type=int, default=32)
    parser.add_argument("--no-build", action="store_true", help="use target/release/roster as it is")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (data, logs)")
    parser.add_argument("--output", type=Path, default=OUT_DIR / "results.json")
    o = parser.parse_args()
    o.duration = o.duration or (3 if o.quick else 10)
    o.warmup = o.warmup if o.warmup is not None else (1 if o.quick else 2)
    o.connection_counts = [int(c) for c in o.connection_counts.split(",")]
    o.create_connection_counts = [1, 8, 32]
    o.durability_clients = 32
    o.durability_seconds = 2 if o.quick else 4
    o.silent_connections = 2000 if o.quick else 10000
    o.half_heads = 1000 if o.quick else 5000
    o.hold_limit = 90.0
    o.tricklers = 64
    o.normal_creates = 5
    o.trickle_limit = 75.0
    o.unscraped_seconds = 10 if o.quick else 40
    o.sizes = [int(s) for s in o.sizes.split(",")] if o.sizes else ([1000, 5000] if o.quick else [1000, 10000, 100000])
    o.aws_users = o.aws_users or (4000 if o.quick else 40000)
    o.starts = 3 if o.quick else 7
    o.rounds = 1 if o.quick else 3
    o.listings = 2 if o.quick else 3
    o.aws_listings = 1 if o.quick else 2
    o.upload_concurrency = 64
    o.upload_rounds = 1 if o.quick else 2
    sections = o.only or SECTIONS

    if (os.cpu_count() or 1) < 2:
        raise SystemExit("needs at least 2 CPUs (server on CPU 0, load on CPU 1)")
    ensure_tools(not o.no_build)
    os.sched_setaffinity(0, {int(LOAD_CPU)})  # this script's clients run beside wrk, not the server

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    workdir = Path(tempfile.mkdtemp(prefix="roster-bench-"))
    load_start = uptime_line()
    log(f"start: {load_start}")
    started = time.time()
    bench = Bench(o, workdir)
    failed = []
    try:
        for section in sections:
            try:
                getattr(bench, "section_" + section.replace("-", "_"))()
            except KeyboardInterrupt:
                raise
            except Exception as error:
                failed.append(section)
                log(f"section {section} failed: {error!r}")
                bench.md(f"### {section}: FAILED", "", f"`{error!r}`"[:1500], "")
                PROCS.stop_all()
    finally:
        PROCS.stop_all()
        if o.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    load_end = uptime_line()
    log(f"end: {load_end}")

    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no", "src", "Cargo.toml", "Cargo.lock"],
                           capture_output=True, text=True).stdout.strip()
    header = [
        f"## Benchmark{' (quick)' if o.quick else ''}",
        "",
        f"roster {commit}{' + uncommitted changes' if dirty else ''}, release build; "
        f"{os.cpu_count()} CPUs, {Path('/proc/meminfo').read_text().split()[1]} kB RAM; {time.strftime('%Y-%m-%d %H:%M %Z')}; "
        f"run took {time.time() - started:.0f} s.",
        "",
        f"- load at start: `{load_start}`",
        f"- load at end: `{load_end}`",
        "",
    ]
    targets = ["### Targets", "", "| target | goal | measured | |", "| --- | --- | --- | --- |"]
    for t in bench.targets:
        mark = "met" if t["met"] else ("missed" if t["met"] is False else "—")
        targets.append(f"| {t['target']} | {t['goal']} | {t['value']} | **{mark}** |")
    document = "\n".join(header + bench.markdown + targets) + "\n"
    print(document)

    o.output.parent.mkdir(parents=True, exist_ok=True)
    o.output.write_text(json.dumps({
        "quick": o.quick,
        "commit": commit,
        "dirty": bool(dirty),
        "sections": sections,
        "failed": failed,
        "load_start": load_start,
        "load_end": load_end,
        "settings": {"duration_s": o.duration, "warmup_s": o.warmup, "connections": o.connections,
                     "sizes": o.sizes, "aws_users": o.aws_users, "server_cpu": SERVER_CPU, "load_cpu": LOAD_CPU},
        "results": bench.results,
        "targets": bench.targets,
    }, indent=2) + "\n")
    o.output.with_suffix(".md").write_text(document)
    log(f"wrote {o.output} and {o.output.with_suffix('.md')}")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        PROCS.stop_all()
