"""The fleet benchmark's generator writes valid, distinct plants of the asked size (small sizes here)."""

from __future__ import annotations

import sys
from pathlib import Path

from click.testing import CliRunner

from plantgate.cli import main
from plantgate.load import load_site

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from generate_fleet import generate_fleet  # noqa: E402


def test_generated_plants_validate_and_differ(tmp_path: Path) -> None:
    folders = generate_fleet(2, tmp_path, seed=5, rules=300, conduits=120, assets=60)
    runner = CliRunner()
    for folder in folders:
        result = runner.invoke(main, ["validate", str(folder)])
        assert result.exit_code == 0, result.output
    plants = [load_site(folder) for folder in folders]
    for site in plants:
        assert len(site.treaty.conduits) == 120 and len(site.treaty.assets) == 60
        big = [fw for fw in site.treaty.firewalls if fw.id in ("fw-it-dmz", "fw-dmz-ot", "fw-ops-ot")]
        assert sorted(fw.vendor for fw in big) == ["asa", "fortigate", "panos"]
    first, second = (site.treaty for site in plants)
    assert first.site.name != second.site.name
    assert {c.id: c.sources for c in first.conduits} != {c.id: c.sources for c in second.conduits}
    assert [m.asset for m in first.vulnerabilities.matches] == ["dmz-ape1808"]  # plant 0 of every ten is exposed
    assert second.vulnerabilities.matches == []
    assert generate_fleet(2, tmp_path, seed=5, rules=300, conduits=120, assets=60) == folders  # reused
