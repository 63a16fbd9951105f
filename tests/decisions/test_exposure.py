"""Exposure from the register (no firewall joins the zones) and its effect on the decision."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from plantgate.checks.context import CheckContext
from plantgate.decisions.assess import assess
from plantgate.decisions.exposure import compute_exposure
from plantgate.load import load_site
from plantgate.model.vulns import ExposureLevel, ExposureMapping
from tests.sites import EXAMPLE, MINIMAL, write_files

DAY = dt.date(2026, 11, 26)

GATEWAY = """
    assets:
      - {id: gw, name: Gateway, zone: dmz, role: firewall, addresses: [172.16.0.60],
         vendor: Siemens, product: RUGGEDCOM APE1808, version: "11.0.3"}
      - {id: bastion, name: Bastion, zone: corp, role: jump_host, addresses: [10.0.7.20]}
    vulnerabilities:
      feeds: {kev: [advisories/kev.json], csaf: [advisories/icsa-24-116-03.json],
              vulnrichment: [advisories/vulnrichment]}
      matches:
        - {asset: gw, advisory: ICSA-24-116-03, product_id: CSAFPID-0001, decided_by: boss, decided_on: 2026-11-20,
           services: [{protocol: tcp, ports: [443]}]}
    """


def _site(tmp_path: Path, conduits: str) -> Path:
    files = dict(MINIMAL)
    files["conduits.yaml"] = conduits
    files["vulns.yaml"] = GATEWAY
    folder = write_files(tmp_path / "site", files)
    shutil.copytree(EXAMPLE / "advisories", folder / "advisories")
    return folder


def _conduit(sources: str, from_zone: str = "corp", ports: str = "443") -> str:
    return f"""
        conduits:
          - id: c-gw
            from_zone: {from_zone}
            to_zone: dmz
            services: [{{protocol: tcp, ports: [{ports}]}}]
            sources: {sources}
            destinations: [gw]
            ot_approver: ot
        """


def _level(folder: Path) -> tuple[ExposureLevel, str]:
    ctx = CheckContext(load_site(folder), DAY)
    gateway = ctx.treaty.asset("gw")
    assert gateway is not None
    exposure = compute_exposure(ctx, gateway, [], ExposureMapping())
    _, decisions = assess(ctx)
    return exposure.level, decisions[0].priority.value


def test_open_controlled_small_from_the_register(tmp_path: Path) -> None:
    assert _level(_site(tmp_path / "a", _conduit("[]"))) == (ExposureLevel.OPEN, "immediate")
    assert _level(_site(tmp_path / "b", _conduit("[bastion]"))) == (ExposureLevel.CONTROLLED, "out-of-cycle")
    assert _level(_site(tmp_path / "c", _conduit("[10.0.8.0/24]")))[0] is ExposureLevel.OPEN  # unnamed sources
    assert _level(_site(tmp_path / "d", _conduit("[]", from_zone="ops")))[0] is ExposureLevel.CONTROLLED
    assert _level(_site(tmp_path / "e", "conduits: []\n")) == (ExposureLevel.SMALL, "out-of-cycle")


def test_only_the_vulnerable_service_counts(tmp_path: Path) -> None:
    folder = _site(tmp_path, _conduit("[]", ports="22"))
    ctx = CheckContext(load_site(folder), DAY)
    _, decisions = assess(ctx)
    assert decisions[0].inputs.exposure == "small"  # SSH is open, the GlobalProtect port is not
    gateway = ctx.treaty.asset("gw")
    assert gateway is not None
    assert compute_exposure(ctx, gateway, [], ExposureMapping()).level is ExposureLevel.OPEN


def test_overrides_and_mapping_are_honoured(tmp_path: Path) -> None:
    folder = _site(tmp_path, _conduit("[]"))
    text = (folder / "vulns.yaml").read_text()
    text += ("  overrides:\n    - {asset: gw, exposure: controlled, human_impact: low, reason: portal disabled "
             "(vendor default), decided_by: boss}\n")
    (folder / "vulns.yaml").write_text(text)
    ctx = CheckContext(load_site(folder), DAY)
    decision = assess(ctx)[1][0]
    assert (decision.inputs.exposure, decision.inputs.human_impact, decision.priority.value) == \
        ("controlled", "low", "out-of-cycle")
    assert any("treaty override" in reason for reason in decision.inputs.why)
