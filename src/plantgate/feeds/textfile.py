"""Evidence files read as text, the way the tools that write them really encode them.

Windows PowerShell 5.1 writes ``ConvertTo-Json > file`` and ``Out-File`` as UTF-16LE with a
byte-order mark; Excel and ``Export-Csv`` add a UTF-8 BOM; everything else is UTF-8. Every
reader of a text evidence file goes through here, so each accepts all of them, refuses what
is none of them with the file's name, and never reads more than its size cap: a feed path
of ``/dev/zero`` or a folder is an input error, not a hung process.
"""

from __future__ import annotations

import codecs
import stat
from pathlib import Path

from plantgate.errors import InputError

DEFAULT_LIMIT = 256 * 1024 * 1024
"""Bytes: far above any real feed (the full KEV catalog is about 1.5 MB, a NetBox export tens of MB)."""

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def read_evidence_bytes(path: Path, what: str = "evidence file", limit: int = DEFAULT_LIMIT) -> bytes:
    """The raw bytes of a regular file of at most ``limit`` bytes, or an InputError saying why not."""
    name = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError.at(name, 0, 0, f"{what} not found", f"an existing {what}") from None
    except OSError as exc:
        raise InputError.at(name, 0, 0, f"cannot read {what}: {exc.strerror}", f"a readable {what}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise InputError.at(name, 0, 0, f"{what} is {kind}", f"a regular {what}")
    if info.st_size > limit:
        raise InputError.at(name, 0, 0, f"{what} is {info.st_size:,} bytes, over the {limit:,}-byte limit",
                            f"a {what} of at most {limit:,} bytes")
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InputError.at(name, 0, 0, f"cannot read {what}: {exc.strerror}", f"a readable {what}") from None
    if len(data) > limit:
        raise InputError.at(name, 0, 0, f"{what} grew past the {limit:,}-byte limit while being read",
                            f"a {what} of at most {limit:,} bytes")
    return data


def decode_evidence(data: bytes, file: str, what: str = "evidence file") -> str:
    """UTF-8, or UTF-8/16/32 announced by a byte-order mark; an InputError at the first bad byte otherwise."""
    encoding = "utf-8"
    for bom, name in _BOMS:
        if data.startswith(bom):
            data, encoding = data[len(bom):], name
            break
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError.at(file, line, column, f"{what} is not valid {encoding.upper()} text ({exc.reason})",
                            "UTF-8, or UTF-16 with a byte-order mark (as Windows PowerShell writes it)") from None


def read_evidence_text(path: Path, what: str = "evidence file", limit: int = DEFAULT_LIMIT) -> str:
    """A text evidence file, size-capped and decoded as its writer encoded it."""
    return decode_evidence(read_evidence_bytes(path, what, limit), str(path), what)
