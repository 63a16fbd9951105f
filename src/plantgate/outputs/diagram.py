"""The zone and conduit diagram: Purdue bands, zones, conduits coloured by what the firewalls do.

People check a boundary by looking at it. The diagram draws the treaty as the reference
text describes it (enterprise at the top, the field at the bottom, the DMZ in between) and
colours every conduit by its implementation status on the enforcing firewalls that were
modelled between its zones (a firewall that was not modelled says nothing, so it can
neither paint a conduit missing nor let it pass); each
unregistered exposure is a red dashed arrow whose tooltip carries the witness packet. The
status comes from ``outputs.report.status``, the same computation the report table uses.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import quote

import graphviz

from plantgate.checks.context import CheckContext
from plantgate.errors import InputError, PlantGateError
from plantgate.model.zones import Zone, ZoneKind, level_text
from plantgate.outputs.report.status import (
    ConduitState,
    ConduitStatus,
    Exposure,
    conduit_statuses,
    unregistered_exposures,
)

LEVEL_NAMES: dict[float, str] = {
    5.0: "Enterprise", 4.0: "Business / enterprise", 3.5: "Industrial DMZ", 3.0: "Site operations",
    2.0: "Supervisory control", 1.0: "Basic control", 0.0: "Field / process",
}
"""Purdue level names, top (enterprise) to bottom (field)."""

STATE_STYLE: dict[ConduitState, tuple[str, str]] = {
    ConduitState.IMPLEMENTED: ("#2e7d32", "solid"),
    ConduitState.PARTIAL: ("#ef6c00", "solid"),
    ConduitState.MISSING: ("#ef6c00", "dotted"),
    ConduitState.NOT_MODELLED: ("#757575", "dotted"),
    ConduitState.NO_EVIDENCE: ("#757575", "solid"),
}
"""Colour and line style of a conduit arrow by status (legend in the diagram)."""

EXPOSURE_COLOUR = "#c62828"
ZONE_FILL: dict[ZoneKind, str] = {
    ZoneKind.ENTERPRISE: "#e3f2fd", ZoneKind.DMZ: "#fff8e1", ZoneKind.OPERATIONS: "#e8f5e9",
    ZoneKind.CONTROL: "#e8f5e9", ZoneKind.SAFETY: "#fce4ec", ZoneKind.FIELD: "#f1f8e9",
    ZoneKind.VENDOR: "#f3e5f5", ZoneKind.EXTERNAL: "#eceff1",
}
FORMATS = (".svg", ".png", ".dot")
MAX_CONDUIT_EDGES = 80
"""Above this many conduits a linked (web) diagram draws one arrow per zone pair, not per conduit: Graphviz
takes half a minute and 11 MB of SVG for 10,000 conduit arrows, which nobody can read anyway."""
STATE_ORDER = (ConduitState.MISSING, ConduitState.PARTIAL, ConduitState.NOT_MODELLED, ConduitState.NO_EVIDENCE,
               ConduitState.IMPLEMENTED)
"""Worst first: the colour of a zone pair's arrow is its worst conduit's."""
FONT = "DejaVu Sans"


class GraphvizMissing(PlantGateError):
    """The Graphviz ``dot`` program is not installed."""


def build_diagram(ctx: CheckContext, links: str | None = None) -> graphviz.Digraph:
    """The diagram as Graphviz source (no layout run yet).

    With ``links`` (a site's web address, e.g. ``/sites/bayport``) zones link to their pages, conduits to
    theirs and exposures to their zone pair's matrix cell, as URL attributes that Graphviz writes into the SVG."""
    treaty = ctx.treaty
    site = treaty.site
    graph = graphviz.Digraph("plantgate_zones", graph_attr={
        "rankdir": "TB", "newrank": "true", "nodesep": "0.5", "ranksep": "0.9", "fontname": FONT,
        "fontsize": "12", "labelloc": "t", "tooltip": f"{site.name} zones and conduits",
        "label": f"{site.name}: zones and conduits (revision {site.revision or '-'}, as of {ctx.as_of})"
                 + _coverage_label(ctx),
    }, node_attr={"fontname": FONT, "fontsize": "11"}, edge_attr={"fontname": FONT, "fontsize": "9"})
    levels = sorted({zone.level for zone in treaty.zones}, reverse=True)
    for level in levels:
        _band(graph, level, [zone for zone in treaty.zones if zone.level == level], links)
    for upper, lower in zip(levels, levels[1:], strict=False):
        graph.edge(_anchor(upper), _anchor(lower), style="invis", weight="20")
    statuses = conduit_statuses(ctx)
    if links is not None and len(statuses) > MAX_CONDUIT_EDGES:
        _pair_edges(graph, statuses, links)
    else:
        for status in statuses:
            _conduit_edge(graph, status, links)
    for exposure in unregistered_exposures(ctx):
        _exposure_edge(graph, exposure, links)
    _legend(graph)
    if levels:  # the legend sits below the field band
        graph.edge(_anchor(levels[-1]), "legend", style="invis")
    return graph


def _coverage_label(ctx: CheckContext) -> str:
    """A second title line naming the firewalls not modelled fully: their conduits prove nothing."""
    unproved = [fw.coverage for fw in ctx.firewalls if not fw.coverage.full]
    if not unproved:
        return ""
    return "\nnot modelled fully (colours show only the modelled firewalls): " + ", ".join(
        f"{c.firewall_id} ({c.level.value})" for c in unproved)


def _anchor(level: float) -> str:
    return f"band_{level_text(level).replace('.', '_')}"


def _url(links: str | None, *parts: str) -> dict[str, str]:
    """The URL attribute of a node or edge (nothing without ``links``); ids are quoted for a path."""
    if links is None:
        return {}
    return {"URL": links + "".join("/" + quote(part, safe="") for part in parts), "target": "_top"}


def _band(graph: graphviz.Digraph, level: float, zones: list[Zone], links: str | None = None) -> None:
    name = f"cluster_{_anchor(level)}"
    with graph.subgraph(name=name) as band:
        band.attr(label=f"Level {level_text(level)}: {LEVEL_NAMES.get(level, '')}", labeljust="l",
                  style="filled", fillcolor="#fafafa", color="#bdbdbd", fontsize="11")
        with band.subgraph() as same_rank:
            same_rank.attr(rank="same")
            same_rank.node(_anchor(level), label="", shape="point", width="0", style="invis")
            for zone in zones:
                networks = ", ".join(zone.networks) or "no networks declared"
                safety = "\nsafety (SIS)" if zone.is_safety else ""
                same_rank.node(zone.id, label=f"{zone.name}\n[{zone.id}]{safety}", shape="box",
                               style="rounded,filled", fillcolor=ZONE_FILL.get(zone.kind, "#ffffff"),
                               color="#ad1457" if zone.is_safety else "#455a64",
                               penwidth="2" if zone.is_safety else "1",
                               tooltip=f"{zone.id}: level {level_text(zone.level)}, {zone.kind.value}; {networks}",
                               **_url(links, "zones", zone.id))


def _conduit_edge(graph: graphviz.Digraph, status: ConduitStatus, links: str | None = None) -> None:
    conduit = status.conduit
    colour, style = STATE_STYLE[status.state]
    services = ", ".join(str(s) for s in conduit.services)
    per_firewall = "; ".join(f"{item.firewall}: {item.state.value}" + (f" (denied e.g. {item.witness})"
                                                                        if item.witness else "")
                             for item in status.per_firewall) or "no enforcing firewall parsed"
    tooltip = f"{conduit.id} {conduit.initiating_zone} -> {conduit.responding_zone} on {services}: " \
              f"{status.state.value}. {per_firewall}"
    graph.edge(conduit.initiating_zone, conduit.responding_zone, label=f"{conduit.id}\n{services}",
               color=colour, fontcolor=colour, style=style, penwidth="1.6", constraint="false",
               tooltip=tooltip, labeltooltip=tooltip, edgetooltip=tooltip, **_url(links, "conduits", conduit.id))


def _pair_edges(graph: graphviz.Digraph, statuses: list[ConduitStatus], links: str) -> None:
    """One arrow per zone pair: how many conduits, coloured by the worst, linked to the pair's page."""
    pairs: dict[tuple[str, str], list[ConduitStatus]] = {}
    for status in statuses:
        pairs.setdefault((status.conduit.initiating_zone, status.conduit.responding_zone), []).append(status)
    for (a, b), group in pairs.items():
        states = {s.state for s in group}
        worst = next(state for state in STATE_ORDER if state in states)
        colour, style = STATE_STYLE[worst]
        counts = ", ".join(f"{sum(1 for s in group if s.state == state)} {state.value}" for state in STATE_ORDER
                           if state in states)
        tooltip = f"{a} -> {b}: {len(group)} conduits ({counts})"
        graph.edge(a, b, label=f"{len(group)} conduits", color=colour, fontcolor=colour, style=style,
                   penwidth="1.6", constraint="false", tooltip=tooltip, labeltooltip=tooltip, edgetooltip=tooltip,
                   **_url(links, "matrix", a, b))


def _exposure_edge(graph: graphviz.Digraph, exposure: Exposure, links: str | None = None) -> None:
    tooltip = (f"UNREGISTERED on {exposure.firewall}: {exposure.initiating_zone} -> {exposure.responding_zone}; "
               f"witness {exposure.witness}; permitted by {', '.join(exposure.permitted_by) or 'default action'}")
    graph.edge(exposure.initiating_zone, exposure.responding_zone,
               label=f"unregistered\n{exposure.firewall}", color=EXPOSURE_COLOUR, fontcolor=EXPOSURE_COLOUR,
               style="dashed", penwidth="2", constraint="false", tooltip=tooltip, labeltooltip=tooltip,
               edgetooltip=tooltip, **_url(links, "matrix", exposure.initiating_zone, exposure.responding_zone))


def _legend(graph: graphviz.Digraph) -> None:
    rows = [(colour, style, state.value) for state, (colour, style) in STATE_STYLE.items()]
    rows.append((EXPOSURE_COLOUR, "dashed", "unregistered exposure (witness in tooltip)"))
    dash = {"solid": "&#8212;&#8212;&#8212;", "dotted": "&#183; &#183; &#183;", "dashed": "&#8211; &#8211; &#8211;"}
    cells = "".join(f'<TR><TD><FONT COLOR="{colour}">{dash[style]}</FONT></TD>'
                    f'<TD ALIGN="LEFT">{html.escape(text)}</TD></TR>' for colour, style, text in rows)
    graph.node("legend", label=f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2"><TR><TD COLSPAN="2">'
               f'<B>Conduit status</B></TD></TR>{cells}</TABLE>>', shape="box", color="#bdbdbd",
               tooltip="Legend")


def render_diagram(ctx: CheckContext, output_format: str, links: str | None = None) -> bytes:
    """The laid-out diagram as ``svg`` or ``png`` bytes, or the ``dot`` source."""
    graph = build_diagram(ctx, links)
    if output_format == "dot":
        return graph.source.encode("utf-8")
    try:
        data: bytes = graph.pipe(format=output_format, engine="dot", quiet=True)
    except graphviz.ExecutableNotFound:
        raise GraphvizMissing("Graphviz 'dot' was not found on PATH; install it (Debian: apt-get install "
                              "graphviz) to draw the diagram, or write .dot") from None
    return data


def write_diagram(ctx: CheckContext, path: Path) -> Path:
    """Write the diagram in the format its suffix names (.svg, .png or .dot)."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError.at(str(path), 0, 0, f"cannot write a diagram as '{suffix or path.name}'",
                            "a file name ending in .svg, .png or .dot")
    data = render_diagram(ctx, suffix.lstrip("."))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


_PROLOGUE = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)


def inline_svg(ctx: CheckContext, links: str | None = None) -> str:
    """The SVG without its XML prologue and DOCTYPE, ready to embed in an HTML page."""
    return _PROLOGUE.sub("", render_diagram(ctx, "svg", links).decode("utf-8"), count=1)
