"""Findings by severity over the treaty's revisions, as a small SVG line chart drawn on the server.

A plant manager asks "are we getting better?": one line per severity across revisions
answers it at a glance. The chart is plain SVG text (no script, no CDN, no chart library to
vendor); every label is escaped, and the page shows the same numbers as a table beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

SEVERITY_COLOURS = {"critical": "#8b0000", "high": "#c0392b", "medium": "#b9770e", "low": "#2471a3",
                    "info": "#6c757d"}
"""Line colours by severity; each line is also labelled with its name at its end (not colour alone)."""
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 90, 16, 40


def _nice_top(value: int) -> int:
    """A round axis maximum at or above ``value``."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 5:
            return step * 5 if value > step * 4 else max(step * 4, 1)
    return value


def severity_chart(points: Sequence[tuple[str, Mapping[str, int]]], severities: Sequence[str]) -> str:
    """The SVG of counts per severity at each point (label, {severity: count}), oldest first."""
    top = _nice_top(max([0, *(counts.get(s, 0) for _, counts in points for s in severities)]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(points) - 1)

    def x(i: int) -> float:
        return LEFT + (i * step if len(points) > 1 else plot_w / 2)

    def y(value: int) -> float:
        return TOP + plot_h - (value / top) * plot_h if top else TOP + plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-labelledby="trend-title" class="trend-chart"><title id="trend-title">Findings by severity over '
             f'{len(points)} revision{"s" if len(points) != 1 else ""}</title>']
    for tick in range(5):
        value = top * tick // 4
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     f'stroke="#d9dde1"/><text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" '
                     f'font-size="11">{value}</text>')
    for i, (label, _) in enumerate(points):
        parts.append(f'<text x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11">'
                     f'{escape(label)}</text>')
    for severity in severities:
        colour = SEVERITY_COLOURS.get(severity, "#000000")
        coords = [(x(i), y(counts.get(severity, 0))) for i, (_, counts) in enumerate(points)]
        if not coords:
            continue
        path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        for (cx, cy), (label, counts) in zip(coords, points, strict=True):
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="{colour}"><title>{escape(label)}: '
                         f'{counts.get(severity, 0)} {escape(severity)}</title></circle>')
        last_x, last_y = coords[-1]
        parts.append(f'<text x="{last_x + 8:.1f}" y="{last_y + 4:.1f}" font-size="11" fill="{colour}">'
                     f'{escape(severity)}</text>')
    parts.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle" font-size="11">'
                 f'treaty revision</text></svg>')
    return "".join(parts)
