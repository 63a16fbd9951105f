"""JSON evidence that the decoder or the readers would choke on ends in an input error with its place.

Issue 17 §8: nesting 100,000 deep, integers over 4,300 digits, product ids of the wrong type in a
CSAF ``product_status`` and files that are not UTF-8 crashed the readers with tracebacks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from plantgate.errors import InputError
from plantgate.feeds.ad_trusts import load_trust_export
from plantgate.feeds.asset_inventory import read_inventory
from plantgate.feeds.csaf import load_csaf
from plantgate.feeds.flows import read_flows
from plantgate.feeds.jsontext import MAX_DEPTH, parse_json
from plantgate.feeds.kev import load_kev
from plantgate.feeds.netbox import read_netbox_files
from plantgate.feeds.vulnrichment import load_vulnrichment
from tests.sites import EXAMPLE

READERS: dict[str, Callable[[Path], Any]] = {
    "csaf": load_csaf, "kev": load_kev, "vulnrichment": load_vulnrichment, "trusts": load_trust_export,
    "inventory": read_inventory, "netbox": lambda path: read_netbox_files([path]),
    "zeek-json": lambda path: read_flows([path], progress=False),
}


def problem_of(reader: Callable[[Path], Any], path: Path) -> str:
    with pytest.raises(InputError) as caught:
        reader(path)
    problem = caught.value.problems[0]
    assert problem.location.file == str(path) and problem.location.line >= 1
    return str(problem)


@pytest.mark.parametrize("name", sorted(READERS))
def test_nesting_100000_deep_is_an_input_error_at_the_first_level_too_deep(tmp_path: Path, name: str) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}\n", encoding="utf-8")
    assert f"deep.json:1:{6 + MAX_DEPTH}: JSON nested more than {MAX_DEPTH} levels" in problem_of(READERS[name], path)


@pytest.mark.parametrize("name", sorted(READERS))
def test_an_integer_of_5000_digits_is_an_input_error_at_the_number(tmp_path: Path, name: str) -> None:
    path = tmp_path / "big.json"
    path.write_text('{"count": ' + "7" * 5000 + "}\n", encoding="utf-8")
    assert "big.json:1:11: a number of 5,000 digits" in problem_of(READERS[name], path)


@pytest.mark.parametrize("name", sorted(READERS))
def test_a_file_that_is_not_utf8_is_an_input_error_at_the_bad_byte(tmp_path: Path, name: str) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"vendor": "Schneider \xc9lectrique"}\n')
    assert "latin1.json:1:" in problem_of(READERS[name], path)


def test_nan_and_infinity_are_not_json(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"x.json:2:7: invalid JSON: NaN is not JSON"):
        parse_json('{"a": 1,\n "b": NaN}', "x.json")


def test_deep_brackets_inside_strings_are_text_not_nesting() -> None:
    assert parse_json(json.dumps({"a": "[" * 5000}), "x.json") == {"a": "[" * 5000}


def _csaf(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    document = json.loads((EXAMPLE / "advisories" / "icsa-24-116-03.json").read_text(encoding="utf-8"))
    edit(document["vulnerabilities"][0])
    path = tmp_path / "advisory.json"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


@pytest.mark.parametrize("bad", [5, {"product_id": "CSAFPID-0001"}, None, ["CSAFPID-0001"], ""])
def test_a_product_status_id_that_is_not_a_string_is_an_input_error(tmp_path: Path, bad: Any) -> None:
    path = _csaf(tmp_path, lambda v: v["product_status"].update(known_affected=[bad]))
    assert "product_status.known_affected holds" in problem_of(load_csaf, path)


def test_remediation_and_score_product_ids_must_be_strings(tmp_path: Path) -> None:
    path = _csaf(tmp_path, lambda v: v["remediations"][0].update(product_ids=[{"a": 1}]))
    assert "remediation 'product_ids' holds" in problem_of(load_csaf, path)
    path = _csaf(tmp_path, lambda v: v.update(scores=[{"cvss_v3": {"baseScore": 5.0}, "products": [[1]]}]))
    assert "score 'products' holds" in problem_of(load_csaf, path)
