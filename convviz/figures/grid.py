"""The grid of a trace figure: which part of each panel is shown, where each subplot sits, and how large cells are.

A figure is rows of subplots, one per panel, in columns (mostly one subplot each; short panels may share one, one
under the other, and a panel marked `under` goes under its neighbour); a panel's channels are blocks side by side in
its subplot. Large panels show a window of their rows
and columns (`layout_cells`). `grid_layout` sizes an arrangement of those cells for an available width, row by row,
and returns every size the figure is then drawn with (`GridLayout`); it is pure, so a caller may size several
arrangements and keep the one that suits it best.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..traces.base import Panel, Trace
from .style import (
    BOLD_WIDTHS,
    GAP_MAX_CELLS,
    GAP_MIN_PX,
    MAX_PANEL_CELLS,
    MAX_PANEL_SIDE,
    MAX_TEXT_CELLS,
    OTHER_WIDTH,
    OUTLINE_ROLES,
    READABLE_PX,
    TEXT_SLACK,
)

SUBPLOT_GAP_PX = 26  # room between subplots for the next one's row labels (tick labels sit left of the grid)
TITLE_OVERHANG_PX = 12  # a title may run this far past its grid: into the gap (its row labels are lower) or margin
CHANNEL_GAP_PX = 14  # between the channel blocks of one subplot: their column labels must not touch
MIN_TITLE_EM = 3.6  # a one-column panel is at least this wide, in font sizes (its title wraps between words)
MIN_CELL_PX = 1.5  # the layout's cell size never goes below this (the app's largest settings need ~3 px)
ROW_GROW_MAX_PX = 420  # a row drawn with larger cells than the figure's smallest stays at most this tall
MIN_FIGURE_PX = 560  # a figure is at least this wide (its play buttons and slider need the room)
MARGIN_RIGHT_PX = 6


def margin_left(font_size: int) -> int:
    """Room left of the first subplot for its row labels (two digits and a tick at the tick font)."""
    return int(10 + 1.4 * font_size)


def side_room(font_size: int) -> int:
    """The figure's width beyond its rows: margins and half a tick label."""
    return margin_left(font_size) + MARGIN_RIGHT_PX + 8


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
    short_title: bool = False  # the title in two lines at most: a little more width, instead of a taller row
    under: bool = False  # the panel sits under the previous one, in the same column of its row (`stacks`)

    @property
    def shape(self) -> tuple[int, int]:
        return self.r1 - self.r0, self.c1 - self.c0

    @property
    def n_cells(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def x_start(self) -> int:
        """Where the first column shown is drawn on the subplot's x axis."""
        return self.x_off + self.c0

    @property
    def windowed(self) -> bool:
        return self.shape != self.panel.grid_shape

    def cut(self, grid: np.ndarray) -> np.ndarray:
        return grid[self.r0:self.r1, self.c0:self.c1]


@dataclass(frozen=True)
class GridLayout:
    """Every size a figure's grid is drawn with: its rows of cells and, per row, the cell size and the room above."""

    cell_rows: tuple[tuple[Cell, ...], ...]  # each figure row's cells as arranged (see `rows`)
    px: tuple[float, ...]  # cell size (pixels) each row is laid out for: titles wrapped and gaps sized for it
    drawn_px: tuple[float, ...]  # cell size each row is drawn at: px, or less where even MIN_CELL_PX is too wide
    heights: tuple[int, ...]  # cells down each row (its tallest column of grids)
    title_px: tuple[int, ...]  # room over each row: tick labels, channel tags, wrapped titles
    body_px: tuple[float, ...]  # each row's height under its title room: its tallest column of grids
    text: tuple[bool, ...]  # whether each row prints numbers in its cells
    gap: int  # pixels between cells, the same in every row
    width: int  # the figure's width in pixels
    plot_h: float  # the height of all rows and their title room, in pixels
    font_size: int

    @functools.cached_property  # not while a layout's size is searched: only for the arrangement kept
    def rows(self) -> tuple[tuple[Cell, ...], ...]:
        """Each figure row's cells, the channel blocks of a panel placed side by side (x_off)."""
        return tuple(tuple(_place_channels(r, px, self.font_size)) for r, px in zip(self.cell_rows, self.px))

    @property
    def plot_w(self) -> int:
        return self.width - margin_left(self.font_size) - MARGIN_RIGHT_PX

    @property
    def bottom_px(self) -> int:
        """Room under the plot for the play buttons and the step slider."""
        return 70 + 4 * self.font_size

    def height(self, top_px: int) -> int:
        """The figure's height with `top_px` above the plot for its title."""
        return int(self.plot_h + top_px + self.bottom_px)

    @property
    def cells(self) -> list[Cell]:
        return [c for r in self.rows for c in r]


def grid_layout(cell_rows: Sequence[Sequence[Cell]], *, width: int, cell_px: float, font_size: int,
                text: bool | None, needs: Sequence[RowNeeds] | None = None) -> GridLayout:
    """Size one arrangement of cells (figure rows, from `layout_cells`) to fit `width` pixels.

    Each row gets `cell_px`, or the largest cell size that fits the width; a row grows past the smallest row's size
    only while it stays under ROW_GROW_MAX_PX tall, and rows that show blocks of one shape keep one size. `text`:
    print numbers in the cells (None: in rows whose cells are large enough, unless there are too many cells).
    `needs`: the rows' `row_needs`, from a caller that sizes the same cells for many cell sizes.
    """
    if needs is None:
        needs = row_needs(cell_rows, font_size)
    heights = [max(map(stack_rows, stacks(r))) for r in cell_rows]
    fitted = [_fit_px(n, cell_px, width, font_size) for n in needs]
    pxs = _shared_shape_px(cell_rows, _grow_limited(fitted, heights))
    widths = [_needs_units(n, px) for n, px in zip(needs, pxs)]
    fig_w = int(min(width, max(max(w * px for w, px in zip(widths, pxs)) + side_room(font_size), MIN_FIGURE_PX)))
    plot_w = fig_w - margin_left(font_size) - MARGIN_RIGHT_PX
    # The cell size as drawn: px, unless even MIN_CELL_PX does not fit and the row is squeezed into the plot width
    # (the y axes follow the x scale): rows sized and titles wrapped for larger cells would leave blank bands.
    drawn = [min(px, plot_w / max(w, 1)) for w, px in zip(widths, pxs)]
    title_px = [_title_room(r, px, dpx, font_size) for r, px, dpx in zip(cell_rows, pxs, drawn)]
    body_px = [max(stack_px(st, px, dpx, font_size) for st in stacks(r)) for r, px, dpx in zip(cell_rows, pxs, drawn)]
    return GridLayout(
        cell_rows=tuple(tuple(r) for r in cell_rows),
        px=tuple(pxs), drawn_px=tuple(drawn), heights=tuple(heights), title_px=tuple(title_px), body_px=tuple(body_px),
        text=tuple(_row_text(cell_rows, pxs, text)),
        # Gaps between cells cost plotly.js time on every animation frame: the smallest row decides them for the figure.
        gap=1 if min(pxs) >= GAP_MIN_PX and max(c.n_cells for r in cell_rows for c in r) <= GAP_MAX_CELLS else 0,
        width=fig_w,
        plot_h=sum(body_px) + sum(title_px), font_size=font_size)


def row_needs(cell_rows: Sequence[Sequence[Cell]], font_size: int) -> list[RowNeeds]:
    """What each figure row's width depends on, whatever the cell size: every column's subplots' `subplot_needs`."""
    return [[[subplot_needs(sub, font_size) for sub in st] for st in stacks(row)] for row in cell_rows]


def _needs_units(needs: RowNeeds, px: float) -> float:
    """Width of a figure row in cell units, from its `row_needs`: each column as wide as its widest subplot,
    `subplot_gap` apart."""
    return sum(max(units_of(n, px) for n in st) for st in needs) + subplot_gap(px) * (len(needs) - 1)


def stack_rows(stack: Sequence[Sequence[Cell]]) -> int:
    """Cells down a column of subplots: its grids' rows."""
    return sum(sub[0].shape[0] for sub in stack)


def stack_units(stack: Sequence[Sequence[Cell]], px: float, font_size: int) -> float:
    """Width of a column of subplots in cell units: its widest."""
    return max(subplot_units(sub, px, font_size) for sub in stack)


def stack_px(stack: Sequence[Sequence[Cell]], px: float, drawn_px: float, font_size: int) -> float:
    """Height of a column of subplots under the row's title room: its grids, and the title room of each subplot
    under the first."""
    return (sum(sub[0].shape[0] * drawn_px for sub in stack)
            + sum(head_px(sub, px, drawn_px, font_size) for sub in stack[1:]))


def _fit_px(needs: RowNeeds, cell_px: float, width: int, font_size: int) -> float:
    """A row's cell size, from its `row_needs`: `cell_px`, or the largest that fits the width (titles and gaps take a
    fixed number of pixels, cells scale with px): bisect. Each row gets its own, so a narrow row is not drawn at the
    widest row's few pixels."""
    def fits(px: float) -> bool:
        return _needs_units(needs, px) * px <= width - side_room(font_size)

    px = float(cell_px)
    if not fits(px):
        lo, hi = MIN_CELL_PX, px
        for _ in range(24):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if fits(mid) else (lo, mid)
        px = lo
    return px


def _grow_limited(pxs: Sequence[float], heights: Sequence[int]) -> list[float]:
    """Each row's cell size, larger than the smallest row's only as far as the row stays under ROW_GROW_MAX_PX tall
    (a tall window at the size its width allows would make a figure thousands of pixels tall)."""
    return [min(px, max(min(pxs), ROW_GROW_MAX_PX / h)) for px, h in zip(pxs, heights)]


def _shared_shape_px(cell_rows: Sequence[Sequence[Cell]], pxs: Sequence[float]) -> list[float]:
    """Rows that show blocks of the same shape (Max pooling's x and dx, Forward's kernel and its window products) keep
    one cell size, the smallest of theirs, so the same shape looks the same size; other rows keep their own."""
    shapes = [{c.shape for c in r} for r in cell_rows]
    group = list(range(len(cell_rows)))  # rows linked by a shared shape, directly or through other rows
    for i in range(len(cell_rows)):
        for j in range(i):
            if shapes[i] & shapes[j]:
                group = [group[j] if g == group[i] else g for g in group]
    return [min(px for px, g in zip(pxs, group) if g == mine) for mine in group]


def _row_text(cell_rows: Sequence[Sequence[Cell]], pxs: Sequence[float], text: bool | None) -> list[bool]:
    """Numbers in the cells of every row whose cells are large enough to read, unless those rows together have too
    many cells to redraw on each animation frame (then none); `text` given: as it says."""
    readable = [text if text is not None else px >= READABLE_PX for px in pxs]
    text_cells = sum(c.shape[0] * c.shape[1] for r, ok in zip(cell_rows, readable) if ok for c in r)
    return [ok and (text is not None or text_cells <= MAX_TEXT_CELLS) for ok in readable]


def _title_room(row: Sequence[Cell], px: float, drawn_px: float, font_size: int) -> int:
    """Pixels over a row: what the first subplot of any of its columns needs over it (`head_px`), less the drop of
    a column that starts lower (`column_drops`)."""
    columns = stacks(row)
    drops = column_drops(columns, px, drawn_px, font_size)
    return math.ceil(max(head_px(st[0], px, drawn_px, font_size) - drop for st, drop in zip(columns, drops)))


def column_drops(columns: Sequence[Sequence[Sequence[Cell]]], px: float, drawn_px: float, font_size: int) -> list[float]:
    """How far (pixels) under its row's title room each column of the row starts: 0, except a lone panel as tall as
    the lower panel of a column beside it, which starts level with that panel so that their rows line up (im2col:
    i0's rows beside i's, the broadcast sum as an addition table)."""
    level: dict[int, float] = {}  # rows of a column's last panel -> how far down that panel starts
    for stack in columns:
        if len(stack) > 1:
            level.setdefault(stack[-1][0].shape[0], sum(
                upper[0].shape[0] * drawn_px + head_px(lower, px, drawn_px, font_size)
                for upper, lower in zip(stack, stack[1:])))
    return [level.get(st[0][0].shape[0], 0.0) if len(st) == 1 else 0.0 for st in columns]


def head_px(sub: Sequence[Cell], px: float, drawn_px: float, font_size: int) -> int:
    """Pixels over a subplot: tick labels, a panel of several channels' line of channel tags (its tick labels' first
    line), the panel's wrapped title."""
    line_px, tag_px = font_size + 5, tag_line_px(font_size)
    return 16 + font_size + line_px * len(title_lines(sub, px, drawn_px, font_size)) + tag_px * tags_only(sub[0])


def _any_channel(mask: np.ndarray) -> np.ndarray:
    """A highlight's (H, W) footprint: cells highlighted in any channel of a (C, H, W) mask."""
    return mask.any(axis=0) if mask.ndim == 3 else mask


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


def layout_cells(trace: Trace, rows: Sequence[Sequence[str]], start: int = 0, max_cells: int = MAX_PANEL_CELLS,
                 max_side: int = MAX_PANEL_SIDE) -> list[list[Cell]]:
    """The cells of each figure row (`rows`: panel names), a cell per channel, each panel on its own axis; a panel past
    `max_cells` or `max_side` shows a window round what step `start` highlights (see `_windows`)."""
    names = {n for r in rows for n in r}
    win = _windows(trace, names, start, max_cells, max_side)
    out, axis = [], 1
    for names_row in rows:
        row = []
        for name in names_row:
            p = trace.panel(name)
            under = p.under and bool(row)
            for ch in (range(p.channels) if p.values.ndim == 3 else [None]):
                row.append(Cell(p, ch, axis, *win[name], under=under))  # the channels of a panel share its subplot
            axis += 1
        out.append(row)
    return out


def in_view(trace: Trace, t: int, cells: Sequence[Cell]) -> bool:
    """Whether step t's highlights on the windowed panels show inside their windows (or there are none)."""
    for h in trace.steps[t].highlights:
        for c in cells:
            if c.panel.name == h.panel:
                m = _any_channel(h.mask)
                if m.any() and not c.cut(m).any():
                    return False
                break
    return True


def side_by_side(sub: Sequence[Cell], grids: Sequence[np.ndarray], fill) -> np.ndarray:
    """The (h, w) grids of a subplot's channel blocks on one grid: block k from column sub[k].x_off, `fill` in the
    columns between blocks (NaN: plotly.js leaves such a heatmap cell blank, with no text and, with hoverongaps off,
    no hover). One block is returned as it is."""
    if len(sub) == 1:
        return grids[0]
    dtype = np.result_type(*[np.asarray(g).dtype for g in grids], np.min_scalar_type(fill))
    if dtype.kind == "f":
        dtype = np.dtype(np.float64)  # holds every grid's numbers exactly (NaN alone would promote int8 to float16)
    out = np.full((sub[0].shape[0], sub[-1].x_off + sub[-1].shape[1]), fill, dtype=dtype)
    for c, g in zip(sub, grids):
        out[:, c.x_off:c.x_off + c.shape[1]] = g
    return out


def wrap(text: str, width: int = 120) -> str:
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


@functools.lru_cache(maxsize=8192)
def text_px(text: str, font_size: int) -> float:
    """Width of bold figure text in pixels, from its characters' advance widths."""
    return TEXT_SLACK * font_size * sum(BOLD_WIDTHS.get(ch, OTHER_WIDTH) for ch in text) / 1000


def _wrap_title(label: str, width_px: float, font_size: int) -> list[str]:
    return list(_wrapped(label, int(width_px), font_size))


@functools.lru_cache(maxsize=8192)  # called for every subplot at every cell size the layout's bisections try
def _wrapped(label: str, width_px: int, font_size: int) -> tuple[str, ...]:
    """A title's lines in `width_px`: words in order, a line broken before the word that would overflow it (a word
    wider than the room has a line of its own)."""
    lines: list[str] = []
    for word in label.split():
        if lines and text_px(f"{lines[-1]} {word}", font_size) <= width_px:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return tuple(lines or [""])


def channel_tag(cell: Cell) -> str:
    """A channel block's tag, e.g. "[c=1]" ("" for a panel without channels, or with one: nothing to tell apart)."""
    return "" if cell.channel is None or cell.panel.channels == 1 else f"[{cell.panel.channel_label}={cell.channel}]"


def tags_only(cell: Cell) -> bool:
    """A block of a several-channel panel: only its channel tag over it (the panel's title spans all its blocks)."""
    return cell.channel is not None and cell.panel.channels > 1


def cell_label(cell: Cell) -> str:
    """The panel's title and the block's channel tag ("xpad [c=0]")."""
    return f"{cell.panel.title} {channel_tag(cell)}".strip()


@functools.lru_cache(maxsize=4096)  # called for every panel at every cell size the layout's bisections try
def _title_px(label: str, font_size: int, two_lines: bool = False) -> float:
    """Room a title needs across its grid: its longest word's (titles wrap between words only), or with `two_lines`
    the narrowest room that wraps it in two lines at most; less the TITLE_OVERHANG_PX it may run past the grid."""
    words = label.split()
    need = max((text_px(w, font_size) for w in words), default=0.0)
    if two_lines and len(words) > 2:  # the narrowest break into two lines
        need = max(need, min(max(text_px(" ".join(words[:k]), font_size), text_px(" ".join(words[k:]), font_size))
                             for k in range(1, len(words))))
    return max(MIN_TITLE_EM * font_size, need - TITLE_OVERHANG_PX)


def tag_line_px(font_size: int) -> int:
    """Height of the channel tags' line: the first line of a tick label (font_size - 3, at plotly.js's 1.3 line
    spacing)."""
    return math.ceil(1.3 * max(8, font_size - 3)) + 1


def _units(cell: Cell, px: float, font_size: int) -> float:
    """Width of a channel block in cell units: its grid, but room for what is written over it: the title of a panel
    drawn as one block, or just the channel tag of a block of a several-channel panel (whose title spans all blocks,
    `subplot_units`). Wider than the grid means NaN columns in the panel's heatmap: kept to what the text needs.

    Keeping domains proportional to the grids means a figure scaled down by the browser shrinks every
    subplot alike.
    """
    cols, need = _block_need(cell, font_size)
    return max(cols, math.ceil(need / px))


def _block_need(cell: Cell, font_size: int) -> tuple[int, float]:
    """A channel block's columns and the pixels across that what is written over it needs (see `_units`)."""
    if tags_only(cell):
        return cell.shape[1], text_px(channel_tag(cell) + " ", font_size)
    return cell.shape[1], _title_px(cell_label(cell), font_size, cell.short_title)


SubplotNeeds = tuple[tuple[tuple[int, float], ...], float]  # each block's (columns, pixels), the title's pixels (or 0)
RowNeeds = list[list[SubplotNeeds]]  # a figure row's columns of subplots, each subplot's needs


def subplot_needs(sub: Sequence[Cell], font_size: int) -> SubplotNeeds:
    """What a subplot's width depends on, whatever the cell size: for `units_of`, which a layout's bisection calls
    many times."""
    title = _title_px(sub[0].panel.title, font_size, sub[0].short_title) if tags_only(sub[0]) else 0.0
    return tuple(_block_need(c, font_size) for c in sub), title


def units_of(needs: SubplotNeeds, px: float) -> float:
    """Width of a subplot in cell units at cell size `px`, from its `subplot_needs`."""
    blocks, title = needs
    units = sum(max(cols, math.ceil(need / px)) for cols, need in blocks) + _channel_gap(px) * (len(blocks) - 1)
    return max(units, title / px)


def subplot_units(sub: Sequence[Cell], px: float, font_size: int) -> float:
    """Width of a panel's subplot in cell units: its channel blocks side by side, `_channel_gap` apart, and at least
    the room its title needs (the axis range ends at the last block: any extra is blank, not NaN cells)."""
    return units_of(subplot_needs(sub, font_size), px)


def title_lines(sub: Sequence[Cell], px: float, drawn_px: float, font_size: int) -> list[str]:
    """The wrapped title over a subplot: a one-block panel's title and tag, at the block's width; a several-channel
    panel's title alone, at the width of all its blocks; either may run TITLE_OVERHANG_PX past them."""
    if tags_only(sub[0]):
        return _wrap_title(sub[0].panel.title, subplot_units(sub, px, font_size) * drawn_px + TITLE_OVERHANG_PX,
                           font_size)
    return _wrap_title(cell_label(sub[0]), _units(sub[0], px, font_size) * drawn_px + TITLE_OVERHANG_PX, font_size)


def _channel_gap(px: float) -> int:
    """The gap between two channel blocks of a subplot, in whole cell units (blocks start on whole columns)."""
    return max(1, math.ceil(CHANNEL_GAP_PX / px))


def subplot_gap(px: float) -> float:
    """The gap between two subplots of a row, in cell units: room for the next one's row labels, whatever the cells."""
    return SUBPLOT_GAP_PX / px


def subplots(row: Sequence[Cell]) -> list[list[Cell]]:
    """The cells of a figure row grouped by subplot (the channels of one panel share one)."""
    out: list[list[Cell]] = []
    for c in row:
        if out and out[-1][0].axis == c.axis:
            out[-1].append(c)
        else:
            out.append([c])
    return out


def stacks(row: Sequence[Cell]) -> list[list[list[Cell]]]:
    """The subplots of a figure row grouped in columns: a subplot whose cells are `under` joins the column before."""
    out: list[list[list[Cell]]] = []
    for sub in subplots(row):
        if out and sub[0].under:
            out[-1].append(sub)
        else:
            out.append([sub])
    return out


def _place_channels(row: Sequence[Cell], px: float, font_size: int) -> list[Cell]:
    """Give every channel of a multi-channel panel its x offset in the panel's subplot: channel blocks side by side,
    each as wide as its own subplot would be, `_channel_gap` apart (one subplot per panel instead of one per channel:
    plotly.js redraws every subplot's axes on each animation frame)."""
    out = []
    for sub in subplots(row):
        off = 0
        for c in sub:
            out.append(dataclasses.replace(c, x_off=int(off)))
            off += _units(c, px, font_size) + _channel_gap(px)
    return out
