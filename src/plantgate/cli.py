"""The ``plantgate`` command: a thin shell over the library.

This is the only place that turns errors into exit codes:
0 nothing at or above --fail-on, 1 findings at or above it, 2 invalid input, 3 internal error.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from plantgate import __version__
from plantgate.errors import InputError, PlantGateError
from plantgate.terminal import make_console, styled

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
F = TypeVar("F", bound=Callable[..., Any])

console = make_console()
err_console = make_console(stderr=True)

FORMAT_OPTION = click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
                             show_default=True, help="text for people, json for tools.")


def handle_errors(function: F) -> F:
    """Map library errors to exit codes and plain messages; never a traceback for a user mistake."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except InputError as exc:
            err_console.print(styled(("Invalid input", "bold red"), f" ({len(exc.problems)} problem"
                                     f"{'s' if len(exc.problems) != 1 else ''}):"))
            for problem in exc.problems:
                err_console.print(f"  {problem}", highlight=False)
            sys.exit(EXIT_INPUT)
        except PlantGateError as exc:
            err_console.print(styled(("Error:", "bold red"), f" {exc}"))
            sys.exit(EXIT_INPUT)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # the last line of defence: exit 3, say where to look
            err_console.print(styled(("Internal error", "bold red"), f": {type(exc).__name__}: {exc}"))
            if os.environ.get("PLANTGATE_DEBUG"):
                traceback.print_exc()
            else:
                err_console.print("Set PLANTGATE_DEBUG=1 for the traceback, and please report it.")
            sys.exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


COMMANDS: dict[str, tuple[str, str, str]] = {
    "validate": ("plantgate.cli_check", "validate",
        "Load and validate a treaty folder; report every problem with file:line:column."),
    "check": ("plantgate.cli_check", "check",
        "Check a treaty folder against its own rules and the evidence it names."),
    "demo": ("plantgate.cli_check", "demo",
        "Write the bundled example plant to DIRECTORY (default ./plantgate-demo) and check it."),
    "schema": ("plantgate.cli_check", "schema",
        "Print the JSON Schema of the treaty, for editors (yaml-language-server) and CI."),
    "fw": ("plantgate.cli_fw", "fw",
        "Query one firewall config: show its rules, test packets, diff two configs, lint."),
    "change": ("plantgate.cli_change", "change",
        "Firewall change control: impact and refusal of a change record, close-only proofs, verification."),
    "vuln": ("plantgate.cli_vuln", "vuln",
        "Match assets to advisories, decide with SSVC, export signed decisions as VEX."),
    "outage": ("plantgate.cli_vuln", "outage",
        "Outage windows: the security work package, prepared in advance."),
    "report": ("plantgate.cli_report", "report",
        "Write the leadership report (charter, services, patch policy, RACI, register, findings)."),
    "diagram": ("plantgate.cli_report", "diagram",
        "Draw zones in Purdue bands and conduits coloured by firewall status (Graphviz dot)."),
    "import": ("plantgate.cli_import", "import_group",
        "Merge evidence exported by other tools into the treaty."),
    "reach": ("plantgate.cli_estate", "reach",
        "End-to-end flows from one zone to another along every path, hop by hop."),
    "access-map": ("plantgate.cli_estate", "access_map",
        "Who reaches each control, field and safety zone end to end, how, and on whose approval."),
    "render": ("plantgate.cli_estate", "render",
        "The rules that implement the register on one firewall, in its vendor's syntax, proved equal."),
    "flows": ("plantgate.cli_seed", "flows",
        "The observed zone-to-zone matrix, with the register's and the firewalls' verdict per cell."),
    "serve": ("plantgate.cli_web", "serve",
        "Run the web app (creates ./plantgate.db by default)."),
    "db": ("plantgate.cli_web", "db",
        "Database: import and export treaty folders, apply migrations."),
    "admin": ("plantgate.cli_web", "admin",
        "Accounts and incident response: users, roles per site, API tokens, disabling and password resets."),
    "audit": ("plantgate.cli_web", "audit",
        "The audit log."),
    "worker": ("plantgate.cli_fleet", "worker",
        "Run jobs (checks, re-judging, deliveries) from the PostgreSQL queue until stopped."),
    "feeds": ("plantgate.cli_fleet", "feeds",
        "Fleet-wide vulnerability feeds: KEV, CSAF advisories, Vulnrichment."),
    "baseline": ("plantgate.cli_fleet", "baseline",
        "The corporate baseline: rules every plant's firewalls must satisfy."),
    "fleet": ("plantgate.cli_fleet", "fleet",
        "The fleet: checks of every site, fleet-wide read roles."),
}
"""Every command: its module, its attribute and its one-line summary for ``plantgate --help``.

The command is imported and its callback wrapped in handle_errors only when it is used; the
summary is written here so that the top-level help lists every command without importing any
(tests/test_cli.py holds each summary to its command's own help text)."""


TREATY_ARGUMENTS = frozenset({"site_dir", "record", "folder"})
"""Commands with one of these arguments read a treaty, and take ``--allow-outside``."""


def _allow_outside(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> None:
    if value:
        from plantgate.load.paths import allow_outside

        ctx.call_on_close(allow_outside(Path(v) for v in value))


ALLOW_OUTSIDE_HELP = ("Also read files the treaty names under PATH, outside the treaty folder (repeatable). "
                      "By default every config, candidate, trust export, flow and feed file must lie inside it.")


def _wrap(command: click.Command) -> None:
    if command.callback is not None:
        command.callback = handle_errors(command.callback)
        if any(param.name in TREATY_ARGUMENTS for param in command.params):
            command.params.append(click.Option(
                ["--allow-outside"], metavar="PATH", multiple=True, expose_value=False, is_eager=True,
                type=click.Path(exists=True), callback=_allow_outside, help=ALLOW_OUTSIDE_HELP))
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _wrap(sub)


class LazyGroup(click.Group):
    """Imports a command's module only when that command is used.

    ``plantgate fw test`` then starts without the checks, the report or the web stack, and
    ``plantgate --help`` lists every command from ``COMMANDS`` without importing one.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module_name, attribute, _ = COMMANDS[cmd_name]
            command: click.Command = getattr(importlib.import_module(module_name), attribute)
            _wrap(command)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``plantgate --help`` from the summaries, importing no command."""
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [(name, click.Command(name, help=summary).get_short_help_str(limit))
                for name, (_, _, summary) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="plantgate")
def main() -> None:
    """PlantGate keeps the IT/OT boundary of an industrial plant honest.

    A plant writes its OT/IT convergence treaty (zones, conduit register, charter, shared
    services, patch policy, firewall RACI, escalation path) as YAML; PlantGate proves where
    the real firewalls, trusts, assets and vulnerabilities disagree with it.

    \b
    Start with:   plantgate demo            (writes and checks the example plant)
    Then:         plantgate check SITE_DIR
    Exit codes:   0 clean, 1 findings at or above --fail-on, 2 invalid input, 3 internal error
    """


def run() -> None:
    """The ``plantgate`` console command: ``main`` in a process of its own (see ``freeze_parsed_objects``).

    Once the command is done the process ends without the interpreter's teardown (``exit_now``).
    """
    from plantgate.firewalls.gc_pause import freeze_parsed_objects

    freeze_parsed_objects()
    try:
        main()
    except SystemExit as done:
        exit_now(done)
        raise


def exit_now(done: SystemExit) -> None:
    """End the process at once with ``done``'s status: output flushed and exit handlers run, but not
    the teardown that frees every object one by one (about half a second of ``check`` on the bench
    site, millions of parsed objects and BDD handles, for memory the system takes back anyway).

    Returns (for the ordinary exit) when other threads still run: they are waited for as usual.
    """
    import atexit
    import threading

    run_handlers = getattr(atexit, "_run_exitfuncs", None)
    if threading.active_count() > 1 or run_handlers is None:
        return
    code = done.code
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing left to deliver
            pass
    run_handlers()
    os._exit(code or 0)


if __name__ == "__main__":
    run()
