"""Helpers shared by the end-to-end tests (conftest.py holds the fixtures)."""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "target" / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"


def png_image(width: int = 32, height: int = 32, rgb=(31, 95, 191)) -> bytes:
    """A valid RGB PNG of one colour, without metadata (no image library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def chromium_path() -> str:
    path = shutil.which(CHROMIUM)
    assert path == CHROMIUM, (
        "Debian's chromium is missing: `apt-get install -y chromium` "
        "(the README's test command installs it); playwright must never download a browser"
    )
    return path
