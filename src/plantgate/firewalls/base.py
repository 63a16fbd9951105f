"""The parser extension point, vendor detection and reading a config file safely.

A vendor module exposes ``PARSER``, an object satisfying ``FirewallParser``. The registry
lists modules by import path so that adding a vendor is one line and importing one
vendor never imports the others.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Protocol

from plantgate.errors import InputError
from plantgate.firewalls.detect import detect_vendor
from plantgate.firewalls.ruleset import Ruleset

__all__ = ["DETECTORS", "FirewallParser", "VENDOR_MODULES", "available_vendors", "detect_vendor", "parse_config",
           "parser_for", "read_config_text"]

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


def read_config_text(path: str | Path) -> str:
    """Read a config file as text, with a clear error instead of a traceback."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError.at(str(p), 0, 0, f"cannot read firewall config: {exc.strerror}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def parse_config(path: str | Path, vendor: str | None = None, context: str = "") -> Ruleset:
    """Read and normalise one firewall config, detecting the vendor unless given."""
    text = read_config_text(path)
    file = str(path)
    chosen = vendor or detect_vendor(text, file)
    return parser_for(chosen, context).parse(text, file)
