#!/usr/bin/env python3
"""Gathers public test images for the corpus test, idempotently, into a cache.

Usage: gather.py [CACHE_DIR]   (default: <repo>/.cache/corpus)

Sources, each fetched once and kept under CACHE_DIR/<source>/ (a `.done` file
lists its images; a source with one is not fetched again):

* PyPI sdists, with pip (the ordinary client, through whatever index pip is
  configured for): Pillow's sdist ships its test suite's images.
* Debian source packages, with apt-get, without touching the system's apt
  state: a private sources list (the machine's own Debian entries for its
  release, as deb-src), private index and cache directories, and
  `apt-get source --download-only` (which checks every file against the
  signed release). Root is not needed.

Only files whose first bytes are a PNG, JPEG, GIF or WebP signature are kept,
whatever their name, so fuzzing crash files and test inputs without an
extension are in. Nothing here is committed: the cache directory is ignored.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = REPO / ".cache" / "corpus"

# (distribution name, pinned version, member path prefix holding the images)
PYPI = [("Pillow", "12.3.0", "Tests/images/")]

# Debian source packages of image libraries and tools that ship test images:
# PNG conformance suite and test PNGs, giflib's pictures, libjpeg-turbo's
# test images, libwebp's samples, exiftool's metadata samples from cameras
# and editors, libgd's test suite (fuzzing crashes included), Go's image
# test data (WebP among it).
DEBIAN = [
    "libpng1.6",
    "giflib",
    "libjpeg-turbo",
    "libwebp",
    "libimage-exiftool-perl",
    "libgd2",
    "golang-golang-x-image",
]

FETCH_TIMEOUT = 600  # seconds for one download


def sniff(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def _keep_images(archive: Path, dest: Path, prefix: str = "") -> list[str]:
    """Copies every image member of a tar archive (under `prefix`, after the
    top directory) into `dest`; returns their paths relative to `dest`."""
    kept = []
    with tarfile.open(archive) as tar:
        for member in tar:
            if not member.isfile():
                continue
            parts = Path(member.name).parts
            relative = Path(*parts[1:]) if len(parts) > 1 else Path(member.name)
            if prefix and not relative.as_posix().startswith(prefix):
                continue
            if ".." in relative.parts or relative.is_absolute():
                continue
            data = tar.extractfile(member).read()
            if sniff(data[:12]) is None:
                continue
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            kept.append(relative.as_posix())
    return sorted(kept)


def _finish(dest: Path, kept: list[str]) -> list[Path]:
    if not kept:
        raise RuntimeError(f"no images found for {dest.name}")
    (dest / ".done").write_text("\n".join(kept) + "\n")
    return [dest / k for k in kept]


def _done(dest: Path) -> list[Path] | None:
    marker = dest / ".done"
    if not marker.is_file():
        return None
    return [dest / line for line in marker.read_text().splitlines() if line]


def pypi_source(cache: Path, name: str, version: str, prefix: str) -> list[Path]:
    dest = cache / f"pypi-{name}-{version}"
    done = _done(dest)
    if done is not None:
        return done
    shutil.rmtree(dest, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--disable-pip-version-check", "--no-binary", name, "-d", tmp,
             f"{name}=={version}"],
            check=True, timeout=FETCH_TIMEOUT,
        )
        (archive,) = Path(tmp).glob("*.tar.gz")
        dest.mkdir(parents=True)
        return _finish(dest, _keep_images(archive, dest, prefix))


def _debian_sources(codename: str) -> str:
    """The machine's Debian entries for its release, as deb-src, in deb822
    form. Only the release's own suites (not security, whose pool may lag its
    index): versions there change only at point releases."""
    stanzas = []
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for stanza in path.read_text().split("\n\n"):
            fields = {}
            for line in stanza.splitlines():
                if ":" in line and not line.startswith(("#", " ")):
                    key, value = line.split(":", 1)
                    fields[key.strip()] = value.strip()
            suites = fields.get("Suites", "").split()
            if "deb" in fields.get("Types", "").split() and codename in suites:
                fields["Types"] = "deb-src"
                fields["Suites"] = " ".join(s for s in suites if s.startswith(codename)
                                            and "security" not in s)
                fields.pop("Enabled", None)
                stanzas.append("\n".join(f"{k}: {v}" for k, v in fields.items()))
    legacy = Path("/etc/apt/sources.list")
    if legacy.is_file():
        for line in legacy.read_text().splitlines():
            m = re.match(r"deb\s+(\[[^]]*\]\s+)?(\S+)\s+(\S+)\s+(.+)", line.strip())
            if m and m.group(3) == codename:
                stanzas.append(f"Types: deb-src\nURIs: {m.group(2)}\nSuites: {codename}\n"
                               f"Components: {m.group(4)}")
    if not stanzas:
        raise RuntimeError(f"no Debian {codename} entry in the apt sources")
    return "\n\n".join(stanzas) + "\n"


def _codename() -> str:
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip().strip('"')
    raise RuntimeError("no VERSION_CODENAME in /etc/os-release")


class Apt:
    """apt-get with private configuration, indexes and cache under `root`."""

    def __init__(self, root: Path):
        self.root = root
        parts = root / "sources.list.d"
        for d in (parts, root / "lists" / "partial", root / "cache" / "archives" / "partial"):
            d.mkdir(parents=True, exist_ok=True)
        (parts / "deb-src.sources").write_text(_debian_sources(_codename()))
        self.options = [
            "-o", "Dir::Etc::SourceList=/dev/null",
            "-o", f"Dir::Etc::SourceParts={parts}",
            "-o", f"Dir::State::Lists={root / 'lists'}",
            "-o", f"Dir::Cache={root / 'cache'}",
            "-o", "Debug::NoLocking=1",
            "-o", "APT::Sandbox::User=root" if os.geteuid() == 0 else "APT::Sandbox::User=",
        ]
        self.updated = False

    def run(self, *args: str, cwd: Path | None = None) -> None:
        subprocess.run(["apt-get", "-qq", *self.options, *args], check=True, cwd=cwd,
                       timeout=FETCH_TIMEOUT, stdout=subprocess.DEVNULL)

    def source(self, package: str, into: Path) -> None:
        if not self.updated:
            self.run("update")
            self.updated = True
        self.run("source", "--download-only", package, cwd=into)


def debian_source(cache: Path, apt: Apt | None, package: str) -> tuple[list[Path], Apt]:
    dest = cache / f"debian-{package}"
    done = _done(dest)
    if done is not None:
        return done, apt
    if apt is None:
        apt = Apt(cache / "apt")
    shutil.rmtree(dest, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        apt.source(package, Path(tmp))
        archives = sorted(Path(tmp).glob("*.orig.tar.*"))
        archives = [a for a in archives if not a.name.endswith(".asc")]
        if not archives:  # a native package: its one tarball
            archives = [a for a in Path(tmp).glob("*.tar.*") if not a.name.endswith(".asc")]
        dest.mkdir(parents=True)
        kept = []
        for archive in archives:
            kept += _keep_images(archive, dest)
        return _finish(dest, sorted(set(kept))), apt


def gather(cache: Path = DEFAULT_CACHE) -> dict[str, list[Path]]:
    """Every source's images: {source name: paths}."""
    cache.mkdir(parents=True, exist_ok=True)
    found = {}
    for name, version, prefix in PYPI:
        found[f"pypi:{name}"] = pypi_source(cache, name, version, prefix)
    apt = None
    for package in DEBIAN:
        found[f"debian:{package}"], apt = debian_source(cache, apt, package)
    return found


if __name__ == "__main__":
    result = gather(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CACHE)
    for source, paths in result.items():
        print(f"{source}: {len(paths)} images")
