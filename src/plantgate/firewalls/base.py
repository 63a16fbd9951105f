"""The parser extension point, vendor detection and reading a config file safely.

A vendor module exposes ``PARSER``, an object satisfying ``FirewallParser``. The registry
lists modules by import path so that adding a vendor is one line and importing one
vendor never imports the others.
"""

from __future__ import annotations

import codecs
import importlib
import importlib.util
from pathlib import Path
from typing import Protocol

from plantgate.errors import InputError
from plantgate.feeds.textfile import read_evidence_bytes
from plantgate.firewalls.detect import config_sample, detect_vendor
from plantgate.firewalls.ruleset import Ruleset

__all__ = ["DETECTORS", "FirewallParser", "VENDOR_MODULES", "available_vendors", "detect_vendor", "parse_config",
           "decode_config_bytes", "parser_for", "read_config_text"]

VENDOR_MODULES: dict[str, str] = {
    "asa": "plantgate.firewalls.asa.parser",
    "iptables": "plantgate.firewalls.linux.iptables",
    "nftables": "plantgate.firewalls.linux.nftables",
    "fortigate": "plantgate.firewalls.fortigate.parser",
    "panos": "plantgate.firewalls.panos.parser",
    "srx": "plantgate.firewalls.srx.parser",
}

DETECTORS: dict[str, tuple[str, str]] = {
    "asa": ("plantgate.firewalls.asa.detect", "confidence"),
    "iptables": ("plantgate.firewalls.linux.detect", "iptables_confidence"),
    "nftables": ("plantgate.firewalls.linux.detect", "nftables_confidence"),
    "fortigate": ("plantgate.firewalls.fortigate.detect", "confidence"),
    "panos": ("plantgate.firewalls.panos.detect", "confidence"),
    "srx": ("plantgate.firewalls.srx.detect", "confidence"),
}
"""Each vendor's detector (module, function): what its parser's ``detect`` runs, importable without the parser."""


class FirewallParser(Protocol):
    """What each vendor module provides."""

    vendor: str

    def detect(self, text: str) -> float:
        """Confidence in [0, 1] that ``text`` is this vendor's config."""
        ...

    def parse(self, text: str, file: str) -> Ruleset:
        """Normalise ``text``; raise InputError naming the line for a malformed file.

        Unknown lines and constructs go to ``Ruleset.warnings`` with their line; an
        unknown construct inside a rule widens the rule, never narrows it.
        """
        ...


def require_understood(ruleset: Ruleset, expected: str) -> Ruleset:
    """``ruleset``, or InputError when its parser understood nothing in the file.

    A file that yields no rule, zone, object or NAT statement was not this vendor's config
    (or was empty): returning an empty ruleset would read as a firewall that permits
    nothing, and hide every finding about the real one.
    """
    if ruleset.rule_count() or ruleset.zones or ruleset.objects or ruleset.nat_statements or ruleset.nat_rules:
        return ruleset
    first = min((w.line for w in ruleset.warnings if w.line), default=1)
    raise InputError.at(ruleset.file, first, 1, f"no {ruleset.vendor} rule, zone or object understood in this file",
                        expected)


def available_vendors() -> list[str]:
    """Vendors whose parser module is present in this installation."""
    found = []
    for vendor, module in VENDOR_MODULES.items():
        if importlib.util.find_spec(module) is not None:
            found.append(vendor)
    return found


def parser_for(vendor: str, context: str = "") -> FirewallParser:
    """The vendor's parser; ``context`` picks a VDOM, vsys or device group where the vendor has them.

    A vendor module with contexts provides ``for_context(name) -> FirewallParser``.
    """
    if vendor not in VENDOR_MODULES:
        raise InputError.at("<options>", 0, 0, f"unknown vendor {vendor!r}", ", ".join(available_vendors()))
    try:
        module = importlib.import_module(VENDOR_MODULES[vendor])
    except ModuleNotFoundError as exc:
        raise InputError.at("<options>", 0, 0, f"no parser for vendor {vendor!r} in this build") from exc
    if context:
        if not hasattr(module, "for_context"):
            raise InputError.at("<options>", 0, 0, f"vendor {vendor!r} has no VDOM/vsys contexts",
                                "no context for this vendor")
        chosen: FirewallParser = module.for_context(context)
        return chosen
    parser: FirewallParser = module.PARSER
    return parser


CONFIG_LIMIT = 64 * 1024 * 1024
"""Bytes: several times the largest real configs measured (18 MB of SRX); a bigger file is refused, not read."""


def decode_config_bytes(data: bytes) -> str:
    """Config text as the device wrote it: UTF-8 (a byte-order mark dropped), else Latin-1 (never refused).

    Vendors write comments and descriptions in whatever the operator typed; Latin-1 maps every
    byte, so an odd byte in a description never hides the rules around it.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_config_text(path: str | Path, limit: int = CONFIG_LIMIT) -> str:
    """A config file's text, read only when it is a regular file within ``limit`` bytes (else InputError)."""
    return decode_config_bytes(read_evidence_bytes(Path(path), "firewall config", limit))


CONFIDENT = 0.3
"""A parser this sure (or surer) may be reading its own vendor's config."""
CLEARLY_OTHER = 0.5
"""Another vendor's detector this sure, with the declared one unsure, is a clear mismatch."""


def looks_like_other_vendor(text: str, declared: str, context: str = "") -> str | None:
    """The vendor ``text`` clearly belongs to when that is not ``declared``; None when it may be the declared one.

    A config parsed by the wrong vendor's parser reads as an empty firewall (every line an
    unknown statement), which is worse than an error: it hides every finding.
    """
    declared_parser = parser_for(declared, context)
    sample = config_sample(text)  # bounded: the whole text only where the sample does not decide
    if declared_parser.detect(sample) >= CONFIDENT:
        return None
    if sample is not text and declared_parser.detect(text) >= CONFIDENT:
        return None
    try:
        detected = detect_vendor(text, "")
    except InputError:
        return None  # nobody recognises it: the parser's own guard decides
    if detected == declared:
        return None
    other = parser_for(detected)
    if other.detect(sample) >= CLEARLY_OTHER or (sample is not text and other.detect(text) >= CLEARLY_OTHER):
        return detected
    return None


def parse_config(path: str | Path, vendor: str | None = None, context: str = "") -> Ruleset:
    """Read and normalise one firewall config, detecting the vendor unless given.

    A given vendor that the content clearly contradicts is refused (InputError naming the
    vendor the content looks like).
    """
    text = read_config_text(path)
    file = str(path)
    if vendor:
        other = looks_like_other_vendor(text, vendor, context)
        if other is not None:
            raise InputError.at(file, 1, 1, f"declared as {vendor}, but the content looks like {other}",
                                f"--vendor {other} (or vendor: {other} in the treaty), or a config in {vendor} syntax")
    chosen = vendor or detect_vendor(text, file)
    return parser_for(chosen, context).parse(text, file)
