"""The command line: exit codes, the demo, the JSON contract (golden) and the schema."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from plantgate.cli import main
from plantgate.firewalls.base import parse_config
from plantgate.load import load_site
from plantgate.schema import committed_schema, treaty_schema
from tests.sites import EXAMPLE, MINIMAL, line_of, write_files

GOLDEN = Path(__file__).parent / "golden" / "example_check.json"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_demo_prints_findings_and_exits_1(tmp_path: Path) -> None:
    code, out, err = run("demo", str(tmp_path / "demo"), "--as-of", "2026-11-26")
    assert code == 1
    line = line_of(EXAMPLE / "conduits.yaml", "- id: C-14-ews-sis")
    assert "PG-SAFETY-001" in out and f"conduits.yaml:{line}:5" in out
    assert (tmp_path / "demo" / "conduits.yaml").is_file()
    code_again, _, _ = run("demo", str(tmp_path / "demo"), "--as-of", "2026-11-26")
    assert code_again == 1, "re-running the demo replaces the previous demo folder"


def test_demo_refuses_to_overwrite_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("precious", encoding="utf-8")
    code, _, err = run("demo", str(tmp_path / "mine"))
    assert code == 2 and "not a PlantGate demo folder" in err
    assert (tmp_path / "mine" / "notes.txt").read_text(encoding="utf-8") == "precious"


def test_check_json_golden(tmp_path: Path) -> None:
    code, out, _ = run("check", str(EXAMPLE), "--format", "json", "--as-of", "2026-11-26")
    assert code == 1
    data = json.loads(out)
    if os.environ.get("PLANTGATE_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    assert data == json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("fail_on", "expected"), [("critical", 1), ("info", 1)])
def test_fail_on_threshold(fail_on: str, expected: int) -> None:
    code, _, _ = run("check", str(EXAMPLE), "--fail-on", fail_on, "--as-of", "2026-11-26")
    assert code == expected


def test_exit_0_when_nothing_reaches_the_threshold(tmp_path: Path) -> None:
    folder = write_files(tmp_path, MINIMAL)
    code, out, _ = run("check", str(folder), "--fail-on", "critical", "--as-of", "2026-11-26", "--format", "json")
    assert code == 0, out
    data = json.loads(out)
    assert data["summary"]["critical"] == 0 and data["summary"]["high"] > 0


def test_invalid_input_exits_2_with_locations_and_no_traceback(tmp_path: Path) -> None:
    files = {**MINIMAL, "zones.yaml": MINIMAL["zones.yaml"].replace("level: 3.5", "level: 9")}
    folder = write_files(tmp_path, files)
    for command in ("validate", "check"):
        code, out, err = run(command, str(folder))
        assert code == 2
        assert "zones.yaml:3:" in err and "Purdue level" in err
        assert "Traceback" not in err + out


def test_validate_ok() -> None:
    code, out, _ = run("validate", str(EXAMPLE), "--format", "json")
    assert code == 0
    assert json.loads(out)["counts"]["conduits"] == len(load_site(EXAMPLE).treaty.conduits)


def test_internal_error_exits_3(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("plantgate.cli_check.run_checks", explode)
    code, _, err = run("check", str(EXAMPLE))
    assert code == 3 and "Internal error" in err and "boom" in err


def test_help_teaches() -> None:
    code, out, _ = run("--help")
    assert code == 0 and "plantgate demo" in out and "Exit codes" in out
    code, out, _ = run("check", "--help")
    assert code == 0 and "--fail-on" in out and "--as-of" in out


def test_top_level_help_summaries_are_the_commands_own() -> None:
    """``plantgate --help`` lists commands from COMMANDS without importing them; hold each to its help."""
    import importlib
    import subprocess
    import sys

    import click

    from plantgate.cli import COMMANDS

    for name, (module, attribute, summary) in COMMANDS.items():
        command = getattr(importlib.import_module(module), attribute)
        for limit in (30, 45, 200):
            listed = click.Command(name, help=summary).get_short_help_str(limit)
            assert listed == command.get_short_help_str(limit), name
    probe = ("import sys; from plantgate.cli import main; sys.argv = ['plantgate', '--help']\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.startswith('plantgate.')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = done.stdout.strip().splitlines()[-1]
    assert loaded == "['plantgate.cli', 'plantgate.errors', 'plantgate.terminal']", \
        "plantgate --help must import no command module"


def test_committed_schema_equals_generated_one() -> None:
    assert committed_schema() == treaty_schema(), "run: plantgate schema -o src/plantgate/schema/treaty.schema.json"
    code, out, _ = run("schema")
    assert code == 0 and json.loads(out) == treaty_schema()


def test_schema_rejects_unknown_keys_like_the_loader() -> None:
    schema = treaty_schema()
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["Conduit"]["additionalProperties"] is False


def test_fw_lint_names_the_overly_broad_rule() -> None:
    code, out, _ = run("fw", "lint", str(EXAMPLE / "firewalls" / "fw-it-dmz.asa"), "--format", "json")
    assert code == 0
    issues = json.loads(out)
    broad = [i for i in issues if i["kind"] == "overly_broad"]
    assert broad and broad[0]["rule"]["id"] == "CORP_IN#2"


def test_fw_lint_text_counts_each_written_rule_once() -> None:
    code, out, _ = run("fw", "lint", str(EXAMPLE / "firewalls" / "fw-it-dmz.asa"))
    written = len({id(r) for f in parse_config(EXAMPLE / "firewalls" / "fw-it-dmz.asa").filters.values()
                   for r in f.rules})
    assert code == 0 and f"issues in {written} rules; filters linted as the device applies them: CORP_IN" in out


def test_fw_show_json_is_the_ruleset_dump_compact_or_indented() -> None:
    from plantgate.firewalls.dump import ruleset_to_dict

    config = EXAMPLE / "firewalls" / "fw-it-dmz.asa"
    expected = ruleset_to_dict(parse_config(config), with_text=True)
    code, out, _ = run("fw", "show", str(config), "--format", "json")
    assert code == 0 and json.loads(out) == expected
    assert "\n" not in out.rstrip("\n"), "compact when not on a terminal"
    code, out, _ = run("fw", "show", str(config), "--format", "json", "--indent")
    assert code == 0 and json.loads(out) == expected and out.startswith('{\n  "name": ')


def test_fw_test_packets_json_gives_the_one_packet_verdicts(tmp_path: Path) -> None:
    from plantgate.netspace import evaluate
    from plantgate.netspace.packet_file import make_flow

    config = EXAMPLE / "firewalls" / "fw-it-dmz.asa"
    ruleset = parse_config(config)
    zones = ruleset.zones
    rows = [("10.10.8.5", "172.16.35.30", "tcp", "40000", "3389"), ("172.16.35.30", "10.10.8.5", "udp", "1", "53"),
            ("10.10.8.5", "172.16.35.31", "icmp", "", ""), ("2001:db8::1", "2001:db8::2", "tcp", "1", "443"),
            ("10.10.8.9", "172.16.35.30", "6", "1024", "443")]
    lines = ["src,dst,proto,sport,dport,from_zone,to_zone"]
    lines += [",".join([*row, zones[k % len(zones)], zones[(k + 1) % len(zones)]]) for k, row in enumerate(rows)]
    packets = tmp_path / "packets.csv"
    packets.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, _ = run("fw", "test", str(config), "--packets", str(packets), "--format", "json")
    assert code == 0
    got = json.loads(out)
    for k, row in enumerate(rows):
        verdict = evaluate(ruleset, make_flow(*row), zones[k % len(zones)], zones[(k + 1) % len(zones)])
        assert got[k]["verdict"] == ("permit" if verdict.permitted else "deny")
        assert got[k]["filter"] == verdict.filter
        assert got[k]["rule"] == (None if verdict.rule is None else {
            "id": verdict.rule.rule_id, "line": verdict.rule.span.line, "text": verdict.rule.span.text})


@pytest.mark.parametrize(("argv", "status"), [
    (["fw", "show", "tests/firewalls/data/asa/plant_edge.cfg", "--format", "json"], 0),
    (["fw", "show", "no-such-file.cfg"], 2),
])
def test_the_command_process_ends_with_its_status_its_whole_output_and_its_exit_handlers(
        argv: list[str], status: int) -> None:
    """``cli.run`` skips the interpreter's teardown (``exit_now``), never the output or the exit handlers."""
    import subprocess
    import sys

    probe = ("import atexit, sys\natexit.register(lambda: print('exit handler ran', file=sys.stderr))\n"
             f"from plantgate.cli import run\nsys.argv = ['plantgate', *{argv!r}]\nrun()")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == status, done.stderr
    assert "exit handler ran" in done.stderr
    if status == 0:
        assert json.loads(done.stdout)["filters"], "the whole JSON document was written"
