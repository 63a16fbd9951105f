"""How sure we are that a text is an iptables-save or an nftables ruleset, from distinctive statements.

Why a module of its own: vendor detection runs every vendor's detector, and importing the
netfilter parsers to do so costs more than detecting. ``firewalls/detect.py`` hands these a
bounded sample of a large file.
"""

from __future__ import annotations

import re

_NFT_TABLE_FAMILY = re.compile(r"^\s*table\s+(inet|ip6?|arp|bridge|netdev)\s+\S+\s*\{", re.M)
_NFT_TABLE = re.compile(r"^\s*table\s+\S+\s*\{", re.M)
_NFT_BASE_CHAIN = re.compile(r"\btype\s+filter\s+hook\s+\w+")
_SAVE_HEADER = re.compile(r"^\*filter\s*$|^:(INPUT|FORWARD|OUTPUT)\s+(ACCEPT|DROP)\b", re.M)
_COMMAND = re.compile(r"^\s*(sudo\s+)?(\S*/)?ip6?tables\s+(-t\s+\S+\s+)?-[AIN]\s", re.M)
_BUILTIN_APPEND = re.compile(r"^-A\s+(INPUT|FORWARD|OUTPUT)\s", re.M)
_ANY_APPEND = re.compile(r"^-[AP]\s+\S+\s", re.M)


def iptables_confidence(text: str) -> float:
    """Confidence that ``text`` is ``iptables-save`` output or a script of iptables commands."""
    if _NFT_TABLE_FAMILY.search(text):
        return 0.0
    if _SAVE_HEADER.search(text):
        return 0.95
    if _COMMAND.search(text):
        return 0.9
    if _BUILTIN_APPEND.search(text):
        return 0.85
    if _ANY_APPEND.search(text):
        return 0.5
    return 0.0


def nftables_confidence(text: str) -> float:
    """Confidence that ``text`` is an nftables ruleset (``nft list ruleset``)."""
    if _NFT_BASE_CHAIN.search(text):
        return 0.95
    if _NFT_TABLE_FAMILY.search(text):
        return 0.9
    if _NFT_TABLE.search(text):
        return 0.5
    return 0.0
