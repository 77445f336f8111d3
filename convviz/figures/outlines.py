"""A step's highlights drawn over a subplot: regions as translucent fill overlays, the cells a step is about as outlines.

Fills (padding, uncovered) are 0/1 heatmaps in the role's colour. Outlines (read, focus, write, wrong) are layout
shapes, one SVG path per subplot and role, so the value colours underneath stay true and an animation frame resends
only each path. Coordinates are the panel's own row and column indices, as the subplot's axes use.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..traces.base import Trace
from .encoding import enc
from .grid import Cell
from .style import ROLE_COLOURS

OUTLINE_SCALE = {"read": 0.92, "focus": 0.66, "write": 0.92, "wrong": 0.78}  # focus inset: visible inside a window
INSIDE_OF = ("read", "write")  # the outlines a focus outline is drawn inside of, in a subplot that has them
# More marked cells than this in one outline are drawn as one rectangle per run of neighbouring cells in a row, not
# one square per cell: plotly.js's per-point work made a dense frame several times slower than the others.
DENSE_OUTLINE_CELLS = 600


def overlay(mask: np.ndarray, role: str, axes: dict, name: str, gap: int = 1, place: dict | None = None) -> dict:
    """A 0/1 uint8 grid drawn transparent at 0 and in the role's colour at 1."""
    colour = ROLE_COLOURS[role]
    out = dict(type="heatmap", z=enc(mask), zmin=0, zmax=1, colorscale=[[0.0, "rgba(0,0,0,0)"], [1.0, colour]],
               showscale=False, hoverinfo="skip", name=name, **axes, **(place or {}))
    if gap:
        out.update(xgap=gap, ygap=gap)
    return out


def step_masks(trace: Trace, t: int, sub: Sequence[Cell], role: str) -> list[np.ndarray]:
    """The cells of each of a subplot's blocks that step t highlights in `role`, as (h, w) 0/1 uint8 (each
    highlight's dense mask is rebuilt once for all the blocks: Highlight keeps it compact)."""
    out = [np.zeros(c.shape, dtype=np.uint8) for c in sub]
    if not trace.steps:
        return out
    for h in trace.steps[t].highlights:
        if h.panel == sub[0].panel.name and h.role == role:
            dense = h.mask
            for mask, c in zip(out, sub):
                mask |= c.cut(_channel_mask(dense, c.channel))
    return out


def _channel_mask(mask: np.ndarray, channel: int | None) -> np.ndarray:
    """The (H, W) mask of one channel of a (C, H, W) mask; a 2-D mask marks every channel alike."""
    return mask[channel] if (mask.ndim == 3 and channel is not None) else mask


def drawn_as(role: str, roles: Sequence[str]) -> str:
    """The role whose size an outline of `role` takes in a subplot outlined in `roles`: a focus outline is inset only
    where a read or write outline may surround the same cells; alone, it is as large as a read outline (and leaves
    the numbers in the cells more room)."""
    return "read" if role == "focus" and not any(r in INSIDE_OF for r in roles) else role


def outline(masks: Sequence[np.ndarray], cells: Sequence[Cell], role: str, axes: dict, px: float,
            size: str | None = None) -> dict:
    """One subplot's cells in `role`, outlined in the role's colour, at the size of role `size` (default: its own;
    see `drawn_as`): a layout shape (an SVG path over the subplot).

    A shape, not a scatter trace: on each animation frame plotly.js first transitions every scatter trace the frame
    changes, then redraws the whole figure anyway; frames that change only shapes and heatmaps skip that first pass,
    and the figure has half the traces. Shapes take no pointer events: hover and clicks reach the heatmap and the
    click grid underneath."""
    size = size or role
    return dict(type="path", xref=axes["xaxis"], yref=axes["yaxis"], layer="above", name=role,
                line=dict(color=ROLE_COLOURS[role], width=round(line_width(size, px), 2)), **outline_path(masks, cells, size))


def line_width(role: str, px: float) -> float:
    """An outline's line width in pixels round cells laid out `px` wide."""
    return max(2.0, max(3.0, px * 0.9) * OUTLINE_SCALE[role] / 0.9 / 11)


def inside_share(roles: Sequence[str], px: float, drawn_px: float) -> float:
    """The part of a cell's width inside the outlines of `roles` drawn along its sides (a focus outline inside a read
    window sits well inside the cell): the most a number printed in the cell may take."""
    sizes = [drawn_as(r, roles) for r in roles]
    edge = max(((0.5 - _inset(r)) * drawn_px + line_width(r, px) / 2 for r in sizes), default=0.0)
    return max(0.0, 1 - 2 * edge / drawn_px)


def outline_path(masks: Sequence[np.ndarray], cells: Sequence[Cell], role: str) -> dict:
    """What changes of an outline shape from step to step: its path (at the size of `role`, see `drawn_as`), and whether
    there is anything to draw."""
    path = _svg_path(_outline_rects(masks, cells, role))
    return dict(path=path or "M0 0", visible=bool(path))


def _outline_rects(masks: Sequence[np.ndarray], cells: Sequence[Cell], role: str) -> np.ndarray:
    """The rectangles, (n, 4) rows of (x0, y0, x1, y1), that outline one subplot's marked cells in `role`, in the
    panel's own coordinates (a window's mask is offset by its first row and column, channel k's by its block's x
    offset).

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


def _one_outline_rects(mask: np.ndarray, cell: Cell, inset: float) -> np.ndarray | None:
    """One rectangle (1, 4) round a block's marked cells, `inset` cells out from the cell centres, if they fill a
    rectangle of more than one cell (a whole panel, an undilated window, a column); else None."""
    rr, cc = np.nonzero(mask)
    if rr.size > 1 and rr.size == (rr.max() - rr.min() + 1) * (cc.max() - cc.min() + 1):
        r0, c0 = cell.r0, cell.x_start
        return np.array([[c0 + cc.min() - inset, r0 + rr.min() - inset, c0 + cc.max() + inset, r0 + rr.max() + inset]])
    return None


def _row_run_rects(mask: np.ndarray, cell: Cell, inset: float) -> np.ndarray:
    """A rectangle round each run of marked cells in a row, (n, 4): exactly the marked cells are inside a rectangle,
    as with one square each; a dense region becomes a few bars per row."""
    edges = np.diff(np.pad(np.asarray(mask, dtype=np.int8), ((0, 0), (1, 1))), axis=1)
    starts, ends = np.argwhere(edges == 1), np.argwhere(edges == -1)  # row-major order: they pair up
    rows = starts[:, 0] + cell.r0
    return np.stack([starts[:, 1] + cell.x_start - inset, rows - inset,
                     ends[:, 1] - 1 + cell.x_start + inset, rows + inset], axis=1).astype(float)


def _svg_path(rects: np.ndarray) -> str:
    """Closed (n, 4) rectangles as one SVG path in data coordinates ("M x0 y0 H x1 V y1 H x0 Z" each); "" for none."""
    # %.6g: -0.5, 12.46 (short, and exact enough for a pixel)
    return "".join(f"M{a:.6g} {b:.6g}H{c:.6g}V{d:.6g}H{a:.6g}Z" for a, b, c, d in np.round(rects, 6).tolist())


def _inset(role: str) -> float:
    """Half a rectangle outline's margin round its cells, as the role's square markers: focus sits inside read."""
    return 0.5 if role == "read" else 0.5 * OUTLINE_SCALE[role] / OUTLINE_SCALE["read"]
