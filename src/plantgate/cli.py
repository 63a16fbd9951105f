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
from typing import Any, TypeVar

import click
from rich.console import Console

from plantgate import __version__
from plantgate.errors import InputError, PlantGateError

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
F = TypeVar("F", bound=Callable[..., Any])

console = Console()
err_console = Console(stderr=True)

FORMAT_OPTION = click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
                             show_default=True, help="text for people, json for tools.")


def handle_errors(function: F) -> F:
    """Map library errors to exit codes and plain messages; never a traceback for a user mistake."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except InputError as exc:
            err_console.print(f"[bold red]Invalid input[/bold red] ({len(exc.problems)} problem"
                              f"{'s' if len(exc.problems) != 1 else ''}):", highlight=False)
            for problem in exc.problems:
                err_console.print(f"  {problem}", highlight=False, markup=False)
            sys.exit(EXIT_INPUT)
        except PlantGateError as exc:
            err_console.print(f"[bold red]Error:[/bold red] {exc}", highlight=False)
            sys.exit(EXIT_INPUT)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # the last line of defence: exit 3, say where to look
            err_console.print(f"[bold red]Internal error[/bold red]: {type(exc).__name__}: {exc}", highlight=False)
            if os.environ.get("PLANTGATE_DEBUG"):
                traceback.print_exc()
            else:
                err_console.print("Set PLANTGATE_DEBUG=1 for the traceback, and please report it.")
            sys.exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("plantgate.cli_check", "validate"),
    "check": ("plantgate.cli_check", "check"),
    "demo": ("plantgate.cli_check", "demo"),
    "schema": ("plantgate.cli_check", "schema"),
    "fw": ("plantgate.cli_fw", "fw"),
    "change": ("plantgate.cli_change", "change"),
    "vuln": ("plantgate.cli_vuln", "vuln"),
    "outage": ("plantgate.cli_vuln", "outage"),
    "report": ("plantgate.cli_report", "report"),
    "diagram": ("plantgate.cli_report", "diagram"),
    "import": ("plantgate.cli_import", "import_group"),
    "reach": ("plantgate.cli_estate", "reach"),
    "access-map": ("plantgate.cli_estate", "access_map"),
    "render": ("plantgate.cli_estate", "render"),
    "flows": ("plantgate.cli_seed", "flows"),
    "serve": ("plantgate.cli_web", "serve"),
    "db": ("plantgate.cli_web", "db"),
    "admin": ("plantgate.cli_web", "admin"),
    "audit": ("plantgate.cli_web", "audit"),
    "worker": ("plantgate.cli_fleet", "worker"),
    "feeds": ("plantgate.cli_fleet", "feeds"),
    "baseline": ("plantgate.cli_fleet", "baseline"),
    "fleet": ("plantgate.cli_fleet", "fleet"),
}
"""Every command: its module and attribute. Loaded on use, each callback wrapped in handle_errors."""


def _wrap(command: click.Command) -> None:
    if command.callback is not None:
        command.callback = handle_errors(command.callback)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _wrap(sub)


class LazyGroup(click.Group):
    """Imports a command's module only when that command is used.

    ``plantgate fw test`` then starts without the checks, the report or the web stack
    (a third of a second instead of a second); ``plantgate --help`` still lists everything.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module_name, attribute = COMMANDS[cmd_name]
            command: click.Command = getattr(importlib.import_module(module_name), attribute)
            _wrap(command)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)


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


if __name__ == "__main__":
    main()
