"""Parse the two configs a comparison reads at once, the second in a forked process.

``change prove-closing``, ``change verify`` and ``fw diff`` read two configs, and a 10,000-rule
PAN-OS or FortiGate config takes most of a second to parse. A forked process (it shares the
parsers already imported) parses the second while this one parses the first, and sends the
ruleset back through a pipe; pickling and loading it costs about half a parse, so a second
config under ``PARALLEL_FROM_BYTES`` is parsed here after the first. The pickle is read only
once this process's own parse is done, so the two never compete for the interpreter.

The answer and the errors are the same either way: the first config's InputError comes first
(the child is then stopped), the child's InputError is raised here as it was raised there, and
anything else (no fork, no process, a child that dies or fails otherwise) has the second config
parsed here, so an unexpected error surfaces with its own traceback. Only for a caller that owns
its process (the CLI): forking a process that runs threads can deadlock.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any, NamedTuple

from plantgate.errors import InputError
from plantgate.firewalls import ruleset_pickle
from plantgate.firewalls.base import parse_config
from plantgate.firewalls.gc_pause import collector_paused
from plantgate.firewalls.ruleset import Ruleset
from plantgate.netspace.cores import can_fork, usable_cores

PARALLEL_FROM_BYTES = 1_000_000
"""A config this large (some 2,500 FortiGate or PAN-OS rules, 7,500 ASA ones) takes longer to parse
than its ruleset takes to pickle and load."""


class ConfigSource(NamedTuple):
    """What ``parse_config`` reads: the file, its vendor (None: detected) and its context."""

    path: Path
    vendor: str | None
    context: str = ""

    def parse(self) -> Ruleset:
        return parse_config(self.path, self.vendor, self.context)


def parse_pair(first: ConfigSource, second: ConfigSource) -> tuple[Ruleset, Ruleset]:
    """Both configs parsed, the second in a forked process where that is quicker."""
    if not _worth_a_process(second.path):
        return first.parse(), second.parse()
    context = multiprocessing.get_context("fork")
    try:
        receiver, sender = context.Pipe(duplex=False)
    except OSError:  # no pipe to be had: one after the other, here
        return first.parse(), second.parse()
    child = context.Process(target=_parse_in_child, args=(second, sender), daemon=True)
    try:
        child.start()
    except OSError:  # no process to be had: one after the other, here
        receiver.close()
        sender.close()
        return first.parse(), second.parse()
    sender.close()  # the child's end: closed here, so a child that dies ends the read
    try:
        parsed = first.parse()
        try:
            with collector_paused():  # the loaded ruleset is hundreds of thousands of objects
                outcome: Any = ruleset_pickle.loads(receiver.recv_bytes())
        except (EOFError, OSError):  # the child died or failed otherwise
            outcome = None
    finally:
        receiver.close()
        if child.is_alive():
            child.terminate()
        child.join()
    if outcome is None:
        return parsed, second.parse()
    if isinstance(outcome, InputError):
        raise outcome
    return parsed, outcome


def _parse_in_child(source: ConfigSource, sender: Any) -> None:
    """In the child: send the ruleset, or the InputError the parse raised; any other failure ends
    the child with exit code 1, and the parent parses the config itself."""
    try:
        try:
            outcome: Ruleset | InputError = source.parse()
        except InputError as error:
            outcome = error
        sender.send_bytes(ruleset_pickle.dumps(outcome))
    except BaseException:  # noqa: BLE001 - the parent's own parse reports it, with its traceback
        os._exit(1)
    os._exit(0)


def _worth_a_process(path: Path) -> bool:
    try:
        size = os.stat(path).st_size
    except OSError:  # the parse reports it
        return False
    return size >= PARALLEL_FROM_BYTES and usable_cores() > 1 and can_fork()
