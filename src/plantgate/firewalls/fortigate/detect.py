"""How sure we are that a text is a FortiGate (FortiOS) config, from its distinctive statements.

Why a module of its own: vendor detection runs every vendor's detector, and importing the
FortiGate parser to do so costs more than detecting. ``firewalls/detect.py`` hands this a
bounded sample of a large file, where a table's header (``config firewall policy``) is
written once but its entries' settings repeat all through it, so the entries count too.
"""

from __future__ import annotations

import re

TABLE_HEADERS = (
    (re.compile(r"^\s*config firewall policy6?\s*$", re.MULTILINE), 0.9),
    (re.compile(r"^\s*config firewall (address|addrgrp|service custom)\s*$", re.MULTILINE), 0.7),
    (re.compile(r"^\s*config system interface\s*$", re.MULTILINE), 0.6),
)
_POLICY_INTERFACES = re.compile(r"^\s*set (srcintf|dstintf) \S", re.MULTILINE)
_POLICY_ADDRESSES = re.compile(r"^\s*set (srcaddr|dstaddr) \S", re.MULTILINE)
_POLICY_ACTION = re.compile(r"^\s*set action (accept|deny|ipsec)\s*$", re.MULTILINE)
_EDIT = re.compile(r"^\s*edit\s", re.MULTILINE)
_NEXT = re.compile(r"^\s*next\s*$", re.MULTILINE)

POLICY_ENTRIES = 0.85
"""Policy entries' own settings (interfaces, addresses, action) without their table header."""


def confidence(text: str) -> float:
    """Confidence in [0, 1] that ``text`` is a FortiOS configuration."""
    if text[:4096].lstrip().startswith("#config-version=FG"):
        return 1.0
    score = 0.0
    for pattern, weight in TABLE_HEADERS:
        if pattern.search(text):
            score = max(score, weight)
    if (_POLICY_INTERFACES.search(text) and _POLICY_ADDRESSES.search(text)
            and _POLICY_ACTION.search(text)):
        score = max(score, POLICY_ENTRIES)
    if score and _EDIT.search(text) and _NEXT.search(text):
        score = min(1.0, score + 0.05)
    return score
