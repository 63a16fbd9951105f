"""firewalls/ipv4 against its oracle, ipaddress: the same answer wherever it answers, and it answers for plain IPv4."""

from __future__ import annotations

import ipaddress

from hypothesis import example, given
from hypothesis import strategies as st

from plantgate.firewalls import ipv4

OCTET_TEXT = st.one_of(st.integers(0, 300).map(str), st.text(alphabet="0123456789x ", min_size=0, max_size=4))
DOTTED = st.one_of(
    st.lists(OCTET_TEXT, min_size=3, max_size=5).map(".".join),
    st.text(alphabet="0123456789./ x", max_size=18),
    st.integers(0, ipv4.ALL_ONES).map(lambda v: str(ipaddress.IPv4Address(v))),
)
MASK = st.one_of(
    DOTTED,
    st.integers(0, 33).map(str),
    st.integers(0, 32).map(lambda n: str(ipaddress.IPv4Network((0, n)).netmask)),
    st.integers(0, 32).map(lambda n: str(ipaddress.IPv4Network((0, n)).hostmask)),
)
# networks crowded into a /20, so that they overlap, nest and sit side by side
CROWDED = st.builds(lambda value, length: ipaddress.IPv4Network((0x0A000000 | value, length), strict=False),
                    st.integers(0, 0xFFF), st.integers(19, 32))


def _oracle_int(text: str) -> int | None:
    try:
        return int(ipaddress.IPv4Address(text))
    except ValueError:
        return None


@given(DOTTED)
@example("01.2.3.4")
@example("1.2.3.256")
@example("१.2.3.4")
def test_address_int_is_ipaddress(text: str) -> None:
    assert ipv4.address_int(text) == _oracle_int(text)


@given(DOTTED, st.one_of(st.none(), MASK))
@example("10.1.2.3", "255.255.255.0")
@example("10.1.2.3", "0.0.0.255")  # a host mask: left to ipaddress
@example("10.1.2.3", "0.0.0.0")
def test_subnet_is_ip_network(address: str, mask: str | None) -> None:
    found = ipv4.subnet(address, mask)
    text = address if mask is None else f"{address}/{mask}"
    try:
        expected: ipaddress.IPv4Network | ipaddress.IPv6Network | None = ipaddress.ip_network(text, strict=False)
    except ValueError:
        expected = None
    if found is not None:
        assert found == expected and found.version == 4
    elif expected is not None and expected.version == 4 and _oracle_int(address) is not None:
        assert mask is not None and ipv4.prefix_length(mask) is None  # only a host mask is passed on


@given(st.integers(0, ipv4.ALL_ONES), st.integers(0, 1 << 20))
@example(0, ipv4.ALL_ONES)
def test_blocks_are_summarize_address_range(first: int, span: int) -> None:
    last = min(first + span, ipv4.ALL_ONES)
    expected = list(ipaddress.summarize_address_range(ipaddress.IPv4Address(first), ipaddress.IPv4Address(last)))
    assert list(ipv4.blocks(first, last)) == expected


@given(st.lists(st.one_of(CROWDED, st.sampled_from([ipaddress.IPv4Network("0.0.0.0/0"),
                                                    ipaddress.IPv4Network("255.255.255.255/32")])), max_size=12))
def test_collapse_is_collapse_addresses(nets: list[ipaddress.IPv4Network]) -> None:
    assert ipv4.collapse(nets) == list(ipaddress.collapse_addresses(nets))
