"""CSV rows whose reader errors (a field over Python's 128 KiB limit, a broken quote) name their line.

The csv module raises ``csv.Error`` from inside its iterator, so a reader that loops over rows
cannot catch it per row. Every CSV reader of evidence iterates through ``checked`` instead, and
the error becomes an InputError at the line the csv reader had reached.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from plantgate.errors import InputError

Row = TypeVar("Row")
FIELD_LIMIT = csv.field_size_limit()
"""Characters in one field (the csv module's own default, 128 Ki): no real evidence cell is longer."""


def checked(rows: Iterable[Row], file: str, line: Callable[[], int]) -> Iterator[Row]:
    """``rows`` as they come; a ``csv.Error`` becomes an InputError at ``line()``, the line reached
    (the csv reader's own ``line_num``: a DictReader's lags one row behind)."""
    iterator = iter(rows)
    while True:
        try:
            row = next(iterator)
        except StopIteration:
            return
        except csv.Error as exc:
            raise csv_error(exc, file, line()) from None
        yield row


def header_of(reader: csv.DictReader[str], file: str, first_line: int = 1) -> list[str]:
    """The field names of a DictReader (reading the header row), with its csv errors located."""
    try:
        return list(reader.fieldnames or [])
    except csv.Error as exc:
        raise csv_error(exc, file, first_line - 1 + max(reader.reader.line_num, 1)) from None


def csv_error(exc: csv.Error, file: str, line: int) -> InputError:
    """The InputError for one csv.Error: a too-long field is said in the user's terms."""
    if "field larger than field limit" in str(exc):
        return InputError.at(file, line, 1, f"a CSV field longer than {FIELD_LIMIT:,} characters",
                             f"CSV fields of at most {FIELD_LIMIT:,} characters")
    return InputError.at(file, line, 1, f"invalid CSV: {exc}", "a well-formed CSV file")
