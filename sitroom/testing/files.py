"""Small real files for tests: a browser can decode them."""

import struct
import zlib


def png(seed: int = 0) -> bytes:
    """A 2×2 PNG image, different for each seed."""
    raw = b"".join(b"\x00" + bytes([seed % 256, 40, 90]) * 2 for _ in range(2))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
