"""A change's register edit, from the YAML text area or from the form's fields, checked by one function.

Both inputs become the same document, ``{upsert: [conduit entries], remove: [conduit ids]}``.
``checked`` validates it against the conduit model and against the base revision (the zones,
people, firewalls, assets and register ids it names must exist) and names every problem by
its path in the document. Each input then puts the problems where its author looks: the YAML
by line and column of the text area, the form next to the field that holds the value
(plantgate.web.change_form).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from plantgate.errors import InputError, InputProblem, Location
from plantgate.load import yaml12
from plantgate.model.changes import RegisterEdit
from plantgate.model.conduits import is_cidr
from plantgate.model.governance import Role
from plantgate.web.revision_cache import CachedRevision

YAML_FIELD = "register_edit"
DocPath = tuple[str | int, ...]
"""Where a value sits in the edit document, e.g. ("upsert", 0, "services", 0, "ports", 1)."""


@dataclass(frozen=True)
class EditProblem:
    path: DocPath
    message: str
    expected: str = ""


class EditRefused(Exception):
    """The edit document's problems, each at its path."""

    def __init__(self, problems: list[EditProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Vocabulary:
    """What a register edit on one revision may name, and the choices the change form offers."""

    zones: dict[str, str]
    """Zone id -> name."""
    people: dict[str, str]
    """Person id -> name."""
    ot_approvers: list[str]
    """Ids of the people the treaty gives the OT approver role."""
    firewalls: list[str]
    assets: frozenset[str]
    conduits: frozenset[str]

    @classmethod
    def of_document(cls, document: dict[str, Any]) -> Vocabulary:
        people = document.get("people", [])
        return cls({z["id"]: z.get("name", "") for z in document.get("zones", [])},
                   {p["id"]: p.get("name", "") for p in people},
                   [p["id"] for p in people if Role.OT_APPROVER.value in p.get("roles", [])],
                   [f["id"] for f in document.get("firewalls", [])],
                   frozenset(a["id"] for a in document.get("assets", [])),
                   frozenset(c["id"] for c in document.get("conduits", [])))


def vocabulary(revision: CachedRevision) -> Vocabulary:
    """The revision's vocabulary, made once and kept with the cached revision."""
    found: Vocabulary = revision.derived_value("register vocabulary", lambda: Vocabulary.of_document(
        revision.document))
    return found


def checked(data: Any, known: Vocabulary) -> RegisterEdit:
    """The edit document as a RegisterEdit whose every reference resolves in ``known``; EditRefused otherwise,
    with every problem at once: the model's, and each reference that does not resolve."""
    problems = _references(data, known)
    try:
        edit = RegisterEdit.model_validate(data)
    except ValidationError as exc:
        invalid = [EditProblem(tuple(e["loc"]), _in_words(e)) for e in exc.errors(include_url=False)]
        seen = {p.path for p in invalid}
        raise EditRefused(invalid + [p for p in problems if p.path not in seen]) from None
    if problems:
        raise EditRefused(problems)
    return edit


def _in_words(error: ErrorDetails) -> str:
    """Pydantic's message, in the words of a form (its regular expressions mean nothing to a plant engineer)."""
    kind = error["type"]
    if kind == "missing" or (kind == "string_too_short" and error.get("input") == ""):
        return "required"
    if kind == "string_pattern_mismatch":
        return "use letters, digits and _ . : - only, starting with a letter or a digit"
    if kind == "too_short":
        return "give at least one"
    if kind == "extra_forbidden":
        return f"unknown field {error['loc'][-1]!r}"
    return error["msg"].removeprefix("Value error, ")


def _one_of(kind: str, ids: Iterable[str]) -> str:
    known = sorted(ids)
    return f"a {kind} id ({', '.join(known[:12])}{' ...' if len(known) > 12 else ''})" if known else f"a {kind} id"


def _texts(value: Any) -> list[str | None]:
    """The strings of a list as given (None for an item that is no string: the model reports it)."""
    return [item if isinstance(item, str) else None for item in value] if isinstance(value, list) else []


def _references(data: Any, known: Vocabulary) -> list[EditProblem]:
    """Every id the document names that the revision lacks, read from the document as given (so a typo in a zone
    is reported beside a bad port of the same entry, not after it is fixed)."""
    problems: list[EditProblem] = []

    def need(value: Any, ids: Iterable[str], kind: str, path: DocPath) -> None:
        if isinstance(value, str) and value not in ids:
            problems.append(EditProblem(path, f"unknown {kind} '{value}'", _one_of(kind, ids)))

    document = data if isinstance(data, dict) else {}
    removed = set(_texts(document.get("remove")))
    first: dict[str, int] = {}
    upsert = document.get("upsert")
    for i, conduit in enumerate(upsert if isinstance(upsert, list) else []):
        if not isinstance(conduit, dict):
            continue
        at: DocPath = ("upsert", i)
        conduit_id = conduit.get("id")
        if isinstance(conduit_id, str) and conduit_id in first:
            problems.append(EditProblem((*at, "id"), f"conduit {conduit_id} is proposed twice",
                                        f"one entry per conduit (the first is entry {first[conduit_id] + 1})"))
        if isinstance(conduit_id, str):
            first.setdefault(conduit_id, i)
        if conduit_id in removed:
            problems.append(EditProblem((*at, "id"), f"conduit {conduit_id} is both proposed and removed",
                                        "either a new entry or a removal"))
        need(conduit.get("from_zone"), known.zones, "zone", (*at, "from_zone"))
        need(conduit.get("to_zone"), known.zones, "zone", (*at, "to_zone"))
        need(conduit.get("ot_approver"), known.people, "person", (*at, "ot_approver"))
        for j, firewall in enumerate(_texts(conduit.get("enforced_by"))):
            need(firewall, known.firewalls, "firewall", (*at, "enforced_by", j))
        for side in ("sources", "destinations"):
            for j, item in enumerate(_texts(conduit.get(side))):
                if item is not None and not is_cidr(item) and item not in known.assets:
                    problems.append(EditProblem((*at, side, j), f"'{item}' is neither an asset id nor a CIDR",
                                                "asset ids of the treaty or networks such as 10.30.0.22/32"))
    for j, conduit_id in enumerate(_texts(document.get("remove"))):
        if conduit_id is not None and conduit_id not in known.conduits:
            problems.append(EditProblem(("remove", j), f"no conduit '{conduit_id}' in the register to remove",
                                        "ids of conduits in the register"))
    return problems


def nearest(path: DocPath, places: dict[DocPath, Any]) -> Any:
    """What ``places`` holds for ``path`` or, failing that, for the longest prefix of it it holds (else None)."""
    while path and path not in places:
        path = path[:-1]
    return places.get(path)


def refused(exc: EditRefused, where: Callable[[DocPath], Location]) -> InputError:
    """The problems as an InputError, each at the location ``where`` gives its path."""
    return InputError([InputProblem(where(p.path), p.message, ".".join(str(part) for part in p.path), p.expected)
                       for p in exc.problems])


def from_yaml(text: str, known: Vocabulary) -> RegisterEdit:
    """The register edit typed as YAML (``upsert: [...]``, ``remove: [...]``), checked; problems by line and column.

    Read like a treaty file (plantgate.load.yaml12: libyaml, with its nesting limit), so a text
    nested thousands of levels deep is an input error at once, never a stack overflow."""
    if not text.strip():
        return RegisterEdit()
    try:
        data, positions = yaml12.parse(text)
    except yaml12.YamlProblem as exc:
        raise InputError.at(YAML_FIELD, exc.line, exc.column, f"YAML syntax error: {exc.message}",
                            "valid YAML") from None
    except (RecursionError, ValueError, MemoryError) as exc:
        raise InputError.at(YAML_FIELD, 0, 0, f"the register edit cannot be read: {type(exc).__name__}",
                            "a register edit of ordinary size and nesting") from None
    try:
        return checked(data, known)
    except EditRefused as exc:
        raise refused(exc, lambda path: Location(YAML_FIELD, *(nearest(path, positions) or (0, 0)))) from None
