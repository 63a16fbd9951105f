"""The terminal consoles: rich never reads markup, so text from input cannot break the output.

An ACL, site or product name is the user's text; ``[/]`` or ``[link=...]`` in it, parsed as
rich markup, crashed every command that printed it. So every console PlantGate makes has
markup off, and PlantGate's own styling is attached to its own words with ``styled`` instead
of being written as markup into a string that input is formatted into.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

Part = str | tuple[str, str]


def make_console(stderr: bool = False, **options: Any) -> Console:
    """A console that prints strings as they are (no markup, no emoji codes, no highlighting), to stdout or stderr.

    rich's highlighter runs regular expressions over every string printed, in time that grew with the
    square of a long name (77 s for a 100 KB interface name in ``fw show``)."""
    return Console(stderr=stderr, markup=False, emoji=False, highlight=False, **options)


def styled(*parts: Part) -> Text:
    """Plain strings and ``(text, style)`` pairs joined into one Text; no part is parsed as markup."""
    return Text.assemble(*parts)
