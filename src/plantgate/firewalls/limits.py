"""How deep a config may nest before a parser stops following it.

Why it exists: object groups that contain groups, chains that jump to chains and blocks
inside blocks are resolved by walking them, and a crafted config of a few kilobytes can
nest thousands of levels, past the interpreter's stack. Real devices allow a handful of
levels (Junos address sets 3, PAN-OS groups 4, FortiGate groups 3), so a limit far above
those refuses nothing real; beyond it a parser reports an input error at the line, or
widens the reference and warns, whichever its vendor does for an unresolvable reference.
"""

from __future__ import annotations

MAX_NESTING = 100
"""Levels of group, chain or block nesting a parser follows (well inside Python's recursion limit)."""

NESTING_EXPECTED = f"nesting of at most {MAX_NESTING} levels (devices allow far fewer)"
"""The ``expected`` text of the input error for a config nested deeper."""

MAX_DIGITS = 20
"""Digits in a number a parser converts: every count, port, level and priority fits in far fewer."""


def is_decimal(text: str) -> bool:
    """True when ``text`` is ASCII digits, at most MAX_DIGITS of them, so ``int(text)`` is safe.

    ``str.isdigit`` also accepts characters such as ``²`` that ``int`` refuses, and a number of
    thousands of digits that ``int`` refuses past Python's conversion limit: both crashed parsers.
    """
    return 0 < len(text) <= MAX_DIGITS and text.isascii() and text.isdigit()
