"""The change form: what was posted, the conduit editor's rows, and the register edit they make.

It works without JavaScript. The conduit editor posts numbered rows of fields (``c0-id``,
``c0-from_zone``, ``c0-s0-protocol``, ...); "add a conduit row" and "edit an existing conduit"
post the form back and get it again with every value kept and a row more. Each filled row
becomes one entry of the edit's ``upsert`` and the removal field its ``remove``: the same
document the YAML text area makes, checked by the same function
(plantgate.web.conduit_edit), with each problem shown next to the field that holds it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from starlette.datastructures import FormData

from plantgate.errors import InputError, InputProblem, Location
from plantgate.model.changes import RegisterEdit
from plantgate.web import conduit_edit
from plantgate.web.conduit_edit import DocPath, EditRefused, Vocabulary

MAX_ROWS = 40
"""Conduit rows one form may post (a bigger edit is a YAML document: the text area takes any size)."""
MAX_SERVICES = 20
REMOVE_FIELD = "remove"
_ROW_FIELD = re.compile(r"^c(\d{1,4})-")
_SERVICE_FIELD = re.compile(r"^s(\d{1,4})-")
_LIST_SPLIT = re.compile(r"[\s,]+")


def split_list(text: str) -> list[str]:
    """Items typed into one field, separated by commas or spaces."""
    return [item for item in _LIST_SPLIT.split(text.strip()) if item]


def _numbers(text: str) -> list[str | int]:
    """Ports or ICMP types as typed: whole numbers as numbers, anything else kept for the model to refuse."""
    return [int(item) if item.isascii() and item.isdigit() and len(item) <= 6 else item for item in split_list(text)]


@dataclass
class ServiceRow:
    protocol: str = ""
    ports: str = ""
    icmp_types: str = ""
    name: str = ""

    def blank(self) -> bool:
        return not (self.protocol or self.ports.strip() or self.icmp_types.strip() or self.name.strip())

    def entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"ports": _numbers(self.ports), "icmp_types": _numbers(self.icmp_types),
                                 "name": self.name.strip()}
        if self.protocol:
            entry["protocol"] = self.protocol
        return entry


@dataclass
class ConduitRow:
    """One conduit of the editor, as text fields; ``edits`` is the register id it replaces ("" for a new one)."""

    edits: str = ""
    id: str = ""
    from_zone: str = ""
    to_zone: str = ""
    initiator: str = "from_zone"
    type: str = "filtering_firewall"
    services: list[ServiceRow] = field(default_factory=list)
    sources: str = ""
    destinations: str = ""
    business_reason: str = ""
    owner: str = ""
    ot_approver: str = ""
    change_record: str = ""
    review_by: str = ""
    enforced_by: list[str] = field(default_factory=list)
    description: str = ""

    @classmethod
    def of_conduit(cls, conduit: dict[str, Any]) -> ConduitRow:
        """A row that edits a conduit of the register, filled with its values."""
        services = [ServiceRow(s.get("protocol", ""), ", ".join(str(p) for p in s.get("ports", [])),
                               ", ".join(str(t) for t in s.get("icmp_types", [])), s.get("name", ""))
                    for s in conduit.get("services", [])]
        return cls(conduit["id"], conduit["id"], conduit.get("from_zone", ""), conduit.get("to_zone", ""),
                   conduit.get("initiator", "from_zone"), conduit.get("type", "filtering_firewall"), services,
                   ", ".join(conduit.get("sources", [])), ", ".join(conduit.get("destinations", [])),
                   conduit.get("business_reason", ""), conduit.get("owner", ""), conduit.get("ot_approver") or "",
                   conduit.get("change_record", ""), conduit.get("review_by") or "",
                   list(conduit.get("enforced_by", [])), conduit.get("description", ""))

    @classmethod
    def posted(cls, values: dict[str, list[str]]) -> ConduitRow:
        """The row from its posted fields (names without the ``cN-`` prefix)."""
        def one(name: str) -> str:
            return (values.get(name) or [""])[0]

        services: dict[int, ServiceRow] = {}
        for name, items in values.items():
            found = _SERVICE_FIELD.match(name)
            if found is None:
                continue
            index, key = int(found.group(1)), name[found.end():]
            if index < MAX_SERVICES and key in ("protocol", "ports", "icmp_types", "name"):
                setattr(services.setdefault(index, ServiceRow()), key, items[0])
        text = {f.name: one(f.name) for f in fields(cls) if f.name not in ("services", "enforced_by")}
        return cls(**text, services=[services[i] for i in sorted(services)],
                   enforced_by=[v for v in values.get("enforced_by", []) if v])

    def blank(self) -> bool:
        texts = (self.edits, self.id, self.from_zone, self.to_zone, self.sources, self.destinations,
                 self.business_reason, self.owner, self.ot_approver, self.change_record, self.review_by,
                 self.description)
        return not any(t.strip() for t in texts) and not self.enforced_by and all(s.blank() for s in self.services)

    def shown_services(self) -> list[ServiceRow]:
        """The services with one blank row to add another."""
        return [*self.services, ServiceRow()]

    def entry(self, row: int) -> tuple[dict[str, Any], dict[DocPath, str]]:
        """The conduit entry this row proposes, and the field that holds each of its paths."""
        name = f"c{row}-"
        entry: dict[str, Any] = {"initiator": self.initiator, "type": self.type,
                                 "sources": split_list(self.sources), "destinations": split_list(self.destinations),
                                 "business_reason": self.business_reason.strip(), "owner": self.owner.strip(),
                                 "ot_approver": self.ot_approver or None,
                                 "change_record": self.change_record.strip(),
                                 "review_by": self.review_by.strip() or None, "enforced_by": self.enforced_by,
                                 "description": self.description.strip(), "services": []}
        for key in ("id", "from_zone", "to_zone"):  # required: left out when empty, so the model says so
            if value := getattr(self, key).strip():
                entry[key] = value
        places: dict[DocPath, str] = {(f.name,): name + f.name for f in fields(self) if f.name != "edits"}
        places[()] = name + "id"
        places[("services",)] = name + "s0-protocol"
        for j, service in enumerate(self.services):
            if service.blank():
                continue
            at = ("services", len(entry["services"]))
            entry["services"].append(service.entry())
            places[at] = f"{name}s{j}-protocol"
            for key in ("protocol", "ports", "icmp_types", "name"):
                places[(*at, key)] = f"{name}s{j}-{key}"
        return entry, places


@dataclass
class ConduitEditor:
    """The editor's rows and removals as posted (or as first shown)."""

    rows: list[ConduitRow] = field(default_factory=list)
    remove: str = ""

    @classmethod
    def posted(cls, form: FormData) -> ConduitEditor:
        grouped: dict[int, dict[str, list[str]]] = {}
        for name in form.keys():
            found = _ROW_FIELD.match(name)
            if found is not None:
                values = [v for v in form.getlist(name) if isinstance(v, str)]
                grouped.setdefault(int(found.group(1)), {})[name[found.end():]] = values
        if len(grouped) > MAX_ROWS:
            raise InputError.at("conduit rows", 0, 0, f"{len(grouped)} conduit rows",
                                f"at most {MAX_ROWS} rows (a larger edit goes in the YAML text area)")
        removal = form.get(REMOVE_FIELD)
        return cls([ConduitRow.posted(grouped[i]) for i in sorted(grouped)],
                   removal if isinstance(removal, str) else "")

    def filled(self) -> bool:
        return bool(split_list(self.remove)) or any(not row.blank() for row in self.rows)

    def shown_rows(self, extra: int = 0) -> list[ConduitRow]:
        """The rows as posted, in their order (the problems name them by number), ``extra`` blank ones more, and
        one blank row when there is none at all."""
        rows = self.rows + [ConduitRow() for _ in range(extra)]
        return rows or [ConduitRow()]

    def load(self, conduit: dict[str, Any]) -> None:
        """Add a row that edits ``conduit`` of the register, in place of the blank rows."""
        self.rows = [row for row in self.rows if not row.blank()] + [ConduitRow.of_conduit(conduit)]

    def document(self) -> tuple[dict[str, Any], dict[DocPath, str]]:
        """The register edit document of the filled rows, and the form field of each path in it."""
        upsert: list[dict[str, Any]] = []
        places: dict[DocPath, str] = {("remove",): REMOVE_FIELD}
        for index, row in enumerate(self.rows):
            if row.blank():
                continue
            entry, where = row.entry(index)
            places.update({("upsert", len(upsert), *path): name for path, name in where.items()})
            upsert.append(entry)
        return {"upsert": upsert, "remove": split_list(self.remove)}, places

    def checked(self, known: Vocabulary) -> RegisterEdit:
        """The register edit of the form's fields; InputError with every problem at its field otherwise."""
        document, places = self.document()
        problems = self._row_problems(known)
        try:
            edit = conduit_edit.checked(document, known)
        except EditRefused as exc:
            problems += conduit_edit.refused(exc, lambda path: Location(conduit_edit.nearest(path, places))).problems
            edit = RegisterEdit()
        if problems:
            raise InputError(problems)
        return edit

    def _row_problems(self, known: Vocabulary) -> list[InputProblem]:
        """What only the form can get wrong: a new row reusing a register id, an edit row whose conduit is gone."""
        problems = []
        for index, row in enumerate(self.rows):
            at = Location(f"c{index}-id")
            if row.edits and row.edits not in known.conduits:
                problems.append(InputProblem(at, f"conduit {row.edits} is no longer in the register",
                                             expected="a conduit of the current revision"))
            elif row.edits and row.id.strip() != row.edits:
                problems.append(InputProblem(at, f"this row edits conduit {row.edits}; its id cannot change",
                                             expected="remove it and add a new conduit to rename it"))
            elif not row.edits and row.id.strip() in known.conduits:
                problems.append(InputProblem(at, f"conduit {row.id.strip()} is already in the register",
                                             expected="a new id, or 'Edit an existing conduit' to change it"))
        return problems


class Step(StrEnum):
    """What the form's submit button asks for: file the change, or show the form again with a row more."""

    FILE = "file"
    ADD_ROW = "add_row"
    LOAD = "load"


@dataclass
class ChangeSubmission:
    """Everything the change form posts but the candidate file (read apart: it is an upload)."""

    title: str = ""
    business_reason: str = ""
    firewall: str = ""
    ot_approver: str = ""
    conduits: str = ""
    """Ids of conduits the change concerns beyond those it edits."""
    emergency: bool = False
    register_edit: str = ""
    """The YAML text area ("Advanced: edit as YAML")."""
    editor: ConduitEditor = field(default_factory=ConduitEditor)
    load: str = ""
    """The id of a register conduit to load into a row (step LOAD)."""
    step: Step = Step.FILE

    @classmethod
    def posted(cls, form: FormData) -> ChangeSubmission:
        def text(name: str) -> str:
            value = form.get(name)
            return value if isinstance(value, str) else ""

        try:
            step = Step(text("step") or Step.FILE)
        except ValueError:
            raise InputError.at("step", 0, 0, f"unknown step {text('step')!r}", "file, add_row or load") from None
        return cls(text("title"), text("business_reason"), text("firewall"), text("ot_approver"), text("conduits"),
                   text("emergency") in ("true", "on"), text(conduit_edit.YAML_FIELD), ConduitEditor.posted(form),
                   text("load"), step)

    def edit(self, known: Vocabulary) -> RegisterEdit:
        """The register edit, from the YAML text area or from the conduit fields (one of them)."""
        if not self.register_edit.strip():
            return self.editor.checked(known)
        if self.editor.filled():
            raise InputError.at(conduit_edit.YAML_FIELD, 0, 0, "both the conduit fields and the YAML are filled in",
                                "one of them: clear the YAML, or the conduit rows and removals")
        return conduit_edit.from_yaml(self.register_edit, known)
