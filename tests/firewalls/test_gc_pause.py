"""The garbage collector is paused only for the duration of a parse, and left as it was found."""

from __future__ import annotations

import gc

from plantgate.firewalls.base import parser_for


def test_collector_back_on_after_a_parse_and_left_off_when_it_was_off() -> None:
    text = "access-list A extended permit tcp any any eq 22\n"
    assert gc.isenabled()
    parser_for("asa").parse(text, "a.cfg")
    assert gc.isenabled()
    gc.disable()
    try:
        parser_for("asa").parse(text, "a.cfg")
        assert not gc.isenabled()
    finally:
        gc.enable()
