"""Load a corporate baseline file the way a treaty is loaded: YAML 1.2, strict keys, file:line:column errors.

The baseline is fleet-wide: a mistake in it would silently weaken every plant's check, so it
is refused whole (InputError listing every problem) rather than loaded in part.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from plantgate.errors import InputError, Location, ProblemCollector
from plantgate.feeds.textfile import read_evidence_bytes
from plantgate.load.reader import SpanIndex, read_yaml_file
from plantgate.load.validate import validate_document
from plantgate.model.baseline import Baseline

MAX_BASELINE_BYTES = 2_000_000


@dataclass(frozen=True)
class LoadedBaseline:
    """A validated baseline with where each rule was written (the rule line of every finding)."""

    baseline: Baseline
    spans: SpanIndex
    file: str

    def rule_location(self, index: int) -> Location:
        return self.spans.locate(("rules", index))


def load_baseline(path: str | Path, display_name: str | None = None) -> LoadedBaseline:
    """The baseline in ``path``; InputError naming file:line:column of every problem.

    ``display_name`` is the name problems and findings cite (a job loads the file from a scratch
    folder but cites it as the corporate repository names it).
    """
    source = Path(path)
    if not source.is_file():
        raise InputError.at(str(source), 0, 0, "baseline file not found", "a YAML file of baseline rules")
    read_evidence_bytes(source, "baseline file", MAX_BASELINE_BYTES)  # size-capped, regular file only
    problems = ProblemCollector()
    read = read_yaml_file(source, problems)
    problems.raise_if_any()
    assert read is not None
    document, positions = read
    name = display_name or str(source)
    spans = SpanIndex({key: Location(name, loc.line, loc.column) for key, loc in positions.items()})
    model, _ = validate_document(Baseline, document, spans, problems) if document else (None, {})
    if not document:
        problems.add(Location(name, 1, 1), "the baseline file is empty", expected="baseline: and rules:")
    problems.raise_if_any()
    assert isinstance(model, Baseline)
    return LoadedBaseline(model, spans, name)
