"""How sure we are that a text is a Cisco ASA config, from its distinctive statements.

Why a module of its own: vendor detection runs every vendor's detector, and importing six
parsers to do so costs more than detecting; this module imports nothing of the parser.
``firewalls/detect.py`` hands it a bounded sample of a large file.
"""

from __future__ import annotations

import re

_VERSION = re.compile(r"^\s*:?\s*ASA Version \S+", re.MULTILINE)
_EXTENDED_ACE = re.compile(r"^access-list \S+ (line \d+ )?extended (permit|deny) ", re.MULTILINE)
_NAMEIF = re.compile(r"^\s+nameif \S+", re.MULTILINE)
_SECURITY_LEVEL = re.compile(r"^\s+security-level \d+", re.MULTILINE)
_ACL_HEADER = re.compile(r"^(clear configure access-list \S+|access-list \S+ remark )", re.MULTILINE)
_NETWORK_GROUP = re.compile(r"^object-group network \S+", re.MULTILINE)


def confidence(text: str) -> float:
    """Confidence in [0, 1] that ``text`` is an ASA running-config or access-list fragment."""
    if _VERSION.search(text):
        return 0.95
    score = 0.0
    if _EXTENDED_ACE.search(text):
        score = 0.8
    if _NAMEIF.search(text) and _SECURITY_LEVEL.search(text):
        score = max(score, 0.8)
    if _ACL_HEADER.search(text):
        score = max(score, 0.5)
    if _NETWORK_GROUP.search(text):
        score = max(score, 0.4)
    return score
