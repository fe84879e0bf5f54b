"""The OpenAPI document as a contract: committed for client generators, valid OpenAPI 3,
and honoured by the running server on both backends (schemathesis)."""

from __future__ import annotations

import difflib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from e2e_helpers import REPO

COMMITTED_DOCUMENT = REPO / "openapi.json"
REGENERATE = "cargo build && target/debug/roster openapi > openapi.json"

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

# The response checks schemathesis 4 offers: every answer must be one the document lists.
RESPONSE_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)

# Bounded and deterministic: a fixed seed, one worker, a fixed number of examples per
# operation, and no example database carried over from earlier runs.
SEED = 20260701
MAX_EXAMPLES = 60
SCHEMATHESIS_TIMEOUT = 180  # seconds per run; a run takes ~5-15 s


def roster_openapi(binary: Path) -> dict:
    result = subprocess.run(
        [str(binary), "openapi"], capture_output=True, text=True, timeout=30, check=True
    )
    return json.loads(result.stdout)


def operations(document: dict) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def pretty(document: dict) -> list[str]:
    return json.dumps(document, indent=2, sort_keys=True).splitlines(keepends=True)


def test_committed_openapi_json_matches_roster_openapi(roster_binary):
    committed = json.loads(COMMITTED_DOCUMENT.read_text())
    fresh = roster_openapi(roster_binary)
    if committed != fresh:
        diff = "".join(
            difflib.unified_diff(
                pretty(committed), pretty(fresh), "openapi.json (committed)", "roster openapi"
            )
        )
        pytest.fail(
            f"openapi.json differs from `roster openapi`; regenerate it with `{REGENERATE}` "
            f"and commit it.\n{diff}"
        )


def test_served_openapi_json_is_the_committed_document(start_roster):
    roster = start_roster("embedded")
    status, headers, body = roster.request("GET", "/openapi.json")
    assert status == 200
    assert headers.get_content_type() == "application/json"
    assert json.loads(body) == json.loads(COMMITTED_DOCUMENT.read_text())


def test_committed_openapi_json_is_a_valid_openapi_3_document():
    document, base_uri = read_from_filename(str(COMMITTED_DOCUMENT))
    assert str(document.get("openapi", "")).startswith("3."), document.get("openapi")
    validate(document, base_uri=base_uri)  # raises OpenAPIValidationError with the path
    ids = [
        operation.get("operationId")
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]
    assert all(ids) and len(ids) == len(set(ids)), f"operationIds must be unique: {ids}"


def run_schemathesis(roster, report_dir: Path, *options: str) -> subprocess.CompletedProcess:
    report_dir.mkdir(parents=True, exist_ok=True)
    # An explicit configuration, so no schemathesis.toml found by directory search applies,
    # and no crash cache: a cache would replay earlier runs' failures first.
    config = report_dir / "schemathesis.toml"
    config.write_text("[cache]\nenabled = false\n")
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "run",
        roster.url("/openapi.json"),
        "--url",
        roster.base_url,
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "15",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(report_dir / "junit.xml"),
        *options,
    ]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=SCHEMATHESIS_TIMEOUT, cwd=report_dir
    )


def failure_message(result: subprocess.CompletedProcess, roster) -> str:
    return (
        f"schemathesis exited {result.returncode} against the {roster.backend} backend "
        f"(server log: {roster.log_path}):\n{result.stdout[-20000:]}\n{result.stderr[-4000:]}"
    )


def test_every_operation_answers_only_what_the_document_declares(roster, artifacts):
    """No 5xx, and every status, content type, body and header is one the document lists,
    for generated valid and invalid requests, and for stateful sequences through the
    document's links (create, then read and delete what was created)."""
    document = json.loads(COMMITTED_DOCUMENT.read_text())
    expected = len(operations(document))
    result = run_schemathesis(
        roster,
        artifacts / "schemathesis" / roster.backend,
        "--checks",
        ",".join(RESPONSE_CHECKS),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--phases",
        "examples,coverage,fuzzing,stateful",
    )
    assert result.returncode == 0, failure_message(result, roster)
    tested = re.search(r"Tested:\s+(\d+)", result.stdout)
    assert tested and int(tested.group(1)) == expected, (
        f"schemathesis did not test all {expected} operations:\n{result.stdout[-5000:]}"
    )


def test_undeclared_methods_are_refused_with_405_and_an_allow_header(roster, artifacts):
    """RFC 9110 §15.5.6: a 405 must list the methods the resource supports in `Allow`."""
    result = run_schemathesis(
        roster,
        artifacts / "schemathesis" / f"{roster.backend}-methods",
        "--checks",
        "unsupported_method",
        "--max-examples",
        "5",
        "--phases",
        "coverage",
    )
    assert result.returncode == 0, failure_message(result, roster)
