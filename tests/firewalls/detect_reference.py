"""The vendor detection as it was before sampling: every detector over the whole text (the oracle).

Kept verbatim from the parsers' ``detect`` methods and ``base.detect_vendor`` of commit 03737e6,
so that ``test_detect`` can hold the sampled detection of ``firewalls/detect.py`` to it on every
config of the test data and the shared corpus. Not used by the product.
"""

from __future__ import annotations

import re

_PANOS_BRACE_START = re.compile(r"^\s*(config|policy)\s*\{", re.MULTILINE)
_PANOS_SET_STRONG = re.compile(r"^set (rulebase security|zone |deviceconfig |device-group |vsys )", re.MULTILINE)
_PANOS_SET_WEAK = re.compile(r"^set (address|address-group|service|service-group|shared|network) ", re.MULTILINE)
_SRX_SET_SECURITY = re.compile(r"^set security (zones|policies|address-book|nat) ", re.MULTILINE)
_FORTIGATE_PATTERNS = (
    (r"^\s*config firewall policy6?\s*$", 0.9),
    (r"^\s*config firewall (address|addrgrp|service custom)\s*$", 0.7),
    (r"^\s*config system interface\s*$", 0.6),
)


def asa(text: str) -> float:
    head = text[:200_000]
    if re.search(r"^\s*:?\s*ASA Version \S+", head, re.MULTILINE):
        return 0.95
    score = 0.0
    if re.search(r"^access-list \S+ (line \d+ )?extended (permit|deny) ", head, re.MULTILINE):
        score = 0.8
    if re.search(r"^\s+nameif \S+", head, re.MULTILINE) and re.search(r"^\s+security-level \d+",
                                                                     head, re.MULTILINE):
        score = max(score, 0.8)
    if re.search(r"^(clear configure access-list \S+|access-list \S+ remark )", head, re.MULTILINE):
        score = max(score, 0.5)
    if re.search(r"^object-group network \S+", head, re.MULTILINE):
        score = max(score, 0.4)
    return score


def iptables(text: str) -> float:
    if re.search(r"^\s*table\s+(inet|ip6?|arp|bridge|netdev)\s+\S+\s*\{", text, re.M):
        return 0.0
    if re.search(r"^\*filter\s*$|^:(INPUT|FORWARD|OUTPUT)\s+(ACCEPT|DROP)\b", text, re.M):
        return 0.95
    if re.search(r"^\s*(sudo\s+)?(\S*/)?ip6?tables\s+(-t\s+\S+\s+)?-[AIN]\s", text, re.M):
        return 0.9
    if re.search(r"^-A\s+(INPUT|FORWARD|OUTPUT)\s", text, re.M):
        return 0.85
    if re.search(r"^-[AP]\s+\S+\s", text, re.M):
        return 0.5
    return 0.0


def nftables(text: str) -> float:
    if re.search(r"\btype\s+filter\s+hook\s+\w+", text):
        return 0.95
    if re.search(r"^\s*table\s+(inet|ip6?|bridge|netdev|arp)\s+\S+\s*\{", text, re.M):
        return 0.9
    if re.search(r"^\s*table\s+\S+\s*\{", text, re.M):
        return 0.5
    return 0.0


def fortigate(text: str) -> float:
    head = text[:4096]
    if head.lstrip().startswith("#config-version=FG"):
        return 1.0
    score = 0.0
    for pattern, weight in _FORTIGATE_PATTERNS:
        if re.search(pattern, text, re.MULTILINE):
            score = max(score, weight)
    if score and re.search(r"^\s*edit\s", text, re.MULTILINE) and re.search(r"^\s*next\s*$", text, re.MULTILINE):
        score = min(1.0, score + 0.05)
    return score


def panos(text: str) -> float:
    head = text[:4000]
    if head.lstrip().startswith("<"):
        if "<config" in head and any(t in text for t in ("<devices>", "<rulebase>", "<security>")):
            return 0.95
        return 0.2 if "<config" in head else 0.0
    if "RANCID-CONTENT-TYPE: paloalto" in head or (
        _PANOS_BRACE_START.search(head) and ("devices {" in text or "panorama {" in text)
    ):
        return 0.9
    if _PANOS_SET_STRONG.search(text):
        return 0.9
    return 0.4 if _PANOS_SET_WEAK.search(text) else 0.0


def srx(text: str) -> float:
    head = text[:200_000]
    if "set security policies" in head or "set security zones security-zone" in head:
        return 0.95
    if "from-zone" in head and "to-zone" in head and ("policies {" in head or "policy " in head):
        return 0.9
    if "security {" in head and ("policies {" in head or "zones {" in head):
        return 0.8
    if _SRX_SET_SECURITY.search(head) or "security-zone " in head:
        return 0.6
    return 0.0


DETECTORS = {"asa": asa, "iptables": iptables, "nftables": nftables, "fortigate": fortigate, "panos": panos,
             "srx": srx}


def detect_vendor(text: str) -> str | None:
    """The old answer: the most confident vendor (first of equals, registry order), None below 0.3."""
    best, best_score = "", 0.0
    for vendor, detector in DETECTORS.items():
        score = detector(text)
        if score > best_score:
            best, best_score = vendor, score
    return best if best_score >= 0.3 else None
