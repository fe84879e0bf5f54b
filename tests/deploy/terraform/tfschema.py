"""Provider schemas taken from the prebuilt CDKTF provider packages on npm.

The only provider binary here is hashicorp/aws 5.100.0 (the offline mirror the live tests
use); the 6.x line on AWS and hashicorp/helm cannot be downloaded. Their CDKTF packages
can: `@cdktf/provider-aws` 21.22.1 is generated from hashicorp/aws 6.25.0 and
`@cdktf/provider-helm` 12.1.2 from hashicorp/helm 3.1.1. Each package's `.jsii` file
(JSON) describes every resource, data source and the provider itself: each argument,
whether it is optional, and the nested blocks with theirs. The Terraform name of each
property is the `#anchor` of its registry link.

`load_schema(provider)` runs `npm pack` once, reduces the `.jsii` to {attributes, blocks}
per type and caches that under `.cache/` next to this file (git-ignored). Later runs read
the cache only.
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

# provider name -> (npm package, package version, the provider version it describes)
PROVIDERS = {
    "aws": ("@cdktf/provider-aws", "21.22.1", "6.25.0"),
    "helm": ("@cdktf/provider-helm", "12.1.2", "3.1.1"),
}

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
_FORMAT = 2  # bump when the reduced layout changes, so old caches are rebuilt

_ANCHOR = re.compile(r"/docs(?:/(resources|data-sources)/([a-z0-9_]+))?#([a-z0-9_]+)\s")


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
    if "fqn" in type_ref and type_ref["fqn"].startswith("@cdktf/provider-"):
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


def reduce_jsii(jsii: dict, provider: str = "aws") -> dict:
    types = jsii["types"]
    type_link = re.compile(rf"hashicorp/{provider}/([0-9.]+)/docs(?:/(resources|data-sources)/([a-z0-9_]+))?\b")
    out: dict[str, Any] = {"_format": _FORMAT, "package": f"{jsii['name']}@{jsii['version']}", "resource": {}, "data": {}, "provider": {}}
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
        m = type_link.search(t.get("docs", {}).get("summary", ""))
        if not m:
            continue
        versions.add(m.group(1))
        if base == "cdktf.TerraformProvider":
            out["provider"][provider] = schema
            continue
        if not m.group(3):
            continue
        kind = "resource" if m.group(2) == "resources" else "data"
        out[kind][f"{provider}_{m.group(3)}"] = schema
    out["provider_version"] = ",".join(sorted(versions))
    return out


def _npm_pack(dest: Path, package: str, version: str) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm is needed once to fetch a provider schema ({package})")
    result = subprocess.run(
        [npm, "pack", f"{package}@{version}", "--pack-destination", str(dest), "--silent"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"npm pack {package}@{version} failed:\n{result.stderr}")
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


def load_schema(provider: str = "aws") -> dict:
    """The reduced schema of one provider, built and cached on first use."""
    package, package_version, provider_version = PROVIDERS[provider]
    cache_file = CACHE_DIR / f"{provider}-provider-{provider_version}-schema.json"
    if cache_file.exists():
        cached = json.loads(cache_file.read_text())
        if cached.get("_format") == _FORMAT:
            return cached
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as tmp:
        jsii = _read_jsii(_npm_pack(Path(tmp), package, package_version))
        if jsii.get("version") != package_version:
            raise RuntimeError(f"expected {package}@{package_version}, got {jsii.get('version')}")
        reduced = reduce_jsii(jsii, provider)
        if reduced["provider_version"] != provider_version:
            raise RuntimeError(f"{package}@{package_version} describes {provider} {reduced['provider_version']}, expected {provider_version}")
        partial = Path(tmp) / cache_file.name
        partial.write_text(json.dumps(reduced, separators=(",", ":"), sort_keys=True))
        os.replace(partial, cache_file)  # atomic: a concurrent run sees all or nothing
    return reduced
