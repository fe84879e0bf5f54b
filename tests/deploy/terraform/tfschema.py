"""The hashicorp/aws provider schema, taken from the `@cdktf/provider-aws` npm package.

`terraform validate` needs the provider binary, which cannot be downloaded here.
`@cdktf/provider-aws` 21.22.1 is generated from hashicorp/aws 6.25.0; its `.jsii` file
(JSON) describes every resource, data source and the provider itself: each argument,
whether it is optional, and the nested blocks with theirs. The Terraform name of each
property is the `#anchor` of its registry link.

`load_schema()` runs `npm pack` once, reduces the 130 MB `.jsii` to a few MB of
{attributes, blocks} per type and caches that under `.cache/` next to this file
(git-ignored). Later runs read the cache only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@cdktf/provider-aws"
PACKAGE_VERSION = "21.22.1"
PROVIDER_VERSION = "6.25.0"

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
CACHE_FILE = CACHE_DIR / f"aws-provider-{PROVIDER_VERSION}-schema.json"
_FORMAT = 1  # bump when the reduced layout changes, so old caches are rebuilt

_ANCHOR = re.compile(r"/docs(?:/(resources|data-sources)/([a-z0-9_]+))?#([a-z0-9_]+)\s")
_TYPE_LINK = re.compile(r"hashicorp/aws/([0-9.]+)/docs/(resources|data-sources)/([a-z0-9_]+)\b")


def _doc_text(prop: dict) -> str:
    docs = prop.get("docs", {})
    return " ".join(str(docs.get(k, "")) for k in ("summary", "remarks"))


def _terraform_name(prop: dict) -> str:
    m = _ANCHOR.search(_doc_text(prop))
    if m:
        return m.group(3)
    # Fallback (not seen in 21.22.1): camelCase -> snake_case.
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", prop["name"]).lower()


def _block_fqn(type_ref: dict) -> str | None:
    """The struct a property refers to, if it is a nested block (single or list)."""
    if "fqn" in type_ref and type_ref["fqn"].startswith(PACKAGE + "."):
        return type_ref["fqn"]
    if "collection" in type_ref:
        return _block_fqn(type_ref["collection"]["elementtype"])
    if "union" in type_ref:
        for t in type_ref["union"]["types"]:
            fqn = _block_fqn(t)
            if fqn:
                return fqn
    return None


def _reduce_struct(types: dict, fqn: str, memo: dict, stack: tuple = ()) -> dict:
    if fqn in memo:
        return memo[fqn]
    if fqn in stack:  # recursive structure: stop here, anything nested passes
        return {"attrs": {}, "blocks": {}, "open": True}
    struct = types[fqn]
    attrs: dict[str, bool] = {}
    blocks: dict[str, dict] = {}
    for prop in struct.get("properties", []):
        name = _terraform_name(prop)
        required = not prop.get("optional", False)
        child = _block_fqn(prop["type"])
        is_block = child is not None and prop.get("docs", {}).get("summary", "").strip().endswith(" block.")
        if is_block:
            blocks[name] = {"required": required, "schema": _reduce_struct(types, child, memo, stack + (fqn,))}
        else:
            attrs[name] = required
    reduced = {"attrs": attrs, "blocks": blocks}
    memo[fqn] = reduced
    return reduced


def reduce_jsii(jsii: dict) -> dict:
    types = jsii["types"]
    out: dict[str, Any] = {"_format": _FORMAT, "package": f"{PACKAGE}@{jsii['version']}", "resource": {}, "data": {}, "provider": {}}
    memo: dict[str, dict] = {}
    versions: set[str] = set()
    for fqn, t in types.items():
        if t.get("kind") != "class":
            continue
        base = t.get("base")
        if base not in ("cdktf.TerraformResource", "cdktf.TerraformDataSource", "cdktf.TerraformProvider"):
            continue
        params = {p["name"]: p for p in t.get("initializer", {}).get("parameters", [])}
        config_fqn = params.get("config", {}).get("type", {}).get("fqn")
        if not config_fqn:
            continue
        schema = _reduce_struct(types, config_fqn, memo)
        if base == "cdktf.TerraformProvider":
            out["provider"]["aws"] = schema
            continue
        m = _TYPE_LINK.search(t.get("docs", {}).get("summary", ""))
        if not m:
            continue
        versions.add(m.group(1))
        kind = "resource" if m.group(2) == "resources" else "data"
        out[kind][f"aws_{m.group(3)}"] = schema
    out["provider_version"] = ",".join(sorted(versions))
    return out


def _npm_pack(dest: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed once to fetch the AWS provider schema (@cdktf/provider-aws)")
    result = subprocess.run(
        [npm, "pack", f"{PACKAGE}@{PACKAGE_VERSION}", "--pack-destination", str(dest), "--silent"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"npm pack {PACKAGE}@{PACKAGE_VERSION} failed:\n{result.stderr}")
    tarballs = list(dest.glob("*.tgz"))
    if len(tarballs) != 1:
        raise RuntimeError(f"npm pack left {tarballs} in {dest}")
    return tarballs[0]


def _read_jsii(tarball: Path) -> dict:
    with tarfile.open(tarball, "r:gz") as tar:
        member = tar.getmember("package/.jsii")
        fh = tar.extractfile(member)
        assert fh is not None
        return json.load(fh)


def load_schema() -> dict:
    """The reduced schema, built and cached on first use."""
    if CACHE_FILE.exists():
        cached = json.loads(CACHE_FILE.read_text())
        if cached.get("_format") == _FORMAT:
            return cached
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as tmp:
        jsii = _read_jsii(_npm_pack(Path(tmp)))
        if jsii.get("version") != PACKAGE_VERSION:
            raise RuntimeError(f"expected {PACKAGE}@{PACKAGE_VERSION}, got {jsii.get('version')}")
        reduced = reduce_jsii(jsii)
        if reduced["provider_version"] != PROVIDER_VERSION:
            raise RuntimeError(f"{PACKAGE}@{PACKAGE_VERSION} describes aws {reduced['provider_version']}, expected {PROVIDER_VERSION}")
        partial = Path(tmp) / CACHE_FILE.name
        partial.write_text(json.dumps(reduced, separators=(",", ":"), sort_keys=True))
        os.replace(partial, CACHE_FILE)  # atomic: a concurrent run sees all or nothing
    return reduced
