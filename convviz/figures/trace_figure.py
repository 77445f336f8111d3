"""Draw any Trace as an animated Plotly figure: one heatmap per panel (per channel), highlights as
translucent overlays, one client-side frame per kept step, with play/pause, speed and a step scrubber.

Every page uses this builder, so a colour means the same thing everywhere: the colour scale belongs to
the panel's kind and the overlay colour to the highlight's role.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from _plotly_utils.utils import to_typed_array_spec

from ..traces.base import Panel, Trace, pick_steps

# Colour scales by panel kind (light, so black cell text stays readable on a projector).
KIND_SCALES = {
    "value": [[0.0, "#f7fbff"], [1.0, "#7fb2dc"]],
    "grad": [[0.0, "#3f7fbf"], [0.5, "#f7f7f7"], [1.0, "#d0543f"]],  # diverging, centred at zero
    "index": [[0.0, "#fffde7"], [1.0, "#c5e1a5"]],
    "count": [[0.0, "#ffffff"], [1.0, "#b39ddb"]],
    "error": [[0.0, "#e8f5e9"], [0.625, "#fff59d"], [1.0, "#e57373"]],  # log10 of the relative error
}
# Highlight colours by role. Regions (padding, uncovered) are translucent fills; the roles of a step
# (read, write, focus, wrong) are cell outlines, so the value colours underneath stay true.
ROLE_COLOURS = {
    "padding": "rgba(120,120,120,0.28)",
    "uncovered": "rgba(40,40,40,0.55)",
    "focus": "#f2b705",
    "read": "#ff7f0e",
    "write": "#8e24aa",
    "wrong": "#e00000",
}
FILL_ROLES = ("padding", "uncovered")
OUTLINE_ROLES = ("read", "focus", "write", "wrong")  # drawing order: later ones on top
OUTLINE_SCALE = {"read": 0.92, "focus": 0.66, "write": 0.92, "wrong": 0.78}  # focus inset: visible inside a window
ROLE_MEANING = {
    "read": "cells read in this step",
    "write": "cells written in this step",
    "focus": "what this step is about",
    "uncovered": "never reached by any window",
    "padding": "padding",
    "wrong": "wrong result",
}
ERROR_FLOOR = -16  # log10 of the smallest relative error drawn


class AnimatedFigure(go.Figure):
    """A go.Figure whose frames are kept as plain, pre-encoded dicts.

    Validating hundreds of go.Frame objects cost ~8 ms each; the frames only restyle traces that the
    validated base figure already defines, so they are built as raw dicts (arrays base64-encoded as
    Plotly 6 does) and joined in `to_dict()`, which is what st.plotly_chart and to_json read.
    """

    def __init__(self, *args, raw_frames: list | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._raw_frames = list(raw_frames or [])

    @property
    def raw_frames(self) -> list:
        return self._raw_frames

    def to_dict(self) -> dict:
        out = super().to_dict()
        if self._raw_frames:
            out["frames"] = self._raw_frames
        return out

    def to_plotly_json(self) -> dict:
        return self.to_dict()

    def to_json(self, *args, **kwargs) -> str:
        import plotly.io as pio

        return pio.to_json(self.to_dict(), *args, validate=False, **kwargs)


def _enc(a: np.ndarray) -> dict:
    return to_typed_array_spec(np.ascontiguousarray(a))


@dataclass(frozen=True)
class Cell:
    """One subplot: a panel's channel and where it sits."""

    panel: Panel
    channel: int | None
    axis: int  # 1-based plotly axis number


def _grid(panel: Panel, channel: int | None, values: np.ndarray | None = None) -> np.ndarray:
    v = panel.values if values is None else values
    return v[channel] if channel is not None else v


def _channel_mask(mask: np.ndarray, channel: int | None) -> np.ndarray:
    return mask[channel] if (mask.ndim == 3 and channel is not None) else mask


COMPACT_CELLS = 4096  # grids larger than this are sent as float32 (>= 6 significant digits, more than shown)


def _z(panel: Panel, grid: np.ndarray) -> np.ndarray:
    if panel.kind == "error":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.maximum(np.log10(np.abs(grid)), ERROR_FLOOR)
    if grid.size > COMPACT_CELLS:
        if panel.kind in ("index", "count") and np.abs(grid).max(initial=0) < 2**15:
            return grid.astype(np.int16)
        return grid.astype(np.float32)
    return grid


def _scale_range(panel: Panel, trace: Trace) -> dict:
    """zmin/zmax over every value the panel shows in any step, so colours do not jump between frames."""
    if panel.kind == "error":
        return dict(zmin=ERROR_FLOOR, zmax=0)
    arrays = [panel.values] + [s.values[panel.name] for s in trace.steps if panel.name in s.values]
    finite = [a[np.isfinite(a)] for a in arrays]
    finite = [a for a in finite if a.size]
    if not finite:
        return dict(zmin=0, zmax=1)
    lo, hi = min(float(a.min()) for a in finite), max(float(a.max()) for a in finite)
    if panel.kind == "grad":
        m = max(abs(lo), abs(hi), 1e-12)
        return dict(zmin=-m, zmax=m, zmid=0)
    if lo == hi:
        hi = lo + 1
    return dict(zmin=lo, zmax=hi)


def _wrap(text: str, width: int = 120) -> str:
    """Break a caption into <br>-separated lines for a Plotly title."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "<br>".join(lines)


def _layout_cells(trace: Trace, rows: Sequence[Sequence[str]]) -> list[list[Cell]]:
    out, axis = [], 1
    for names in rows:
        row = []
        for name in names:
            p = trace.panel(name)
            for ch in (range(p.channels) if p.values.ndim == 3 else [None]):
                row.append(Cell(p, ch, axis))
                axis += 1
        out.append(row)
    return out


def trace_figure(
    trace: Trace,
    rows: Sequence[Sequence[str]] | None = None,
    start: int = 0,
    max_frames: int | None = None,
    payload_budget: int = 1_800_000,
    cell_px: float = 34.0,
    font_size: int = 12,
    text: bool | None = None,
    clickable: str | None = None,
    max_width: int = 980,
) -> go.Figure:
    """Build the animated figure of `trace`.

    Args:
        rows: panel names per figure row (a panel with C channels takes C subplots side by side);
            default: every panel on one row.
        start: index (into trace.steps) of the step shown first.
        max_frames: cap on animation frames; by default as many as fit in `payload_budget` bytes of JSON
            after the static grids (so the whole figure stays under ~2 MB at the app's largest settings).
        cell_px: preferred cell size in pixels (presenter mode uses larger cells and fonts).
        text: print numbers in the cells; default when the cells are large enough to read.
        clickable: a panel name whose cells get an invisible marker grid, so a click selects that cell.
    Returns:
        AnimatedFigure (a go.Figure) with frames named by step index in `raw_frames`; layout.meta holds
        {"frame_steps": [...]}.
    """
    rows = [list(r) for r in (rows or [[p.name for p in trace.panels]])]
    layout_rows = _layout_cells(trace, rows)
    gap_units = 1.0
    heights = [max(c.panel.grid_shape[0] for c in r) for r in layout_rows]
    px = float(cell_px)
    for _ in range(3):  # titles take a fixed number of pixels, cells scale: settle the cell size
        widths = [sum(_units(c, px, font_size) for c in r) + gap_units * (len(r) - 1) for r in layout_rows]
        px = max(4.0, float(min(cell_px, (max_width - 80) / max(max(widths), 1))))
    widths = [sum(_units(c, px, font_size) for c in r) + gap_units * (len(r) - 1) for r in layout_rows]
    show_text = text if text is not None else px >= 15
    line_px = font_size + 5
    row_lines = [max(len(_wrap_title(_label(c), _units(c, px, font_size) * px, font_size)) for c in r) for r in layout_rows]
    title_px_rows = [16 + font_size + line_px * k for k in row_lines]  # tick labels + wrapped title lines
    top_px, bottom_px = 40 + 4 * (font_size + 4), 70 + 4 * font_size
    fig_h = int(sum(h * px for h in heights) + sum(title_px_rows) + top_px + bottom_px)
    fig_w = int(min(max_width, max(max(widths) * px + 80, 560)))
    wrap = max(40, int((fig_w - 40) / (0.56 * (font_size + 1))))  # caption characters per line

    fig = AnimatedFigure()
    overlays: list[tuple[int, Cell, str]] = []  # (trace index, cell, role) of every per-step overlay
    outline_px = max(3.0, px * 0.9)
    dynamic: list[tuple[int, Cell]] = []  # heatmaps whose values change between steps
    changing = {name for s in trace.steps for name in s.values}
    roles_used = {(h.panel, h.role) for s in trace.steps for h in s.highlights}
    annotations = []
    y_cursor = 1.0
    total_h = sum(heights) * px + sum(title_px_rows)
    for r, row in enumerate(layout_rows):
        row_h = heights[r] * px / total_h
        title_h = title_px_rows[r] / total_h
        x_cursor = 0.0
        unit = 1.0 / max(widths)
        for cell in row:
            p, ax = cell.panel, cell.axis
            gh, gw = p.grid_shape
            span = _units(cell, px, font_size)
            dom_x = [x_cursor, min(1.0, x_cursor + span * unit)]
            x_cursor += (span + gap_units) * unit
            own_h = gh * px / total_h  # each subplot only as tall as its own grid, top-aligned in the row
            dom_y = [max(0.0, y_cursor - title_h - own_h), y_cursor - title_h]
            suffix = "" if ax == 1 else str(ax)
            label = _label(cell)
            lines = _wrap_title(label, span * px, font_size)
            annotations.append(dict(text="<br>".join(f"<b>{t}</b>" for t in lines), x=dom_x[0], y=dom_y[1], xref="paper",
                                    yref="paper", xanchor="left", yanchor="bottom", align="left", yshift=12 + font_size,
                                    showarrow=False, font=dict(size=font_size)))
            rows_lbl = [str(i + p.row_start) for i in range(gh)]
            cols_lbl = [str(j + p.col_start) for j in range(gw)]
            every_r, every_c = max(1, int(np.ceil(14 / px))), max(1, int(np.ceil(14 / px)))
            fig.update_layout({
                # Explicit ranges: autorange would pad for the outline markers and shrink the cells.
                f"xaxis{suffix}": dict(domain=dom_x, anchor=f"y{suffix}", range=[-0.5, gw - 0.5], autorange=False,
                                       tickmode="array", tickvals=list(range(0, gw, every_c)),
                                       ticktext=cols_lbl[::every_c], side="top", showgrid=False, zeroline=False,
                                       constrain="domain", constraintoward="left", fixedrange=True,
                                       tickfont=dict(size=max(8, font_size - 3))),
                f"yaxis{suffix}": dict(domain=dom_y, anchor=f"x{suffix}", range=[gh - 0.5, -0.5], autorange=False,
                                       tickmode="array",
                                       tickvals=list(range(0, gh, every_r)), ticktext=rows_lbl[::every_r], showgrid=False,
                                       zeroline=False, scaleanchor=f"x{suffix}", constrain="domain",
                                       constraintoward="top", fixedrange=True, tickfont=dict(size=max(8, font_size - 3))),
            })
            axes = dict(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
            grid = _grid(p, cell.channel, trace.values_at(start, p.name) if p.name in changing else None)
            hm = dict(z=_z(p, grid), colorscale=KIND_SCALES[p.kind], showscale=False, xgap=1, ygap=1,
                      name=label, hovertemplate=f"{p.row_label} %{{y}}, {p.col_label} %{{x}}: %{{z:.6g}}<extra>{p.name}</extra>",
                      **_scale_range(p, trace), **axes)
            if show_text:
                if p.kind == "error":
                    hm.update(text=np.vectorize(_short_error)(grid), texttemplate="%{text}")
                else:
                    hm.update(texttemplate="%{z:.4~g}")
                hm["textfont"] = dict(size=max(7, min(font_size, int(px * 0.38))), color="#111")
            fig.add_trace(go.Heatmap(**hm))
            if p.name in changing:
                dynamic.append((len(fig.data) - 1, cell))
            if p.padding is not None and p.padding.any():
                fig.add_trace(_overlay(p.padding.astype(np.uint8), "padding", axes, "padding"))
            for role in ("uncovered",) + OUTLINE_ROLES:
                if (p.name, role) in roles_used:
                    mask = _step_mask(trace, start, p.name, role, cell.channel, (gh, gw))
                    if role in FILL_ROLES:
                        fig.add_trace(_overlay(mask, role, axes, role))
                    else:
                        fig.add_trace(_outline(mask, role, axes, outline_px * OUTLINE_SCALE[role] / 0.9))
                    overlays.append((len(fig.data) - 1, cell, role))
            if clickable == p.name:
                rr, cc = np.mgrid[0:gh, 0:gw]
                fig.add_trace(go.Scatter(
                    x=cc.ravel(), y=rr.ravel(), mode="markers", marker=dict(size=max(6, px * 0.9), opacity=0, symbol="square"),
                    customdata=np.stack([rr.ravel() + p.row_start, cc.ravel() + p.col_start], axis=1),
                    hovertemplate="select (%{customdata[0]}, %{customdata[1]})<extra></extra>", name="select", showlegend=False,
                    **axes))
        y_cursor -= title_h + row_h

    # Frames: only overlays and changing heatmaps are resent, so frames stay small. Estimate a frame's bytes
    # from the first steps (outlines cost ~20 bytes a cell, fills 1, changing values 8) to fit the budget.
    sample = trace.steps[: min(len(trace.steps), 8)]
    outline_cells = max((sum(0 if h.mask.all() else int(h.mask.sum()) for h in s.highlights if h.role in OUTLINE_ROLES)
                         for s in sample), default=0)
    per_frame = 14 * outline_cells * max(1, max((c.panel.channels for _, c, _ in overlays), default=1)) \
        + sum(c.panel.grid_shape[0] * c.panel.grid_shape[1] for _, c, r in overlays if r in FILL_ROLES) \
        + sum((4 if c.panel.grid_shape[0] * c.panel.grid_shape[1] > COMPACT_CELLS else 8)
              * c.panel.grid_shape[0] * c.panel.grid_shape[1] for _, c in dynamic)
    per_frame = int(per_frame * 4 / 3) + 200 * len(overlays) + max((len(s.caption) for s in sample), default=0) + 300
    static = sum((4 if c.panel.grid_shape[0] * c.panel.grid_shape[1] > COMPACT_CELLS else 8) * 4 / 3
                 * c.panel.grid_shape[0] * c.panel.grid_shape[1] for row in layout_rows for c in row)
    n = len(trace.steps)
    budget = max(2, int(max(payload_budget - static, 300_000) // per_frame))
    if max_frames is not None:
        budget = min(budget, max_frames)
    kept = pick_steps(n, budget) if n else []
    if n and start not in kept:
        kept = sorted(set(kept) | {start})
    frames = []
    for t in kept:
        data, idx = [], []
        for ti, cell, role in overlays:
            mask = _step_mask(trace, t, cell.panel.name, role, cell.channel, cell.panel.grid_shape)
            if role in FILL_ROLES:
                data.append({"type": "heatmap", "z": _enc(mask)})
            else:
                xy = _outline_xy(mask)
                data.append({"type": "scatter", "mode": xy["mode"], "x": _enc(np.asarray(xy["x"])), "y": _enc(np.asarray(xy["y"]))})
            idx.append(ti)
        for ti, cell in dynamic:
            z = _z(cell.panel, _grid(cell.panel, cell.channel, trace.values_at(t, cell.panel.name)))
            data.append({"type": "heatmap", "z": _enc(z)})
            idx.append(ti)
        step = trace.steps[t]
        frames.append({"name": str(t), "data": data, "traces": idx,
                       "layout": {"title": {"text": _frame_title(step.title, step.caption, t, n, wrap)}}})
    fig._raw_frames = frames
    first = trace.steps[start] if n else None
    fig.update_layout(
        height=fig_h, width=fig_w, margin=dict(l=40, r=20, t=top_px, b=bottom_px),
        title=dict(text=_frame_title(first.title, first.caption, start, n, wrap) if first else trace.title,
                   font=dict(size=font_size + 1), x=0.01, xanchor="left", xref="paper", y=1, yref="container",
                   yanchor="top", pad=dict(t=8)),
        annotations=annotations, plot_bgcolor="white", paper_bgcolor="white", font=dict(size=font_size),
        showlegend=False, dragmode=False, meta={"frame_steps": kept, "total_steps": trace.total_steps, "stage": trace.stage},
        uirevision=trace.stage,
    )
    if len(frames) > 1:
        _add_controls(fig, kept, start, font_size)
    return fig


def _short_error(e: float) -> str:
    """A relative error in few characters: 3e-9, 0; blank where no estimate was made."""
    if not np.isfinite(e):
        return ""
    return "0" if e == 0 else f"{e:.0e}".replace("e-0", "e-").replace("e+0", "e")


def _label(cell: Cell) -> str:
    """Panel title; further channels of one panel get just their channel tag."""
    p = cell.panel
    if cell.channel is None:
        return p.title
    return p.title + f" [{p.channel_label}={cell.channel}]" if cell.channel == 0 else f"[{p.channel_label}={cell.channel}]"


MIN_SUBPLOT_PX = 72  # room for a short title over a one-column panel


def _units(cell: Cell, px: float, font_size: int) -> float:
    """Width of a subplot in cell units: its grid (titles wrap to fit), but never narrower than a short title.

    Keeping domains proportional to the grids means a figure scaled down by the browser shrinks every
    subplot alike.
    """
    return max(cell.panel.grid_shape[1], MIN_SUBPLOT_PX * font_size / 12 / px)


def _wrap_title(label: str, width_px: float, font_size: int) -> list[str]:
    per_line = max(6, int(width_px / (0.6 * font_size)))
    return _wrap(label, per_line).split("<br>")


def _frame_title(title: str, caption: str, t: int, n: int, width: int = 120) -> str:
    return f"<b>Step {t + 1}/{n}: {title}</b><br>{_wrap(caption, width)}"


def _overlay(mask: np.ndarray, role: str, axes: dict, name: str) -> go.Heatmap:
    """A 0/1 uint8 grid drawn transparent at 0 and in the role's colour at 1."""
    colour = ROLE_COLOURS[role]
    return go.Heatmap(z=mask, zmin=0, zmax=1, colorscale=[[0.0, "rgba(0,0,0,0)"], [1.0, colour]], showscale=False,
                      hoverinfo="skip", name=name, xgap=1, ygap=1, **axes)


def _outline_xy(mask: np.ndarray) -> dict:
    """Scatter data of an outline: one open square per cell, or a single rectangle round a whole panel."""
    if mask.size > 1 and mask.all():
        h, w = mask.shape
        return dict(x=[-0.5, w - 0.5, w - 0.5, -0.5, -0.5], y=[-0.5, -0.5, h - 0.5, h - 0.5, -0.5], mode="lines")
    rr, cc = np.nonzero(mask)
    return dict(x=cc.astype(np.int16), y=rr.astype(np.int16), mode="markers")


def _outline(mask: np.ndarray, role: str, axes: dict, size: float) -> go.Scatter:
    """Cells of a mask drawn as open squares in the role's colour (hover and clicks pass through)."""
    return go.Scatter(**_outline_xy(mask), name=role, hoverinfo="skip",
                      marker=dict(symbol="square-open", size=size, color=ROLE_COLOURS[role],
                                  line=dict(width=max(2.0, size / 11), color=ROLE_COLOURS[role])),
                      line=dict(color=ROLE_COLOURS[role], width=max(2.0, size / 11)), showlegend=False, **axes)


def _step_mask(trace: Trace, t: int, panel: str, role: str, channel: int | None, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, dtype=np.uint8)
    if not trace.steps:
        return mask
    for h in trace.steps[t].highlights:
        if h.panel == panel and h.role == role:
            mask |= _channel_mask(h.mask, channel).astype(np.uint8)
    return mask


def _add_controls(fig: go.Figure, kept: list[int], start: int, font_size: int) -> None:
    """Play/pause at three speeds and a step slider; all client-side."""
    def play(ms: int) -> dict:
        return dict(frame=dict(duration=ms, redraw=True), transition=dict(duration=0), fromcurrent=True, mode="immediate")

    pause = dict(frame=dict(duration=0, redraw=True), transition=dict(duration=0), mode="immediate")
    fig.update_layout(
        updatemenus=[dict(
            type="buttons", direction="left", x=0.0, y=0.0, xanchor="left", yanchor="top", pad=dict(t=8, r=10),
            showactive=False, font=dict(size=font_size),
            buttons=[
                dict(label="▶ Play", method="animate", args=[None, play(700)]),
                dict(label="❚❚ Pause", method="animate", args=[[None], pause]),
                dict(label="▶▶ Fast", method="animate", args=[None, play(150)]),
                dict(label="▷ Slow", method="animate", args=[None, play(1600)]),
            ],
        )],
        sliders=[dict(
            active=kept.index(start) if start in kept else 0, x=0.0, y=0.0, len=1.0, xanchor="left", yanchor="top",
            pad=dict(t=30 + 2 * font_size), currentvalue=dict(prefix="step ", font=dict(size=font_size)),
            font=dict(size=max(8, font_size - 3)),
            steps=[dict(label=str(t + 1), method="animate", args=[[str(t)], pause]) for t in kept],
        )],
    )
