"""``plantgate report`` and ``plantgate diagram``: the documents people read and sign.

Thin commands over ``plantgate.outputs.report`` and ``plantgate.outputs.diagram``. Long
steps show a rich progress bar on a terminal and stay quiet otherwise (CI logs, pipes).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from plantgate.checks import CheckContext, run_checks
from plantgate.errors import InputError
from plantgate.load import Site, load_site
from plantgate.outputs.diagram import GraphvizMissing, write_diagram
from plantgate.outputs.report.html import report_html, write_html
from plantgate.outputs.report.pdf import write_pdf
from plantgate.progress import steps
from plantgate.terminal import make_console, styled

err_console = make_console(stderr=True)
AS_OF = click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                     help="Judge dates (review-by, outages, expiries) as of this day. Default: today.")

DEMO_REPORT = "plantgate-report.html"
DEMO_PDF = "plantgate-report.pdf"
DEMO_DIAGRAM = "plantgate-zones.svg"


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
    with steps(4 if pdf_path else 3) as step:
        step("Loading the treaty and firewall configs")
        site = load_site(site_dir)
        context = CheckContext(site, as_of.date() if as_of else dt.date.today(), may_fork=True)
        findings = run_checks(site, context.as_of, context)
        step("Drawing the zone diagram and rendering the report")
        html = report_html(context, findings, with_diagram=not no_diagram)
        written = []
        if html_path:
            written.append(write_html(html, html_path))
        if pdf_path:
            step("Laying out the PDF")
            written.append(write_pdf(html, pdf_path))
    for path in written:
        click.echo(str(path))


@click.command()
@click.argument("site_dir", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="FILE.svg, FILE.png or FILE.dot (Graphviz source).")
@AS_OF
def diagram(site_dir: Path, output: Path, as_of: dt.datetime | None) -> None:
    """Draw zones in Purdue bands and conduits coloured by firewall status (Graphviz dot)."""
    with steps(1) as step:
        step("Drawing the zone diagram")
        site = load_site(site_dir)
        context = CheckContext(site, as_of.date() if as_of else dt.date.today(), may_fork=True)
        write_diagram(context, output)
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
        err_console.print(styled(("Note:", "yellow"), f" {exc}; the report is written without the diagram."))
        html = report_html(context, findings, with_diagram=False)
        return [write_html(html, folder / DEMO_REPORT), write_pdf(html, folder / DEMO_PDF)]
    return [write_html(html, folder / DEMO_REPORT), write_pdf(html, folder / DEMO_PDF),
            write_diagram(context, folder / DEMO_DIAGRAM)]
