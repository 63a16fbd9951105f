"""How sure we are that a text is a Juniper SRX (Junos) config, from its distinctive statements.

Why a module of its own: vendor detection runs every vendor's detector, and importing the
SRX parser to do so costs more than detecting. ``firewalls/detect.py`` hands this a bounded
sample of a large file. A policy's ``from-zone ... to-zone`` header is written once, but its
policies' ``match { ... } then { ... }`` bodies repeat all through the policies, so they
count too: an address book larger than any head no longer hides what the file is.
"""

from __future__ import annotations

import re

_SET_SECURITY = re.compile(r"^set security (zones|policies|address-book|nat) ", re.MULTILINE)
_MATCH = re.compile(r"^\s*match\s*\{", re.MULTILINE)
_THEN = re.compile(r"^\s*then\s*\{", re.MULTILINE)
_MATCH_ADDRESS = re.compile(r"^\s*(source|destination)-address \S", re.MULTILINE)

POLICY_BODIES = 0.85
"""Security policies' ``match``/``then`` bodies without their zone-pair header."""


def confidence(text: str) -> float:
    """Confidence in [0, 1] that ``text`` is a Junos configuration with security policies or zones."""
    if "set security policies" in text or "set security zones security-zone" in text:
        return 0.95
    if "from-zone" in text and "to-zone" in text and ("policies {" in text or "policy " in text):
        return 0.9
    if _MATCH.search(text) and _THEN.search(text) and _MATCH_ADDRESS.search(text):
        return POLICY_BODIES
    if "security {" in text and ("policies {" in text or "zones {" in text):
        return 0.8
    if _SET_SECURITY.search(text) or "security-zone " in text:
        return 0.6
    return 0.0
