"""CSV evidence with a field over the csv module's 128 KiB limit, or not in UTF-8, is an input error
at its line (issue 17 §8: trust CSV, ``import assets``, ``import csv``, flow CSV and ``fw test
--packets`` crashed with ``_csv.Error`` or ``UnicodeDecodeError``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from plantgate.errors import InputError
from plantgate.feeds.ad_trusts import load_trust_export
from plantgate.feeds.asset_inventory import read_inventory
from plantgate.feeds.csvtext import FIELD_LIMIT
from plantgate.feeds.flows import read_flows
from plantgate.feeds.inventory_csv import read_inventory_csv
from plantgate.feeds.kev import load_kev
from plantgate.netspace.packet_file import read_packet_batch

# (reader, header line, a good row): the huge field goes into the third line
CSV_READERS: dict[str, tuple[Callable[[Path], Any], str, str]] = {
    "trusts": (lambda p: load_trust_export(p, export_format="get-adtrust-csv"),
               "Name,Direction,TrustType", "corp.example,Outbound,Forest"),
    "assets": (read_inventory, "name,ip address,zone", "plc-1,10.0.0.5,control"),
    "import-csv": (read_inventory_csv, "type,address,name", "host,10.0.0.5,plc-1"),
    "flows": (lambda p: read_flows([p], progress=False), "src,dst,proto,dport", "10.0.0.1,10.0.0.2,tcp,502"),
    "packets": (read_packet_batch, "src,dst,proto,sport,dport", "10.0.0.1,10.0.0.2,tcp,1234,502"),
    "kev": (load_kev, "cveID,vendorProject,product,dateAdded", "CVE-2024-0001,Acme,PLC,2024-01-02"),
}


def problem_of(reader: Callable[[Path], Any], path: Path) -> str:
    with pytest.raises(InputError) as caught:
        reader(path)
    return str(caught.value.problems[0])


@pytest.mark.parametrize("name", sorted(CSV_READERS))
def test_a_field_over_the_csv_limit_is_an_input_error_at_its_line(tmp_path: Path, name: str) -> None:
    reader, header, row = CSV_READERS[name]
    path = tmp_path / "huge.csv"
    path.write_text(f"{header}\n{row}\n" + "x" * (FIELD_LIMIT + 10) + "," + row + "\n", encoding="utf-8")
    assert f"huge.csv:3:1: a CSV field longer than {FIELD_LIMIT:,} characters" in problem_of(reader, path)


@pytest.mark.parametrize("name", sorted(CSV_READERS))
def test_a_huge_quoted_header_field_is_an_input_error_at_line_1(tmp_path: Path, name: str) -> None:
    reader, header, row = CSV_READERS[name]
    path = tmp_path / "huge.csv"
    path.write_text('"' + "h" * (FIELD_LIMIT + 10) + f'",{header}\n{row}\n', encoding="utf-8")
    assert "huge.csv:1:1: a CSV field longer than" in problem_of(reader, path)


@pytest.mark.parametrize("name", sorted(CSV_READERS))
def test_a_csv_that_is_not_utf8_is_an_input_error_at_the_bad_line(tmp_path: Path, name: str) -> None:
    reader, header, row = CSV_READERS[name]
    path = tmp_path / "latin1.csv"
    path.write_bytes(f"{header}\n{row}\n".encode() + b"Soci\xe9t\xe9," + row.encode() + b"\n")
    assert "latin1.csv:3:" in problem_of(reader, path)
