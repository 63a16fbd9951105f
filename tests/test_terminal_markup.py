"""Text from input reaches the terminal as it was written: rich markup in a name is never parsed.

Issue 17 §8: a ``[/]`` in an ACL name, a site name or a change title crashed the output with a
raw traceback and exit 1.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from plantgate.cli import main
from plantgate.terminal import make_console, styled
from tests.sites import copy_example, edit

HOSTILE = "[/] [bold]x[link=file:///etc/passwd]y[/link] \\[z"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_styled_text_keeps_brackets_of_input_literally() -> None:
    console = make_console(record=True, width=200)
    console.print(f"site {HOSTILE}")
    console.print(styled(("Valid", "green"), f": {HOSTILE}"))
    assert console.export_text().splitlines() == [f"site {HOSTILE}", f"Valid: {HOSTILE}"]


@pytest.mark.parametrize("command", [["validate"], ["check", "--as-of", "2026-11-26"]])
def test_a_site_name_with_markup_prints_as_written(tmp_path: Path, command: list[str]) -> None:
    folder = copy_example(tmp_path)
    edit(folder / "site.yaml", "name: Bayport Olefins", f"name: '{HOSTILE}'")
    code, out, err = run(command[0], str(folder), *command[1:])
    assert code in (0, 1), err
    assert HOSTILE in out and "Traceback" not in out + err


def test_an_acl_name_with_markup_prints_in_fw_show_and_lint(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    config = folder / "firewalls" / "fw-it-dmz.asa"
    config.write_text(config.read_text(encoding="utf-8").replace("CORP_IN", "[/]CORP[bold]"), encoding="utf-8")
    for command in (["fw", "show", str(config)], ["fw", "lint", str(config)]):
        code, out, err = run(*command)
        assert code in (0, 1), err
        assert "[/]CORP[bold]" in out and "Traceback" not in out + err


def test_a_change_title_with_markup_prints_in_change_check(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    record = folder / "changes" / "CR-2026-101.yaml"
    edit(record, "title: Let the OT time server sync from the DMZ time relay", f"title: '{HOSTILE}'")
    code, out, err = run("change", "check", str(record))
    assert code in (0, 1), err
    assert HOSTILE in out and "Traceback" not in out + err


def test_an_error_message_with_markup_is_printed_not_parsed(tmp_path: Path) -> None:
    missing = tmp_path / "[/]nowhere[bold]"
    code, out, err = run("validate", str(missing))
    assert code == 2
    assert "[/]nowhere[bold]" in err.replace("\n", "") and "Traceback" not in out + err  # rich wraps long lines


def test_every_console_is_made_without_markup() -> None:
    """One place makes consoles; a rich Console or markup-reading column elsewhere would bring the crash back."""
    source = Path(__file__).resolve().parents[1] / "src" / "plantgate"
    offenders = []
    for path in source.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.name != "terminal.py" and "Console(" in text.replace("make_console(", ""):
            offenders.append(f"{path.name}: Console(")
        if "markup=True" in text or ('TextColumn("' in text and "markup=False" not in text):
            offenders.append(f"{path.name}: markup")
    assert offenders == []
