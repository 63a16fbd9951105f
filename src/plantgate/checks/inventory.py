"""The asset inventory as one list: no host may be written twice under two ids.

Imports merge by address, but a treaty can still hold one host twice (written by hand and
by an import, or copied between files). Two assets with one address split what is known
about the host: exposure, advisory matches and exceptions land on one id while the other
looks clean, and an address that is in use twice is a fact a firewall reviewer must know.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterator

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.references import NIST_CM_8, REF_WRITE_DOWN
from plantgate.checks.registry import check, rule

SAME_ADDRESS = rule(
    "PG-ASSET-001", "Two assets share an address", Severity.MEDIUM, (REF_WRITE_DOWN, NIST_CM_8),
    "Each host is one asset: two assets with one address split its exposure, advisory matches and exceptions "
    "between two ids. Merge them, or correct the address.")


@check
def assets_have_distinct_addresses(ctx: CheckContext) -> Iterator[Finding]:
    holders: dict[str, list[str]] = defaultdict(list)
    for asset in ctx.treaty.assets:
        for address in dict.fromkeys(str(ipaddress.ip_address(a)) for a in asset.addresses):
            holders[address].append(asset.id)
    for address, ids in sorted(holders.items()):
        if len(ids) < 2:
            continue
        yield SAME_ADDRESS.finding(
            ids, f"Assets {', '.join(ids)} all have address {address}: one host written twice, or a wrong address.",
            [ctx.site.locate_item("assets", asset_id, "addresses") for asset_id in ids], discriminator=address)
