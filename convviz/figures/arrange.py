"""The arrangement of a figure's panels for the room it has: which panels share a row, and how large cells are.

A page names its panels in rows that read well (Forward: the window and the kernel, then the products and the
output). On a wide, short screen they fit larger side by side; on a phone, one under the other. `arrange` sizes the
page's rows and every split of the panels into rows of neighbours for the width (and, given one, the height), each
also with short neighbours two to a column beside a tall panel where the width held the cells back, and keeps the
one whose cells cover the most of the screen, the page's own unless another covers clearly more.
"""
from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence

from ..traces.base import Trace
from .grid import MIN_CELL_PX, Cell, GridLayout, grid_layout, layout_cells, row_needs, stack_rows, stacks, subplots, title_lines

BETTER_BY = 1.15  # another arrangement replaces the page's own only if its cells cover this much more
FIT_STEPS = 12  # bisection steps for the largest cell size whose figure fits the height
WIDTH_BOUND = 0.97  # a figure shorter than this part of its room was held back by the width


def row_splits(rows: Sequence[Sequence[str]]) -> list[list[list[str]]]:
    """The page's rows first, then its neighbouring rows joined (each page row kept whole: Gradient check's dw
    triplet stays together), then the panels (in reading order) in 1, 2, ... rows of neighbours, split evenly."""
    names = [n for r in rows for n in r]
    out = [[list(r) for r in rows]]
    for cuts in itertools.product((False, True), repeat=max(len(rows) - 1, 0)):  # True: a new row after page row i
        joined = [list(rows[0])] if rows else []
        for row, cut in zip(rows[1:], cuts):
            if cut:
                joined.append(list(row))
            else:
                joined[-1] += row
        if joined not in out:
            out.append(joined)
    for k in range(1, len(names) + 1):
        cut = [round(i * len(names) / k) for i in range(k + 1)]
        split = [names[a:b] for a, b in zip(cut, cut[1:])]
        if split not in out:
            out.append(split)
    return out


def covered_px(grid: GridLayout) -> float:
    """Square pixels the figure's cells cover."""
    return sum(c.n_cells * px * px for row, px in zip(grid.rows, grid.drawn_px) for c in row)


def fit_height(cell_rows, *, width: int, height: float, cell_px: float, font_size: int, text: bool | None,
               min_px: float) -> GridLayout:
    """The layout with the largest cells (at most `cell_px`) whose rows and titles fit `height` pixels; never smaller
    than `min_px` (the figure is then taller than `height`)."""
    needs = row_needs(cell_rows, font_size)  # once: every step of the bisection sizes the same cells

    def layout(px: float) -> GridLayout:
        return grid_layout(cell_rows, width=width, cell_px=px, font_size=font_size, text=text, needs=needs)

    best = layout(cell_px)
    if best.plot_h <= height:
        return best
    lo, hi = max(MIN_CELL_PX, min_px), cell_px
    if layout(lo).plot_h > height:
        return layout(lo)
    for _ in range(FIT_STEPS):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if layout(mid).plot_h <= height else (lo, mid)
    return layout(lo)


def arrange(trace: Trace, rows: Sequence[Sequence[str]], start: int, *, width: int, height: float | None,
            cell_px: float, font_size: int, text: bool | None, max_cells: int, max_side: int,
            min_px: float = MIN_CELL_PX, rearrange: bool = True) -> GridLayout:
    """The grid layout of the best arrangement of `rows`' panels in `width` x `height` pixels (height None: as tall
    as needed, so only the width limits cells). `min_px`: the height never shrinks cells below this. Not
    `rearrange`: `rows` as they are, sized for the room."""
    def sized(cells) -> GridLayout:
        if height is None:
            return grid_layout(cells, width=width, cell_px=cell_px, font_size=font_size, text=text)
        return fit_height(cells, width=width, height=height, cell_px=cell_px, font_size=font_size, text=text,
                          min_px=min_px)

    best, best_area, own_area = None, 0.0, 0.0

    def consider(cells, other: bool) -> GridLayout:
        """Size `cells` and keep the result if its cells cover the most so far (clearly the most, for an arrangement
        `other` than the page's own); return it sized with the narrowest titles."""
        nonlocal best, best_area, own_area
        # Titles as narrow as their words allow, or in two lines at most (a taller row costs every panel in it).
        narrow = sized(cells)
        wrapped = rearrange and height is not None and longest_title(narrow) > 2
        for grid in (narrow, sized(short_titles(cells))) if wrapped else (narrow,):
            area = covered_px(grid)
            if best is None:
                best, best_area, own_area = grid, area, area
            elif area > max(best_area, own_area * (BETTER_BY if other else 1.0)):
                best, best_area = grid, area
        return narrow

    for k, split in enumerate(row_splits(rows) if rearrange else [rows]):
        cells = layout_cells(trace, split, start, max_cells, max_side)
        narrow = consider(cells, k > 0)
        # Short panels two to a column beside a tall one narrow the rows: larger cells only where the width, not the
        # height, held them back.
        if rearrange and height is not None and narrow.plot_h < WIDTH_BOUND * height:
            strict, taller = stacked(cells), stacked(cells, taller=True)
            for two_high in (strict, None if same_columns(taller, strict) else taller):
                if two_high is not None:
                    consider(two_high, True)
    return best


def stacked(cell_rows: Sequence[Sequence[Cell]], taller: bool = False) -> list[list[Cell]] | None:
    """The same rows with neighbouring panels one under the other wherever the two together are no taller than
    their row's tallest column (Forward: the kernel over the window's products, beside the input), or, `taller`,
    wherever each is shorter than it (Max pooling: y over dout beside x, a row taller but much narrower); None when
    no row has such a pair. Columns the panels already form (`Panel.under`) stay as they are, and so do panels
    drawn level with one of them (`grid.column_drops`)."""
    out, found = [], False
    for row in cell_rows:
        cols = stacks(row)
        tallest = max(stack_rows(col) for col in cols)
        # A lone panel level with the lower panel of a column beside it (im2col's i0 beside i) stays beside it.
        level = {col[-1][0].shape[0] for col in cols if len(col) > 1}
        new, i = [], 0
        while i < len(cols):
            pair = cols[i:i + 2]
            heights = list(map(stack_rows, pair))
            if len(pair) == 2 and all(len(col) == 1 and col[0][0].shape[0] not in level for col in pair) and (
                    sum(heights) <= tallest or (taller and max(heights) < tallest)):
                new += pair[0][0] + [dataclasses.replace(c, under=True) for c in pair[1][0]]
                i, found = i + 2, True
            else:
                new += [c for sub in cols[i] for c in sub]
                i += 1
        out.append(new)
    return out if found else None


def same_columns(a: Sequence[Sequence[Cell]] | None, b: Sequence[Sequence[Cell]] | None) -> bool:
    """Whether two arrangements of the same cells put the same panels under their neighbours."""
    def under(rows):
        return None if rows is None else [[c.under for c in row] for row in rows]
    return under(a) == under(b)


def longest_title(grid: GridLayout) -> int:
    """The most lines any panel title of the grid wraps to."""
    return max((len(title_lines(sub, px, dpx, grid.font_size))
                for row, px, dpx in zip(grid.rows, grid.px, grid.drawn_px) for sub in subplots(row)), default=0)


def short_titles(cell_rows):
    """The same cells with every title kept to two lines."""
    return [[dataclasses.replace(c, short_title=True) for c in row] for row in cell_rows]
