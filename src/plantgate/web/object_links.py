"""Where each thing a page names lives: zones, assets, firewalls and conduits by id, config lines by file.

A finding names subjects (ids) and evidence (``file:line:col``); a page turns each into a link
when the revision has a page for it. The index is built once per cached revision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from plantgate.web.revision_cache import CachedRevision

KINDS = ("zones", "assets", "firewalls", "conduits")
_LOCATION = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+)(?::(?P<col>\d+))?$")


def index(revision: CachedRevision) -> dict[str, dict[str, dict[str, Any]]]:
    """kind -> id -> the object's document, for the revision (computed once, kept with it)."""
    found: dict[str, dict[str, dict[str, Any]]] = revision.derived_value(
        "object index", lambda: {kind: {o["id"]: o for o in revision.document.get(kind, []) if "id" in o}
                                 for kind in KINDS})
    return found


def config_files(revision: CachedRevision) -> dict[str, str]:
    """Config path (as the treaty names it) -> firewall id."""
    found: dict[str, str] = revision.derived_value(
        "config files", lambda: {f["config"]: f["id"] for f in revision.document.get("firewalls", [])
                                 if f.get("config")})
    return found


def parse_location(text: str) -> tuple[str, int, int] | None:
    """``file:line[:col]`` as (file, line, col), or None when it is no location."""
    match = _LOCATION.match(text)
    if match is None:
        return None
    return match["file"], int(match["line"]), int(match["col"] or 0)


@dataclass(frozen=True)
class Links:
    slug: str
    revision: CachedRevision

    def subject(self, subject: str) -> str | None:
        """The page of a zone, asset, firewall or conduit with this id, if there is one."""
        objects = index(self.revision)
        for kind in KINDS:
            if subject in objects[kind]:
                return f"/sites/{self.slug}/{kind}/{quote(subject, safe='')}"
        return None

    def evidence(self, evidence: str) -> str | None:
        """A firewall config's line for evidence in a config; None for treaty files (no page shows YAML)."""
        where = parse_location(evidence)
        if where is None:
            return None
        firewall = config_files(self.revision).get(where[0])
        if firewall is None:
            return None
        return f"/sites/{self.slug}/firewalls/{quote(firewall, safe='')}/config#L{where[1]}"
