"""The estate commands through the CLI: reach, access-map, render and render --as-change."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from plantgate.cli import main
from plantgate.load import load_site
from tests.sites import EXAMPLE, copy_example


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_reach_json_and_service_filter() -> None:
    code, out = run("reach", str(EXAMPLE), "--from", "enterprise", "--to", "sup", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["paths"][0]["firewalls"] == ["fw-it-dmz", "fw-dmz-ot"]
    assert data["paths"][0]["hops"][1]["rules"][0]["line"] == 16
    code, out = run("reach", str(EXAMPLE), "--from", "enterprise", "--to", "sup", "--service", "tcp/502")
    assert code == 0 and "0 path(s) deliver flows" in out


def test_reach_bad_input_exits_2() -> None:
    assert run("reach", str(EXAMPLE), "--from", "enterprise", "--to", "nowhere")[0] == 2
    assert run("reach", str(EXAMPLE), "--from", "enterprise", "--to", "sup", "--service", "tcp/99999")[0] == 2


def test_access_map_text() -> None:
    code, out = run("access-map", str(EXAMPLE), "--zone", "sup", "--as-of", "2026-11-26")
    assert code == 0
    assert "from enterprise via enterprise -[fw-it-dmz]-> idmz -[fw-dmz-ot]-> sup" in out
    assert "OT approver David Chen (d.chen); review by 2027-01-31" in out
    assert "[REMOTE/SUPPLIER ACCESS]" in out


def test_render_and_as_change(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    code, out = run("render", str(site), "--firewall", "fw-it-dmz")
    assert code == 0 and "access-group PG_CORP_IN in interface corp" in out
    code, out = run("render", str(site), "--firewall", "fw-dmz-ot", "--as-change", "--as-of", "2026-11-26")
    assert code == 0, out
    record = site / "changes" / "CR-RENDER-fw-dmz-ot-2026-11-26.yaml"
    text = record.read_text()
    assert "#   closes idmz -> sup: tcp/443,5900" in text and "#   closes idmz -> ops: tcp/8530" in text
    assert "opens" not in text.split("\nid:")[0], "the register is narrower than the live config: it only closes"
    loaded = load_site(site)
    change = next(c for c in loaded.treaty.changes if c.id == "CR-RENDER-fw-dmz-ot-2026-11-26")
    assert (site / change.candidate_config).read_text().startswith("# Iptables FORWARD Policy")
    code, out = run("change", "check", str(record))
    assert code == 0 and "inside the register after its edit: yes" in out
