"""Joining the treaty to firewall reality: conduits as flow sets, firewalls seen in treaty zones."""

from plantgate.reconcile.boundary import BoundaryFirewall, load_boundary_firewalls
from plantgate.reconcile.conduits import conduit_flows, register_flows, zone_addresses

__all__ = ["BoundaryFirewall", "conduit_flows", "load_boundary_firewalls", "register_flows", "zone_addresses"]
