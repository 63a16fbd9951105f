"""``plantgate report`` and ``plantgate diagram``: the documents people read and sign.

Thin commands over ``plantgate.outputs.report`` and ``plantgate.outputs.diagram``. Long
steps show a rich progress bar on a terminal and stay quiet otherwise (CI logs, pipes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from plantgate.checks import CheckContext, run_checks
from plantgate.errors import InputError
from plantgate.load import Site, load_site
from plantgate.outputs.diagram import GraphvizMissing, write_diagram
from plantgate.outputs.report.html import report_html, write_html
from plantgate.outputs.report.pdf import write_pdf

err_console = Console(stderr=True)
AS_OF = click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                     help="Judge dates (review-by, outages, expiries) as of this day. Default: today.")

DEMO_REPORT = "plantgate-report.html"
DEMO_PDF = "plantgate-report.pdf"
DEMO_DIAGRAM = "plantgate-zones.svg"


@contextmanager
def progress_steps(total: int) -> Iterator[Progress]:
    """A progress bar on stderr when it is a terminal; silent otherwise."""
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                        console=err_console, transient=True, disable=not err_console.is_terminal)
    with progress:
        progress.add_task("", total=total)
        yield progress


def _step(progress: Progress, description: str) -> None:
    task = progress.task_ids[0]
    progress.update(task, description=description)


def _advance(progress: Progress) -> None:
    progress.advance(progress.task_ids[0])


@click.command()
@click.argument("site_dir", type=click.Path(path_type=Path))
@click.option("--html", "html_path", type=click.Path(path_type=Path), help="Write the HTML report here.")
@click.option("--pdf", "pdf_path", type=click.Path(path_type=Path), help="Write the PDF report here.")
@click.option("--no-diagram", is_flag=True, help="Leave out the zone diagram (no Graphviz needed).")
@AS_OF
def report(site_dir: Path, html_path: Path | None, pdf_path: Path | None, no_diagram: bool,
           as_of: dt.datetime | None) -> None:
    """Write the leadership report (charter, services, patch policy, RACI, register, findings).

    The HTML is self-contained; the PDF is laid out from the same HTML by WeasyPrint.
    """
    if html_path is None and pdf_path is None:
        raise InputError.at("plantgate report", 0, 0, "nothing to write", "--html FILE and/or --pdf FILE")
    with progress_steps(4 if pdf_path else 3) as progress:
        _step(progress, "Loading the treaty and firewall configs")
        site = load_site(site_dir)
        context = CheckContext(site, as_of.date() if as_of else dt.date.today())
        findings = run_checks(site, context.as_of, context)
        _advance(progress)
        _step(progress, "Drawing the zone diagram and rendering the report")
        html = report_html(context, findings, with_diagram=not no_diagram)
        _advance(progress)
        written = []
        if html_path:
            written.append(write_html(html, html_path))
        _advance(progress)
        if pdf_path:
            _step(progress, "Laying out the PDF")
            written.append(write_pdf(html, pdf_path))
            _advance(progress)
    for path in written:
        click.echo(str(path))


@click.command()
@click.argument("site_dir", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="FILE.svg, FILE.png or FILE.dot (Graphviz source).")
@AS_OF
def diagram(site_dir: Path, output: Path, as_of: dt.datetime | None) -> None:
    """Draw zones in Purdue bands and conduits coloured by firewall status (Graphviz dot)."""
    with progress_steps(1) as progress:
        _step(progress, "Drawing the zone diagram")
        site = load_site(site_dir)
        context = CheckContext(site, as_of.date() if as_of else dt.date.today())
        write_diagram(context, output)
        _advance(progress)
    click.echo(str(output))


def write_demo_outputs(site: Site, context: CheckContext, folder: Path) -> list[Path]:
    """Write the HTML and PDF reports and the SVG diagram of a site into ``folder``; return the paths.

    Without Graphviz the reports are written without the diagram, and a note says why: the
    demo must work right after ``pip install`` on a machine that has no ``dot``.
    """
    findings = run_checks(site, context.as_of, context)
    try:
        html = report_html(context, findings)
    except GraphvizMissing as exc:
        Console(stderr=True).print(f"[yellow]Note:[/yellow] {exc}; the report is written without the diagram.")
        html = report_html(context, findings, with_diagram=False)
        return [write_html(html, folder / DEMO_REPORT), write_pdf(html, folder / DEMO_PDF)]
    return [write_html(html, folder / DEMO_REPORT), write_pdf(html, folder / DEMO_PDF),
            write_diagram(context, folder / DEMO_DIAGRAM)]
