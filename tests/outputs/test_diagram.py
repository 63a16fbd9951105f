"""The zone diagram: Purdue bands top to bottom, conduits coloured by what the firewalls do."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import graphviz
import pytest

from plantgate.errors import InputError
from plantgate.outputs.diagram import EXPOSURE_COLOUR, STATE_STYLE, build_diagram, write_diagram
from plantgate.outputs.formats import CheckReport
from plantgate.outputs.report.status import ConduitState, conduit_statuses, unregistered_exposures
from tests.outputs.conftest import check_report
from tests.sites import copy_example, edit

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed "
                               "(Debian package graphviz)")


def _edges(graph: graphviz.Digraph) -> list[str]:
    return [item for item in graph.body if " -> " in item and "invis" not in item]


def test_bands_run_from_enterprise_to_field(example_report: CheckReport) -> None:
    source = build_diagram(example_report.context).source
    bands = re.findall(r"label=\"Level ([\d.]+):", source)
    assert bands == ["4", "3.5", "3", "2", "1"]
    chain = re.findall(r"band_([\d_]+) -> band_([\d_]+) \[style=invis", source)
    assert chain == [("4", "3_5"), ("3_5", "3"), ("3", "2"), ("2", "1")]


def test_conduits_drawn_in_the_initiators_direction(example_report: CheckReport) -> None:
    edges = _edges(build_diagram(example_report.context))
    pull = next(e for e in edges if "C-04-ot-patch-pull" in e)  # idmz <- ops, initiated by ops (to_zone)
    assert pull.strip().startswith("ops -> idmz")
    colour, _ = STATE_STYLE[ConduitState.IMPLEMENTED]
    assert f"color=\"{colour}\"" in pull and "WSUS" in pull


def test_exposure_is_red_dashed_with_the_witness(example_report: CheckReport) -> None:
    edges = [e for e in _edges(build_diagram(example_report.context)) if "unregistered" in e]
    exposures = unregistered_exposures(example_report.context)
    assert len(edges) == len(exposures) > 0
    exposure = next(e for e in edges if e.strip().startswith("idmz -> sup"))
    assert f"color=\"{EXPOSURE_COLOUR}\"" in exposure and "style=dashed" in exposure
    assert "-> 10.20.0.10:443 proto 6" in exposure and "tooltip=" in exposure


def test_status_follows_the_firewall(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    edit(folder / "conduits.yaml", "services: [{protocol: tcp, ports: [5450], name: PI-to-PI replication}]",
         "services: [{protocol: tcp, ports: [5450, 5460], name: PI-to-PI replication}]")
    edit(folder / "conduits.yaml", "services: [{protocol: tcp, ports: [443]}]",
         "services: [{protocol: tcp, ports: [8443]}]")
    statuses = {s.conduit.id: s for s in conduit_statuses(check_report(folder).context)}
    assert statuses["C-01-hist-replication"].state is ConduitState.PARTIAL
    assert "5460" in statuses["C-01-hist-replication"].per_firewall[0].witness
    assert statuses["C-02-bi-replica"].state is ConduitState.MISSING
    assert statuses["C-03-patch-sync"].state is ConduitState.IMPLEMENTED
    assert statuses["C-15-vendor-dashboard"].state is ConduitState.NO_EVIDENCE


@needs_dot
@pytest.mark.parametrize("suffix, magic", [(".svg", b"<svg"), (".png", b"\x89PNG"), (".dot", b"digraph")])
def test_writes_each_format(example_report: CheckReport, tmp_path: Path, suffix: str, magic: bytes) -> None:
    path = write_diagram(example_report.context, tmp_path / f"zones{suffix}")
    assert magic in path.read_bytes()[:400]


@needs_dot
def test_svg_tooltips_carry_the_witness(example_report: CheckReport, tmp_path: Path) -> None:
    svg = write_diagram(example_report.context, tmp_path / "zones.svg").read_text(encoding="utf-8")
    assert "witness 172.16.35.0:1024 &#45;&gt; 10.20.0.10:443 proto 6" in svg
    assert 'stroke-dasharray="5,2"' in svg


def test_unknown_suffix_is_input_error(example_report: CheckReport, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"\.svg, \.png or \.dot"):
        write_diagram(example_report.context, tmp_path / "zones.jpg")


def test_one_unmodelled_firewall_does_not_paint_every_conduit_missing(tmp_path: Path) -> None:
    """fw-dmz-ot's zone map emptied: its conduits are 'not modelled' (grey), the others keep their colours."""
    folder = copy_example(tmp_path)
    edit(folder / "firewalls.yaml", "zones: {eth0: idmz, eth1: ops, eth2: sup}", "zones: {}")
    context = check_report(folder).context
    statuses = {s.conduit.id: s for s in conduit_statuses(context)}
    assert statuses["C-01-hist-replication"].state is ConduitState.NOT_MODELLED
    assert not [s for s in statuses.values() if s.state is ConduitState.MISSING]
    assert statuses["C-03-patch-sync"].state is ConduitState.IMPLEMENTED, "fw-it-dmz still modelled"
    source = build_diagram(context).source
    grey, dotted = STATE_STYLE[ConduitState.NOT_MODELLED]
    edge = next(e for e in _edges(build_diagram(context)) if "C-01-hist-replication" in e)
    assert f'color="{grey}"' in edge and f"style={dotted}" in edge
    assert "not modelled fully" in source and "fw-dmz-ot (not at all)" in source


def test_linked_diagram_links_zones_conduits_and_exposures(example_report: CheckReport) -> None:
    source = build_diagram(example_report.context, links="/sites/bayport").source
    assert 'URL="/sites/bayport/zones/ops"' in source
    assert 'URL="/sites/bayport/conduits/C-04-ot-patch-pull"' in source
    assert 'URL="/sites/bayport/matrix/idmz/sup"' in source  # an exposure opens its zone pair
    assert "URL=" not in build_diagram(example_report.context).source  # the CLI's diagram links nothing


def test_a_large_register_is_drawn_one_arrow_per_zone_pair(example_report: CheckReport,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from plantgate.outputs import diagram

    monkeypatch.setattr(diagram, "MAX_CONDUIT_EDGES", 1)
    edges = [e for e in _edges(build_diagram(example_report.context, links="/s")) if "unregistered" not in e]
    statuses = conduit_statuses(example_report.context)
    pairs = {(s.conduit.initiating_zone, s.conduit.responding_zone) for s in statuses}
    assert len(edges) == len(pairs) < len(statuses)
    assert all(re.search(r'label="\d+ conduits"', e) and 'URL="/s/matrix/' in e for e in edges)
