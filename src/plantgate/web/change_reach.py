"""Who gains and who loses access with a change: the conduits, the hosts that send the flows, and the people.

The proof (plantgate.decisions.change_impact) names the conduits whose flows a candidate opens
or closes and the treaty's hosts that send them. The people are those the register names on
those conduits, as the treaty says: the owner and the OT approver of each (the proposed entry
where the change edits the conduit, else the register's), by their names in the treaty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plantgate.decisions.change_impact import ChangeImpact
from plantgate.web.revision_cache import CachedRevision


@dataclass
class Reach:
    conduits: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    people: dict[str, list[str]] = field(default_factory=dict)
    """Person (name and id, or the owner as written) -> what they are to these conduits."""

    @property
    def empty(self) -> bool:
        return not (self.conduits or self.hosts)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _people(conduit_ids: list[str], entries: dict[str, dict[str, Any]], names: dict[str, str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for conduit_id in conduit_ids:
        entry = entries.get(conduit_id, {})
        for key, role in (("owner", "owner"), ("ot_approver", "OT approver")):
            person = entry.get(key)
            if person:
                shown = f"{names[person]} ({person})" if person in names else person
                found.setdefault(shown, []).append(f"{role} of {conduit_id}")
    return found


def gains_and_losses(impact: ChangeImpact, base: CachedRevision) -> tuple[Reach, Reach]:
    """What the change opens (who gains) and what it closes (who loses)."""
    names = {p["id"]: p.get("name", "") for p in base.document.get("people", [])}
    gained = _unique([c for z in impact.opened for c in z.conduits])
    registered = {c: base.conduit(c) or {} for c in gained + impact.losing_access}
    proposed = {c.id: c.model_dump(mode="json") for c in impact.record.register_edit.upsert}
    gains = Reach(gained, _unique([h for z in impact.opened for h in z.hosts]),
                  _people(gained, {**registered, **proposed}, names))
    losses = Reach(list(impact.losing_access), _unique([h for z in impact.closed for h in z.hosts]),
                   _people(impact.losing_access, registered, names))
    return gains, losses
