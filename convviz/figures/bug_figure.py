"""Correct vs buggy result (dx, y' or y) side by side, wrong cells outlined (plotly only; the numbers come from
convviz.bugs).

Colours are the walkthrough figures' own (trace_figure's "grad" scale, its "wrong" outline), so a dx reads the same on
the Bug lab as on Input gradient and col2im: negative blue, positive red, a wrong cell ringed in red."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import KIND_SCALES, ROLE_COLOURS

TEXT_MIN_PX = 30  # cells at least this large print their numbers
STACK_BELOW_PX = 16  # side by side cells smaller than this: the two panels go one under the other (a phone)


def bug_figure(correct: np.ndarray, buggy: np.ndarray, wrong: np.ndarray, cell_px: int = 44, width: int = 900,
               name: str = "dx") -> go.Figure:
    """Two heatmaps of one (H, W) slice of a result: the correct one and the buggy one (NaN = no value), wrong cells
    outlined.

    Args:
        correct, buggy: (H, W) float arrays; wrong: (H, W) bool mask.
        cell_px: the largest cell size; width: the page column's width in pixels (the two panels side by side, or
            one under the other where side by side would make cells under STACK_BELOW_PX).
        name: what the slice is ("dx", "y'", "y"), for the panels' titles.
    """
    correct, buggy, wrong = np.asarray(correct, float), np.asarray(buggy, float), np.asarray(wrong, bool)
    if not (correct.ndim == 2 and correct.shape == buggy.shape == wrong.shape):
        raise ValueError(f"correct, buggy, wrong: expected equal (H, W) shapes, got {correct.shape}, {buggy.shape}, {wrong.shape}.")
    H, W = correct.shape
    side = int(min(cell_px, (width - 190) // (2 * W), 420 // H))  # both panels side by side, markers match the cells
    stacked = side < STACK_BELOW_PX and (width - 90) // W > side
    cell_px = int(min(cell_px, (width - 90) // W, 420 // H)) if stacked else max(side, 1)
    # Numbers such as -12.34 need about 30 px; in smaller cells they overlap into noise and cost the browser
    # ~0.1 ms a cell on every draw (bench/draw_cost.py: 188 ms with them, 25 ms without at 32 x 32). Hover shows them.
    text = dict(texttemplate="%{z:.4~g}") if cell_px >= TEXT_MIN_PX else {}  # as the walkthrough figures print
    vmax = max(float(np.nanmax(np.abs(np.concatenate([correct.ravel(), buggy.ravel(), [0.0]])))), 1e-12)
    fig = make_subplots(rows=2 if stacked else 1, cols=1 if stacked else 2, vertical_spacing=0.12,
                        subplot_titles=(f"correct {name}", f"buggy {name} (ringed in red: wrong or missing)"), horizontal_spacing=0.06)
    for col, z in ((1, correct), (2, buggy)):
        where = dict(row=col, col=1) if stacked else dict(row=1, col=col)
        fig.add_trace(go.Heatmap(z=z, zmin=-vmax, zmax=vmax, colorscale=KIND_SCALES["grad"], zmid=0, showscale=col == 2,
                                 hoverongaps=False, name="correct" if col == 1 else "buggy", **text), **where)
        fig.update_xaxes(range=[-0.5, W - 0.5], constrain="domain", showgrid=False, zeroline=False, **where)
        fig.update_yaxes(range=[H - 0.5, -0.5], scaleanchor=f"x{col if col > 1 else ''}", constrain="domain",
                         showgrid=False, zeroline=False, **where)  # no lines across missing cells
    rows, cols = np.nonzero(wrong)
    fig.add_trace(go.Scatter(x=cols, y=rows, mode="markers", name="wrong",
                             marker=dict(symbol="square-open", size=cell_px * 0.85, color=ROLE_COLOURS["wrong"], line=dict(width=3)),
                             hoverinfo="skip", showlegend=False), **(dict(row=2, col=1) if stacked else dict(row=1, col=2)))
    if stacked:
        fig.update_layout(height=2 * cell_px * H + 160, width=cell_px * W + 90, margin=dict(l=30, r=30, t=50, b=30))
    else:
        fig.update_layout(height=cell_px * H + 100, width=2 * cell_px * W + 190, margin=dict(l=30, r=30, t=50, b=30))
    return fig
