"""KEV reader: the real catalog in both forms, unknown fields, and clear errors on bad input."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from plantgate.errors import InputError
from plantgate.feeds.kev import load_kev, parse_kev_csv, parse_kev_json
from tests.conftest import shared_path


def test_real_catalog_json_and_csv_agree() -> None:
    folder = shared_path("ot-data", "kev")
    from_json = load_kev(folder / "known_exploited_vulnerabilities.json")
    from_csv = load_kev(folder / "known_exploited_vulnerabilities.csv")
    assert len(from_json) == 1404 == len(from_csv)
    assert set(from_json.entries) == set(from_csv.entries)
    entry = from_json.get("CVE-2024-3400")
    assert entry is not None and entry.product == "PAN-OS" and entry.date_added == dt.date(2024, 4, 12)
    assert from_csv.get("cve-2024-3400") == from_csv.get("CVE-2024-3400") is not None
    assert from_json.version == "2025.08.25"


def test_unknown_fields_are_ignored() -> None:
    text = ('{"catalogVersion": "x", "vulnerabilities": [{"cveID": "CVE-2024-0001", "vendorProject": "V", '
            '"product": "P", "dateAdded": "2024-01-02", "forensicTriage": {"steps": ["a"]}}]}')
    catalog = parse_kev_json(text, "kev.json")
    assert "CVE-2024-0001" in catalog and "CVE-2024-0002" not in catalog
    csv_text = "cveID,vendorProject,product,dateAdded,forensicTriage\nCVE-2024-0001,V,P,2024-01-02,yes\n"
    assert "CVE-2024-0001" in parse_kev_csv(csv_text, "kev.csv")


def test_bad_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "kev.json"
    path.write_text('{\n  "vulnerabilities": [\n    {"cveID": "CVE-2024-1", }\n  ]\n}\n')
    with pytest.raises(InputError) as info:
        load_kev(path)
    problem = info.value.problems[0]
    assert problem.location.line == 3 and "invalid JSON" in problem.message


def test_bad_cve_and_date_are_located() -> None:
    text = ('{"vulnerabilities": [\n {"cveID": "CVE-2024-0001", "dateAdded": "2024-01-02"},\n'
            ' {"cveID": "NOT-A-CVE", "dateAdded": "2024-01-02"}\n]}')
    with pytest.raises(InputError) as info:
        parse_kev_json(text, "kev.json")
    assert info.value.problems[0].location.line == 3 and "not a CVE id" in info.value.problems[0].message
    csv_text = "cveID,vendorProject,product,dateAdded\nCVE-2024-0001,V,P,2024-01-02\nCVE-2024-0002,V,P,soon\n"
    with pytest.raises(InputError) as info:
        parse_kev_csv(csv_text, "kev.csv")
    assert info.value.problems[0].location.line == 3 and "dateAdded" in info.value.problems[0].message


def test_csv_without_required_columns() -> None:
    with pytest.raises(InputError, match="lacks column"):
        parse_kev_csv("cve,vendor\nCVE-2024-0001,V\n", "kev.csv")
