"""Bar charts drawn on the server as SVG: presentation attributes only (fill="", no style attribute,
no script), so the strict CSP lets the page show them inline."""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

BAR = "#2e7d32"
BAR_LOW = "#c62828"
GRID = "#cccccc"
TEXT = "#222222"


def _trim(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def hbar_chart(rows: list[tuple[str, float, str]], *, title: str, max_value: float, chart_id: str,
               low: float | None = None, label_width: int = 230, width: int = 640) -> str:
    """A horizontal bar chart: one row per (label, value, value text); bars under ``low`` in red."""
    bar_h, gap, top = 22, 8, 34
    height = top + len(rows) * (bar_h + gap) + 10
    span = width - label_width - 70
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" id={quoteattr(chart_id)} class="chart" '
           f'viewBox="0 0 {width} {height}" width="100%" aria-labelledby={quoteattr(chart_id + "-t")}>',
           f'<title id={quoteattr(chart_id + "-t")}>{escape(title)}</title>',
           f'<text x="0" y="18" font-size="15" font-weight="bold" fill="{TEXT}">{escape(_trim(title, 80))}</text>']
    for k in range(5):  # grid lines at 0, 25, 50, 75, 100 % of the scale
        x = label_width + span * k / 4
        out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 8}" stroke="{GRID}" stroke-width="1"/>')
    for i, (label, value, text) in enumerate(rows):
        y = top + i * (bar_h + gap)
        w = span * (value / max_value) if max_value else 0
        colour = BAR_LOW if low is not None and value < low else BAR
        out.append(f'<g class="bar" data-label={quoteattr(label)} data-value="{value:g}">'
                   f'<title>{escape(label)}: {escape(text)}</title>'
                   f'<text x="{label_width - 6}" y="{y + bar_h - 6}" font-size="13" text-anchor="end" fill="{TEXT}">'
                   f'{escape(_trim(label, 34))}</text>'
                   f'<rect x="{label_width}" y="{y}" width="{max(w, 1):.1f}" height="{bar_h}" fill="{colour}"/>'
                   f'<text x="{label_width + w + 6:.1f}" y="{y + bar_h - 6}" font-size="13" fill="{TEXT}">{escape(text)}</text>'
                   '</g>')
    out.append("</svg>")
    return "".join(out)


RATE_TITLES = {"residence": "Tỷ lệ phiếu nhận lại theo chi bộ nơi cư trú",
               "workplace": "Tỷ lệ phiếu nhận lại theo chi bộ nơi công tác"}


def return_rate_chart(rates: dict[str, tuple[int, int]], by: str = "residence") -> str:
    """Returned/sent per cell (``by``: residence or workplace cell), under half in red."""
    rows = [(name, 100 * back / sent if sent else 0, f"{back}/{sent} ({round(100 * back / sent) if sent else 0}%)")
            for name, (back, sent) in rates.items()]
    return hbar_chart(rows, title=RATE_TITLES[by], max_value=100,
                      chart_id="chart-return-rate" if by == "residence" else f"chart-return-rate-{by}", low=50)


def distribution_chart(title: str, counts: list[tuple[str, int]], chart_id: str) -> str:
    total = sum(n for _l, n in counts)
    rows = [(label, n, f"{n} ({round(100 * n / total) if total else 0}%)") for label, n in counts]
    return hbar_chart(rows, title=title, max_value=max([n for _l, n in counts] + [1]), chart_id=chart_id)
