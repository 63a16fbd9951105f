"""The SSVC deployer table: complete, monotone, and the published anchor rows.

certcc-ssvc needs Python >= 3.12 (this project runs 3.11), so the table is checked against
rows of the published table (ssvc:DP 1.0.0) and against the properties the table promises.
"""

from __future__ import annotations

import itertools

import pytest

from plantgate.decisions.ssvc import (
    AUTOMATABLE,
    DEPLOYER_TABLE,
    EXPLOITATION,
    EXPOSURE,
    HUMAN_IMPACT,
    PROVENANCE,
    Priority,
    SsvcInputs,
    deployer_priority,
)


def test_table_is_complete() -> None:
    assert len(DEPLOYER_TABLE) == 72
    assert set(DEPLOYER_TABLE) == set(itertools.product(EXPLOITATION, EXPOSURE, AUTOMATABLE, HUMAN_IMPACT))
    assert "CERTCC/SSVC" in PROVENANCE


@pytest.mark.parametrize("axis", range(4))
def test_more_of_any_input_never_lowers_the_priority(axis: int) -> None:
    axes = (EXPLOITATION, EXPOSURE, AUTOMATABLE, HUMAN_IMPACT)
    for key, priority in DEPLOYER_TABLE.items():
        values = axes[axis]
        index = values.index(key[axis])
        if index + 1 < len(values):
            higher = (*key[:axis], values[index + 1], *key[axis + 1:])
            assert DEPLOYER_TABLE[higher].rank >= priority.rank, (key, higher)


@pytest.mark.parametrize(("key", "expected"), [
    (("none", "small", "no", "low"), Priority.DEFER),
    (("none", "open", "yes", "very_high"), Priority.OUT_OF_CYCLE),
    (("poc", "controlled", "yes", "very_high"), Priority.OUT_OF_CYCLE),
    (("active", "small", "no", "low"), Priority.SCHEDULED),
    (("active", "controlled", "yes", "low"), Priority.OUT_OF_CYCLE),
    (("active", "open", "no", "very_high"), Priority.IMMEDIATE),
    (("active", "open", "no", "high"), Priority.OUT_OF_CYCLE),
    (("active", "open", "yes", "high"), Priority.IMMEDIATE),
    (("active", "open", "yes", "medium"), Priority.OUT_OF_CYCLE),
])
def test_published_rows(key: tuple[str, str, str, str], expected: Priority) -> None:
    inputs = SsvcInputs(*key)
    assert deployer_priority(inputs) is expected
    assert inputs.vector().startswith("E:")


def test_only_four_outcomes_and_immediate_needs_active_open() -> None:
    immediate = [k for k, v in DEPLOYER_TABLE.items() if v is Priority.IMMEDIATE]
    assert immediate and all(k[0] == "active" and k[1] == "open" for k in immediate)
    with pytest.raises(ValueError):
        deployer_priority(SsvcInputs("rampant", "open", "yes", "high"))
