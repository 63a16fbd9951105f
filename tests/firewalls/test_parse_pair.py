"""Two configs parsed side by side (``parse_pair``) give what two parses here give, errors included."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from plantgate.errors import InputError
from plantgate.firewalls import parse_pair as pair_module
from plantgate.firewalls.base import parse_config
from plantgate.firewalls.dump import ruleset_to_dict
from plantgate.firewalls.parse_pair import ConfigSource, parse_pair
from tests.sites import EXAMPLE

CONFIGS = sorted((EXAMPLE / "firewalls").glob("fw-*"))


@pytest.fixture
def in_a_child(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every second config parsed in a forked child (the example configs are small); the pids seen."""
    monkeypatch.setattr(pair_module, "PARALLEL_FROM_BYTES", 0)
    parents: list[int] = []
    parse = ConfigSource.parse

    def parse_noting_the_process(source: ConfigSource) -> object:
        parents.append(os.getpid())
        return parse(source)

    monkeypatch.setattr(ConfigSource, "parse", parse_noting_the_process)
    return parents


@pytest.mark.parametrize("first, second", list(zip(CONFIGS, CONFIGS[1:] + CONFIGS[:1], strict=True)))
def test_the_pair_is_the_two_parses(first: Path, second: Path, in_a_child: list[int]) -> None:
    current, candidate = parse_pair(ConfigSource(first, None), ConfigSource(second, None))
    assert in_a_child == [os.getpid()]  # the first here; the second's parse ran in the child
    assert ruleset_to_dict(current, with_text=True) == ruleset_to_dict(parse_config(first), with_text=True)
    assert ruleset_to_dict(candidate, with_text=True) == ruleset_to_dict(parse_config(second), with_text=True)


def _broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.xml"
    path.write_text("<config><devices>\n<entry name='x'>\n</config>\n")
    return path


def test_the_first_configs_error_comes_first(tmp_path: Path, in_a_child: list[int]) -> None:
    with pytest.raises(InputError, match="broken.xml:3") as raised:
        parse_pair(ConfigSource(_broken(tmp_path), "panos"), ConfigSource(_broken(tmp_path), "panos"))
    assert "malformed XML" in str(raised.value)


def test_the_childs_error_is_raised_as_the_parse_raises_it(tmp_path: Path, in_a_child: list[int]) -> None:
    with pytest.raises(InputError) as here:
        parse_config(_broken(tmp_path), "panos")
    with pytest.raises(InputError) as raised:
        parse_pair(ConfigSource(CONFIGS[0], None), ConfigSource(_broken(tmp_path), "panos"))
    assert str(raised.value) == str(here.value) and raised.value.problems == here.value.problems


def test_a_child_that_dies_leaves_the_parse_to_this_process(monkeypatch: pytest.MonkeyPatch,
                                                            in_a_child: list[int]) -> None:
    monkeypatch.setattr(pair_module, "_parse_in_child", lambda *_args: os._exit(1))  # inherited by the fork
    current, candidate = parse_pair(ConfigSource(CONFIGS[0], None), ConfigSource(CONFIGS[1], None))
    assert in_a_child == [os.getpid(), os.getpid()]  # both parsed here
    assert ruleset_to_dict(candidate) == ruleset_to_dict(parse_config(CONFIGS[1]))
    assert current.name == parse_config(CONFIGS[0]).name


def test_small_configs_stay_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("two small configs must not start a process")

    monkeypatch.setattr(pair_module.multiprocessing, "get_context", no_fork)
    current, candidate = parse_pair(ConfigSource(CONFIGS[0], None), ConfigSource(CONFIGS[1], None))
    assert (current.file, candidate.file) == (str(CONFIGS[0]), str(CONFIGS[1]))
