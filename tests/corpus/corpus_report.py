"""The corpus test's figures: one record per file tried, summed up at the end."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

RECORDS: list["Record"] = []


@dataclass
class Record:
    source: str
    name: str
    format: str
    size: int
    status: int
    reason: str = ""  # why it was refused
    stored_size: int = 0
    pillow_loads: bool = True
    identical: bool = False
    frames: int = 0  # as Pillow counts them
    total_pixels: int = 0  # frames x canvas, as Pillow sees it
    scans: int = 0  # JPEG
    failures: tuple[str, ...] = ()


def summary_lines() -> list[str]:
    if not RECORDS:
        return []
    lines = ["", "corpus: files tried, accepted and refused (through the running server)"]
    by_format = defaultdict(list)
    for r in RECORDS:
        by_format[r.format].append(r)
    lines.append(f"{'format':8} {'tried':>6} {'accepted':>9} {'refused':>8} "
                 f"{'unchanged':>10} {'bytes in':>12} {'bytes removed':>14}")
    for fmt in sorted(by_format):
        rs = by_format[fmt]
        ok = [r for r in rs if r.status == 201]
        lines.append(
            f"{fmt:8} {len(rs):>6} {len(ok):>9} {len(rs) - len(ok):>8} "
            f"{sum(r.identical for r in ok):>10} {sum(r.size for r in ok):>12,} "
            f"{sum(r.size - r.stored_size for r in ok):>14,}")
    ok = [r for r in RECORDS if r.status == 201]
    lines.append(
        f"{'all':8} {len(RECORDS):>6} {len(ok):>9} {len(RECORDS) - len(ok):>8} "
        f"{sum(r.identical for r in ok):>10} {sum(r.size for r in ok):>12,} "
        f"{sum(r.size - r.stored_size for r in ok):>14,}")
    refused = Counter((r.status, r.reason) for r in RECORDS if r.status != 201)
    if refused:
        lines.append("refused, by status and reason:")
        for (status, reason), n in sorted(refused.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {n:>5}  {status} {reason}")
    odd = [r for r in ok if not r.pillow_loads]
    if odd:
        lines.append(f"accepted although Pillow cannot load them (roster decodes no pixel): "
                     f"{len(odd)}: " + ", ".join(f"{r.source}/{r.name}" for r in odd[:12])
                     + (" ..." if len(odd) > 12 else ""))
    anims = [r for r in ok if r.frames > 1]
    if anims:
        most = max(anims, key=lambda r: r.frames)
        heaviest = max(anims, key=lambda r: r.total_pixels)
        lines.append(f"accepted animations: {len(anims)}; most frames {most.frames} "
                     f"({most.name}); most pixels over all frames {heaviest.total_pixels:,} "
                     f"({heaviest.name})")
    jpegs = [r for r in ok if r.format == "jpeg"]
    if jpegs:
        scans = Counter(r.scans for r in jpegs)
        lines.append("JPEG scans (accepted files): " + ", ".join(
            f"{n} scans: {c}" for n, c in sorted(scans.items())))
    sources = Counter(r.source for r in RECORDS)
    lines.append("sources: " + ", ".join(f"{s} {n}" for s, n in sorted(sources.items())))
    failed = [r for r in RECORDS if r.failures]
    lines.append(f"files with a failed check: {len(failed)}")
    return lines
