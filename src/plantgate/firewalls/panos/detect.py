"""How sure we are that a text is a PAN-OS config (XML, set or brace syntax), from distinctive statements.

Why a module of its own: vendor detection runs every vendor's detector, and importing the
PAN-OS parser to do so costs more than detecting. ``firewalls/detect.py`` hands this a
bounded sample of a large file (its head verbatim).
"""

from __future__ import annotations

import re

BRACE_START = re.compile(r"^\s*(config|policy)\s*\{", re.MULTILINE)
_SET_STRONG = re.compile(r"^set (rulebase security|zone |deviceconfig |device-group |vsys )", re.MULTILINE)
_SET_WEAK = re.compile(r"^set (address|address-group|service|service-group|shared|network) ", re.MULTILINE)


def confidence(text: str) -> float:
    """Confidence in [0, 1] that ``text`` is a PAN-OS running config or Panorama export."""
    head = text[:4000]
    if head.lstrip().startswith("<"):
        if "<config" in head and any(t in text for t in ("<devices>", "<rulebase>", "<security>")):
            return 0.95
        return 0.2 if "<config" in head else 0.0
    if "RANCID-CONTENT-TYPE: paloalto" in head or (
        BRACE_START.search(head) and ("devices {" in text or "panorama {" in text)
    ):
        return 0.9
    if _SET_STRONG.search(text):
        return 0.9
    return 0.4 if _SET_WEAK.search(text) else 0.0
