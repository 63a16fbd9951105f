"""Triple reconciliation: observed flows against the register and the firewalls, on the example site."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from click.testing import CliRunner

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.observed import observed_flow_files, observed_flows
from plantgate.cli import main
from plantgate.cli_seed import flows
from plantgate.load import load_site
from tests.sites import EXAMPLE, copy_example

HEADER = (EXAMPLE / "flows" / "conn.log").read_text().split("\n#types")[0] + "\n#types" + \
    (EXAMPLE / "flows" / "conn.log").read_text().split("\n#types")[1].split("\n")[0] + "\n"


def _findings(folder: Path, extra: list[Path] | None = None) -> list[Finding]:
    ctx = CheckContext(load_site(folder), dt.date(2026, 11, 26))
    if extra:
        ctx.extra_flow_files = extra  # type: ignore[attr-defined]
    return list(observed_flows(ctx))


def _of(findings: list[Finding], rule_id: str) -> list[Finding]:
    return [f for f in findings if f.rule_id == rule_id]


def test_example_site_problems_are_each_found() -> None:
    findings = _findings(EXAMPLE)
    bypass = _of(findings, "PG-OBSERVED-002")
    assert [f.subjects for f in bypass] == [("enterprise->ops", "10.10.8.15->10.30.0.30")]
    assert bypass[0].severity is Severity.CRITICAL
    evidence = [str(e) for e in bypass[0].evidence]
    assert evidence[0].endswith("flows/conn.log:21") and any("fw-it-dmz.asa:55" in e for e in evidence)
    assert bypass[0].witness == {"src": "10.10.8.15", "dst": "10.30.0.30", "proto": 6, "sport": 55321, "dport": 3389}
    unregistered = {f.subjects[1] for f in _of(findings, "PG-OBSERVED-001")}
    assert unregistered == {"172.16.35.30->10.20.0.21", "10.10.8.15->10.30.0.30"}
    public = _of(findings, "PG-OBSERVED-003")
    assert [f.subjects for f in public] == [("sup", "10.20.0.21->8.8.8.8")] and "public DNS" in public[0].message
    assert [f.subjects[1] for f in _of(findings, "PG-OBSERVED-004")] == ["10.10.8.15->10.30.0.30"]
    wrong = _of(findings, "PG-OBSERVED-006")
    assert [f.subjects[-1] for f in wrong] == ["C-02-bi-replica"] and "'ssh'" in wrong[0].message
    never = {f.subjects[0] for f in _of(findings, "PG-OBSERVED-005")}
    assert "C-06-remote-jump" in never and "C-01-hist-replication" not in never
    assert "C-14-ews-sis" not in never  # the sensors never saw the SIS zone: no judgement


def test_unanswered_attempt_is_no_bypass_and_no_flows_means_no_findings(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    (folder / "observed.yaml").unlink()
    assert _findings(folder) == []
    attempt = tmp_path / "attempt.log"
    attempt.write_text(HEADER + "\t".join(["1795155000.000000", "Cz1", "10.10.8.15", "55400", "10.30.0.30", "3389",
                                           "tcp", "-", "-", "-", "-", "S0", "T", "T", "0", "S", "1", "60", "0", "0",
                                           "-"]) + "\n")
    findings = _findings(folder, [attempt])
    assert observed_flow_files(CheckContext(load_site(folder))) == []
    assert _of(findings, "PG-OBSERVED-002") == [] and _of(findings, "PG-OBSERVED-004") == []
    assert [f.severity for f in _of(findings, "PG-OBSERVED-001")] == [Severity.LOW]


def test_missing_flow_file_is_an_input_error(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    (folder / "flows" / "conn.log").unlink()
    result = CliRunner().invoke(main, ["flows", str(folder)])
    assert result.exit_code == 2 and "flow file 'flows/conn.log' not found" in result.stderr


def test_flows_matrix_json_and_csv() -> None:
    result = CliRunner().invoke(flows, [str(EXAMPLE), "--format", "json"])
    assert result.exit_code == 0, result.output
    import json

    cells = {(c["from_zone"], c["to_zone"]): c for c in json.loads(result.output)["matrix"]}
    assert cells[("enterprise", "ops")]["firewalls"] == "denied (bypass)"
    assert cells[("idmz", "sup")]["register"] == "unregistered" and cells[("idmz", "sup")]["firewalls"] == "permitted"
    assert cells[("ops", "idmz")] | {"bytes": 0} == {"from_zone": "ops", "to_zone": "idmz", "flows": 4, "sessions": 4,
                                                     "bytes": 0, "unregistered_flows": 0, "denied_flows": 0,
                                                     "register": "registered", "firewalls": "permitted"}
    csv_out = CliRunner().invoke(flows, [str(EXAMPLE), "--format", "csv"]).output.splitlines()
    assert csv_out[0].startswith("from_zone,to_zone,flows") and "enterprise,ops,1,1," in csv_out[2]
