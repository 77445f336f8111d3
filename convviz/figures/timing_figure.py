"""Bar charts for the Methods & speed page: what each forward method allocates, and what each method costs.

Plotly only (no Streamlit): pure functions from the engine's `Work` / `TimingReport` to a go.Figure.
"""
from __future__ import annotations

import plotly.graph_objects as go

from ..timing import Work

METHOD_COLOURS = {"loops": "#9e9e9e", "im2col": "#1f77b4", "strided": "#2ca02c", "col2im": "#17becf",
                  "transposed": "#9467bd", "pytorch": "#ff7f0e"}


def _mb(n: int) -> float:
    return n / 2**20


def size_text(n: int) -> str:
    """Bytes with three significant digits in a fitting unit: 288 B, 2.25 KB, 1.53 MB (a small layer's copy is not
    '0.00 MB')."""
    for unit, scale in (("MB", 2**20), ("KB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"


WIDTH_PX = 860  # the charts' width where the page's column allows
NARROW_PX = 600  # a column narrower than this (a phone) gets the times across their bars


def memory_figure(work: Work, kh: int, kw: int, width: int = WIDTH_PX) -> go.Figure:
    """Bytes of the input and of the extra copy each forward method makes (float64). Its texts take two lines, so that
    it reads on a phone too (a page without a player may not know the screen's width yet).

    Args:
        work: the layer's costs (convviz.timing.work_of).
        kh, kw: the kernel size, for the label of the im2col blow-up.
        width: the chart's width in pixels, at most WIDTH_PX.
    """
    labels = ["input x", "im2col:<br>column matrix (a copy)", "strided:<br>window view (no copy)",
              "loops:<br>one window at a time"]
    sizes = [_mb(work.input_bytes), _mb(work.column_bytes), 0.0, 0.0]
    ratio = work.column_bytes / work.input_bytes if work.input_bytes else 0.0
    text = [size_text(work.input_bytes), f"{size_text(work.column_bytes)}<br>({ratio:.3g}x the input; KH*KW = {kh * kw})",
            "0 B extra", "0 B extra<br>(slow instead)"]
    # outside the bars, so the zero-length ones show their text too; the axis leaves room for the longest label
    fig = go.Figure(go.Bar(x=sizes, y=labels, orientation="h", text=text, textposition="outside", cliponaxis=False,
                           marker_color=["#6baed6", METHOD_COLOURS["im2col"], METHOD_COLOURS["strided"], METHOD_COLOURS["loops"]],
                           hovertemplate="%{y}: %{x:.3f} MB<extra></extra>"))
    fig.update_layout(title="Memory of the forward pass:<br>what each method allocates besides the input",
                      xaxis=dict(title="MB (float64)", range=[0, max(sizes) * 2.4 or 1]),
                      yaxis=dict(autorange="reversed", automargin=True), height=320, width=min(width, WIDTH_PX),
                      margin=dict(l=10, r=20, t=70, b=40), showlegend=False)
    return fig


def timing_figure(rows: list[dict], width: int = WIDTH_PX) -> go.Figure:
    """Best time per method, forward and backward side by side, on a log scale (loops are ~100x slower).

    Args:
        rows: dicts with "pass", "method" and "seconds" (None for a method that did not run).
        width: the chart's width in pixels (at most WIDTH_PX); below NARROW_PX the times stand across their bars.
    """
    narrow = width < NARROW_PX
    fig = go.Figure()
    for method in dict.fromkeys(r["method"] for r in rows):
        ran = [r for r in rows if r["method"] == method and r["seconds"] is not None]
        if not ran:
            continue
        fig.add_trace(go.Bar(
            name=method, x=[r["pass"] for r in ran], y=[r["seconds"] * 1e3 for r in ran],
            marker_color=METHOD_COLOURS.get(method, "#444"), text=[f"{r['seconds'] * 1e3:.3g} ms" for r in ran],
            textposition="outside", cliponaxis=False,
            textangle=-90 if narrow else None,  # side by side, a narrow bar's text would touch its neighbour's
            hovertemplate=f"{method}, %{{x}}: %{{y:.4g}} ms<extra></extra>"))
    fig.update_layout(title="Best time per method (log scale)", barmode="group", height=380, width=min(width, WIDTH_PX),
                      yaxis=dict(type="log", title="milliseconds", automargin=True, dtick=1, tickformat="~g"),
                      margin=dict(l=10, r=10, t=90 if narrow else 50, b=40), legend=dict(orientation="h", y=-0.15))
    return fig
