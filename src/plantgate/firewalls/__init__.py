"""Firewall configs from every supported vendor, normalised into one Ruleset model."""

from plantgate.firewalls.base import detect_vendor, parse_config, parser_for
from plantgate.firewalls.ruleset import Action, AddressSet, Filter, Rule, Ruleset, Service

__all__ = [
    "Action", "AddressSet", "Filter", "Rule", "Ruleset", "Service",
    "detect_vendor", "parse_config", "parser_for",
]
