"""Routing facts: which firewalls a zone's traffic to another zone really crosses.

Without them PlantGate takes every path through the firewalls that join two zones (and
says so), which can only over-report. A site that knows its routing writes it down here
so end-to-end analyses follow the real path; a stated route is checked against the
firewall interface maps, never trusted blindly.
"""

from __future__ import annotations

from pydantic import Field

from plantgate.model.base import Identifier, TreatyModel


class ZoneRoute(TreatyModel):
    """Traffic from ``from_zone`` to ``to_zone`` crosses the firewalls in ``via``, in order."""

    from_zone: Identifier
    to_zone: Identifier
    via: list[Identifier] = Field(min_length=1, description="Firewall ids in the order the packet crosses them.")
    description: str = ""
