"""One error hierarchy for the whole library.

Only the CLI turns these into exit codes and only the web layer turns them into HTTP
responses; everything below raises these and nothing else for user mistakes.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class PlantGateError(Exception):
    """Base of every error PlantGate raises on purpose."""


@dataclass(frozen=True)
class Location:
    """A place in an input file; line and column are 1-based, 0 when unknown."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line and self.column:
            return f"{self.file}:{self.line}:{self.column}"
        if self.line:
            return f"{self.file}:{self.line}"
        return self.file


@dataclass(frozen=True)
class InputProblem:
    """One thing wrong with the user's input: where, what, and what was expected."""

    location: Location
    message: str
    key_path: str = ""
    expected: str = ""

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        if self.key_path:
            text += f" (at {self.key_path})"
        if self.expected:
            text += f"; expected {self.expected}"
        return text


class InputError(PlantGateError):
    """The user's input is invalid; carries every problem found in one run."""

    def __init__(self, problems: list[InputProblem] | InputProblem) -> None:
        self.problems: list[InputProblem] = problems if isinstance(problems, list) else [problems]
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[type[InputError], tuple[list[InputProblem]]]:
        """Pickled with its problems (a check run in a worker process raises it back to the app)."""
        return (InputError, (self.problems,))

    @classmethod
    def at(cls, file: str, line: int, column: int, message: str, expected: str = "") -> InputError:
        return cls(InputProblem(Location(file, line, column), message, expected=expected))


@dataclass
class ProblemCollector:
    """Gathers problems so one run reports all of them, then raises once."""

    problems: list[InputProblem] = field(default_factory=list)

    def add(self, location: Location, message: str, key_path: str = "", expected: str = "") -> None:
        self.problems.append(InputProblem(location, message, key_path, expected))

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(sorted(self.problems, key=lambda p: (p.location.file, p.location.line)))
