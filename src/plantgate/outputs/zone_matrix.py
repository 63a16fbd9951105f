"""The zone matrix: for every ordered pair of zones, what the register allows, what the firewalls permit, and
whether they agree, per firewall hop and end to end.

Tufin's matrix is the page an approver scans first: one cell per pair, coloured by verdict.
Its verdicts here are the register checks' own computations (``outputs.report.status``: the
conduit states and unregistered exposures the report and the diagram draw), so a red cell is a
PG-FW-001 finding with the same witness. A pair on a firewall that was not modelled fully
never reads "agree": it reads "not modelled", with the firewalls that leave it unproved
(issue 16's coverage). The end-to-end view is ``Estate.reach``, the computation of
``plantgate reach`` and ``access-map``. Everything is plain JSON, computed once per revision by
a job (``jobs.work.render_zone_pictures``) and only read by the web pages.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from plantgate.checks.context import CheckContext
from plantgate.model.conduits import Conduit
from plantgate.netspace import FlowSet, Permitter
from plantgate.outputs.flow_words import AddressNames, address_intervals, describe
from plantgate.outputs.report.status import ConduitState, conduit_statuses, unregistered_exposures
from plantgate.reconcile import BoundaryFirewall

AGREE = "agree"
EXPOSURE = "unregistered exposure"
NOT_IMPLEMENTED = "conduit not implemented"
NOT_MODELLED = "not modelled"
VERDICTS = (EXPOSURE, NOT_IMPLEMENTED, NOT_MODELLED, AGREE)
"""Worst first: a cell's verdict is the first of these that holds."""


def address_names(ctx: CheckContext) -> AddressNames:
    """Assets and zones by their exact addresses, for the words of a flow set (an asset wins over a zone)."""
    names: dict[Any, str] = {}
    for zone in ctx.treaty.zones:
        if zone.networks:
            names[address_intervals(zone.networks)] = f"zone {zone.id}"
    for asset in ctx.treaty.assets:
        if asset.addresses:
            names[address_intervals(asset.addresses)] = asset.name
    return names


def words(flows: FlowSet, names: AddressNames) -> dict[str, Any]:
    """A flow set as the pages show it: the phrase, the exact count (a detail) and a witness."""
    described = describe(flows, names)
    witness = flows.witness()
    return {"phrase": described.phrase, "count": described.count, "exact": described.exact,
            "witness": str(witness) if witness else None}


def rule_refs(fw: BoundaryFirewall, permitters: list[Permitter], relative: Any) -> list[dict[str, Any]]:
    """The rules behind some flows, each with its config line (``relative`` turns a path into the treaty's)."""
    out = []
    for flt, rule in permitters:
        if rule is not None:
            out.append({"firewall": fw.entry.id, "rule": rule.rule_id, "file": relative(rule.span.file),
                        "line": rule.span.line, "text": rule.span.text.strip()})
        else:
            text = f"default {flt.default_action.value} of {flt.name}" if flt else "default path action"
            out.append({"firewall": fw.entry.id, "rule": None, "file": "", "line": 0, "text": text})
    return out


def zone_matrix(ctx: CheckContext, relative: Any = str, end_to_end: bool = True) -> dict[str, Any]:
    """Every ordered pair of treaty zones with its register, firewall permits, verdict and evidence."""
    treaty = ctx.treaty
    names = address_names(ctx)
    conduits: dict[tuple[str, str], list[Conduit]] = defaultdict(list)
    for conduit in treaty.conduits:
        conduits[(conduit.initiating_zone, conduit.responding_zone)].append(conduit)
    states: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for status in conduit_statuses(ctx):
        pair = (status.conduit.initiating_zone, status.conduit.responding_zone)
        states[pair].append({"conduit": status.conduit.id, "state": status.state.value,
                             "firewalls": [{"firewall": f.firewall, "state": f.state.value, "witness": f.witness}
                                           for f in status.per_firewall]})
    exposures: dict[tuple[str, str], list[str]] = defaultdict(list)
    for exposure in unregistered_exposures(ctx):
        exposures[(exposure.initiating_zone, exposure.responding_zone)].append(exposure.firewall)
    cells: dict[str, dict[str, Any]] = {}
    for a in treaty.zones:
        for b in treaty.zones:
            if a.id != b.id:
                cells[f"{a.id}|{b.id}"] = _cell(ctx, a.id, b.id, conduits[(a.id, b.id)], states[(a.id, b.id)],
                                                exposures[(a.id, b.id)], names, relative, end_to_end)
    return {"zones": [{"id": z.id, "name": z.name, "level": z.level, "kind": z.kind.value} for z in treaty.zones],
            "cells": cells, "end_to_end": end_to_end}


def _cell(ctx: CheckContext, a: str, b: str, conduits: list[Conduit], states: list[dict[str, Any]],
          exposed_on: list[str], names: AddressNames, relative: Any, end_to_end: bool) -> dict[str, Any]:
    registered = ctx.register(a, b) if conduits else ctx.space.empty()
    permitted = ctx.space.empty()
    firewalls, exposure = [], []
    for fw in ctx.firewalls:
        if not fw.connects(a, b):
            continue
        firewalls.append(fw.entry.id)
        allowed = fw.permitted(a, b)
        permitted = permitted | allowed
        if fw.entry.id in exposed_on:
            extra = allowed - registered
            exposure.append({"firewall": fw.entry.id, **words(extra, names),
                             "rules": rule_refs(fw, fw.permitters(a, b, extra), relative)})
    unproved = [c.sentence() for c in ctx.estate.unproved({a, b}, ctx.estate.topology.paths(a, b).paths)]
    missing = [s for s in states if s["state"] in (ConduitState.MISSING.value, ConduitState.PARTIAL.value)]
    verdicts = []
    if exposure:
        verdicts.append(EXPOSURE)
    if missing:
        verdicts.append(NOT_IMPLEMENTED)
    if unproved or any(s["state"] in (ConduitState.NOT_MODELLED.value, ConduitState.NO_EVIDENCE.value)
                       for s in states):
        verdicts.append(NOT_MODELLED)
    cell: dict[str, Any] = {
        "from": a, "to": b, "conduits": [c.id for c in conduits], "conduit_states": states,
        "registered": words(registered, names), "firewalls": firewalls, "permitted": words(permitted, names),
        "exposure": exposure, "unproved": unproved, "verdicts": verdicts or [AGREE],
        "verdict": verdicts[0] if verdicts else AGREE,
        "empty": not conduits and permitted.is_empty(),
    }
    if end_to_end:
        cell["end_to_end"] = _end_to_end(ctx, a, b, registered, names, relative)
    return cell


def _end_to_end(ctx: CheckContext, a: str, b: str, registered: FlowSet, names: AddressNames,
                relative: Any) -> dict[str, Any]:
    """What reaches ``b`` from ``a`` along every path of the topology (``plantgate reach``), and its verdict."""
    reach = ctx.estate.reach(a, b)
    delivered = ctx.space.empty()
    paths = []
    for result in reach.paths:
        delivered = delivered | result.flows
        paths.append({"path": str(result.path), "firewalls": result.path.firewall_ids, **words(result.flows, names),
                      "conduits": [c.id for c in result.conduits],
                      "unregistered": words(result.uncovered, names) if not result.uncovered.is_empty() else None,
                      "hops": [{"firewall": hop.hop.firewall_id, "from": hop.hop.from_zone, "to": hop.hop.to_zone,
                                "rules": rule_refs(hop.hop.firewall, hop.permitters, relative)}
                               for hop in result.hops]})
    unregistered = delivered - registered
    unproved = [c.sentence() for c in reach.unproved]
    verdicts = ([EXPOSURE] if not unregistered.is_empty() else []) + \
        ([NOT_IMPLEMENTED] if not (registered - delivered).is_empty() and reach.choice.paths else []) + \
        ([NOT_MODELLED] if unproved else [])
    return {"reached": words(delivered, names), "paths": paths, "routing": reach.choice.note,
            "unregistered": words(unregistered, names), "unproved": unproved,
            "verdicts": verdicts or [AGREE], "verdict": verdicts[0] if verdicts else AGREE,
            "empty": delivered.is_empty() and registered.is_empty()}
