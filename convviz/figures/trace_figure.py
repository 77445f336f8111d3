"""Draw any Trace as an animated Plotly figure: one heatmap per panel (its channels side by side), highlights as
translucent overlays (regions) and outline shapes (the cells a step is about), one client-side frame per kept step,
with play/pause, speed and a step scrubber.

Every page uses this builder, so a colour means the same thing everywhere (see `style`). `trace_figure` composes the
steps: the grid's layout (`grid`), each subplot's traces and outlines (`outlines`), axes and titles, the frames kept
within the payload budget (`play_controls`), the meta the page reads, and the arrays as sent (`encoding`).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..traces.base import Panel, Trace, pick_steps
from .arrange import arrange
from .encoding import AnimatedFigure, browser_arrays, data_revision, enc, heatmap_z, meta_of, narrow_int
from .grid import (
    MARGIN_RIGHT_PX,
    MIN_CELL_PX,
    Cell,
    GridLayout,
    cell_label,
    channel_tag,
    column_drops,
    head_px,
    in_view,
    margin_left,
    side_by_side,
    stack_units,
    stacks,
    subplot_gap,
    subplot_units,
    subplots,
    tag_line_px,
    tags_only,
    title_lines,
)
from .outlines import drawn_as, inside_share, outline, outline_path, overlay, step_masks
from .play_controls import caption_width, frame_title, title_room
from .play_controls import controls as play_controls
from .style import (
    ERROR_FLOOR,
    FIGURE_FONT,
    FILL_ROLES,
    KIND_SCALES,
    MAX_FRAMES,
    MAX_PANEL_CELLS,
    MAX_PANEL_SIDE,
    MAX_TEXT_CELLS,
    MAX_TEXT_PX,
    OUTLINE_ROLES,
    PAGE_MARGIN_PX,
    READABLE_PX,
    ROLE_COLOURS,
    ROLE_MEANING,
    SMALL_CELL_PX,
    SMALL_CELL_TICK_PX,
    TICK_PX,
)

__all__ = ["FILL_ROLES", "KIND_SCALES", "MAX_PANEL_CELLS", "MAX_TEXT_CELLS", "ROLE_COLOURS", "ROLE_MEANING",
           "AnimatedFigure", "figure_grid", "meta_of", "trace_figure"]

STEP_FILLS = ("uncovered",)  # fill roles a step highlights (padding is the panel's own, drawn once)
DIGIT_EM = 0.56  # a digit's width in font sizes (Arial, plotly.js's default)
TEXT_SHARE = 0.82  # a number takes at most this part of its cell's width: room for a read outline along its edge
MIN_TEXT_SIZE = 6  # a panel whose numbers would need a smaller font prints none (its hover still shows them)


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
    max_height: float | None = None,
    min_cell_px: float = MIN_CELL_PX,
    max_panel_cells: int = MAX_PANEL_CELLS,
    max_panel_side: int = MAX_PANEL_SIDE,
    plain_arrays: bool | None = None,
    controls: bool = True,
    rearrange: bool = False,
    grid: GridLayout | None = None,
) -> AnimatedFigure:
    """Build the animated figure of `trace`.

    Args:
        rows: panel names per figure row (a panel with C channels shows C blocks side by side in one subplot);
            default: every panel on one row.
        start: index (into trace.steps) of the step shown first.
        max_frames: cap on animation frames (default MAX_FRAMES: every frame redraws the figure and its play
            slider, whose cost grows with its steps); fewer when they would not fit in `payload_budget` bytes of
            JSON after the static grids (so the whole figure stays under ~2 MB at the app's largest settings).
        cell_px: the largest cell size in pixels (presenter mode uses larger cells and fonts).
        text: print numbers in the cells; default when the cells are large enough to read.
        clickable: a panel whose cells a click selects: layout.meta["click_trace"] is its heatmap's index in the data
            (the page's player maps the clicked cell to its step).
        max_width, max_height: the room the figure has, in pixels (no height: as tall as it needs); cells shrink to
            fit the height, but not below `min_cell_px`.
        rearrange: arrange the panels in the rows that give the largest cells in that room (`arrange`), not
            necessarily `rows`.
        max_panel_cells, max_panel_side: a panel with more cells, or a longer side, shows a window of its rows /
            columns round what step `start` highlights (panels of the same length share the window); the
            animation then plays only the steps whose highlights fall inside the windows.
        plain_arrays: arrays as JSON lists rather than typed arrays (default: when that stays within PLAIN_MAX_BYTES
            and PLAIN_MAX_JSON; see `encoding.data_revision` for why).
        controls: Plotly's own player (play buttons, step slider) and each frame's step title, for a figure on its
            own (exported files); without them the figure is only the grid, for a page whose player steps it.
        grid: `figure_grid` of these arguments, when the caller has it already (a page compares rooms with it).
    Returns:
        AnimatedFigure (a go.Figure) with frames named by step index in `raw_frames`; layout.meta holds
        {"frame_steps": [...], "windows": [...]}: every windowed panel with the rows and columns shown.
    """
    rows = [list(r) for r in (rows or [[p.name for p in trace.panels]])]
    grid = grid or figure_grid(trace, rows, start, cell_px=cell_px, font_size=font_size, text=text,
                               max_width=max_width, max_height=max_height, min_cell_px=min_cell_px,
                               max_panel_cells=max_panel_cells, max_panel_side=max_panel_side, controls=controls,
                               rearrange=rearrange)
    parts = _gather([(sub, _subplot(trace, sub, start, grid, r)) for r, row in enumerate(grid.rows) for sub in subplots(row)])
    axes, annotations = _axes_and_titles(grid)
    windowed = [c for c in grid.cells if c.windowed]
    visible = [t for t in range(len(trace.steps)) if in_view(trace, t, windowed)]
    budget = _frame_budget(trace, visible, parts, grid.cells, payload_budget, max_frames)
    kept = _kept_steps(trace, start, visible, budget)
    wrap = caption_width(grid.width, font_size) if controls else 0
    frames = [_frame(trace, t, parts, wrap) for t in kept]
    meta = _meta(trace, grid, parts, windowed, visible, kept, text, _click_trace(parts, clickable))
    layout = _layout(trace, grid, _first_title(trace, start, wrap) if controls else None, frames, parts.shapes, axes,
                     annotations, meta)
    if controls and len(frames) > 1:
        layout.update(play_controls(kept, start, font_size))
    layout["datarevision"] = data_revision(parts.data, frames)  # of the compact form: the same digest for the same numbers
    data, frames = browser_arrays(parts.data, frames, plain_arrays)
    fig = AnimatedFigure(layout=layout, raw_data=data, raw_frames=frames)
    fig.layout.template = None  # see data_revision: the default template is an object Plotly.react cannot match
    return fig


@dataclass(frozen=True)
class SubplotDraw:
    """What one panel's subplot draws, and which of it changes from step to step."""

    traces: list[dict]  # its heatmap first, then its fill overlays
    fills: list[tuple[int, str]]  # (index into traces, role) of the fill overlays each step redraws
    shapes: list[dict]  # its outlines (layout shapes), one per role
    outlines: list[tuple[str, str]]  # (role, the role whose size it takes) of each outline
    values_change: bool  # the heatmap's values change between steps
    printed: bool  # numbers printed in its cells


@dataclass(frozen=True)
class FigureParts:
    """Every subplot's traces and outline shapes, and what of them a frame resends."""

    data: list[dict]
    shapes: list[dict]
    fills: list[tuple[int, list[Cell], str]]  # (index into data, subplot, role) of each step's fill overlays
    values: list[tuple[int, list[Cell]]]  # (index into data, subplot) of heatmaps whose values change
    outlined: list[tuple[list[Cell], str, str]]  # (subplot, role, the role whose size it takes) of each shape
    unprinted: list[str]  # titles of the panels drawn without numbers in their cells


def figure_grid(trace: Trace, rows: Sequence[Sequence[str]], start: int = 0, *, cell_px: float, font_size: int,
                text: bool | None, max_width: int, max_height: float | None, min_cell_px: float = MIN_CELL_PX,
                max_panel_cells: int = MAX_PANEL_CELLS, max_panel_side: int = MAX_PANEL_SIDE, controls: bool = True,
                rearrange: bool = False) -> GridLayout:
    """The grid `trace_figure` draws for the same arguments, without drawing it: a page compares rooms with it."""
    room = None if max_height is None else max_height - (0 if controls else PAGE_MARGIN_PX)
    return arrange(trace, rows, start, width=max_width, height=room, cell_px=cell_px, font_size=font_size, text=text,
                   max_cells=max_panel_cells, max_side=max_panel_side, min_px=min_cell_px, rearrange=rearrange)


def _gather(drawn: Sequence[tuple[list[Cell], SubplotDraw]]) -> FigureParts:
    """The subplots' traces and shapes in drawing order, with their indices in the whole figure."""
    data, shapes, fills, values, outlined = [], [], [], [], []
    for sub, d in drawn:
        if d.values_change:
            values.append((len(data), sub))
        fills += [(len(data) + i, sub, role) for i, role in d.fills]
        outlined += [(sub, role, size) for role, size in d.outlines]
        data += d.traces
        shapes += d.shapes
    unprinted = [sub[0].panel.title for sub, d in drawn if not d.printed]
    return FigureParts(data, shapes, fills, values, outlined, unprinted)


def _axis_suffix(axis: int) -> str:
    """Plotly's suffix for axis number `axis`: "" for the first ("xaxis", "x"), then "2", "3", ..."""
    return "" if axis == 1 else str(axis)


def _axis_refs(axis: int) -> dict:
    """The names traces and shapes use for the x and y axes of number `axis`."""
    return dict(xaxis=f"x{_axis_suffix(axis)}", yaxis=f"y{_axis_suffix(axis)}")


def _subplot(trace: Trace, sub: list[Cell], start: int, grid: GridLayout, row: int) -> SubplotDraw:
    """The traces of one panel's subplot: its heatmap and its fill overlays, and its outlines; each one trace (or
    shape) for all the panel's channels, blocks side by side: every trace costs plotly.js time on each animation
    frame whatever its size (defaults, calc data and their schema walk)."""
    p, px = sub[0].panel, grid.px[row]
    axes = _axis_refs(sub[0].axis)
    place = dict(x0=sub[0].x_start, dx=1, y0=sub[0].r0, dy=1) if (sub[0].windowed or sub[0].x_off or len(sub) > 1) else {}
    values_change = any(p.name in s.values for s in trace.steps)
    used = {h.role for s in trace.steps for h in s.highlights if h.panel == p.name}
    outline_roles = [r for r in OUTLINE_ROLES if r in used]
    sizes = [(r, drawn_as(r, outline_roles)) for r in outline_roles]
    text_size = _text_size(trace, p, px, grid.drawn_px[row], grid.font_size, outline_roles) if grid.text[row] else 0
    heatmap = _heatmap(trace, sub, trace.values_at(start, p.name) if values_change else None, grid.gap, text_size,
                       axes, place)
    padding = [] if p.padding is None or not p.padding.any() else [
        overlay(side_by_side(sub, [sub[0].cut(p.padding).astype(np.uint8)] * len(sub), 0), "padding", axes, "padding",
                grid.gap, place)]
    fill_roles = [r for r in STEP_FILLS if r in used]
    fills = [overlay(side_by_side(sub, step_masks(trace, start, sub, r), 0), r, axes, r, grid.gap, place)
             for r in fill_roles]
    return SubplotDraw(
        traces=[heatmap, *padding, *fills], fills=[(1 + len(padding) + k, r) for k, r in enumerate(fill_roles)],
        shapes=[outline(step_masks(trace, start, sub, r), sub, r, axes, px, size) for r, size in sizes],
        outlines=sizes,
        values_change=values_change, printed=text_size >= MIN_TEXT_SIZE)


def _values(sub: Sequence[Cell], values: np.ndarray | None) -> np.ndarray:
    """A subplot's values (the panel's own, or `values` of a step) with its channel blocks side by side, NaN between."""
    p = sub[0].panel
    v = p.values if values is None else values
    return side_by_side(sub, [c.cut(v[c.channel] if c.channel is not None else v) for c in sub], np.nan)


def _heatmap(trace: Trace, sub: Sequence[Cell], values: np.ndarray | None, gap: int, text_size: int, axes: dict,
             place: dict) -> dict:
    """A panel's value heatmap, in its kind's colour scale over every value it shows in any step; numbers printed in
    its cells at `text_size` (none below MIN_TEXT_SIZE)."""
    cell, p = sub[0], sub[0].panel
    grid = _values(sub, values)
    hm = dict(type="heatmap", z=enc(heatmap_z(p, grid)), colorscale=KIND_SCALES[p.kind], showscale=False,
              name=cell_label(cell), meta=p.name, **_hover(sub), **_scale_range(p, trace), **axes, **place)
    if len(sub) > 1:
        hm["hoverongaps"] = False
    if gap:
        hm.update(xgap=gap, ygap=gap)
    if text_size >= MIN_TEXT_SIZE:
        if p.kind == "error":
            hm.update(text=np.vectorize(_short_error, otypes=[object])(grid).tolist(), texttemplate="%{text}")
        else:
            hm.update(texttemplate="%{z:.4~g}")  # gaps (NaN) get no text
        hm["textfont"] = dict(size=text_size, color="#111")
    return hm


def _hover(sub: Sequence[Cell]) -> dict:
    """customdata and hovertemplate that name each cell by the panel's own row and column labels (and its channel:
    -1 in the gaps between blocks, never hovered)."""
    cell, p = sub[0], sub[0].panel
    rr, cc = np.mgrid[cell.r0:cell.r1, cell.c0:cell.c1]
    labels = [rr + p.row_start, cc + p.col_start]
    where = ""
    if cell.channel is not None:
        labels = [side_by_side(sub, [a] * len(sub), -1) for a in labels]
        labels.append(side_by_side(sub, [np.full(cell.shape, c.channel) for c in sub], -1))
        where = f"{p.channel_label} %{{customdata[2]}}, "
    return dict(customdata=enc(narrow_int(np.stack(labels, axis=-1).astype(np.int64))),
                hovertemplate=f"{where}{p.row_label} %{{customdata[0]}}, {p.col_label} %{{customdata[1]}}: %{{z:.6g}}"
                              f"<extra>{p.name}</extra>")


def _text_size(trace: Trace, panel: Panel, px: float, drawn_px: float, font_size: int,
               outline_roles: Sequence[str] = ()) -> int:
    """The font size of a panel's numbers: growing with the cell (large cells on a projector get large numbers), but
    small enough that the longest number it prints in any step fits the cell as drawn, inside the outlines the panel
    is drawn with (`outline_roles`), with a pixel to spare each side."""
    room = min(TEXT_SHARE, inside_share(outline_roles, px, drawn_px) - 2 / drawn_px)
    fit = int(drawn_px * room / (DIGIT_EM * _text_chars(panel, trace)))
    return min(max(7, min(max(font_size, MAX_TEXT_PX * (px >= 40)), int(px * 0.38))), fit)


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


def _text_chars(panel: Panel, trace: Trace) -> int:
    """The most characters a cell of `panel` prints in any step (numbers as the texttemplate's 4 significant digits,
    errors as `_short_error`): the text's font is sized so that they fit the cell."""
    arrays = [panel.values] + [s.values[panel.name] for s in trace.steps if panel.name in s.values]
    values = np.unique(np.concatenate([a[np.isfinite(a)].ravel() for a in arrays]))
    form = _short_error if panel.kind == "error" else "{:.4g}".format
    return max((len(form(float(v))) for v in values), default=1)


def _short_error(e: float) -> str:
    """A relative error in few characters: 3e-9, 0; blank where no estimate was made."""
    if not np.isfinite(e):
        return ""
    return "0" if e == 0 else f"{e:.0e}".replace("e-0", "e-").replace("e+0", "e")


def _axes_and_titles(grid: GridLayout) -> tuple[dict[str, dict], list[dict]]:
    """Every subplot's x and y axes (layout entries "xaxis2", ...) and its title annotation: rows stacked from the
    top; in each row, columns of subplots, each subplot as tall as its own grid, the first of a column top-aligned
    under the row's title room and the others under it, each under its own title room."""
    axes: dict[str, dict] = {}
    annotations = []
    for r, (row, top) in enumerate(zip(grid.rows, _row_tops(grid))):
        px, dpx, fs = grid.px[r], grid.drawn_px[r], grid.font_size
        domains = iter(_x_domains(grid, r))
        columns = stacks(row)
        for stack, drop in zip(columns, column_drops(columns, px, dpx, fs)):
            y = top - (grid.title_px[r] + drop) / grid.plot_h
            for k, sub in enumerate(stack):
                y -= k and head_px(sub, px, dpx, fs) / grid.plot_h
                dom_y = [max(0.0, y - sub[0].shape[0] * dpx / grid.plot_h), y]
                axes.update(_subplot_axes(sub, next(domains), dom_y, px, fs))
                annotations.append(_title(sub, dom_y[1], px, dpx, fs))
                y = dom_y[0]
    return axes, annotations


def _row_tops(grid: GridLayout) -> list[float]:
    """The top of each row (its title room, then its grids), in paper coordinates."""
    tops, y = [], 1.0
    for title_px, body_px in zip(grid.title_px, grid.body_px):
        tops.append(y)
        y -= (title_px + body_px) / grid.plot_h
    return tops


def _x_domains(grid: GridLayout, r: int) -> list[list[float]]:
    """The x domain of each subplot of row r, in order: columns left to right, `subplot_gap` apart, the subplots of
    a column from its left edge."""
    px = grid.px[r]
    unit = grid.drawn_px[r] / grid.plot_w  # of the plot's width, per unit (a cell, or a title's or gap's worth of pixels)
    out, x = [], 0.0
    for stack in stacks(grid.rows[r]):
        for sub in stack:
            out.append([x, min(1.0, x + subplot_units(sub, px, grid.font_size) * unit)])
        x += (stack_units(stack, px, grid.font_size) + subplot_gap(px)) * unit
    return out


def _subplot_axes(sub: Sequence[Cell], dom_x: list[float], dom_y: list[float], px: float, font_size: int) -> dict:
    """A subplot's x and y axes: tick labels every few cells, each block's channel tag as its first column's label.

    Coordinates are the panel's own row/column indices (a window starts at r0, c0; channel k is shifted right by its
    x_off), so outlines and clicks name the real cell. Explicit ranges: autorange would pad for the outlines.
    """
    first, last, p = sub[0], sub[-1], sub[0].panel
    suffix = _axis_suffix(first.axis)
    every = max(1, int(np.ceil((SMALL_CELL_TICK_PX if px < SMALL_CELL_PX else TICK_PX) / px)))
    r_idx = range(first.r0, first.r1, every)
    c_vals, c_text = [], []
    for cell in sub:
        c_idx = range(cell.c0, cell.c1, every)
        c_vals += [cell.x_off + j for j in c_idx]
        labels = [str(j + p.col_start) for j in c_idx]
        if tags_only(cell):  # tick labels cost plotly.js far less on each animation frame than annotations
            labels[0] = f"<b>{channel_tag(cell)}</b><br>{labels[0]}"
        c_text += labels
    tick_font = dict(size=max(8, font_size - 3))
    return {
        f"xaxis{suffix}": dict(
            domain=dom_x, anchor=f"y{suffix}", range=[first.c0 - 0.5, last.x_off + last.c1 - 0.5], autorange=False,
            tickmode="array", tickvals=c_vals, ticktext=c_text, side="top", tickangle=0,  # never turned on end
            showgrid=False, zeroline=False, constrain="domain", constraintoward="left", fixedrange=True,
            tickfont=tick_font, ticklabeloverflow="allow"),
        f"yaxis{suffix}": dict(
            domain=dom_y, anchor=f"x{suffix}", range=[first.r1 - 0.5, first.r0 - 0.5], autorange=False,
            tickmode="array", tickvals=list(r_idx), ticktext=[str(i + p.row_start) for i in r_idx], showgrid=False,
            zeroline=False, scaleanchor=f"x{suffix}", constrain="domain", constraintoward="top", fixedrange=True,
            tickfont=tick_font, ticklabeloverflow="allow"),
    }


def _title(sub: Sequence[Cell], y: float, px: float, drawn_px: float, font_size: int) -> dict:
    """The panel's wrapped title over its grid (over all its channel blocks, above their tags), at paper height y."""
    first = sub[0]
    return dict(text=_bold(title_lines(sub, px, drawn_px, font_size)), x=first.x_start - 0.5,
                yshift=12 + font_size + tag_line_px(font_size) * tags_only(first), y=y,
                xref=_axis_refs(first.axis)["xaxis"], yref="paper", xanchor="left", yanchor="bottom", align="left",
                showarrow=False, font=dict(size=font_size))


def _bold(lines: Sequence[str]) -> str:
    return "<br>".join(f"<b>{t}</b>" for t in lines)


def _frame_budget(trace: Trace, visible: Sequence[int], parts: FigureParts, cells: Sequence[Cell], payload_budget: int,
                  max_frames: int | None) -> int:
    """How many frames fit `payload_budget` bytes after the static grids, at most `max_frames` (default MAX_FRAMES).

    Only overlays, outlines and changing heatmaps are resent, so frames stay small. A frame's bytes are estimated from
    the first steps (outlines ~20 bytes a cell, fills 1, changing values 8). The outline estimate is the one made for
    scatter outlines; their paths are shorter, but more frames would stop large figures fitting PLAIN_MAX_JSON and
    lose the cheap second draw that plain lists give (see `data_revision`).
    """
    sample = [trace.steps[t] for t in visible[:8]]
    outline_cells = max((sum(0 if h.full else h.count for h in s.highlights if h.role in OUTLINE_ROLES)
                         for s in sample), default=0)
    per_frame = 14 * outline_cells * max(1, max((sub[0].panel.channels for sub, *_ in parts.outlined), default=1)) \
        + sum(c.n_cells for _, sub, _ in parts.fills for c in sub) \
        + sum(8 * c.n_cells for _, sub in parts.values for c in sub)
    per_frame = int(per_frame * 4 / 3) + 200 * (len(parts.fills) + len(parts.outlined)) \
        + max((len(s.caption) for s in sample), default=0) + 300
    static = sum(8 * 4 / 3 * c.n_cells for c in cells)
    budget = max(2, int(max(payload_budget - static, 300_000) // per_frame))
    return min(budget, MAX_FRAMES if max_frames is None else max_frames)


def _kept_steps(trace: Trace, start: int, visible: Sequence[int], budget: int) -> list[int]:
    """The steps that get a frame: `budget` of the visible ones, evenly spaced, and always `start`."""
    kept = [visible[k] for k in pick_steps(len(visible), budget)] if visible else []
    if trace.steps and start not in kept:
        kept = sorted(set(kept) | {start})
    return kept


def _frame(trace: Trace, t: int, parts: FigureParts, wrap: int) -> dict:
    """Step t's animation frame: its fill overlays, changed heatmap values, title (wrapped at `wrap` characters; none
    for 0) and outline paths (plotly.js merges each shape into the layout's shape of the same index: only what changes
    is sent)."""
    fdata = [{"type": "heatmap", "z": enc(side_by_side(sub, step_masks(trace, t, sub, role), 0))}
             for _, sub, role in parts.fills]
    fdata += [{"type": "heatmap", "z": enc(heatmap_z(sub[0].panel, _values(sub, trace.values_at(t, sub[0].panel.name))))}
              for _, sub in parts.values]
    step = trace.steps[t]
    flayout = {"title": {"text": frame_title(step.title, step.caption, t, len(trace.steps), wrap)}} if wrap else {}
    if parts.outlined:
        flayout["shapes"] = [outline_path(step_masks(trace, t, sub, role), sub, size) for sub, role, size in parts.outlined]
    return {"name": str(t), "data": fdata, "traces": [i for i, _, _ in parts.fills] + [i for i, _ in parts.values],
            "layout": flayout}


def _first_title(trace: Trace, start: int, wrap: int) -> str:
    """The figure's title as first drawn: step `start`'s frame title, or the trace's title without steps."""
    if not trace.steps:
        return trace.title
    first = trace.steps[start]
    return frame_title(first.title, first.caption, start, len(trace.steps), wrap)


def _meta(trace: Trace, grid: GridLayout, parts: FigureParts, windowed: Sequence[Cell], visible: Sequence[int],
          kept: list[int], text: bool | None, click_trace: int | None) -> dict:
    """layout.meta: what the page says about the figure (steps played, windows shown, numbers left out, clicks)."""
    windowed_names = {c.panel.name for c in windowed}
    return {"frame_steps": kept, "total_steps": trace.total_steps, "stage": trace.stage, "windows": _windows_meta(windowed),
            "steps_in_view": len(visible), "steps": len(trace.steps),
            "click_trace": click_trace,
            "numbers_hidden": text is None and any(px >= READABLE_PX and not shown for px, shown in zip(grid.px, grid.text)),
            "numbers_unprinted": parts.unprinted,
            "windows_movable": any(h.panel in windowed_names and not h.full for s in trace.steps for h in s.highlights)}


def _windows_meta(windowed: Sequence[Cell]) -> list[dict]:
    """Every windowed panel (once, not per channel) with its shape and the rows and columns shown."""
    return [{"panel": c.panel.name, "title": c.panel.title, "shape": list(c.panel.grid_shape), "rows": [c.r0, c.r1],
             "cols": [c.c0, c.c1], "row_start": c.panel.row_start, "col_start": c.panel.col_start,
             "row_label": c.panel.row_label, "col_label": c.panel.col_label}
            for c in windowed if c.channel in (None, 0)]


def _layout(trace: Trace, grid: GridLayout, title: str | None, frames: Sequence[dict], shapes: list[dict], axes: dict,
            annotations: list[dict], meta: dict) -> dict:
    """The figure's layout: size and margins, axes, outlines, meta; with a title, room above for the longest step
    title and below for Plotly's player."""
    font_size = grid.font_size
    top_px, bottom_px, titled = PAGE_MARGIN_PX // 2, PAGE_MARGIN_PX // 2, {}
    if title is not None:
        top_px, bottom_px = title_room([title] + [f["layout"]["title"]["text"] for f in frames], font_size), grid.bottom_px
        titled = dict(title=dict(text=title, font=dict(size=font_size + 1), x=0.01, xanchor="left", xref="paper", y=1,
                                 yref="container", yanchor="top", pad=dict(t=8 + font_size // 2)))
    return dict(
        height=int(grid.plot_h + top_px + bottom_px), width=grid.width,
        margin=dict(l=margin_left(font_size), r=MARGIN_RIGHT_PX, t=top_px, b=bottom_px), **titled,
        annotations=annotations, shapes=shapes, plot_bgcolor="white", paper_bgcolor="white",
        font=dict(size=font_size, family=FIGURE_FONT),
        showlegend=False, dragmode=False, hovermode="closest", uirevision=trace.stage, meta=meta, **axes,
    )


def _click_trace(parts: FigureParts, clickable: str | None) -> int | None:
    """Index in the figure's data of the clickable panel's heatmap (its customdata names each cell), if any."""
    for i, t in enumerate(parts.data):
        if clickable and t.get("type") == "heatmap" and t.get("meta") == clickable:
            return i
    return None
