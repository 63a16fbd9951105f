"""Progress for long work: a rich bar on a terminal, silence in pipes, CI logs and JSON output.

Off a terminal nothing is drawn, and rich's progress machinery (a tenth of a second to
import) is not even loaded: a command run by a script starts that much sooner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from plantgate.terminal import make_console

err_console = make_console(stderr=True)


@contextmanager
def steps(total: int | None = None) -> Iterator[Callable[[str], None]]:
    """Yield ``step(description)``: each call names the work now under way and counts one step.

    With ``total`` the bar shows how many steps are done; without it, a spinner.
    """
    if not err_console.is_terminal:
        yield _quiet_step
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = [SpinnerColumn(), TextColumn("{task.description}", markup=False)]
    if total is not None:
        columns += [BarColumn(), MofNCompleteColumn()]
    progress = Progress(*columns, TimeElapsedColumn(), console=err_console, transient=True)
    with progress:
        task = progress.add_task("", total=total)
        started = False

        def step(description: str) -> None:
            nonlocal started
            progress.update(task, description=description, advance=1 if started else 0)
            started = True

        yield step


def _quiet_step(description: str) -> None:
    """The step of a run that shows no progress."""
