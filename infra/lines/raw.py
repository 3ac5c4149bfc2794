"""lines.yaml as bytes: read no more than the limit, from regular files only, and decode.

``read_regular`` never blocks on a FIFO or reads a device; ``decode`` names UTF-16/32 and
other encodings instead of calling them binary.
Must not import: yaml, jsonschema, twilio, pulumi, anything in infra except errors.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from infra.errors import Diagnostic, Level, SourceRef

MAX_BYTES = 8 * 1024 * 1024
"""Larger files are refused before parsing (a 10,000-line lines.yaml is about 300 KB)."""

_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
)


def _wide_encoding(raw: bytes) -> str:
    """The UTF-16/32 flavour of ``raw`` by its byte-order mark or its NUL pattern, else ""."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name
    sample = raw[:4096]
    sample = sample[: len(sample) - len(sample) % 4]
    if len(sample) < 8:
        return ""
    columns = [sample[offset::4].count(0) * 4 / len(sample) for offset in range(4)]
    nul = [share > 0.9 for share in columns]
    some = [share < 0.5 for share in columns]
    if some[0] and nul[1] and nul[2] and nul[3]:
        return "UTF-32 (little-endian)"
    if nul[0] and nul[1] and nul[2] and some[3]:
        return "UTF-32 (big-endian)"
    if some[0] and some[2] and nul[1] and nul[3]:
        return "UTF-16 (little-endian)"
    if nul[0] and nul[2] and some[1] and some[3]:
        return "UTF-16 (big-endian)"
    return ""


def too_large(file: str, size: int) -> Diagnostic:
    """Only the first ``MAX_BYTES + 1`` bytes are ever read, so the size is a lower bound."""
    limit = MAX_BYTES // (1024 * 1024)
    msg = f"file is larger than {limit} MiB; lines.yaml may be at most {limit} MiB"
    return Diagnostic(SourceRef(file, 1, 1), Level.ERROR, msg)


def decode(file: str, raw: bytes) -> tuple[str | None, list[Diagnostic]]:
    if len(raw) > MAX_BYTES:
        return None, [too_large(file, len(raw))]
    wide = _wide_encoding(raw)
    if wide:
        msg = f"file is {wide} text, not UTF-8; save it as UTF-8 (without a byte-order mark)"
        return None, [Diagnostic(SourceRef(file, 1, 1), Level.ERROR, msg)]
    if b"\x00" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\x00")) + 1
        msg = "file contains NUL bytes: this looks like a binary file, not YAML text"
        return None, [Diagnostic(SourceRef(file, line, 1), Level.ERROR, msg)]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        msg = f"file is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8"
        return None, [Diagnostic(SourceRef(file, line, column), Level.ERROR, msg)]


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_regular(path: Path) -> bytes:
    """At most ``MAX_BYTES + 1`` bytes of a regular file; never blocks on a FIFO or device.

    Raises OSError, or ValueError naming what the path is when it is not a regular file.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise ValueError(kind)
        chunks, left = [], MAX_BYTES + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1024 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
