"""The document every generator reads: openapi-python-client (a generator nobody here
wrote, pinned) turns openapi.json into a client without a single warning, and that client
creates, reads, lists and deletes a user on a running roster, on both backends."""

from __future__ import annotations

import importlib
import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from e2e_helpers import REPO

COMMITTED_DOCUMENT = REPO / "openapi.json"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")

def one_pixel_png() -> bytes:
    """A 1 × 1 greyscale PNG, built chunk by chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b"")


ONE_PIXEL_PNG = one_pixel_png()


@pytest.fixture(scope="module")
def generated_client(tmp_path_factory) -> tuple[str, str]:
    """Generates the client once; (the generator's whole output, the package name)."""
    workdir = tmp_path_factory.mktemp("generated-client")
    config = workdir / "config.yaml"
    # No post hooks: the generator would run ruff, which is not part of the test tools.
    config.write_text("post_hooks: []\nproject_name_override: roster-client\npackage_name_override: roster_client\n")
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(COMMITTED_DOCUMENT),
            "--output-path",
            str(workdir / "roster_client"),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=workdir,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    sys.path.insert(0, str(workdir))
    try:
        yield output, "roster_client"
    finally:
        sys.path.remove(str(workdir))


def test_openapi_python_client_generates_the_client_without_a_warning(generated_client):
    output, _ = generated_client
    assert "warning" not in output.lower(), output
    assert "error" not in output.lower(), output


def test_the_generated_client_covers_every_operation_of_the_document(generated_client):
    _, package = generated_client
    document = json.loads(COMMITTED_DOCUMENT.read_text())
    operation_ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    for operation_id in operation_ids:
        module_name = "".join(f"_{c.lower()}" if c.isupper() else c for c in operation_id)
        found = [
            path for path in (Path(sys.path[0]) / package / "api").rglob(f"{module_name}.py")
        ]
        assert found, f"no generated function for {operation_id} ({module_name}.py)"


def test_the_generated_client_manages_users_on_a_running_roster(generated_client, roster):
    _, package = generated_client
    client_module = importlib.import_module(f"{package}.client")
    types = importlib.import_module(f"{package}.types")
    models = importlib.import_module(f"{package}.models")
    users = importlib.import_module(f"{package}.api.users")
    create = importlib.import_module(f"{package}.api.users.create_user")
    get = importlib.import_module(f"{package}.api.users.get_user")
    listing = importlib.import_module(f"{package}.api.users.list_users")
    delete = importlib.import_module(f"{package}.api.users.delete_user")
    assert users

    client = client_module.Client(base_url=roster.base_url, raise_on_unexpected_status=True)
    body_class = next(
        getattr(models, name) for name in dir(models) if name.startswith("CreateUser") and name.endswith("Body")
    )
    body = body_class(
        name="Generated Client",
        email="Generated@Example.com",
        avatar=types.File(payload=io.BytesIO(ONE_PIXEL_PNG), file_name="a.png", mime_type="image/png"),
    )
    created = create.sync_detailed(client=client, body=body)
    assert created.status_code == 201, created.content
    assert created.parsed.email == "generated@example.com"

    found = get.sync_detailed(client=client, email="generated@example.com")
    assert found.status_code == 200
    assert found.parsed.name == "Generated Client"

    page = listing.sync_detailed(client=client, limit=10)
    assert page.status_code == 200
    assert [user.email for user in page.parsed] == ["generated@example.com"]

    conflict = create.sync_detailed(
        client=client,
        body=body_class(
            name="Again",
            email="generated@example.com",
            avatar=types.File(payload=io.BytesIO(ONE_PIXEL_PNG), file_name="a.png"),
        ),
    )
    assert conflict.status_code == 409
    assert conflict.parsed.status == 409

    removed = delete.sync_detailed(client=client, email="generated@example.com")
    assert removed.status_code == 204
    missing = get.sync_detailed(client=client, email="generated@example.com")
    assert missing.status_code == 404
