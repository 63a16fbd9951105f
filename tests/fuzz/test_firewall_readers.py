"""Fuzzing the six firewall readers: every mutated config parses or is an InputError with a location.

The in-suite runs are bounded (the CI profile draws the same examples every run); the long
random run, with per-input time and memory limits, is bench/fuzz_readers.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import shared_path
from tests.fuzz.firewall_mutations import (
    ACCEPTABLE,
    CHAIN_LENGTH,
    MUTATIONS,
    NEST_DEPTH,
    VENDOR_DIRS,
    FuzzCase,
    Seed,
    judge,
    mutated_configs,
    project_seeds,
    shared_seeds,
)

LOOSE_SECONDS = 60.0
"""A hang, not a slow machine: the strict 10 s limit is asserted by the benchmark only."""

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                         HealthCheck.data_too_large])


def _assert_acceptable(case: FuzzCase) -> None:
    outcome = judge(case)
    assert outcome.kind in ACCEPTABLE, f"{case!r} ended in {outcome.kind}: {outcome.detail}"
    assert outcome.seconds < LOOSE_SECONDS, f"{case!r} took {outcome.seconds:.1f} s"


OWN_SEEDS = project_seeds()


def test_every_vendor_has_seeds() -> None:
    assert {seed.vendor for seed in OWN_SEEDS} == set(VENDOR_DIRS)


@FUZZ
@given(mutated_configs(OWN_SEEDS))
def test_mutated_test_data_configs_parse_or_fail_with_a_location(case: FuzzCase) -> None:
    _assert_acceptable(case)


@pytest.fixture(scope="module")
def corpus_seeds() -> list[Seed]:
    return shared_seeds(shared_path("firewall-configs"))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                   HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_corpus_configs_parse_or_fail_with_a_location(corpus_seeds: list[Seed], data: st.DataObject) -> None:
    _assert_acceptable(data.draw(mutated_configs(corpus_seeds)))


@pytest.mark.parametrize("mutation", ["deep-nesting", "reference-chain", "huge-token"])
@pytest.mark.parametrize("vendor", sorted(VENDOR_DIRS))
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_each_vendor_survives_each_structural_mutation(vendor: str, mutation: str, data: st.DataObject) -> None:
    """Every vendor meets the mutations that found recursion and integer-size crashes, whatever else is drawn."""
    seeds = [seed for seed in OWN_SEEDS if seed.vendor == vendor]
    seed = data.draw(st.sampled_from(seeds))
    mutated = MUTATIONS[mutation](data.draw, seed.data, vendor)
    _assert_acceptable(FuzzCase(vendor, seed.name, mutated, (mutation,)))


def test_the_structural_mutations_exceed_the_recursion_limit() -> None:
    """A mutation shallower than the interpreter's limit would not catch a recursive walk."""
    assert min(NEST_DEPTH, CHAIN_LENGTH) > sys.getrecursionlimit()


# -- the CLI path: exit codes, never a traceback -------------------------------------------------
CLI_CASES = 6


@settings(max_examples=CLI_CASES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.data_too_large,
                                                                        HealthCheck.function_scoped_fixture])
@given(case=mutated_configs(OWN_SEEDS))
def test_fw_show_on_mutated_configs_exits_0_1_or_2_without_a_traceback(tmp_path: Path, case: FuzzCase) -> None:
    config = tmp_path / "mutated.cfg"
    config.write_bytes(case.data)
    env = {**os.environ, "COLUMNS": "120"}
    for extra in ([], ["--vendor", case.vendor]):
        done = subprocess.run([sys.executable, "-m", "plantgate.cli", "fw", "show", str(config), *extra],
                              capture_output=True, text=True, timeout=300, env=env, check=False)
        assert done.returncode in (0, 1, 2), f"{case!r} {extra}: exit {done.returncode}\n{done.stderr[-2000:]}"
        assert "Traceback" not in done.stderr, f"{case!r} {extra}:\n{done.stderr[-2000:]}"
