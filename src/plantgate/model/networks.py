"""Treaty network strings parsed once: a 10,000-conduit register names the same few networks
tens of thousands of times, and ``ipaddress`` parsing was a third of a full check's time."""

from __future__ import annotations

import functools
import ipaddress

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=1 << 16)
def cidr(text: str) -> IPNetwork | None:
    """The network a CIDR or address string denotes (host bits allowed), or None when it is not one.

    Network objects are immutable, so every caller may share the cached one.
    """
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def cidrs(texts: list[str]) -> list[IPNetwork]:
    """The networks of already validated strings (anything unparsable is left out)."""
    return [network for text in texts if (network := cidr(text)) is not None]
