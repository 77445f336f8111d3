"""Trace of a small network: every layer's output, one output cell's receptive field on every earlier map, and a
one-hot gradient carried back through the layers one at a time down to the input (the effective receptive field)."""
from __future__ import annotations

import numpy as np

from ..network import (
    Backward,
    Layer,
    NetSpec,
    Planned,
    backward,
    forward,
    init_params,
    never_read,
    one_hot,
    path_channels,
    path_counts,
    reach,
    receptive_field,
)
from .base import Check, Highlight, Panel, Step, Trace, fmt


def _range_text(word: str, first: int, last: int) -> str:
    """'rows 2..4', or 'row 2' when first == last (word: 'row' or 'column')."""
    return f"{word} {first}" if first == last else f"{word}s {first}..{last}"


def _box_text(rows: tuple[int, int], cols: tuple[int, int]) -> str:
    """'rows a..b, columns c..d' (a single row or column named alone)."""
    return f"{_range_text('row', *rows)}, {_range_text('column', *cols)}"


def _span_text(mask: np.ndarray) -> str:
    """The bounding box of a 2-D mask, as _box_text writes it."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return _box_text((rows[0], rows[-1]), (cols[0], cols[-1]))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _positions(g: np.ndarray) -> int:
    """How many positions (row, column) of g (C, H, W) are nonzero in some channel."""
    return int(np.count_nonzero(np.any(g != 0, axis=0)))


def field_terms(layers: tuple[Layer, ...]) -> tuple[str, str]:
    """The closed form's sums with the stack's numbers: (size, start), e.g. ('1 + 2*1 + 2*1 = 5', '-(0*1 + 0*1) = 0')."""
    size_terms, start_terms, jump = [], [], 1
    for L in layers:
        if L.kind == "relu":
            continue
        size_terms.append(f"{L.effective_kernel - 1}*{jump}")
        start_terms.append(f"{L.p}*{jump}")
        jump *= L.s
    fld = receptive_field(layers)  # the engine's totals: the terms above are only their spelled-out form
    return " + ".join(["1", *size_terms]) + f" = {fld.size}", "-(" + " + ".join(start_terms or ["0"]) + f") = {fld.start}"


def _box(shape: tuple[int, int], rows: tuple[int, int], cols: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: the cells of rows[0]..rows[1] and cols[0]..cols[1] (inclusive, clipped to the grid)."""
    r, c = np.indices(shape)
    return (r >= rows[0]) & (r <= rows[1]) & (c >= cols[0]) & (c <= cols[1])


def _shape(p: tuple[int, ...]) -> str:
    return f"{p[1]} x {p[2]} x {p[3]}"


def _forward_step(l: int, p: Planned, masks: list[np.ndarray]) -> Step:
    """Layer l's forward: the positions of a_{l-1} the chosen cell's field on a_l reads."""
    extra = f", {p.params} parameters" if p.params else ""
    caption = (f"{p.layer.describe()}: {_shape(p.in_shape)} -> {_shape(p.out_shape)}{extra}. The chosen cell "
               f"depends on a{l}'s {_span_text(masks[l])}, which read a{l - 1}'s {_span_text(masks[l - 1])} "
               f"({_plural(int(masks[l - 1].sum()), 'position')}).")
    return Step(f"Forward, layer {l}: {p.layer.token}", caption,
                (Highlight(f"a{l - 1}", "read", masks[l - 1]), Highlight(f"a{l}", "write", masks[l])))


def _backward_caption(l: int, p: Planned, acts, bw: Backward, n: int) -> str:
    """What layer l's backward did to the gradient, with the numbers."""
    g_out, g_in = bw.grads[l][n], bw.grads[l - 1][n]  # (C, H, W) each
    head = f"dL/da{l} (nonzero at {_plural(_positions(g_out), 'position')}) back through {p.layer.describe()}: "
    L = p.layer
    if L.kind == "relu":  # the mask acts on each value, so count values: positions x channels
        x = acts[l - 1][n]
        live = int(np.count_nonzero(g_out))
        passed = int(np.count_nonzero((g_out != 0) & (x > 0)))
        word = "cells" if x.shape[0] == 1 else "cells (positions x channels)"
        return head + (f"times the mask [a{l - 1} > 0]: {passed} of its {live} nonzero {word} pass; "
                       f"{live - passed} blocked where a{l - 1} <= 0.")
    reached = _plural(_positions(g_in), "position")
    if L.kind == "max":
        return head + f"each value goes to its window's maximum (the first on a tie) only: {reached} receive some."
    if L.kind == "avg":
        return head + (f"each value is spread over its {L.k}x{L.k} window, {fmt(1 / L.k ** 2)} of it per cell, "
                       f"overlaps adding up: {reached} receive some.")
    dw, db = bw.dw[l - 1], bw.db[l - 1]
    return head + (f"its input gradient (dilate by the stride, pad, slide the rotated kernels) reaches {reached}; "
                   f"dw{l} {tuple(dw.shape)}: sum |dw| = {fmt(np.abs(dw).sum())}, "
                   f"db{l} = [{', '.join(fmt(v) for v in db)}].")


def central_box(field_mask: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]]:
    """The central region of a field's bounding box (field_mask (H, W) bool), as ((r0, r1), (c0, c1)) inclusive:
    (size + 1) // 4 rows trimmed from the top and from the bottom, as many columns from each side by the columns'
    own size: about the middle half of each side (the central 3 x 3 of a 5 x 5 field, 7 x 7 of 15 x 15)."""
    rows, cols = np.flatnonzero(field_mask.any(axis=1)), np.flatnonzero(field_mask.any(axis=0))

    def middle(idx: np.ndarray) -> tuple[int, int]:
        first, last = int(idx[0]), int(idx[-1])
        trim = (last - first + 2) // 4
        return first + trim, last - trim

    return middle(rows), middle(cols)


def _share(mag: np.ndarray, box: tuple[tuple[int, int], tuple[int, int]]) -> float:
    """The share of mag's (H, W) total inside box ((r0, r1), (c0, c1)), 0 for an all-zero mag."""
    (r0, r1), (c0, c1) = box
    total = float(mag.sum())
    return float(mag[r0:r1 + 1, c0:c1 + 1].sum()) / total if total else 0.0


def _side(span: tuple[int, int]) -> int:
    return span[1] - span[0] + 1


def uneven(counts: np.ndarray) -> bool:
    """Whether 1-D path counts dip inside their support (rise again after falling): a checkerboard's signature."""
    v = counts[np.flatnonzero(counts)[0]: np.flatnonzero(counts)[-1] + 1] if counts.any() else counts
    falls = np.flatnonzero(np.diff(v) < 0)
    return bool(falls.size and (np.diff(v)[falls[0]:] > 0).any())


def _erf_caption(g0: np.ndarray, paths: np.ndarray, field_mask: np.ndarray) -> str:
    """What the gradient on the input (g0 (C, H, W)) shows, beside the weight-free path counts (H, W): how much of
    each the central region of the field (central_box) holds."""
    mag = np.abs(g0).sum(axis=0)  # (H, W), over channels
    rows, cols = np.flatnonzero(field_mask.any(axis=1)), np.flatnonzero(field_mask.any(axis=0))
    field_box = ((int(rows[0]), int(rows[-1])), (int(cols[0]), int(cols[-1])))
    box = central_box(field_mask)
    whole = box == field_box  # a field of 1 or 2 cells a side has no smaller centre
    region = (f"the central {_side(box[0])} x {_side(box[1])} of the {_side(field_box[0])} x {_side(field_box[1])} "
              f"field ({_box_text(*box)})")
    r = int(np.argmax(paths.max(axis=1)))
    row = " ".join(str(v) for v in paths[r][paths[r] > 0])
    centred = not whole and mag.any()  # the gradient's sentence names the region first
    if whole:
        shape = "The paths panel (all weights 1) counts the ways from each input cell up to the chosen one"
    else:
        share = f"{_share(paths.astype(float), box):.0%}"
        shape = (f"The paths (all weights 1) put {share} there" if centred else
                 f"The paths (all weights 1) put {share} in {region}") + ": central cells lie on more of them"
    shape += f" (row {r}: {row})"
    shape += (", uneven: a checkerboard where strided or dilated windows overlap on some cells and not on their "
              "neighbours." if uneven(paths[r]) or uneven(paths[:, int(np.argmax(paths.max(axis=0)))]) else ".")
    if not mag.any():
        return ("No gradient reaches the input: every path back is blocked (ReLU inputs <= 0, weights that cancel). "
                f"Try another cell, seed or data. {shape}")
    rr, cc = np.unravel_index(int(np.argmax(mag)), mag.shape)
    what = "|dL/dx| (summed over its channels)" if g0.shape[0] > 1 else "|dL/dx|"
    held = "" if whole else f"; {region} holds {_share(mag, box):.0%} of {what}"
    return (f"dL/dx is nonzero at {int(np.count_nonzero(mag))} of the field's {int(field_mask.sum())} positions, "
            f"largest {what} {fmt(mag[rr, cc])} at ({rr}, {cc}){held}. {shape}")


def _map_names(planned: tuple[Planned, ...], chans: tuple[int, ...] | None) -> list[str]:
    """'a0', 'a1[c=2]', ...: each map's name with the channel drawn, named where the map has more than one."""
    counts = [planned[0].in_shape[1]] + [p.out_shape[1] for p in planned]
    return [f"a{l}" + (f"[c={chans[l]}]" if chans is not None and counts[l] > 1 else "") for l in range(len(counts))]


def _drawn(a: np.ndarray, c: int | None) -> np.ndarray:
    """The part of one sample's map a (C, H, W) a panel draws: channel c (H, W), or every channel when c is None."""
    return a if c is None else a[c]


def network_trace(x: np.ndarray, ns: NetSpec, seed: int = 0, n: int = 0, f: int = 0, i: int = 0, j: int = 0,
                  rc: int | None = None) -> Trace:
    """Forward through the stack, the receptive field of output cell (f, i, j) of sample n, and a one-hot gradient
    at that cell carried back layer by layer.

    Args:
        x: (N, C, H, W) the input; ns: the stack (NetSpec) on x's shape; seed: the weights' (init_params, the biases
            centring each convolution's output on x).
        rc: draw one channel per map, the one on a path down from channel f (convviz.network.path_channels: each
            convolution followed to input channel rc of its group), so cells stay large with many channels; None
            draws every channel of every map.
    Panels: a0 = x[n], a1..aL (the layers' outputs), g0..gL (dL/da_l for the one-hot dL/da_L): each (H_l, W_l) with
    rc, (C_l, H_l, W_l) without; paths (H, W).
    """
    planned, L = ns.planned, len(ns.planned)
    params = init_params(planned, seed, x)
    acts = forward(planned, x, params)
    bw = backward(planned, acts, params, one_hot(ns.output_shape, n, f, i, j))
    masks = reach(planned, i, j)  # (H_l, W_l) per map
    unread = never_read(planned)  # (H, W)
    size_text, start_text = field_terms(ns.layers)
    fld = ns.field
    chans = None if rc is None else path_channels(planned, f, rc)
    shown = [None] * (L + 1) if chans is None else list(chans)
    names = _map_names(planned, chans)
    source = f"x[{n}]" if names[0] == "a0" else f"x[{n},{chans[0]}]"  # the channel named where a0 has several
    panels = [Panel("a0", f"input {names[0]} = {source}", _drawn(acts[0][n], shown[0]), "value")]
    panels += [Panel(f"a{l}", f"{names[l]} = {p.layer.token}", _drawn(acts[l][n], shown[l]), "value")
               for l, p in enumerate(planned, 1)]
    panels += [Panel(f"g{l}", f"dL/d{names[l]}", np.zeros_like(_drawn(acts[l][n], shown[l])), "grad")
               for l in range(L + 1)]
    paths = path_counts(planned, i, j)  # (H, W)
    panels.append(Panel("paths", "paths (all weights 1)", paths, "count"))

    steps = [_forward_step(l, p, masks) for l, p in enumerate(planned, 1)]
    field = [Highlight(f"a{l}", "read", m) for l, m in enumerate(masks[:-1])]
    field.append(Highlight(f"a{L}", "focus", masks[-1]))
    if unread.any():
        field.append(Highlight("a0", "uncovered", unread))
    r0, r1 = fld.span(i)
    c0, c1 = fld.span(j)
    in_h, in_w = masks[0].shape
    clipped = r0 < 0 or c0 < 0 or r1 >= in_h or c1 >= in_w  # the window runs into padding or past the input
    inside = f" (in the input: {_span_text(masks[0])})" if clipped else ""
    holes = int((_box(masks[0].shape, (r0, r1), (c0, c1)) & ~masks[0]).sum())
    hole_text = (f" Never read inside that span: {_plural(holes, 'input position')} (dilation or a stride larger "
                 "than a window skips them)." if holes else "")
    unread_text = (f" Read by no output cell at all: {_plural(int(unread.sum()), 'input position')} (shaded)."
                   if unread.any() else "")
    steps.append(Step(
        f"Receptive field of a{L}[{f}, {i}, {j}]",
        f"r = {size_text} per axis, jump = {fld.jump} (the strides' product), start = {start_text}: cell ({i}, {j}) "
        f"reads input {_box_text((r0, r1), (c0, c1))}{inside}.{hole_text}"
        f"{unread_text}",
        tuple(field), key=(i, j)))
    steps.append(Step(
        f"Backward: one-hot dL/da{L}",
        f"dL/da{L} is 1 at a{L}[{f}, {i}, {j}] and 0 elsewhere: the backward pass asks how much each "
        "earlier cell changes that one output.",
        (Highlight(f"g{L}", "write", _drawn(bw.grads[L][n], shown[L]) != 0),),
        values={f"g{L}": _drawn(bw.grads[L][n], shown[L])}))
    for l in range(L, 0, -1):
        p = planned[l - 1]
        g_out, g_in = _drawn(bw.grads[l][n], shown[l]), _drawn(bw.grads[l - 1][n], shown[l - 1])
        hl = [Highlight(f"g{l}", "read", g_out != 0), Highlight(f"a{l - 1}", "read", masks[l - 1])]
        if (g_in != 0).any():
            hl.append(Highlight(f"g{l - 1}", "write", g_in != 0))
        steps.append(Step(f"Backward, layer {l}: {p.layer.token}", _backward_caption(l, p, acts, bw, n), tuple(hl),
                          values={f"g{l - 1}": g_in}))
    steps.append(Step("Effective receptive field", _erf_caption(bw.grads[0][n], paths, masks[0]),
                      (Highlight("g0", "focus", masks[0]), Highlight("paths", "focus", masks[0]))))

    outside = int(np.count_nonzero(np.any(bw.grads[0][n] != 0, axis=0) & ~masks[0]))  # every channel, not only the drawn
    checks = (Check("one-hot gradient outside the receptive field", outside, tol=0, measure="positions"),)
    table = [("layer", "operation", "output (C x H x W)", "parameters", "receptive field on the input", "jump")]
    table.append(("0", "input", _shape(ns.input_shape), "0", "1", "1"))
    for l, p in enumerate(planned, 1):
        rf = receptive_field(ns.layers[:l])
        table.append((str(l), p.layer.describe(), _shape(p.out_shape), str(p.params), f"{rf.size} x {rf.size}",
                      str(rf.jump)))
    notes = [f"{L} layer(s), {ns.params} parameters in all; an output cell of a{L} sees {fld.size} x {fld.size} input "
             f"cells (r = {size_text})."]
    for l, p in enumerate(planned, 1):
        if p.layer.kind == "conv":
            dw = bw.dw[l - 1]
            notes.append(f"Layer {l} ({p.layer.token}): dw{l} {tuple(dw.shape)}, nonzero in {int(np.count_nonzero(dw))} "
                         f"of {dw.size} entries, sum |dw| = {fmt(np.abs(dw).sum())}; "
                         f"db{l} = [{', '.join(fmt(v) for v in bw.db[l - 1])}].")
    return Trace("network", f"A {L}-layer network: receptive field and backpropagation", tuple(panels), tuple(steps),
                 checks=checks, notes=tuple(notes), table=tuple(table))
