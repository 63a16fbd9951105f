"""The report as one self-contained HTML file: Jinja2 templates, inline CSS and the inline SVG diagram.

Self-contained so that it can be mailed, archived beside the signed revision and opened
offline in the control room; the PDF is rendered from this very HTML.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from plantgate import __version__
from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding
from plantgate.outputs.diagram import inline_svg
from plantgate.outputs.report.sections import ReportView, build_view


def css_string(value: object) -> str:
    """Text safe inside a double-quoted CSS string (page headers and footers)."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return " ".join(text.splitlines()).replace("<", "\\3c ")


def _environment(view: ReportView) -> Environment:
    environment = Environment(loader=PackageLoader("plantgate.outputs.report", "templates"),
                              autoescape=select_autoescape(["html", "j2"], default_for_string=True),
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["css_string"] = css_string
    environment.filters["person"] = view.name
    return environment


def render_view(view: ReportView) -> str:
    """Lay out a computed view as HTML."""
    return _environment(view).get_template("report.html.j2").render(view=view)


def report_html(ctx: CheckContext, findings: list[Finding], *, with_diagram: bool = True) -> str:
    """The whole report for one check run (the diagram needs Graphviz ``dot``)."""
    svg = inline_svg(ctx) if with_diagram else ""
    view = build_view(ctx, findings, f"PlantGate {__version__}", svg)
    return render_view(view)


def write_html(html: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
