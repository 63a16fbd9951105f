"""A three-zone estate with two firewalls in series (corp | dmz | ops), for the estate tests."""

from __future__ import annotations

from pathlib import Path

from tests.sites import MINIMAL, write_files

SERIES_FIREWALLS = """
    firewalls:
      - id: fw-outer
        vendor: iptables
        config: outer.iptables
        zones: {eth0: corp, eth1: dmz}
      - id: fw-inner
        vendor: iptables
        config: inner.iptables
        zones: {eth0: dmz, eth1: ops}
    """
OUTER = """
    *filter
    :FORWARD DROP [0:0]
    -A FORWARD -s 10.0.0.0/16 -d 10.30.0.0/24 -i eth0 -o eth1 -p tcp --dport 502 -j ACCEPT
    -A FORWARD -s 10.30.0.5/32 -d 172.16.0.9/32 -i eth1 -o eth0 -p tcp --dport 8443 -j ACCEPT
    COMMIT
    """
INNER = """
    *filter
    :FORWARD DROP [0:0]
    -A FORWARD -d 10.30.0.7/32 -i eth0 -o eth1 -p tcp --dport 502 -j ACCEPT
    -A FORWARD -s 10.30.0.0/24 -d 172.16.0.0/24 -i eth1 -o eth0 -p tcp --dport 5450 -j ACCEPT
    COMMIT
    """


def series_site(folder: Path, extra: dict[str, str] | None = None) -> Path:
    """MINIMAL plus two iptables firewalls in series; ``extra`` files override or add."""
    files = dict(MINIMAL)
    files.update({"firewalls.yaml": SERIES_FIREWALLS, "outer.iptables": OUTER, "inner.iptables": INNER})
    files.update(extra or {})
    return write_files(folder, files)
