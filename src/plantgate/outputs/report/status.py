"""Implementation status of the conduit register, as the report table and the diagram colour it.

The report and the zone diagram must tell the same story as ``plantgate check``. Both read
the status from here, and this module computes it with the same library calls the register
checks use (``BoundaryFirewall.permitted``, ``CheckContext.conduit`` and ``.register``), so
a conduit drawn green is one no PG-FW-002 finding names, and every red dashed arrow is a
PG-FW-001 exposure with the same witness packet.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from plantgate.checks.context import CheckContext, permitter_evidence
from plantgate.model.conduits import Conduit
from plantgate.reconcile import BoundaryFirewall


class ConduitState(StrEnum):
    """How far the firewall evidence carries a conduit."""

    IMPLEMENTED = "implemented"
    PARTIAL = "partial"
    MISSING = "missing"
    NOT_MODELLED = "not modelled"
    """The enforcing firewall's config is not placed between the conduit's zones: nothing is proved."""
    NO_EVIDENCE = "no firewall evidence"


_WORST_FIRST = (ConduitState.MISSING, ConduitState.PARTIAL, ConduitState.IMPLEMENTED)


@dataclass(frozen=True)
class FirewallImplementation:
    """One conduit on one of the firewalls that enforce it."""

    firewall: str
    state: ConduitState
    witness: str = ""
    """A flow of the conduit the firewall denies (partial or missing), as text."""


@dataclass(frozen=True)
class ConduitStatus:
    conduit: Conduit
    per_firewall: tuple[FirewallImplementation, ...]

    @property
    def state(self) -> ConduitState:
        """The worst state over the enforcing firewalls that were modelled for it.

        A firewall that was not modelled between the conduit's zones says nothing about it,
        so it neither paints the conduit missing nor lets it pass: with no modelled firewall
        the state is NOT_MODELLED (NO_EVIDENCE when no enforcing firewall was parsed at all).
        """
        states = {item.state for item in self.per_firewall}
        if not states:
            return ConduitState.NO_EVIDENCE
        return next((state for state in _WORST_FIRST if state in states), ConduitState.NOT_MODELLED)


@dataclass(frozen=True)
class Exposure:
    """Flows a firewall permits between two treaty zones that no conduit registers."""

    firewall: str
    initiating_zone: str
    responding_zone: str
    witness: str
    witness_flow: dict[str, object]
    permitted_by: tuple[str, ...]
    flow_count: int


def conduit_statuses(ctx: CheckContext) -> list[ConduitStatus]:
    """The status of every conduit of the register, in register order."""
    by_id = {fw.entry.id: fw for fw in ctx.firewalls}
    return [ConduitStatus(conduit, tuple(_on_firewall(ctx, conduit, by_id[fw_id])
                                         for fw_id in conduit.enforced_by if fw_id in by_id))
            for conduit in ctx.treaty.conduits]


def _on_firewall(ctx: CheckContext, conduit: Conduit, fw: BoundaryFirewall) -> FirewallImplementation:
    a, b = conduit.initiating_zone, conduit.responding_zone
    if not fw.connects(a, b):
        return FirewallImplementation(fw.entry.id, ConduitState.NOT_MODELLED)
    wanted = ctx.conduit(conduit.id)
    missing = wanted - fw.permitted(a, b)
    witness = missing.witness()
    if witness is None:
        return FirewallImplementation(fw.entry.id, ConduitState.IMPLEMENTED)
    state = ConduitState.MISSING if missing == wanted else ConduitState.PARTIAL
    return FirewallImplementation(fw.entry.id, state, str(witness))


def unregistered_exposures(ctx: CheckContext) -> list[Exposure]:
    """Per firewall and ordered zone pair: what is permitted beyond the register, with a witness."""
    found: list[Exposure] = []
    for fw in ctx.firewalls:
        for a_id, b_id in fw.treaty_pairs():
            if ctx.treaty.zone(a_id) is None or ctx.treaty.zone(b_id) is None:
                continue
            extra = fw.permitted(a_id, b_id) - ctx.register(a_id, b_id)
            witness = extra.witness()
            if witness is None:
                continue
            _, names = permitter_evidence(fw.permitters(a_id, b_id, extra))
            found.append(Exposure(fw.entry.id, a_id, b_id, str(witness), witness.to_dict(), tuple(names),
                                  extra.count()))
    return found
