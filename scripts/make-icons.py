#!/usr/bin/env python3
"""Draws the extension's icons (a handset on a blue tile) as PNGs, with the standard library only.

Run once when the design changes; the PNGs are committed under extension/icons/."""
import math, struct, sys, zlib
from pathlib import Path

def png(size):
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            u, v = (x + .5) / size, (y + .5) / size
            r = .18  # rounded tile
            dx, dy = max(r - u, 0, u - (1 - r)), max(r - v, 0, v - (1 - r))
            inside = dx * dx + dy * dy <= r * r
            # handset: a thick arc from upper left to lower right
            cx, cy = .62, .38
            d = math.hypot(u - cx, v - cy)
            ang = math.atan2(v - cy, u - cx)
            arc = .30 < d < .44 and (math.pi * .45 < ang < math.pi * 1.05)
            ends = math.hypot(u - .22, v - .40) < .10 or math.hypot(u - .60, v - .78) < .10
            if not inside:
                row += bytes([0, 0, 0, 0])
            elif arc or ends:
                row += bytes([255, 255, 255, 255])
            else:
                row += bytes([30, 58, 138, 255])
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")

out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent.parent / "extension" / "icons")
out.mkdir(parents=True, exist_ok=True)
for s in (16, 32, 48, 128):
    (out / f"icon-{s}.png").write_bytes(png(s))
