"""A ruleset sent to another process (``ruleset_pickle``) comes back equal, field for field."""

from __future__ import annotations

from pathlib import Path

import pytest

from plantgate.errors import InputError
from plantgate.firewalls import ruleset_pickle
from plantgate.firewalls.base import parse_config
from plantgate.firewalls.dump import ruleset_to_dict
from plantgate.firewalls.ruleset import MAX_WARNING, ParseWarning
from tests.conftest import SHARED
from tests.sites import EXAMPLE

VENDOR_FOLDERS = {"asa": "cisco-asa", "fortigate": "fortigate", "panos": "paloalto-panos", "srx": "juniper-srx",
                  "iptables": "iptables", "nftables": "nftables"}


def _configs() -> list[tuple[str | None, Path]]:
    found: list[tuple[str | None, Path]] = [(None, path) for path in sorted((EXAMPLE / "firewalls").glob("fw-*"))]
    for vendor, folder in VENDOR_FOLDERS.items():  # the third-party corpus, where it is present
        found += [(vendor, path) for path in sorted((SHARED / "firewall-configs" / folder).glob("*"))[:6]
                  if path.is_file() and path.suffix != ".md"]
    return found


@pytest.mark.parametrize("vendor, path", _configs(), ids=lambda item: getattr(item, "name", str(item)))
def test_a_parsed_ruleset_comes_back_equal(vendor: str | None, path: Path) -> None:
    try:
        ruleset = parse_config(path, vendor)
    except InputError:
        pytest.skip(f"{path.name} is refused by its parser (its own tests hold why)")
    back = ruleset_pickle.loads(ruleset_pickle.dumps(ruleset))
    assert back == ruleset
    assert ruleset_to_dict(back, with_text=True) == ruleset_to_dict(ruleset, with_text=True)
    assert [str(w) for w in back.warnings] == [str(w) for w in ruleset.warnings]


def test_a_shortened_warning_is_not_shortened_again() -> None:
    """``ParseWarning.__post_init__`` shortens a long message; built again, the message stays as it was."""
    warning = ParseWarning("f.conf", 3, "x" * (MAX_WARNING + 500), "line", widened=True)
    back = ruleset_pickle.loads(ruleset_pickle.dumps(warning))
    assert back == warning and back.message == warning.message


def test_an_input_error_comes_back_with_its_problems() -> None:
    error = InputError.at("f.conf", 3, 7, "bad thing", "a good thing")
    back = ruleset_pickle.loads(ruleset_pickle.dumps(error))
    assert isinstance(back, InputError) and back.problems == error.problems
