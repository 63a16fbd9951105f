"""What a small treaty text can make the reader build is capped, each cap an error with a place (issue 17 §3)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from plantgate.cli import main
from plantgate.errors import InputError
from plantgate.load import load_site, reader, yaml12
from tests.sites import MINIMAL, write_files


def _laughs(levels: int = 9) -> str:
    text = 'lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for n in range(1, levels):
        text += f"lol{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]\n"
    return text


def test_nine_way_aliases_are_refused_quickly_at_a_place() -> None:
    text = _laughs()
    assert len(text) < 600
    started = time.perf_counter()
    with pytest.raises(yaml12.YamlProblem, match="aliases expand to more than") as caught:
        yaml12.parse(text)
    assert time.perf_counter() - started < 2  # was 101 s and 2.7 GB
    assert caught.value.line >= 1 and caught.value.column >= 1


def test_a_few_aliases_still_read() -> None:
    document, _ = yaml12.parse("a: &x {p: tcp, ports: [502]}\nb: *x\nc: *x\n")
    assert document["b"] == document["c"] == {"p": "tcp", "ports": [502]}


@pytest.mark.parametrize("text", [
    "a: " + "[" * 200 + "]" * 200 + "\n",
    "a:\n" + "".join("  " * i + "- k:\n" for i in range(1, 120)),
    "a: " + "[" * 5000 + "]" * 5000 + "\n",  # libyaml's own limit answers first; still a problem with a place
])
def test_deep_nesting_is_a_problem_with_a_place(text: str) -> None:
    with pytest.raises(yaml12.YamlProblem, match="nest") as caught:
        yaml12.parse(text)
    assert caught.value.line >= 1


def test_a_huge_value_is_refused() -> None:
    with pytest.raises(yaml12.YamlProblem, match="characters; at most") as caught:
        yaml12.parse("description: " + "x" * (yaml12.MAX_SCALAR + 1) + "\n")
    assert (caught.value.line, caught.value.column) == (1, 14)


def test_treaty_file_caps_reach_the_user_with_file_line_column(tmp_path: Path) -> None:
    site = write_files(tmp_path / "site", {**MINIMAL, "extra.yaml": _laughs()})
    result = CliRunner().invoke(main, ["validate", str(site)])
    assert result.exit_code == 2, result.output
    output = result.output.replace("\n", "")  # rich wraps long lines
    assert f"{site / 'extra.yaml'}:1:" in output and "aliases expand" in output


def test_a_treaty_file_over_its_size_cap_or_not_utf8_is_refused(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    site = write_files(tmp_path / "site", MINIMAL)
    (site / "notes.yaml").write_bytes(b"site_notes: caf\xe9\n")
    with pytest.raises(InputError) as caught:
        load_site(site)
    where = f"{site / 'notes.yaml'}:1:16: byte 0xe9 is not UTF-8"
    assert any(str(p).startswith(where) for p in caught.value.problems)
    (site / "notes.yaml").unlink()
    monkeypatch.setattr(reader, "MAX_TREATY_FILE", 64)
    with pytest.raises(InputError, match="zones.yaml"):
        load_site(site)


def test_an_anchor_reused_by_every_conduit_of_a_large_register_still_reads() -> None:
    items = "".join(f"  - {{id: c{i}, services: *web}}\n" for i in range(10_000))
    document, _ = yaml12.parse("web: &web [{protocol: tcp, ports: [443, 8443]}]\nconduits:\n" + items)
    assert len(document["conduits"]) == 10_000 and document["conduits"][-1]["services"][0]["ports"] == [443, 8443]


def test_the_dumper_writes_shared_values_out_instead_of_anchoring_them() -> None:
    shared = [{"protocol": "tcp", "ports": [443]}]
    text = yaml12.dump({"a": shared, "b": shared})
    assert "&" not in text and "*" not in text
    assert yaml12.parse(text)[0] == {"a": shared, "b": shared}
