"""Evidence text as Windows and Excel write it; what is not text, or too big, is refused by name."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from plantgate.errors import InputError
from plantgate.feeds.textfile import read_evidence_text

TEXT = '[{"Name": "corp.example", "Direction": "BiDirectional", "Note": "café"}]\r\n'


@pytest.mark.parametrize(("bom", "encoding"), [
    (b"", "utf-8"), (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF32_LE, "utf-32-le"),
])
def test_every_encoding_windows_tools_write_reads_the_same(tmp_path: Path, bom: bytes, encoding: str) -> None:
    path = tmp_path / "trusts.json"
    path.write_bytes(bom + TEXT.encode(encoding))
    assert read_evidence_text(path) == TEXT


def test_latin1_without_a_bom_is_refused_at_its_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "inventory.csv"
    path.write_bytes(b"name,vendor\nhmi-1,Siemens\nplc-2,M\xfcller\n")
    with pytest.raises(InputError) as caught:
        read_evidence_text(path, "inventory")
    assert str(caught.value.problems[0].location) == f"{path}:3:8"
    assert "not valid UTF-8" in caught.value.problems[0].message


def test_devices_folders_missing_and_oversized_files_are_input_errors(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b"x" * 2048)
    cases = {Path("/dev/zero"): "not a regular file", tmp_path: "is a folder",
             tmp_path / "absent.json": "not found", big: "over the 1,024-byte limit"}
    for path, words in cases.items():
        with pytest.raises(InputError) as caught:
            read_evidence_text(path, limit=1024)
        assert words in str(caught.value)
