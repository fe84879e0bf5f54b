"""Public test images from image libraries' source packages, uploaded through the
real running server (embedded backend) and judged with Pillow and exiftool.

For every file (gathered by gather.py, deduplicated by content):

* the server answers, within the client's timeout, and never with a 5xx;
* accepted (201): the stored avatar decodes in Pillow to the same pixels as the
  upload, frame by frame (format, size, mode, frame count, loop count too); its
  ICC profile is the upload's; its orientation is the upload's (EXIF, else XMP,
  else ImageMagick's text chunk) as the only EXIF field; Pillow and exiftool find
  no metadata in it (no EXIF but the orientation, XMP, IPTC, comments, text
  chunks), and exiftool warns about nothing it did not warn about in the upload;
* refused: 413 only above the byte limit; 422 for a limit (pixels, frames, total
  pixels of an animation, JPEG scans) only when the file exceeds it; any other 422
  only for a file Pillow cannot fully load (open, then load every frame); never
  415 (every file has an accepted signature).

The figures (files by format, accepted, refused by reason, bytes removed) are
printed at the end of the run.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import sys
import uuid
import warnings
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

import corpus_report
from corpus_report import Record
from gather import DEFAULT_CACHE, gather, sniff

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "crates" / "imaging" / "tests" / "fixtures"))
import verify  # noqa: E402  (the crate's own Pillow/exiftool checks)

# The server's documented defaults (README, crates/imaging README).
MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 25_000_000
MAX_FRAMES = 1_000
MAX_TOTAL_PIXELS = 100_000_000
MAX_SCANS = 100

FORMATS = ("png", "jpeg", "gif", "webp")
PILLOW_FORMAT = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP"}


@pytest.fixture(scope="session")
def corpus() -> dict[str, list[tuple[str, Path]]]:
    """{format: [(source, path)]}, each content once."""
    seen, by_format = set(), {f: [] for f in FORMATS}
    for source, paths in gather().items():
        for path in paths:
            data = path.read_bytes()
            digest = hashlib.sha256(data).digest()
            if digest in seen:
                continue
            seen.add(digest)
            by_format[sniff(data[:12])].append((source, path))
    return by_format


UPLOAD_TIMEOUT = 30  # seconds for one answer: a hang fails the file


def upload(roster, email: str, data: bytes) -> tuple[int, dict]:
    """POST /user with the image as the avatar; (status, JSON body). The server
    answers an upload over the byte limit with 413 and closes the connection
    before the body is sent (the e2e client would only see a broken pipe), so
    the answer is read even when sending fails."""
    boundary = uuid.uuid4().hex
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in (("name", "Corpus User"), ("email", email))
    )
    body = (head.encode()
            + f'--{boundary}\r\nContent-Disposition: form-data; name="avatar"; '
              f'filename="avatar"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + data + f"\r\n--{boundary}--\r\n".encode())
    conn = http.client.HTTPConnection(roster.host, timeout=UPLOAD_TIMEOUT)
    try:
        try:
            conn.request("POST", "/user", body=body,
                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused early: the answer is waiting
        response = conn.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else {}
    finally:
        conn.close()


def png_damage(data: bytes) -> str | None:
    """Why a PNG cannot be shown, found by walking its chunks independently:
    'truncated' (a chunk runs past the end, or no IEND) or 'image data CRC'
    (an IDAT or fdAT whose checksum is wrong: browsers' libpng refuses it,
    Pillow does not check it)."""
    i = 8
    while i + 8 <= len(data):
        n = int.from_bytes(data[i:i + 4], "big")
        kind = data[i + 4:i + 8]
        if i + 12 + n > len(data):
            return "truncated" if kind != b"IEND" else None
        crc = int.from_bytes(data[i + 8 + n:i + 12 + n], "big")
        if kind in (b"IDAT", b"fdAT") and zlib.crc32(data[i + 4:i + 8 + n]) != crc:
            return "image data CRC"
        if kind == b"IEND":
            return None
        i += 12 + n
    return "truncated"


def jpeg_scans(data: bytes) -> int:
    """SOS markers of a JPEG, entropy-coded data skipped (the stuffed FF00 and
    restart markers inside it are not markers)."""
    i, scans = 2, 0
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xFF, 0x00, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 1 if marker == 0xFF else 2
            continue
        if marker == 0xD9:
            break
        length = int.from_bytes(data[i + 2:i + 4], "big")
        i += 2 + length
        if marker == 0xDA:
            scans += 1
            while i + 1 < len(data) and not (
                data[i] == 0xFF and data[i + 1] != 0 and not 0xD0 <= data[i + 1] <= 0xD7
            ):
                i += 1
    return scans


class Decoded:
    """What Pillow makes of a file: whether it loads fully, and if so its
    frames' digests and what is kept about it."""

    def __init__(self, path: Path):
        self.error = None
        self.size = (0, 0)
        self.n_frames = 0
        self.digests: list[bytes] = []
        self.facts: dict = {}
        self.orientation = None
        self.icc = None
        self.leftovers: list[str] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                with Image.open(path) as im:
                    self.size, self.n_frames = im.size, getattr(im, "n_frames", 1)
                    if self.size[0] * self.size[1] > MAX_PIXELS:
                        # Over the limit: no need to spend a gigabyte decoding it.
                        self.error = "not decoded: over the pixel limit"
                        return
                    self.digests = [hashlib.sha256(f).digest() for f in verify.frames(im)]
                    self.size = im.size  # a GIF grows to its largest frame
                    im.seek(0)
                    self.facts = {"format": im.format, "size": im.size, "mode": im.mode,
                                  "frames": self.n_frames, "loop": im.info.get("loop")}
                    self.icc = im.info.get("icc_profile")
                    self.orientation = self._orientation(im)
                    self.leftovers = self._leftovers(im)
            except Exception as error:  # noqa: BLE001  (any failure: cannot load)
                self.error = f"{type(error).__name__}: {error}"

    @property
    def loads(self) -> bool:
        return self.error is None

    @staticmethod
    def _orientation(im):
        if im.format == "GIF":
            return None  # GIF has no orientation; nothing reads one there
        o = im.getexif().get(0x0112)  # EXIF, then XMP tiff:Orientation, in Pillow
        if o is None and im.format == "PNG":
            text = im.info.get("exif:Orientation")
            o = int(text) if isinstance(text, str) and text.strip().isdigit() else None
        return o if isinstance(o, int) and 2 <= o <= 8 else None

    @staticmethod
    def _leftovers(im):
        found = []
        exif = dict(im.getexif())
        if set(exif) - {0x0112}:
            found.append(f"Pillow finds EXIF tags {sorted(set(exif) - {0x0112})}")
        for key in ("comment", "xmp", "XML:com.adobe.xmp"):
            if im.info.get(key):
                found.append(f"Pillow finds {key}")
        if getattr(im, "text", None):
            found.append(f"Pillow finds text {list(im.text)}")
        ext = im.info.get("extension")
        if ext and ext[0] not in (b"NETSCAPE2.0", b"ANIMEXTS1.0", b"ICCRGBG1012"):
            found.append(f"Pillow finds GIF extension {ext[0]!r}")
        return found


LIMIT_REASONS = (
    ("scans", re.compile(r"more than \d+ scans")),
    ("total pixels", re.compile(r"for all frames together")),
    ("frames", re.compile(r"more than \d+ frames")),
    ("pixels", re.compile(r"(declares|of) \d+x\d+ pixels")),
)


def refusal_reason(detail: str) -> str:
    for name, pattern in LIMIT_REASONS:
        if pattern.search(detail):
            return name
    # "... cannot be read: <reason>": the reason without numbers, to group them.
    reason = detail.split(": ", 1)[-1]
    return "malformed: " + re.sub(r"0x[0-9A-Fa-f]+|\bFF[0-9A-F]{2}\b|\d+", "N", reason)


def exceeds(reason: str, data: bytes, fmt: str, d: Decoded) -> bool:
    pixels = d.size[0] * d.size[1]
    return {
        "scans": fmt == "jpeg" and jpeg_scans(data) > MAX_SCANS,
        "total pixels": d.n_frames > 1 and d.n_frames * pixels > MAX_TOTAL_PIXELS,
        "frames": d.n_frames > MAX_FRAMES,
        "pixels": pixels > MAX_PIXELS,
    }[reason]


@pytest.mark.parametrize("fmt", FORMATS)
def test_corpus_through_the_server(fmt, corpus, start_roster, tmp_path):
    roster = start_roster("embedded")
    files = corpus[fmt]
    assert len(files) >= 20, f"too few {fmt} files gathered: {len(files)}"
    failures: list[str] = []
    accepted: list[tuple[Record, Path, Path, Decoded]] = []
    for i, (source, path) in enumerate(files):
        data = path.read_bytes()
        name = display_name(path)
        record = Record(source, name, fmt, len(data), 0)
        corpus_report.RECORDS.append(record)
        problems = []
        try:
            status, body = upload(roster, f"corpus-{fmt}-{i}@example.com", data)
        except Exception as error:  # noqa: BLE001
            problems.append(f"no answer: {type(error).__name__}: {error}")
            status, body = 0, {}
        record.status = status
        original = Decoded(path)
        record.pillow_loads = original.loads
        record.frames = original.n_frames
        record.total_pixels = original.n_frames * original.size[0] * original.size[1]
        record.scans = jpeg_scans(data) if fmt == "jpeg" else 0
        if status == 201:
            key_path = urlsplit(body["avatar_url"]).path
            got, _, stored_bytes = roster.request("GET", key_path)
            if got != 200:
                problems.append(f"stored avatar answers {got}")
            else:
                stored = tmp_path / f"{i}.{fmt}"
                stored.write_bytes(stored_bytes)
                record.stored_size = len(stored_bytes)
                record.identical = stored_bytes == data
                accepted.append((record, path, stored, original))
                problems += check_stored(original, Decoded(stored), fmt)
        elif 500 <= status:
            problems.append(f"server error {status}: {body}")
        elif status == 413:
            record.reason = "larger than the byte limit"
            if len(data) <= MAX_BYTES:
                problems.append(f"413 for {len(data)} bytes")
        elif status == 422:
            record.reason = refusal_reason(body.get("detail", ""))
            if record.reason.startswith("malformed"):
                damage = png_damage(data) if fmt == "png" else None
                documented = (damage == "truncated" and "truncated" in record.reason) or (
                    damage == "image data CRC" and re.search(r"CRC mismatch in (IDAT|fdAT)",
                                                             body.get("detail", "")))
                if documented:
                    record.reason += f" (walked independently: {damage})"
                elif original.loads:
                    problems.append(f"refused although Pillow loads it: {body.get('detail')}")
            elif original.loads and not exceeds(record.reason, data, fmt, original):
                problems.append(f"refused for {record.reason} it does not exceed: "
                                f"{body.get('detail')}")
        elif status:
            record.reason = str(body.get("detail", ""))[:60]
            problems.append(f"unexpected {status}: {body}")
        record.failures = tuple(problems)
        failures += [f"{source} {name}: {p}" for p in problems]

    # exiftool, once for the whole format: what is left in each stored copy.
    et = verify.exiftool([str(p) for _, o, s, _ in accepted for p in (o, s)])
    for record, orig, stored, original in accepted:
        problems = verify.leftovers(et[str(stored)], et[str(orig)])
        got = et[str(stored)].get("IFD0:Orientation")
        if original.loads and (got or None) != original.orientation:
            problems.append(f"exiftool orientation {got} != {original.orientation}")
        if problems:
            record.failures += tuple(problems)
            failures += [f"{record.source} {record.name}: {p}" for p in problems]
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures[:60])


def display_name(path: Path) -> str:
    """The file's path inside its source."""
    for parent in path.parents:
        if parent.parent == DEFAULT_CACHE:
            return path.relative_to(parent).as_posix()
    return path.name


def check_stored(original: Decoded, stored: Decoded, fmt: str) -> list[str]:
    problems = []
    if not original.loads:
        # Roster decodes no pixel: what Pillow cannot load may be stored, but
        # no metadata may ride along.
        if stored.loads:
            problems += stored.leftovers
        return problems
    if not stored.loads:
        return [f"Pillow loads the upload but not the stored copy: {stored.error}"]
    want, want_digests = original.facts, original.digests
    if want.get("format") == "MPO":
        # The images after the first one's EOI (MPF) are dropped, as documented.
        want = {**want, "format": "JPEG", "frames": 1}
        want_digests = want_digests[:1]
    if stored.facts != want:
        problems.append(f"stored {stored.facts} != uploaded {want}")
    elif stored.digests != want_digests:
        problems.append("decoded pixels differ")
    if stored.facts.get("format") != PILLOW_FORMAT[fmt]:
        problems.append(f"stored as {stored.facts.get('format')}")
    if stored.icc != original.icc:
        problems.append("ICC profile differs")
    if stored.orientation != original.orientation:
        problems.append(f"orientation {stored.orientation} != {original.orientation}")
    return problems + stored.leftovers
