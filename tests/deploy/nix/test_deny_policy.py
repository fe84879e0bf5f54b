"""deny.toml, read by the pinned cargo-deny, fails what it says it fails.

./scripts/test runs `cargo deny check licenses bans sources` on the real Cargo.lock; these
tests show what the policy does with graphs that break it, which the real lock (rightly)
does not. Each runs the real cargo-deny on a small workspace described by a hand-made
`cargo metadata` document (cargo-deny's --metadata-path), offline. The advisory test also
runs nix/advisory-db-checkout, the step that lets the flake's roster-deny check open the
pinned advisory-db input without a network, so it proves the directory cargo-deny reads.
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from conftest import REPO

CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"

# What deny.toml promises: one major version of each crate of the HTTP and TLS stacks.
HTTP_AND_TLS = ["hyper", "h2", "http", "rustls", "rustls-webpki", "tokio-rustls", "hyper-rustls"]


@pytest.fixture(scope="session")
def cargo_deny() -> Path:
    result = subprocess.run([str(REPO / "scripts" / "install-cargo-deny")], capture_output=True, text=True,
                            timeout=1800)
    if result.returncode != 0:
        pytest.fail(f"scripts/install-cargo-deny failed:\n{result.stderr}")
    binary = Path(result.stdout.strip().splitlines()[-1]) / "cargo-deny"
    assert binary.is_file(), binary
    return binary


def package(root: Path, name: str, version: str, license: str = "MIT", source: str | None = CRATES_IO) -> dict:
    base = f"{source.split('#')[0]}#" if source else f"path+file://{root}#"
    where = root if source is None else Path("/nonexistent") / f"{name}-{version}"
    kind = "bin" if source is None else "lib"
    return {
        "name": name, "version": version, "id": f"{base}{name}@{version}", "license": license,
        "license_file": None, "description": None, "source": source, "dependencies": [], "features": {},
        "targets": [{"kind": [kind], "crate_types": [kind], "name": name, "src_path": str(where / "src/lib.rs"),
                     "edition": "2021", "doc": True, "doctest": False, "test": True}],
        "manifest_path": str(where / "Cargo.toml"), "metadata": None, "publish": None, "authors": [],
        "categories": [], "keywords": [], "readme": None, "repository": None, "homepage": None,
        "documentation": None, "edition": "2021", "links": None, "default_run": None, "rust_version": None,
    }


class Workspace:
    """A one-package workspace whose package depends directly on the given crates."""

    def __init__(self, root: Path, deps: list[dict]):
        self.root = root
        (root / "src").mkdir(parents=True, exist_ok=True)
        (root / "src" / "lib.rs").write_text("")
        (root / "Cargo.toml").write_text('[package]\nname = "fixture"\nversion = "0.1.0"\nedition = "2024"\n'
                                         'license = "MIT"\npublish = false\n')
        # cargo-deny runs `cargo fetch --locked` first; the package alone is locked.
        (root / "Cargo.lock").write_text('version = 4\n\n[[package]]\nname = "fixture"\nversion = "0.1.0"\n')
        me = package(root, "fixture", "0.1.0", source=None)
        me["dependencies"] = [{"name": d["name"], "source": d["source"], "req": f"={d['version']}", "kind": None,
                               "rename": None, "optional": False, "uses_default_features": True, "features": [],
                               "target": None, "registry": None} for d in deps]
        nodes = [{"id": me["id"], "dependencies": [d["id"] for d in deps], "features": [],
                  "deps": [{"name": f"{d['name']}_{i}".replace("-", "_"), "pkg": d["id"],
                            "dep_kinds": [{"kind": None, "target": None}]} for i, d in enumerate(deps)]}]
        nodes += [{"id": d["id"], "dependencies": [], "deps": [], "features": []} for d in deps]
        (root / "metadata.json").write_text(json.dumps({
            "packages": [me, *deps], "workspace_members": [me["id"]], "workspace_default_members": [me["id"]],
            "resolve": {"nodes": nodes, "root": me["id"]}, "target_directory": str(root / "target"),
            "version": 1, "workspace_root": str(root), "metadata": None,
        }))
        self.config = root / "deny.toml"
        self.config.write_text((REPO / "deny.toml").read_text())

    def use_advisory_db(self, db_path: Path) -> None:
        text = self.config.read_text()
        assert "\n[advisories]\n" in text
        self.config.write_text(text.replace("\n[advisories]\n", f'\n[advisories]\ndb-path = "{db_path}"\n', 1))

    def check(self, cargo_deny: Path, *checks: str, allow: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        # The flags of the flake's roster-deny check, on this workspace instead of roster's.
        argv = [str(cargo_deny), "--color", "never", "--offline", "--locked", "--workspace",
                "--manifest-path", str(self.root / "Cargo.toml"), "--metadata-path", str(self.root / "metadata.json"),
                "--config", str(self.config), "check", *[f"--allow={code}" for code in allow], *checks]
        return subprocess.run(argv, cwd=self.root, capture_output=True, text=True, timeout=300)


def errors(result: subprocess.CompletedProcess) -> list[str]:
    return re.findall(r"^error\[([\w-]+)\]: (.*)$", result.stderr, re.M)


# A graph with a handful of licenses cannot use every license deny.toml allows.
UNUSED_LICENSES = ("license-not-encountered",)


def test_two_majors_of_the_http_or_tls_stack_fail(tmp_path, cargo_deny):
    deps = [package(tmp_path, name, v) for name in HTTP_AND_TLS for v in ("0.9.0", "1.0.0")]
    result = Workspace(tmp_path, deps).check(cargo_deny, "bans")
    assert result.returncode != 0
    failed = {re.search(r"crate '([\w-]+)'", msg).group(1) for code, msg in errors(result) if code == "duplicate"}
    assert failed == set(HTTP_AND_TLS), result.stderr


def test_other_duplicates_are_reported_without_failing(tmp_path, cargo_deny):
    deps = [package(tmp_path, "base64", "0.21.7"), package(tmp_path, "base64", "0.22.1"),
            package(tmp_path, "hyper", "1.0.0")]
    result = Workspace(tmp_path, deps).check(cargo_deny, "bans")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^warning\[duplicate\]: .*'base64'", result.stderr, re.M), result.stderr


def test_openssl_is_banned(tmp_path, cargo_deny):
    result = Workspace(tmp_path, [package(tmp_path, "openssl-sys", "0.9.100")]).check(cargo_deny, "bans")
    assert result.returncode != 0
    assert ("banned", "crate 'openssl-sys = 0.9.100' is explicitly banned") in errors(result), result.stderr


def test_a_license_off_the_allow_list_fails(tmp_path, cargo_deny):
    allowed = [package(tmp_path, "bytes", "1.0.0", "MIT OR Apache-2.0"), package(tmp_path, "foldhash", "0.2.0", "Zlib")]
    ok = Workspace(tmp_path / "ok", allowed).check(cargo_deny, "licenses", allow=UNUSED_LICENSES)
    assert ok.returncode == 0, ok.stderr
    copyleft = [*allowed, package(tmp_path, "readline", "1.0.0", "GPL-3.0-only")]
    rejected = Workspace(tmp_path / "gpl", copyleft).check(cargo_deny, "licenses", allow=UNUSED_LICENSES)
    assert rejected.returncode != 0
    assert [code for code, _ in errors(rejected)] == ["rejected"], rejected.stderr


def test_an_allowed_license_nothing_uses_fails(tmp_path, cargo_deny):
    result = Workspace(tmp_path, [package(tmp_path, "bytes", "1.0.0")]).check(cargo_deny, "licenses")
    assert result.returncode != 0
    assert {code for code, _ in errors(result)} == {"license-not-encountered"}, result.stderr


@pytest.mark.parametrize("source", [
    "git+https://example.invalid/bytes?rev=0123456#0123456789abcdef0123456789abcdef01234567",
    "sparse+https://example.invalid/index/",
])
def test_crates_from_anywhere_but_crates_io_fail(tmp_path, cargo_deny, source):
    deps = [package(tmp_path, "itoa", "1.0.0"), package(tmp_path, "bytes", "1.0.0", source=source)]
    result = Workspace(tmp_path, deps).check(cargo_deny, "sources")
    assert result.returncode != 0
    assert [code for code, _ in errors(result)] == ["source-not-allowed"], result.stderr


def test_crates_io_is_allowed(tmp_path, cargo_deny):
    result = Workspace(tmp_path, [package(tmp_path, "bytes", "1.0.0")]).check(cargo_deny, "sources")
    assert result.returncode == 0, result.stderr


ADVISORY = """```toml
[advisory]
id = "{id}"
package = "{package}"
date = "2026-01-01"
url = "https://example.invalid/{id}"
keywords = ["test"]

[versions]
patched = ["{patched}"]
```

# A vulnerability made up for this test

It affects every version before {patched}.
"""


def advisory_db(tmp_path: Path, advisories: list[dict]) -> Path:
    """A database laid out like RustSec's, made into cargo-deny's checkout by the flake's step."""
    tree = tmp_path / "advisory-db-input"
    for adv in advisories:
        path = tree / "crates" / adv["package"] / f"{adv['id']}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(ADVISORY.format(**adv))
    db_path = tmp_path / "advisory-dbs"
    result = subprocess.run(["bash", str(REPO / "nix" / "advisory-db-checkout"), str(tree), str(db_path), "test"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return db_path


def test_advisories_are_read_offline_from_the_checkout_the_flake_makes(tmp_path, cargo_deny):
    db_path = advisory_db(tmp_path, [
        {"id": "RUSTSEC-2026-9001", "package": "bytes", "patched": ">= 1.1.0"},
        {"id": "RUSTSEC-2026-9002", "package": "itoa", "patched": ">= 1.0.0"},
    ])
    workspace = Workspace(tmp_path / "ws", [package(tmp_path, "bytes", "1.0.0"), package(tmp_path, "itoa", "1.0.0")])
    workspace.use_advisory_db(db_path)
    result = workspace.check(cargo_deny, "advisories")
    assert result.returncode != 0, result.stderr
    assert [code for code, _ in errors(result)] == ["vulnerability"], result.stderr
    assert "RUSTSEC-2026-9001" in result.stderr and "RUSTSEC-2026-9002" not in result.stderr


def test_a_patched_graph_passes_the_advisories(tmp_path, cargo_deny):
    db_path = advisory_db(tmp_path, [{"id": "RUSTSEC-2026-9001", "package": "bytes", "patched": ">= 1.1.0"}])
    workspace = Workspace(tmp_path / "ws", [package(tmp_path, "bytes", "1.1.0")])
    workspace.use_advisory_db(db_path)
    result = workspace.check(cargo_deny, "advisories")
    assert result.returncode == 0, result.stderr


def test_the_policy_names_exactly_the_http_and_tls_crates():
    bans = tomllib.loads((REPO / "deny.toml").read_text())["bans"]
    single = {entry["crate"] for entry in bans["deny"] if entry.get("deny-multiple-versions")}
    assert single == set(HTTP_AND_TLS)
    assert bans["multiple-versions"] == "warn"
    for skip in bans.get("skip", []):
        assert isinstance(skip, dict) and skip.get("reason"), f"a skip without a reason: {skip}"


def test_cargo_audit_skips_exactly_the_advisories_deny_toml_excepts(nix_eval):
    # The flake passes these to cargo-audit as --ignore; yanked-crate entries are not advisories.
    config = ('[advisories]\\nignore = [\\"RUSTSEC-2026-0194\\", '
              '{ id = \\"RUSTSEC-2026-0195\\", reason = \\"unreachable\\" }, '
              '\\"foo@1.2.3\\", { crate = \\"bar@1.0.0\\", reason = \\"yanked\\" }]\\n')
    assert nix_eval(f'import ./nix/advisory-exceptions.nix {{ config = builtins.fromTOML "{config}"; }}') == [
        "RUSTSEC-2026-0194", "RUSTSEC-2026-0195"]
    listed = tomllib.loads((REPO / "deny.toml").read_text())["advisories"]["ignore"]
    ids = [e if isinstance(e, str) else e.get("id") for e in listed]
    assert nix_eval("import ./nix/advisory-exceptions.nix {}") == [i for i in ids if i and i.startswith("RUSTSEC-")]


def advisory_exceptions() -> list[dict]:
    listed = tomllib.loads((REPO / "deny.toml").read_text())["advisories"]["ignore"]
    return [entry for entry in listed if isinstance(entry, dict) and str(entry.get("id", "")).startswith("RUSTSEC-")]


def test_every_advisory_exception_has_a_reason_and_lapses_on_a_date_not_yet_past():
    for exception in advisory_exceptions():
        reason = exception.get("reason", "")
        found = re.search(r"review by (\d{4}-\d{2}-\d{2})", reason)
        assert found, f"{exception['id']}: the reason names no review date: {reason!r}"
        review_by = datetime.date.fromisoformat(found.group(1))
        assert review_by >= datetime.date.today(), (
            f"{exception['id']} lapsed on {review_by}: check whether a fixed release exists, then renew or drop it"
        )


def test_the_xml_exceptions_hold_roster_takes_no_xml_anywhere():
    # The quick-xml exceptions rest on this: no operation accepts (or answers) XML, so no
    # client byte reaches quick-xml.
    document = json.loads((REPO / "openapi.json").read_text())
    media_types = {
        media_type
        for path in document["paths"].values()
        for operation in path.values()
        for part in [operation.get("requestBody", {})] + list(operation.get("responses", {}).values())
        for media_type in part.get("content", {})
    }
    assert media_types and not any("xml" in media_type for media_type in media_types), media_types
    sources = "\n".join(path.read_text() for path in (REPO / "src").rglob("*.rs"))
    for xml_entry_point in ("payload::Xml", "Xml<", "into_xml", "quick_xml"):
        assert xml_entry_point not in sources, xml_entry_point
