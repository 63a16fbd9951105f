"""The SSVC deployer decision table, kept as data with its provenance.

A priority someone must defend to plant leadership has to come from a published table,
not from code paths. The table is CERT/CC's "Deployer Patch Application Priority"
(ssvc:DP 1.0.0): Exploitation (ssvc:E 1.1.0) x System Exposure (ssvc:EXP 1.0.1) x
Automatable (ssvc:A 2.0.0) x Human Impact (ssvc:HI 2.0.2) -> Defer, Scheduled,
Out-of-Cycle, Immediate (ssvc:DSOI 1.0.0).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

PROVENANCE = (
    "CERT/CC SSVC, decision table ssvc:DP:1.0.0 'Deployer Patch Application Priority', "
    "https://github.com/CERTCC/SSVC src/ssvc/decision_tables/ssvc/deployer_dt.py (commit ce4d811b), "
    "documented at https://certcc.github.io/SSVC/howto/deployer_tree/"
)

EXPLOITATION = ("none", "poc", "active")
EXPOSURE = ("small", "controlled", "open")
AUTOMATABLE = ("no", "yes")
HUMAN_IMPACT = ("low", "medium", "high", "very_high")


class Priority(StrEnum):
    DEFER = "defer"
    SCHEDULED = "scheduled"
    OUT_OF_CYCLE = "out-of-cycle"
    IMMEDIATE = "immediate"

    @property
    def rank(self) -> int:
        return list(Priority).index(self)

    @property
    def needs_exception(self) -> bool:
        return self in (Priority.OUT_OF_CYCLE, Priority.IMMEDIATE)


_CODES = {"D": Priority.DEFER, "S": Priority.SCHEDULED, "O": Priority.OUT_OF_CYCLE, "I": Priority.IMMEDIATE}

# One row per (exploitation, exposure, automatable); the four letters are the outcomes for
# human impact low, medium, high, very high.
TABLE_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("none", "small", "no", "DDSS"), ("none", "small", "yes", "DSSS"),
    ("none", "controlled", "no", "DSSS"), ("none", "controlled", "yes", "SSSS"),
    ("none", "open", "no", "DSSS"), ("none", "open", "yes", "SSSO"),
    ("poc", "small", "no", "DSSS"), ("poc", "small", "yes", "SSSS"),
    ("poc", "controlled", "no", "DSSS"), ("poc", "controlled", "yes", "SSSO"),
    ("poc", "open", "no", "SSSO"), ("poc", "open", "yes", "SSOO"),
    ("active", "small", "no", "SSOO"), ("active", "small", "yes", "SOOO"),
    ("active", "controlled", "no", "SSOO"), ("active", "controlled", "yes", "OOOO"),
    ("active", "open", "no", "SOOI"), ("active", "open", "yes", "OOII"),
)


def _expand() -> dict[tuple[str, str, str, str], Priority]:
    table: dict[tuple[str, str, str, str], Priority] = {}
    for exploitation, exposure, automatable, outcomes in TABLE_ROWS:
        for impact, code in zip(HUMAN_IMPACT, outcomes, strict=True):
            table[(exploitation, exposure, automatable, impact)] = _CODES[code]
    return table


DEPLOYER_TABLE: dict[tuple[str, str, str, str], Priority] = _expand()
"""(exploitation, exposure, automatable, human impact) -> priority; all 72 combinations."""


@dataclass(frozen=True)
class SsvcInputs:
    """The four decision point values, each with the evidence it came from."""

    exploitation: str
    exposure: str
    automatable: str
    human_impact: str
    why: tuple[str, ...] = ()

    def key(self) -> tuple[str, str, str, str]:
        return (self.exploitation, self.exposure, self.automatable, self.human_impact)

    def vector(self) -> str:
        """A readable SSVC-style vector, e.g. E:A/EXP:O/A:Y/HI:H."""
        short = {"none": "N", "poc": "P", "active": "A", "small": "S", "controlled": "C", "open": "O",
                 "no": "N", "yes": "Y", "low": "L", "medium": "M", "high": "H", "very_high": "VH"}
        return (f"E:{short[self.exploitation]}/EXP:{short[self.exposure]}/A:{short[self.automatable]}/"
                f"HI:{short[self.human_impact]}")


def deployer_priority(inputs: SsvcInputs) -> Priority:
    """Look the four values up in the deployer table (ValueError for a value outside it)."""
    try:
        return DEPLOYER_TABLE[inputs.key()]
    except KeyError:
        raise ValueError(f"no SSVC deployer outcome for {inputs.key()}") from None
