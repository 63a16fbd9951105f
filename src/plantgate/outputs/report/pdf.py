"""The report as PDF: WeasyPrint lays out the same HTML with its print stylesheet.

Print rules live in the stylesheet (page numbers, the site name and revision on every page,
the charter alone on its page, no table row split across pages), so the PDF and the HTML
can never disagree on content.
"""

from __future__ import annotations

import logging
from pathlib import Path

from plantgate.errors import PlantGateError


class PdfUnavailable(PlantGateError):
    """WeasyPrint or its system libraries (Pango) are missing."""


def html_to_pdf(html: str) -> bytes:
    """Render HTML (self-contained: inline CSS and SVG) to PDF bytes."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: the Pango shared libraries are missing
        raise PdfUnavailable(f"PDF output needs WeasyPrint and Pango ({exc}); the HTML report needs neither") \
            from None
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    data: bytes = HTML(string=html).write_pdf()
    return data


def write_pdf(html: str, path: Path) -> Path:
    data = html_to_pdf(html)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
