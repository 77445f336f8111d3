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
    path_counts,
    reach,
    receptive_field,
)
from .base import Check, Highlight, Panel, Step, Trace, fmt


def _span_text(mask: np.ndarray) -> str:
    """'rows a..b, columns c..d' of a 2-D mask's bounding box."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return f"rows {rows[0]}..{rows[-1]}, columns {cols[0]}..{cols[-1]}"


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
    """Layer l's forward: the cells of a_{l-1} the chosen cell's field on a_l reads."""
    extra = f", {p.params} parameters" if p.params else ""
    caption = (f"{p.layer.describe()}: {_shape(p.in_shape)} -> {_shape(p.out_shape)}{extra}. The chosen cell "
               f"depends on a{l}'s {_span_text(masks[l])}, which read a{l - 1}'s {_span_text(masks[l - 1])} "
               f"({int(masks[l - 1].sum())} cells).")
    return Step(f"Forward, layer {l}: {p.layer.token}", caption,
                (Highlight(f"a{l - 1}", "read", masks[l - 1]), Highlight(f"a{l}", "write", masks[l])))


def _backward_caption(l: int, p: Planned, acts, bw: Backward, n: int) -> str:
    """What layer l's backward did to the gradient, with the numbers."""
    g_out, g_in = bw.grads[l][n], bw.grads[l - 1][n]
    live = int(np.count_nonzero(g_out))
    head = f"dL/da{l} ({live} nonzero) back through {p.layer.describe()}: "
    L = p.layer
    if L.kind == "relu":
        x = acts[l - 1][n]
        passed = int(np.count_nonzero((g_out != 0) & (x > 0)))
        return head + (f"times the mask [a{l - 1} > 0]: {passed} of {live} pass; {live - passed} blocked where "
                       f"a{l - 1} <= 0.")
    if L.kind == "max":
        return head + (f"each value goes to its window's maximum (the first on a tie) only: "
                       f"{int(np.count_nonzero(g_in))} cells receive some.")
    if L.kind == "avg":
        return head + (f"each value is spread over its {L.k}x{L.k} window, {fmt(1 / L.k ** 2)} of it per cell, "
                       f"overlaps adding up: {int(np.count_nonzero(g_in))} cells receive some.")
    dw, db = bw.dw[l - 1], bw.db[l - 1]
    return head + (f"its input gradient (dilate by the stride, pad, slide the rotated kernels) reaches "
                   f"{int(np.count_nonzero(g_in))} cells; dw{l} {tuple(dw.shape)}: sum |dw| = {fmt(np.abs(dw).sum())}, "
                   f"db{l} = [{', '.join(fmt(v) for v in db)}].")


def _centre_share(mag: np.ndarray, field_mask: np.ndarray) -> float:
    """The share of mag's total on the middle half (by rows and by columns) of the field's bounding box."""
    rows, cols = np.nonzero(field_mask)
    r0, r1, c0, c1 = rows.min(), rows.max(), cols.min(), cols.max()
    qr, qc = (r1 - r0 + 1) / 4, (c1 - c0 + 1) / 4
    r, c = np.indices(mag.shape)
    centre = (np.abs(r - (r0 + r1) / 2) < qr + 0.5) & (np.abs(c - (c0 + c1) / 2) < qc + 0.5)
    total = float(mag.sum())
    return float(mag[centre].sum()) / total if total else 0.0


def uneven(counts: np.ndarray) -> bool:
    """Whether 1-D path counts dip inside their support (rise again after falling): a checkerboard's signature."""
    v = counts[np.flatnonzero(counts)[0]: np.flatnonzero(counts)[-1] + 1] if counts.any() else counts
    falls = np.flatnonzero(np.diff(v) < 0)
    return bool(falls.size and (np.diff(v)[falls[0]:] > 0).any())


def _erf_caption(g0: np.ndarray, paths: np.ndarray, field_mask: np.ndarray) -> str:
    """What the gradient on the input shows, beside the weight-free path counts."""
    mag = np.abs(g0).sum(axis=0)  # (H, W), over channels
    share_paths = _centre_share(paths.astype(float), field_mask)
    r = int(np.argmax(paths.max(axis=1)))
    row = " ".join(str(v) for v in paths[r][paths[r] > 0])
    shape = (f"The paths panel (all weights 1) puts {share_paths:.0%} there: central cells lie on more paths; along "
             f"row {r} the counts go {row}")
    shape += (": uneven, a checkerboard where strided or dilated windows overlap on some cells and not on their "
              "neighbours."
              if uneven(paths[r]) or uneven(paths[:, int(np.argmax(paths.max(axis=0)))]) else ".")
    if not mag.any():
        return ("No gradient reaches the input: every path back is blocked (ReLU inputs <= 0, weights that cancel). "
                f"Try another cell, seed or data. {shape}")
    rr, cc = np.unravel_index(int(np.argmax(mag)), mag.shape)
    return (f"dL/dx is nonzero on {int(np.count_nonzero(mag))} of the field's {int(field_mask.sum())} cells, largest "
            f"{fmt(mag[rr, cc])} at ({rr}, {cc}); the middle half of the field holds "
            f"{_centre_share(mag, field_mask):.0%} of it. {shape}")


def network_trace(x: np.ndarray, ns: NetSpec, seed: int = 0, n: int = 0, f: int = 0, i: int = 0, j: int = 0) -> Trace:
    """Forward through the stack, the receptive field of output cell (f, i, j) of sample n, and a one-hot gradient
    at that cell carried back layer by layer.

    Args:
        x: (N, C, H, W) the input; ns: the stack (NetSpec) on x's shape; seed: the weights' (init_params, the biases
            centring each convolution's output on x).
    Panels: a0 = x[n], a1..aL (the layers' outputs), g0..gL (dL/da_l for the one-hot dL/da_L).
    """
    planned, L = ns.planned, len(ns.planned)
    params = init_params(planned, seed, x)
    acts = forward(planned, x, params)
    bw = backward(planned, acts, params, one_hot(ns.output_shape, n, f, i, j))
    masks = reach(planned, i, j)  # (H_l, W_l) per map
    unread = never_read(planned)  # (H, W)
    size_text, start_text = field_terms(ns.layers)
    fld = ns.field
    panels = [Panel("a0", f"input a0 = x[{n}]", acts[0][n], "value")]
    panels += [Panel(f"a{l}", f"a{l} = {p.layer.token}", acts[l][n], "value") for l, p in enumerate(planned, 1)]
    panels += [Panel(f"g{l}", f"dL/da{l}", np.zeros_like(acts[l][n]), "grad") for l in range(L + 1)]
    paths = path_counts(planned, i, j)  # (H, W)
    panels.append(Panel("paths", "paths (all weights 1)", paths, "count"))

    steps = [_forward_step(l, p, masks) for l, p in enumerate(planned, 1)]
    field = [Highlight(f"a{l}", "read", m) for l, m in enumerate(masks[:-1])]
    field.append(Highlight(f"a{L}", "focus", masks[-1]))
    if unread.any():
        field.append(Highlight("a0", "uncovered", unread))
    r0, r1 = fld.span(i)
    c0, c1 = fld.span(j)
    holes = int((_box(masks[0].shape, (r0, r1), (c0, c1)) & ~masks[0]).sum())
    hole_text = (f" {holes} input cells inside that span are never read (dilation or a stride larger than a window skips "
                 "them)." if holes else "")
    unread_text = (f" {int(unread.sum())} input cells (shaded) are read by no output cell at all." if unread.any() else "")
    steps.append(Step(
        f"Receptive field of a{L}[{f}, {i}, {j}]",
        f"r = {size_text} per axis, jump = {fld.jump} (the strides' product), start = {start_text}: cell ({i}, {j}) "
        f"reads input rows {r0}..{r1}, columns {c0}..{c1} (in the input: {_span_text(masks[0])}).{hole_text}"
        f"{unread_text}",
        tuple(field), key=(i, j)))
    steps.append(Step(
        f"Backward: one-hot dL/da{L}",
        f"dL/da{L} is 1 at a{L}[{f}, {i}, {j}] and 0 elsewhere: the backward pass asks how much each "
        "earlier cell changes that one output.",
        (Highlight(f"g{L}", "write", bw.grads[L][n] != 0),), values={f"g{L}": bw.grads[L][n]}))
    for l in range(L, 0, -1):
        p = planned[l - 1]
        hl = [Highlight(f"g{l}", "read", bw.grads[l][n] != 0), Highlight(f"a{l - 1}", "read", masks[l - 1])]
        if (bw.grads[l - 1][n] != 0).any():
            hl.append(Highlight(f"g{l - 1}", "write", bw.grads[l - 1][n] != 0))
        steps.append(Step(f"Backward, layer {l}: {p.layer.token}", _backward_caption(l, p, acts, bw, n), tuple(hl),
                          values={f"g{l - 1}": bw.grads[l - 1][n]}))
    steps.append(Step("Effective receptive field", _erf_caption(bw.grads[0][n], paths, masks[0]),
                      (Highlight("g0", "focus", masks[0]), Highlight("paths", "focus", masks[0]))))

    outside = int(np.count_nonzero(bw.grads[0][n] * ~masks[0]))
    checks = (Check("one-hot gradient outside the receptive field", outside, tol=0, measure="cells"),)
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
