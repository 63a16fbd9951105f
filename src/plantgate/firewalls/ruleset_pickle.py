"""A parsed ruleset sent to another process: pickled with cheap reductions of its hot types.

``parse_pair`` parses a config in a forked process and sends the ruleset back. Pickled as is, a
10,000-rule ruleset costs about two thirds of its parse: every slots dataclass goes through the
``__getstate__``/``__setstate__`` that ``dataclasses`` writes in Python (which looks its fields up
anew for every object), and every network is written as text and parsed again. Here a slots
dataclass is written as its class and its field values (read by one ``attrgetter``) and built
again by its own ``__init__`` (or, where ``__post_init__`` would rewrite what it was given, by
setting its fields), and a network as its integer and prefix length (an IPv4 one through the
parsers' interning). Everything else pickles as usual; the result equals the original.
"""

from __future__ import annotations

import dataclasses
import io
import ipaddress
import pickle
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from plantgate.firewalls.interning import ipv4_network

Reduction = tuple[Callable[..., Any], tuple[Any, ...]]


def dumps(value: object) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


def loads(data: bytes) -> Any:
    return pickle.loads(data)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        reduce = _REDUCERS.get(type(obj))
        if reduce is None:
            reduce = _REDUCERS[type(obj)] = _reducer_for(type(obj))
        return NotImplemented if reduce is None else reduce(obj)


def _reducer_for(cls: type) -> Callable[[Any], Reduction] | None:
    if cls is ipaddress.IPv4Network:
        return lambda net: (ipv4_network, (int(net.network_address), net.prefixlen))
    if cls is ipaddress.IPv6Network:
        return lambda net: (ipaddress.IPv6Network, ((int(net.network_address), net.prefixlen),))
    if not dataclasses.is_dataclass(cls) or "__slots__" not in cls.__dict__:
        return None
    fields = dataclasses.fields(cls)
    if hasattr(cls, "__post_init__"):  # set every field as it is: the hook may rewrite what it is given
        every = tuple(field.name for field in fields)
        all_values = _values_of(every)
        return lambda obj: (_rebuild, (cls, every, all_values(obj)))
    init_values = _values_of(tuple(field.name for field in fields if field.init))
    return lambda obj: (cls, init_values(obj))


def _values_of(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The named attributes of an object as a tuple, read by one ``attrgetter``."""
    if len(names) == 1:
        return lambda obj: (getattr(obj, names[0]),)
    return attrgetter(*names)


def _rebuild(cls: type, names: tuple[str, ...], values: tuple[Any, ...]) -> Any:
    obj: Any = object.__new__(cls)
    for name, value in zip(names, values, strict=True):
        object.__setattr__(obj, name, value)
    return obj


_REDUCERS: dict[type, Callable[[Any], Reduction] | None] = {}
