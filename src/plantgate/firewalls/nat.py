"""Address translation, vendor-neutral: what each NAT statement does to a packet.

Every vendor's NAT reader produces ``NatRule`` records; the packet-space engine applies
them as a relation from the packet before to the packet after translation. The records
are plain data, like ``Rule``: the vendors differ only in where their rules sit relative
to the security policy (``NatStage``) and in which addresses the policy matches
(``Ruleset.policy_sees``).

Semantics, shared by all vendors:
- The NAT rules of one stage form an ordered, first-match table. A packet that no rule of
  a stage matches passes that stage unchanged; an identity rule (nothing rewritten) matches
  and stops the search, as ASA's and PAN-OS's "no-NAT" rules do.
- ``BEFORE_FILTER`` rules rewrite the packet before the security policy decides (destination
  NAT: iptables PREROUTING, ASA mapped-to-real, FortiGate VIPs, SRX destination and static
  NAT); ``AFTER_FILTER`` rules rewrite what leaves (source NAT: iptables POSTROUTING, SRX
  source NAT, the outbound half of a static NAT).
- A rewrite that PlantGate cannot pin down (a pool object it cannot resolve, an interface
  address the config does not hold) becomes "any address" (or "any port") and the rule says
  why in ``widened``: the translated packet may then be any packet, never a guessed one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from plantgate.firewalls.ruleset import (
    ANY_ADDRESS,
    ANY_SERVICE,
    AddressSet,
    IPNetwork,
    PortRange,
    Service,
    SourceSpan,
)


class NatStage(StrEnum):
    BEFORE_FILTER = "before-filter"
    AFTER_FILTER = "after-filter"


@dataclass(frozen=True, slots=True)
class AddressMapping:
    """What a translated address becomes: one of ``pool``, or ``prefix`` with the host bits kept.

    Exactly one is set. ``pool`` covers one address (a static host NAT, a DNAT target), a
    dynamic pool or PAT address, and ``ANY_ADDRESS`` for an unresolvable target. ``prefix``
    is a static subnet-to-subnet mapping (ASA ``static`` of a network object, nftables
    ``snat ip prefix to``): the new address is the prefix's network bits with the old host bits.
    """

    pool: AddressSet | None = None
    prefix: IPNetwork | None = None

    def __post_init__(self) -> None:
        if (self.pool is None) == (self.prefix is None):
            raise ValueError("an address mapping has exactly one of pool and prefix")


@dataclass(frozen=True, slots=True)
class PortMapping:
    """What a translated port becomes: any port of ``to``, or the old port moved by ``shift``.

    ``shift`` is for a range mapped one to one (FortiGate ``extport 8000-8010`` to
    ``mappedport 9000-9010``: shift 1000); without it every port of ``to`` is possible
    (a single port when ``to`` is one port; a PAT pool otherwise).
    """

    to: PortRange
    shift: int | None = None


@dataclass(frozen=True, slots=True)
class Translation:
    """How one end of the packet (its source, or its destination) is rewritten; None keeps it."""

    addresses: AddressMapping | None = None
    ports: PortMapping | None = None

    @property
    def is_identity(self) -> bool:
        return self.addresses is None and self.ports is None


KEEP = Translation()


@dataclass(frozen=True, slots=True)
class NatRule:
    """One NAT rule of a stage's first-match table, normalised.

    The match fields mean what they mean on ``Rule`` (empty zones: any). ``kind`` is the
    vendor's word for the rule (static, dynamic, pat, identity, masquerade, redirect, vip,
    port-forward) for display. ``uncertain`` marks a rule whose match PlantGate could not
    decide: it may or may not apply, so both outcomes are possible.
    """

    rule_id: str
    position: int
    span: SourceSpan
    stage: NatStage
    kind: str
    sources: AddressSet = ANY_ADDRESS
    destinations: AddressSet = ANY_ADDRESS
    services: tuple[Service, ...] = (ANY_SERVICE,)
    from_zones: tuple[str, ...] = ()
    to_zones: tuple[str, ...] = ()
    source: Translation = KEEP
    destination: Translation = KEEP
    widened: tuple[str, ...] = ()
    uncertain: bool = False
    sets_egress: bool = False
    """The rule itself sends what it translates out of its to-zone's interface, whatever the routing
    table says (ASA NAT divert): routes are not consulted for those packets."""

    @property
    def is_identity(self) -> bool:
        return self.source.is_identity and self.destination.is_identity

    @property
    def label(self) -> str:
        """How answers and findings name the rule: its kind, id and line."""
        return f"{self.kind} NAT {self.rule_id} (line {self.span.line})"

    def reference(self) -> dict[str, str | int]:
        """The rule's id, kind and place, for JSON answers and finding details."""
        return {"rule": self.rule_id, "kind": self.kind, "file": self.span.file, "line": self.span.line}
