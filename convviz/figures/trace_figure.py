"""Draw any Trace as an animated Plotly figure: one heatmap per panel (its channels side by side), highlights as
translucent overlays (regions) and outline shapes (the cells a step is about), one client-side frame per kept step,
with play/pause, speed and a step scrubber.

Every page uses this builder, so a colour means the same thing everywhere: the colour scale belongs to
the panel's kind and the overlay colour to the highlight's role.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

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
    """A go.Figure whose traces and frames are kept as plain, pre-encoded dicts.

    Validating every heatmap (and hundreds of go.Frame objects) cost most of a page's run, and `to_dict()` deep-copied
    and re-encoded every array on every rerun. The traces and frames are built here from the trace's arrays as raw
    dicts (arrays as Plotly 6 typed arrays, see `_enc`), so only the layout is a validated plotly object (`fig.layout`
    works as usual); `fig.data` stays empty: read the traces from `to_dict()["data"]` (what st.plotly_chart, to_json
    and the exports read). tests/figures checks the raw dicts against plotly's own validation.
    """

    def __init__(self, *args, raw_data: list | None = None, raw_frames: list | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._raw_data = list(raw_data or [])
        self._raw_frames = list(raw_frames or [])

    @property
    def raw_data(self) -> list:
        return self._raw_data

    @property
    def raw_frames(self) -> list:
        return self._raw_frames

    def to_dict(self) -> dict:
        out = super().to_dict()
        out["data"] = list(out.get("data") or []) + self._raw_data
        if self._raw_frames:
            out["frames"] = self._raw_frames
        meta = out.get("layout", {}).get("meta")
        if isinstance(meta, dict):  # sent as text, see `meta_of`; fig.layout.meta stays a dict on the server
            out["layout"]["meta"] = json.dumps(meta, separators=(",", ":"))
        return out

    def to_plotly_json(self) -> dict:
        return self.to_dict()

    def to_json(self, *args, **kwargs) -> str:
        import plotly.io as pio

        return pio.to_json(self.to_dict(), *args, validate=False, **kwargs)


# numpy dtype -> plotly.js typed-array code (_plotly_utils.utils.plotlyjsShortTypes)
# A figure sends its arrays as plain JSON lists (see data_revision) when their base64 is at most PLAIN_MAX_BYTES
# characters and the lists' JSON at most PLAIN_MAX_JSON; typed arrays otherwise. Lists take ~1.1x the bytes of float32
# grids (channels side by side, NaN between them) and up to ~2.5x those of small integers; the first bound only saves
# building lists that cannot fit.
PLAIN_MAX_BYTES = 800_000
PLAIN_MAX_JSON = 1_200_000

TYPED_ARRAY_CODES = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4", "uint32": "u4",
                     "float32": "f4", "float64": "f8"}
_INT_STEPS = ((np.int8, -128, 127), (np.int16, -(2**15), 2**15 - 1), (np.int32, -(2**31), 2**31 - 1))


def _enc(a) -> dict | list:
    """A NumPy array as a Plotly typed array {"dtype", "bdata", "shape"}: the same bytes as plotly's own
    `to_typed_array_spec` (64-bit integers narrowed to the smallest type that holds them; booleans sent as u1),
    without its copy-to-read-only and generic checks."""
    v = np.asarray(a)
    if v.size == 0:
        return []
    if v.dtype == np.bool_:
        v = v.view(np.uint8)
    elif v.dtype.kind in "iu" and v.dtype.itemsize == 8:
        v = _narrow_int(v)
    code = TYPED_ARRAY_CODES.get(str(v.dtype))
    if code is None:
        return v.tolist()
    out = {"dtype": code, "bdata": base64.b64encode(np.ascontiguousarray(v).data).decode("ascii")}
    if v.ndim > 1:
        out["shape"] = str(v.shape)[1:-1]
    return out


def _narrow_int(v: np.ndarray) -> np.ndarray:
    lo, hi = int(v.min()), int(v.max())
    if lo >= 0 and v.dtype.kind == "u":
        for t, top in ((np.uint8, 255), (np.uint16, 2**16 - 1), (np.uint32, 2**32 - 1)):
            if hi <= top:
                return v.astype(t)
        return v
    for t, low, top in _INT_STEPS:
        if low <= lo and hi <= top:
            return v.astype(t)
    return v


@dataclass(frozen=True)
class Cell:
    """One subplot: a panel's channel, where it sits, and the part of its grid shown (rows r0:r1, columns c0:c1)."""

    panel: Panel
    channel: int | None
    axis: int  # 1-based plotly axis number
    r0: int = 0
    r1: int = 0
    c0: int = 0
    c1: int = 0
    x_off: int = 0  # channels of one panel share its subplot, side by side: column j is drawn at x = x_off + j

    @property
    def shape(self) -> tuple[int, int]:
        return self.r1 - self.r0, self.c1 - self.c0

    @property
    def x_start(self) -> int:
        """Where the first column shown is drawn on the subplot's x axis."""
        return self.x_off + self.c0

    @property
    def windowed(self) -> bool:
        return self.shape != self.panel.grid_shape

    def cut(self, grid: np.ndarray) -> np.ndarray:
        return grid[self.r0:self.r1, self.c0:self.c1]


def _grid(panel: Panel, channel: int | None, values: np.ndarray | None = None) -> np.ndarray:
    v = panel.values if values is None else values
    return v[channel] if channel is not None else v


def _any_channel(mask: np.ndarray) -> np.ndarray:
    """A highlight's (H, W) footprint: cells highlighted in any channel of a (C, H, W) mask."""
    return mask.any(axis=0) if mask.ndim == 3 else mask


def _channel_mask(mask: np.ndarray, channel: int | None) -> np.ndarray:
    return mask[channel] if (mask.ndim == 3 and channel is not None) else mask


# Caps that keep every figure small enough to send and draw fast at the app's largest settings: a panel with more
# cells (or a longer side) is shown in part, a window round what the first step is about; the page says so.
MAX_PANEL_CELLS = 12_800
MAX_PANEL_SIDE = 256
GAP_MIN_PX = 8.0  # below this cell size the 1-pixel gaps between cells would hide the colours
MAX_FRAMES = 100  # animation frames (and play-slider steps) per figure at most: keeps Fast above 10 fps
SLIDER_LABELS = 24  # step numbers printed under the slider at most (each is redrawn on every frame)
CLICK_CELLS = 2048  # a clickable panel with more cells (all channels) gets its click grid on channel 0 only
CLICK_MIN_PX = 10.0  # smaller cells get no click grid: too small to aim at, and its markers are ~40 % of a frame's redraw
MAX_TEXT_CELLS = 1_000  # numbers in cells only up to this many cells a figure: each is an SVG text redrawn every frame
TICK_PX = 28  # at least this many pixels between tick labels: every label costs time on each animation frame
# ... and twice that where cells are this small (the largest settings): there a label names a region, not a cell, and
# half the labels made a frame 7-13 % faster (Input gradient, Gradient check; ~270 labels in Gradient check's 9 subplots)
SMALL_CELL_PX, SMALL_CELL_TICK_PX = 12.0, 56
SUBPLOT_GAP_PX = 26  # room between subplots for the next one's row labels (tick labels sit left of the grid)
CHANNEL_GAP_PX = 14  # between the channel blocks of one subplot: their column labels must not touch


def _z(panel: Panel, grid: np.ndarray) -> np.ndarray:
    """The values sent for a heatmap, in the smallest type that holds every one of them exactly."""
    if panel.kind == "error":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.maximum(np.log10(np.abs(grid)), ERROR_FLOOR)
    return _exact_compact(grid)


def _exact_compact(grid: np.ndarray) -> np.ndarray:
    g = np.asarray(grid)
    if g.dtype.kind in "iub":
        return _narrow_int(g.astype(np.int64)) if g.size else g
    if g.dtype != np.float64 or g.size == 0:
        return g
    finite = np.isfinite(g)
    if finite.all():
        lo, hi = g.min(), g.max()
        if lo >= -(2**31) and hi < 2**31:
            as_int = g.astype(np.int64)
            if np.array_equal(as_int, g) and not np.signbit(g[g == 0]).any():
                return _narrow_int(as_int)
    with np.errstate(over="ignore"):
        f4 = g.astype(np.float32)  # NaN (the gaps between channel blocks) and infinities stay what they are
    if np.array_equal(f4[finite], g[finite]):
        return f4
    return g


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


def _span(total: int, size: int, lo: int | None, hi: int | None) -> tuple[int, int]:
    """A run of `size` of `total` indices round the highlighted run lo..hi (or from 0 when nothing is highlighted)."""
    if size >= total:
        return 0, total
    if lo is None or hi is None:
        return 0, size
    start = lo if hi - lo + 1 >= size else (lo + hi + 1) // 2 - size // 2
    start = min(max(start, 0), total - size)
    return start, start + size


def _windows(trace: Trace, names: set[str], start: int, max_cells: int, max_side: int) -> dict[str, tuple[int, int, int, int]]:
    """(r0, r1, c0, c1) of every panel in `names`. Panels sharing a side length (e.g. cols and Y, both L columns wide)
    share its window, centred on what the first step highlights on them."""
    panels = [trace.panel(n) for n in names]
    marks: dict[str, np.ndarray] = {}
    if trace.steps:
        for h in trace.steps[start].highlights:
            if h.panel in names and h.role in OUTLINE_ROLES:
                m = _any_channel(h.mask)
                if not m.all():
                    marks[h.panel] = marks[h.panel] | m if h.panel in marks else m

    out = {p.name: [0, p.grid_shape[0], 0, p.grid_shape[1]] for p in panels}

    def shown(p: Panel, axis: int) -> int:
        lo, hi = out[p.name][2 * axis: 2 * axis + 2]
        return hi - lo

    def allowed(p: Panel, axis: int) -> int:  # the longest run along `axis` that keeps the panel within the caps
        return max(8, min(max_side, max_cells // max(1, shown(p, 1 - axis))))

    for axis in (1, 0):  # columns first: the long axis of im2col's matrices
        by_len: dict[int, list[Panel]] = {}
        for p in panels:
            by_len.setdefault(p.grid_shape[axis], []).append(p)
        for length, group in by_len.items():
            size = min(allowed(p, axis) for p in group)
            if length <= size:
                continue
            hit = [np.nonzero(marks[p.name].any(axis=1 - axis))[0] for p in group if p.name in marks]
            hit = [h for h in hit if h.size]
            lo = min((int(h.min()) for h in hit), default=None)
            hi = max((int(h.max()) for h in hit), default=None)
            a, b = _span(length, min(size, length), lo, hi)
            for p in group:
                out[p.name][2 * axis: 2 * axis + 2] = [a, b]
    return {k: tuple(v) for k, v in out.items()}


def _layout_cells(trace: Trace, rows: Sequence[Sequence[str]], start: int = 0, max_cells: int = MAX_PANEL_CELLS,
                  max_side: int = MAX_PANEL_SIDE) -> list[list[Cell]]:
    names = {n for r in rows for n in r}
    win = _windows(trace, names, start, max_cells, max_side)
    out, axis = [], 1
    for names_row in rows:
        row = []
        for name in names_row:
            p = trace.panel(name)
            for ch in (range(p.channels) if p.values.ndim == 3 else [None]):
                row.append(Cell(p, ch, axis, *win[name]))  # the channels of a panel share its subplot
            axis += 1
        out.append(row)
    return out


def _in_view(trace: Trace, t: int, cells: Sequence[Cell]) -> bool:
    """Whether step t's highlights on the windowed panels show inside their windows (or there are none)."""
    for h in trace.steps[t].highlights:
        for c in cells:
            if c.panel.name == h.panel:
                m = _any_channel(h.mask)
                if m.any() and not c.cut(m).any():
                    return False
                break
    return True


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
    max_panel_cells: int = MAX_PANEL_CELLS,
    max_panel_side: int = MAX_PANEL_SIDE,
    plain_arrays: bool | None = None,
) -> AnimatedFigure:
    """Build the animated figure of `trace`.

    Args:
        rows: panel names per figure row (a panel with C channels takes C subplots side by side);
            default: every panel on one row.
        start: index (into trace.steps) of the step shown first.
        max_frames: cap on animation frames (default MAX_FRAMES: every frame redraws the figure and its play
            slider, whose cost grows with its steps); fewer when they would not fit in `payload_budget` bytes of
            JSON after the static grids (so the whole figure stays under ~2 MB at the app's largest settings).
        cell_px: preferred cell size in pixels (presenter mode uses larger cells and fonts).
        text: print numbers in the cells; default when the cells are large enough to read.
        clickable: a panel name whose cells get an invisible marker grid, so a click selects that cell (on its
            first channel only when all channels together exceed CLICK_CELLS: every marker is restyled on each frame).
        max_panel_cells, max_panel_side: a panel with more cells, or a longer side, shows a window of its rows /
            columns round what step `start` highlights (panels of the same length share the window); the
            animation then plays only the steps whose highlights fall inside the windows.
        plain_arrays: arrays as JSON lists rather than typed arrays (default: when that stays within PLAIN_MAX_BYTES
            and PLAIN_MAX_JSON; see `data_revision` for why).
    Returns:
        AnimatedFigure (a go.Figure) with frames named by step index in `raw_frames`; layout.meta holds
        {"frame_steps": [...], "windows": [...]}: every windowed panel with the rows and columns shown.
    """
    rows = [list(r) for r in (rows or [[p.name for p in trace.panels]])]
    layout_rows = _layout_cells(trace, rows, start, max_panel_cells, max_panel_side)

    def row_units(r: Sequence[Cell], px: float) -> float:
        subs = _subplots(r)
        return sum(_subplot_units(sub, px, font_size) for sub in subs) + _subplot_gap(px) * (len(subs) - 1)

    heights = [max(c.shape[0] for c in r) for r in layout_rows]

    def row_px(r: Sequence[Cell]) -> float:
        """The row's cell size: `cell_px`, or the largest that fits the width (titles and gaps take a fixed number of
        pixels, cells scale with px): bisect. Each row gets its own, so a narrow row (Gradient check's dw and db
        beside its dx, Weight gradients' dw below the input) is not drawn at the widest row's few pixels."""
        def fits(px: float) -> bool:
            return row_units(r, px) * px <= max_width - 80

        px = float(cell_px)
        if not fits(px):
            lo, hi = MIN_CELL_PX, px
            for _ in range(24):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if fits(mid) else (lo, mid)
            px = lo
        return px

    pxs = [row_px(r) for r in layout_rows]
    # A row grows past the smallest row's cell size only while it stays under ROW_GROW_MAX_PX tall: col2im's dcols
    # window (196 rows) at the 13 px its width allowed made a 3,400 px figure.
    pxs = [min(px, max(min(pxs), ROW_GROW_MAX_PX / h)) for px, h in zip(pxs, heights)]
    # Rows that show blocks of the same shape (Max pooling's x and dx, Forward's kernel and its window products) keep
    # one scale, the smallest of theirs, so the same shape looks the same size; other rows keep their own.
    shapes = [{c.shape for c in r} for r in layout_rows]
    group = list(range(len(layout_rows)))  # rows linked by a shared shape, directly or through other rows
    for i in range(len(layout_rows)):
        for j in range(i):
            if shapes[i] & shapes[j]:
                group = [group[j] if g == group[i] else g for g in group]
    pxs = [min(px for px, g in zip(pxs, group) if g == mine) for mine in group]
    widths = [row_units(r, px) for r, px in zip(layout_rows, pxs)]
    fig_w = int(min(max_width, max(max(w * px for w, px in zip(widths, pxs)) + 80, 560)))
    plot_w = fig_w - 60  # margins: 40 px left, 20 right
    # The cell size as drawn: px, unless even MIN_CELL_PX does not fit and the row is squeezed into the plot width;
    # the y axes follow the x scale (scaleanchor). Rows sized and titles wrapped for larger cells than drawn leave a
    # blank band under each row and titles over the next one (a 4 px floor did).
    drawn = [min(px, plot_w / max(w, 1)) for w, px in zip(widths, pxs)]
    # Numbers in the cells of every row whose cells are large enough to read, unless those rows together have too
    # many cells to redraw on each animation frame (then none).
    readable = [text if text is not None else px >= 15 for px in pxs]
    text_cells = sum(c.shape[0] * c.shape[1] for r, ok in zip(layout_rows, readable) if ok for c in r)
    row_text = [ok and (text is not None or text_cells <= MAX_TEXT_CELLS) for ok in readable]
    # Gaps between cells and the click grid cost plotly.js time on every animation frame: the smallest row decides
    # them for the whole figure (decided per row, Forward's and Input gradient's frames took twice as long).
    gap = 1 if min(pxs) >= GAP_MIN_PX else 0
    click_size = min(pxs) >= CLICK_MIN_PX
    line_px = font_size + 5
    tag_px = _tag_line_px(font_size)
    # Over each row: tick labels, a panel of several channels' line of channel tags (its tick labels' first line), the
    # panel's wrapped title.
    title_px_rows = [16 + font_size + max(line_px * len(_title_lines(sub, px, dpx, font_size)) + tag_px * _tags_only(sub[0])
                                          for sub in _subplots(r))
                     for r, px, dpx in zip(layout_rows, pxs, drawn)]
    bottom_px = 70 + 4 * font_size
    plot_h = sum(h * dpx for h, dpx in zip(heights, drawn)) + sum(title_px_rows)
    wrap = max(40, int((fig_w - 40) / (0.56 * (font_size + 1))))  # caption characters per line

    layout_rows = [_place_channels(r, px, font_size) for r, px in zip(layout_rows, pxs)]
    all_cells = [c for r in layout_rows for c in r]
    windowed = [c for c in all_cells if c.windowed]

    data: list[dict] = []
    axes_layout: dict[str, dict] = {}
    overlays: list[tuple[int, Cell, str]] = []  # (trace index, cell, role) of every per-step fill overlay
    outlines: list[dict] = []  # layout.shapes: one outline per subplot and role
    outlined: list[tuple[int, Cell, str]] = []  # (shape index, cell, role) of every outline
    dynamic: list[tuple[int, Cell]] = []  # heatmaps whose values change between steps
    changing = {name for s in trace.steps for name in s.values}
    roles_used = {(h.panel, h.role) for s in trace.steps for h in s.highlights}
    annotations = []
    y_cursor = 1.0
    tick_font = dict(size=max(8, font_size - 3))
    unprinted: list[str] = []  # panels drawn without numbers in their cells (too small, or too many cells)

    def _subplot_traces(sub: Sequence[Cell], px: float, drawn_px: float, show_text: bool) -> None:
        """The traces of one panel's subplot, appended to `data`: its heatmap, its fill overlays and its click grid (and
        its outlines, appended to `outlines`), each one
        trace for all the panel's channels (blocks side by side, see `_side_by_side`). Every trace costs plotly.js time
        on each animation frame whatever its size (defaults, calc data and their schema walk), so a trace per channel
        made 4-channel figures ~20 % slower to animate."""
        cell = sub[0]
        p = cell.panel
        gh, gw = cell.shape
        axes = dict(xaxis=f"x{'' if cell.axis == 1 else cell.axis}", yaxis=f"y{'' if cell.axis == 1 else cell.axis}")
        place = dict(x0=cell.x_start, dx=1, y0=cell.r0, dy=1) if (cell.windowed or cell.x_off or len(sub) > 1) else {}
        values = trace.values_at(start, p.name) if p.name in changing else None
        grid = _side_by_side(sub, [c.cut(_grid(p, c.channel, values)) for c in sub], np.nan)
        rr, cc = np.mgrid[cell.r0:cell.r1, cell.c0:cell.c1]
        labels = [rr + p.row_start, cc + p.col_start]
        where = ""
        if cell.channel is not None:  # the channel of each cell, for the hover text (-1 in the gaps, never hovered)
            labels = [_side_by_side(sub, [a] * len(sub), -1) for a in labels]
            labels.append(_side_by_side(sub, [np.full((gh, gw), c.channel) for c in sub], -1))
            where = f"{p.channel_label} %{{customdata[2]}}, "
        hm = dict(type="heatmap", z=_enc(_z(p, grid)), colorscale=KIND_SCALES[p.kind], showscale=False, name=_label(cell),
                  customdata=_enc(_narrow_int(np.stack(labels, axis=-1).astype(np.int64))),
                  hovertemplate=f"{where}{p.row_label} %{{customdata[0]}}, {p.col_label} %{{customdata[1]}}: %{{z:.6g}}"
                                f"<extra>{p.name}</extra>",
                  **_scale_range(p, trace), **axes, **place)
        if len(sub) > 1:
            hm["hoverongaps"] = False
        if gap:
            hm.update(xgap=gap, ygap=gap)
        text_size = 0
        if show_text:  # the usual size for the cell, but small enough that the longest number fits it
            fit = int(drawn_px * 0.9 / (DIGIT_EM * _text_chars(p, trace)))
            text_size = min(max(7, min(font_size, int(px * 0.38))), fit)
        if text_size >= MIN_TEXT_SIZE:  # the longest number this panel prints in any step fits its cells
            if p.kind == "error":
                hm.update(text=np.vectorize(_short_error, otypes=[object])(grid).tolist(), texttemplate="%{text}")
            else:
                hm.update(texttemplate="%{z:.4~g}")  # gaps (NaN) get no text
            hm["textfont"] = dict(size=text_size, color="#111")
        else:
            unprinted.append(cell.panel.title)
        data.append(hm)
        if p.name in changing:
            dynamic.append((len(data) - 1, sub))
        if p.padding is not None and p.padding.any():
            pad = cell.cut(p.padding).astype(np.uint8)
            data.append(_overlay(_side_by_side(sub, [pad] * len(sub), 0), "padding", axes, "padding", gap, place))
        for role in ("uncovered",) + OUTLINE_ROLES:
            if (p.name, role) in roles_used:
                masks = _step_masks(trace, start, sub, role)
                if role in FILL_ROLES:
                    data.append(_overlay(_side_by_side(sub, masks, 0), role, axes, role, gap, place))
                    overlays.append((len(data) - 1, sub, role))
                else:
                    outlines.append(_outline(masks, sub, role, axes, px))
                    outlined.append((len(outlines) - 1, sub, role))
        if clickable == p.name and click_size:
            aim = [c for c in sub if c.channel in (None, 0) or p.channels * gh * gw <= CLICK_CELLS]
            data.append(dict(
                type="scatter", x=_enc(np.concatenate([(cc + c.x_off).ravel() for c in aim]).astype(np.int16)),
                y=_enc(np.tile(rr.ravel(), len(aim)).astype(np.int16)),
                mode="markers", marker=dict(size=max(6, px * 0.9), opacity=0, symbol="square"),
                customdata=_enc(np.tile(np.stack([rr.ravel() + p.row_start, cc.ravel() + p.col_start], axis=1),
                                        (len(aim), 1)).astype(np.int16)),
                hovertemplate="select (%{customdata[0]}, %{customdata[1]})<extra></extra>", name="select", showlegend=False,
                **axes))

    for r, row in enumerate(layout_rows):
        px, drawn_px = pxs[r], drawn[r]
        row_h = heights[r] * drawn_px / plot_h
        title_h = title_px_rows[r] / plot_h
        x_cursor = 0.0
        unit = drawn_px / plot_w  # of the plot's width, per unit (a cell, or a title's or gap's worth of pixels)
        for sub in _subplots(row):
            p, ax = sub[0].panel, sub[0].axis
            first, last = sub[0], sub[-1]
            gh = first.shape[0]
            span = _subplot_units(sub, px, font_size)
            dom_x = [x_cursor, min(1.0, x_cursor + span * unit)]
            x_cursor += (span + _subplot_gap(px)) * unit
            own_h = gh * drawn_px / plot_h  # each subplot only as tall as its own grid, top-aligned in the row
            dom_y = [max(0.0, y_cursor - title_h - own_h), y_cursor - title_h]
            suffix = "" if ax == 1 else str(ax)
            axes = dict(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
            every = max(1, int(np.ceil((SMALL_CELL_TICK_PX if px < SMALL_CELL_PX else TICK_PX) / px)))
            r_idx = range(first.r0, first.r1, every)
            c_vals, c_text = [], []
            title_at = dict(y=dom_y[1], xref=axes["xaxis"], yref="paper", xanchor="left", yanchor="bottom", align="left",
                            showarrow=False, font=dict(size=font_size))
            # The panel's title over its grid (over all its channel blocks). A block's channel tag is the first line of
            # the tick label of its first column: tick labels cost plotly.js far less on each animation frame than
            # annotations (Gradient check at the largest settings, 24 tags: a frame 91 -> 69 ms, as without tags).
            annotations.append(dict(text=_bold(_title_lines(sub, px, drawn_px, font_size)), x=first.x_start - 0.5,
                                    yshift=12 + font_size + tag_px * _tags_only(first), **title_at))
            for cell in sub:
                c_idx = range(cell.c0, cell.c1, every)
                c_vals += [cell.x_off + j for j in c_idx]
                labels = [str(j + p.col_start) for j in c_idx]
                if _tags_only(cell):
                    labels[0] = f"<b>{_tag(cell)}</b><br>{labels[0]}"
                c_text += labels
            # Coordinates are the panel's own row/column indices (a window starts at r0, c0; channel k is shifted right
            # by its x_off), so outlines and clicks name the real cell. Explicit ranges: autorange would pad for the
            # outlines.
            axes_layout[f"xaxis{suffix}"] = dict(
                domain=dom_x, anchor=f"y{suffix}", range=[first.c0 - 0.5, last.x_off + last.c1 - 0.5], autorange=False,
                tickmode="array", tickvals=c_vals, ticktext=c_text, side="top", tickangle=0,  # never turned on end
                showgrid=False, zeroline=False, constrain="domain", constraintoward="left", fixedrange=True,
                tickfont=tick_font, ticklabeloverflow="allow")
            axes_layout[f"yaxis{suffix}"] = dict(
                domain=dom_y, anchor=f"x{suffix}", range=[first.r1 - 0.5, first.r0 - 0.5], autorange=False,
                tickmode="array", tickvals=list(r_idx), ticktext=[str(i + p.row_start) for i in r_idx], showgrid=False,
                zeroline=False, scaleanchor=f"x{suffix}", constrain="domain", constraintoward="top", fixedrange=True,
                tickfont=tick_font, ticklabeloverflow="allow")
            _subplot_traces(sub, px, drawn_px, row_text[r])
        y_cursor -= title_h + row_h

    # Frames: only overlays, outlines and changing heatmaps are resent, so frames stay small. Estimate a frame's bytes
    # from the first steps (outlines ~20 bytes a cell, fills 1, changing values 8) to fit the budget. The outline
    # estimate is the one made for scatter outlines; their paths are shorter, but a figure with more frames would
    # stop fitting PLAIN_MAX_JSON (col2im at the largest settings: 17 frames instead of 14) and lose the cheap second
    # draw that plain lists give (see `data_revision`).
    n = len(trace.steps)
    visible = [t for t in range(n) if _in_view(trace, t, windowed)] if windowed else list(range(n))
    sample = [trace.steps[t] for t in visible[:8]]
    outline_cells = max((sum(0 if h.full else h.count for h in s.highlights if h.role in OUTLINE_ROLES)
                         for s in sample), default=0)

    def cells_of(c: Cell) -> int:
        return c.shape[0] * c.shape[1]

    per_frame = 14 * outline_cells * max(1, max((sub[0].panel.channels for _, sub, _ in outlined), default=1)) \
        + sum(cells_of(c) for _, sub, r in overlays if r in FILL_ROLES for c in sub) \
        + sum(8 * cells_of(c) for _, sub in dynamic for c in sub)
    per_frame = int(per_frame * 4 / 3) + 200 * (len(overlays) + len(outlined)) \
        + max((len(s.caption) for s in sample), default=0) + 300
    static = sum(8 * 4 / 3 * cells_of(c) for c in all_cells)
    budget = max(2, int(max(payload_budget - static, 300_000) // per_frame))
    budget = min(budget, MAX_FRAMES if max_frames is None else max_frames)
    kept = [visible[k] for k in pick_steps(len(visible), budget)] if visible else []
    if n and start not in kept:
        kept = sorted(set(kept) | {start})
    frames = []
    for t in kept:
        fdata, idx = [], []
        for ti, sub, role in overlays:
            fdata.append({"type": "heatmap", "z": _enc(_side_by_side(sub, _step_masks(trace, t, sub, role), 0))})
            idx.append(ti)
        for ti, sub in dynamic:
            p = sub[0].panel
            values = trace.values_at(t, p.name)
            fdata.append({"type": "heatmap", "z": _enc(_z(p, _side_by_side(sub, [c.cut(_grid(p, c.channel, values))
                                                                                for c in sub], np.nan)))})
            idx.append(ti)
        step = trace.steps[t]
        flayout = {"title": {"text": _frame_title(step.title, step.caption, t, n, wrap)}}
        if outlined:  # plotly.js merges each into the layout's shape of the same index: only what changes is sent
            flayout["shapes"] = [_outline_path(_step_masks(trace, t, sub, role), sub, role) for _, sub, role in outlined]
        frames.append({"name": str(t), "data": fdata, "traces": idx, "layout": flayout})
    first = trace.steps[start] if n else None
    windows = []
    for c in windowed:
        if c.channel in (None, 0):
            p = c.panel
            windows.append({"panel": p.name, "title": p.title, "shape": list(p.grid_shape), "rows": [c.r0, c.r1],
                            "cols": [c.c0, c.c1], "row_start": p.row_start, "col_start": p.col_start,
                            "row_label": p.row_label, "col_label": p.col_label})
    windowed_names = {c.panel.name for c in windowed}
    title = _frame_title(first.title, first.caption, start, n, wrap) if first else trace.title
    # Room above the plot for the longest step title of the animation (its lines at ~font + 4 px each), no more: a
    # fixed four lines left a blank band under two-line titles.
    title_lines = max([title.count("<br>") + 1] + [f["layout"]["title"]["text"].count("<br>") + 1 for f in frames])
    top_px = 40 + max(2, title_lines) * (font_size + 4)
    layout = dict(
        height=int(plot_h + top_px + bottom_px), width=fig_w, margin=dict(l=40, r=20, t=top_px, b=bottom_px),
        title=dict(text=title,
                   font=dict(size=font_size + 1), x=0.01, xanchor="left", xref="paper", y=1, yref="container",
                   yanchor="top", pad=dict(t=8 + font_size // 2)),
        annotations=annotations, shapes=outlines, plot_bgcolor="white", paper_bgcolor="white", font=dict(size=font_size),
        showlegend=False, dragmode=False, uirevision=trace.stage,
        meta={"frame_steps": kept, "total_steps": trace.total_steps, "stage": trace.stage, "windows": windows,
              "steps_in_view": len(visible), "steps": n, "click_grid": any(t.get("name") == "select" for t in data),
              "numbers_hidden": text is None and any(px >= 15 and not shown for px, shown in zip(pxs, row_text)),
              "numbers_unprinted": unprinted,
              "windows_movable": any(h.panel in windowed_names and not h.full for s in trace.steps
                                     for h in s.highlights)},
        **axes_layout,
    )
    if len(frames) > 1:
        layout.update(_controls(kept, start, font_size))
    if layout["meta"]["click_grid"]:
        # What Streamlit sets itself for a chart with point selection (st.plotly_chart on_select): set here, its
        # second render of the chart changes nothing, so plotly.js need not draw it again (see data_revision).
        layout.update(clickmode="event+select", hovermode="closest", dragmode="pan")
    layout["datarevision"] = data_revision(data, frames)  # of the compact form: the same digest for the same numbers
    auto = plain_arrays is None
    if auto:
        plain_arrays = _typed_bytes(data) + _typed_bytes(frames) <= PLAIN_MAX_BYTES
    if plain_arrays:
        plain = _plain(data), _plain(frames)
        if not auto or len(json.dumps(plain, separators=(",", ":"))) <= PLAIN_MAX_JSON:
            data, frames = plain
    fig = AnimatedFigure(layout=layout, raw_data=data, raw_frames=frames)
    fig.layout.template = None  # see data_revision: the default template is an object Plotly.react cannot match
    return fig


def meta_of(spec: dict) -> dict:
    """layout.meta of a figure as sent to the browser (JSON text: a dict would make Plotly.react redraw, see
    `data_revision`)."""
    meta = spec.get("layout", {}).get("meta")
    return json.loads(meta) if isinstance(meta, str) else (meta or {})


def _is_typed(v) -> bool:
    return isinstance(v, dict) and "bdata" in v and "dtype" in v


def _typed_bytes(v) -> int:
    """Characters of base64 in the typed arrays of a figure part."""
    if _is_typed(v):
        return len(v["bdata"])
    if isinstance(v, dict):
        return sum(_typed_bytes(x) for x in v.values())
    if isinstance(v, list):
        return sum(_typed_bytes(x) for x in v)
    return 0


def _plain(v):
    """A figure part with every typed array turned back into (nested) JSON lists."""
    if _is_typed(v):
        dtype = {code: name for name, code in TYPED_ARRAY_CODES.items()}[v["dtype"]]
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=dtype)
        if "shape" in v:
            a = a.reshape([int(k) for k in v["shape"].split(",") if k.strip()])
        return _plain_list(a)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def _plain_list(a: np.ndarray) -> list:
    """An array as (nested) JSON-ready lists. A float grid whose numbers are all whole (an integer grid with NaN gaps
    between channel blocks) is written with integers, "3" not "3.0", and NaN as None (JSON null: a blank cell)."""
    if a.dtype.kind != "f":
        return a.tolist()
    finite = np.isfinite(a)
    whole = finite.any() and bool((a[finite] == np.round(a[finite])).all()) and np.abs(a[finite]).max() < 2**53 \
        and not np.signbit(a[finite & (a == 0)]).any()
    if finite.all() and not whole:
        return a.tolist()
    out = a.astype(object)
    if whole:
        out[finite] = a[finite].astype(np.int64)
    out[np.isnan(a)] = None
    return out.tolist()


def data_revision(data: list, frames: list) -> str:
    """A digest of the figure's traces and frames, for layout.datarevision.

    Streamlit hands plotly.js each chart twice per script run (Plotly.newPlot when it mounts the chart, then
    Plotly.react when the run finishes), both times freshly parsed from the spec. Plotly.react redraws the whole
    figure (as long again as the first draw: 40 ms for Forward at the defaults, 80-100 ms for a multi-panel figure at
    the largest settings) unless every attribute compares equal. So the spec avoids what can never compare equal
    between two parses: plain-list arrays count as unchanged while layout.datarevision is (this digest changes
    exactly when the data does); typed arrays ({dtype, bdata}) always count as new, so small figures send plain
    lists (PLAIN_MAX_BYTES); layout.meta is sent as text and the default template (an object) is left out.
    """
    blob = json.dumps([data, frames], separators=(",", ":"), sort_keys=True, default=str).encode()
    return hashlib.blake2b(blob, digest_size=12).hexdigest()


DIGIT_EM = 0.56  # a digit's width in font sizes (Arial, plotly.js's default)
MIN_TEXT_SIZE = 6  # a panel whose numbers would need a smaller font prints none (its hover still shows them)


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


def _tag(cell: Cell) -> str:
    """A channel block's tag, e.g. "[c=1]" ("" for a panel without channels)."""
    return "" if cell.channel is None else f"[{cell.panel.channel_label}={cell.channel}]"


def _tags_only(cell: Cell) -> bool:
    """A block of a several-channel panel: only its channel tag over it (the panel's title spans all its blocks)."""
    return cell.channel is not None and cell.panel.channels > 1


def _label(cell: Cell) -> str:
    """The panel's title and the block's channel tag ("xpad [c=0]")."""
    return f"{cell.panel.title} {_tag(cell)}".strip()


def _bold(lines: Sequence[str]) -> str:
    return "<br>".join(f"<b>{t}</b>" for t in lines)


MIN_SUBPLOT_PX = 72  # room for a short title over a one-column panel
MIN_CELL_PX = 1.5  # the layout's cell size never goes below this (the app's largest settings need ~3 px)
ROW_GROW_MAX_PX = 420  # a row drawn with larger cells than the figure's smallest stays at most this tall
CHAR_EM = 0.6  # a bold title character's width in font sizes, as the title wrapping assumes


def _title_px(label: str, font_size: int) -> float:
    """Room a title needs across: a short title's, or its longest word's (titles wrap between words only)."""
    longest = max((len(w) for w in label.split()), default=0)
    return max(MIN_SUBPLOT_PX * font_size / 12, longest * CHAR_EM * font_size)


def _tag_line_px(font_size: int) -> int:
    """Height of the channel tags' line: the first line of a tick label (font_size - 3, at plotly.js's 1.3 line
    spacing)."""
    return math.ceil(1.3 * max(8, font_size - 3)) + 1


def _units(cell: Cell, px: float, font_size: int) -> float:
    """Width of a channel block in cell units: its grid, but room for what is written over it: the title of a panel
    drawn as one block, or just the channel tag of a block of a several-channel panel (whose title spans all blocks,
    `_subplot_units`). Wider than the grid means NaN columns in the panel's heatmap: kept to what the text needs.

    Keeping domains proportional to the grids means a figure scaled down by the browser shrinks every
    subplot alike.
    """
    if _tags_only(cell):
        need = (len(_tag(cell)) + 1) * CHAR_EM * font_size
    else:
        need = _title_px(_label(cell), font_size)
    return max(cell.shape[1], math.ceil(need / px))


def _subplot_units(sub: Sequence[Cell], px: float, font_size: int) -> float:
    """Width of a panel's subplot in cell units: its channel blocks side by side, `_channel_gap` apart, and at least
    the room its title needs (the axis range ends at the last block: any extra is blank, not NaN cells)."""
    blocks = sum(_units(c, px, font_size) for c in sub) + _channel_gap(px) * (len(sub) - 1)
    return max(blocks, _title_px(sub[0].panel.title, font_size) / px) if _tags_only(sub[0]) else blocks


def _title_lines(sub: Sequence[Cell], px: float, drawn_px: float, font_size: int) -> list[str]:
    """The wrapped title over a subplot: a one-block panel's title and tag, at the block's width; a several-channel
    panel's title alone, at the width of all its blocks."""
    if _tags_only(sub[0]):
        return _wrap_title(sub[0].panel.title, _subplot_units(sub, px, font_size) * drawn_px, font_size)
    return _wrap_title(_label(sub[0]), _units(sub[0], px, font_size) * drawn_px, font_size)


def _channel_gap(px: float) -> int:
    """The gap between two channel blocks of a subplot, in whole cell units (blocks start on whole columns)."""
    return max(1, math.ceil(CHANNEL_GAP_PX / px))


def _subplot_gap(px: float) -> float:
    """The gap between two subplots of a row, in cell units."""
    return max(1.0, SUBPLOT_GAP_PX / px)


def _subplots(row: Sequence[Cell]) -> list[list[Cell]]:
    """The cells of a figure row grouped by subplot (the channels of one panel share one)."""
    out: list[list[Cell]] = []
    for c in row:
        if out and out[-1][0].axis == c.axis:
            out[-1].append(c)
        else:
            out.append([c])
    return out


def _place_channels(row: Sequence[Cell], px: float, font_size: int) -> list[Cell]:
    """Give every channel of a multi-channel panel its x offset in the panel's subplot: channel blocks side by side,
    each as wide as its own subplot used to be, `_channel_gap` apart (one subplot per panel instead of one per channel:
    plotly.js redraws every subplot's axes on each animation frame, ~7 ms a subplot)."""
    out = []
    for sub in _subplots(row):
        off = 0
        for c in sub:
            out.append(dataclasses.replace(c, x_off=int(off)))
            off += _units(c, px, font_size) + _channel_gap(px)
    return out


def _wrap_title(label: str, width_px: float, font_size: int) -> list[str]:
    per_line = max(6, int(width_px / (CHAR_EM * font_size)))
    return _wrap(label, per_line).split("<br>")


def _frame_title(title: str, caption: str, t: int, n: int, width: int = 120) -> str:
    return f"<b>Step {t + 1}/{n}: {title}</b><br>{_wrap(caption, width)}"


def _overlay(mask: np.ndarray, role: str, axes: dict, name: str, gap: int = 1, place: dict | None = None) -> dict:
    """A 0/1 uint8 grid drawn transparent at 0 and in the role's colour at 1."""
    colour = ROLE_COLOURS[role]
    out = dict(type="heatmap", z=_enc(mask), zmin=0, zmax=1, colorscale=[[0.0, "rgba(0,0,0,0)"], [1.0, colour]],
               showscale=False, hoverinfo="skip", name=name, **axes, **(place or {}))
    if gap:
        out.update(xgap=gap, ygap=gap)
    return out


def _side_by_side(sub: Sequence[Cell], grids: Sequence[np.ndarray], fill) -> np.ndarray:
    """The grids of a subplot's channel blocks on one grid: block k from column sub[k].x_off, `fill` in the columns
    between blocks (NaN: plotly.js leaves such a heatmap cell blank, with no text and, with hoverongaps off, no hover).
    One block is returned as it is."""
    if len(sub) == 1:
        return grids[0]
    dtype = np.result_type(*[np.asarray(g).dtype for g in grids], np.min_scalar_type(fill))
    if dtype.kind == "f":
        dtype = np.dtype(np.float64)  # holds every grid's numbers exactly (NaN alone would promote int8 to float16)
    out = np.full((sub[0].shape[0], sub[-1].x_off + sub[-1].shape[1]), fill, dtype=dtype)
    for c, g in zip(sub, grids):
        out[:, c.x_off:c.x_off + c.shape[1]] = g
    return out


def _one_outline_rects(mask: np.ndarray, cell: Cell, inset: float) -> np.ndarray | None:
    """One rectangle round a block's marked cells, `inset` cells out from the cell centres, if they fill a rectangle
    of more than one cell (a whole panel, an undilated window, a column); else None."""
    rr, cc = np.nonzero(mask)
    if rr.size > 1 and rr.size == (rr.max() - rr.min() + 1) * (cc.max() - cc.min() + 1):
        r0, c0 = cell.r0, cell.x_start
        return np.array([[c0 + cc.min() - inset, r0 + rr.min() - inset, c0 + cc.max() + inset, r0 + rr.max() + inset]])
    return None


def _outline_rects(masks: Sequence[np.ndarray], cells: Sequence[Cell], role: str) -> np.ndarray:
    """The rectangles (x0, y0, x1, y1 rows) that outline one subplot's marked cells in `role`, in the panel's own
    coordinates (a window's mask is offset by its first row and column, channel k's by its block's x offset).

    A block whose marked cells fill a rectangle: one rectangle round them, `_inset(role)` out from the cell centres.
    Other cells: one square each, OUTLINE_SCALE[role] of a cell wide (so neighbouring squares stay apart), or past
    DENSE_OUTLINE_CELLS one rectangle per run of neighbouring cells in a row (a square each made a dense frame slow).
    """
    inset = _inset(role)
    rects, rest = [], []
    for m, c in zip(masks, cells):
        if not m.any():
            continue
        one = _one_outline_rects(m, c, inset)
        (rects if one is not None else rest).append(one if one is not None else (m, c))
    if sum(int(m.sum()) for m, _ in rest) > DENSE_OUTLINE_CELLS:
        rects += [_row_run_rects(m, c, inset) for m, c in rest]
    else:
        half = OUTLINE_SCALE[role] / 2
        for m, c in rest:
            rr, cc = np.nonzero(m)
            x, y = cc + c.x_start, rr + c.r0
            rects.append(np.stack([x - half, y - half, x + half, y + half], axis=1))
    return np.concatenate(rects).astype(float) if rects else np.zeros((0, 4))


# More marked cells than this in one outline are drawn as one rectangle per run of neighbouring cells in a row, not
# one square per cell: plotly.js's per-point work made col2im's last frame (4,034 wrong cells at the largest settings)
# take ~270 ms, against ~55 ms for the others, whether the squares were markers or one NaN-broken path.
DENSE_OUTLINE_CELLS = 600


def _row_run_rects(mask: np.ndarray, cell: Cell, inset: float) -> np.ndarray:
    """A rectangle round each run of marked cells in a row: exactly the marked cells are inside a rectangle, as with
    one square each; a dense region becomes a few bars per row."""
    edges = np.diff(np.pad(np.asarray(mask, dtype=np.int8), ((0, 0), (1, 1))), axis=1)
    starts, ends = np.argwhere(edges == 1), np.argwhere(edges == -1)  # row-major order: they pair up
    rows = starts[:, 0] + cell.r0
    return np.stack([starts[:, 1] + cell.x_start - inset, rows - inset,
                     ends[:, 1] - 1 + cell.x_start + inset, rows + inset], axis=1).astype(float)


def _svg_path(rects: np.ndarray) -> str:
    """Closed rectangles as one SVG path in data coordinates ("M x0 y0 H x1 V y1 H x0 Z" each); "" for none."""
    # %.6g: -0.5, 12.46 (short, and exact enough for a pixel)
    return "".join(f"M{a:.6g} {b:.6g}H{c:.6g}V{d:.6g}H{a:.6g}Z" for a, b, c, d in np.round(rects, 6).tolist())


def _outline_path(masks: Sequence[np.ndarray], cells: Sequence[Cell], role: str) -> dict:
    """What changes of an outline shape from step to step: its path, and whether there is anything to draw."""
    path = _svg_path(_outline_rects(masks, cells, role))
    return dict(path=path or "M0 0", visible=bool(path))


def _outline(masks: Sequence[np.ndarray], cells: Sequence[Cell], role: str, axes: dict, px: float) -> dict:
    """One subplot's cells in `role`, outlined in the role's colour: a layout shape (an SVG path over the subplot).

    A shape, not a scatter trace: on each animation frame plotly.js first transitions every scatter trace the frame
    changes, then redraws the whole figure anyway; frames that change only shapes and heatmaps skip that first pass,
    and the figure has half the traces. Animation frames in chromium (same session, old/new side by side, median of
    48): Gradient check 132 -> 107 ms at the largest settings, 129 -> 115 ms at the defaults; Forward 71 -> 56 ms at
    the defaults; other pages at the largest settings 2-8 % faster. Shapes take no pointer events: hover and clicks
    reach the heatmap and the click grid underneath."""
    width = max(2.0, max(3.0, px * 0.9) * OUTLINE_SCALE[role] / 0.9 / 11)
    return dict(type="path", xref=axes["xaxis"], yref=axes["yaxis"], layer="above", name=role,
                line=dict(color=ROLE_COLOURS[role], width=round(width, 2)), **_outline_path(masks, cells, role))


def _inset(role: str) -> float:
    """Half a rectangle outline's margin round its cells, as the role's square markers: focus sits inside read."""
    return 0.5 if role == "read" else 0.5 * OUTLINE_SCALE[role] / OUTLINE_SCALE["read"]


def _step_masks(trace: Trace, t: int, sub: Sequence[Cell], role: str) -> list[np.ndarray]:
    """The cells of each of a subplot's blocks that step t highlights in `role`, as 0/1 uint8 (each highlight's dense
    mask is rebuilt once for all the blocks: Highlight keeps it compact)."""
    out = [np.zeros(c.shape, dtype=np.uint8) for c in sub]
    if not trace.steps:
        return out
    for h in trace.steps[t].highlights:
        if h.panel == sub[0].panel.name and h.role == role:
            dense = h.mask
            for mask, c in zip(out, sub):
                mask |= c.cut(_channel_mask(dense, c.channel))
    return out


# Per animation frame. A frame starts when the previous one is drawn and at least this long after it started, so
# Fast runs at min(20, 1000 / draw time) frames a second.
FRAME_MS = {"play": 700, "fast": 50, "slow": 1600}


def _controls(kept: list[int], start: int, font_size: int) -> dict:
    """Play/pause at three speeds and a step slider; all client-side."""
    def play(ms: int) -> dict:
        return dict(frame=dict(duration=ms, redraw=True), transition=dict(duration=0), fromcurrent=True, mode="immediate")

    pause = dict(frame=dict(duration=0, redraw=True), transition=dict(duration=0), mode="immediate")
    label_every = max(1, int(np.ceil(len(kept) / SLIDER_LABELS)))  # the current step's number shows above the slider
    return dict(
        updatemenus=[dict(
            type="buttons", direction="left", x=0.0, y=0.0, xanchor="left", yanchor="top", pad=dict(t=8, r=10),
            showactive=False, font=dict(size=font_size),
            buttons=[
                dict(label="▶ Play", method="animate", args=[None, play(FRAME_MS["play"])]),
                dict(label="❚❚ Pause", method="animate", args=[[None], pause]),
                dict(label="▶▶ Fast", method="animate", args=[None, play(FRAME_MS["fast"])]),
                dict(label="▷ Slow", method="animate", args=[None, play(FRAME_MS["slow"])]),
            ],
        )],
        sliders=[dict(
            active=kept.index(start) if start in kept else 0, x=0.0, y=0.0, len=1.0, xanchor="left", yanchor="top",
            # No "step N" over the slider: the title says "Step N/M" already, and plotly.js measured and redrew that
            # label on every frame (~10 ms a frame, ~18 ms of the first draw, Input gradient at the largest settings).
            pad=dict(t=20 + 2 * font_size), currentvalue=dict(visible=False),
            font=dict(size=max(8, font_size - 3)),
            steps=[dict(label=str(t + 1) if k % label_every == 0 else "", method="animate", args=[[str(t)], pause])
                   for k, t in enumerate(kept)],
        )],
    )
