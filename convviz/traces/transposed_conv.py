"""Traces of the transposed-convolution lesson: the scatter view, the direct-convolution view, and the same numbers
as the input gradient of the forward convolution whose shapes the layer inverts.

Every builder shows one channel pair (input channel cin -> output channel cout of sample n): with CIN > 1 the
layer's output y'[n, cout] is the sum of such parts over cin, which the checks confirm against `conv_transpose2d`.
Panel titles say "the transposed layer's input x'" and "its output y'" so the two are never confused with the
forward convolution's input and output.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..conv import conv_transpose2d
from ..transposed import (
    TransposedSpec,
    direct_transposed,
    forward_dout,
    scatter_full,
    scatter_transposed,
    zero_insert_pad,
)
from .backward import transposed_trace
from .base import Check, Highlight, Panel, Step, Trace, cell_mask, fmt, pick_steps, products_text


def _full(shape) -> np.ndarray:
    return np.ones(shape, dtype=bool)


def _size(a: int, b: int) -> str:
    return str(a) if a == b else f"{a} x {b}"


def _input_title(spec: TransposedSpec, n: int, cin: int) -> str:
    return f"input x'[{n}, {cin}] (i' = {_size(spec.h, spec.w)})"


def _output_title(spec: TransposedSpec, n: int, cin: int, cout: int) -> str:
    part = f", from x' channel {cin}" if spec.cin > 1 else ""
    return f"output y'[{n}, {cout}] (o' = {_size(spec.oh, spec.ow)}{part})"


def _engine(x: np.ndarray, w: np.ndarray, spec: TransposedSpec) -> np.ndarray:
    """conv_transpose2d with the spec's arguments."""
    return conv_transpose2d(x, w, None, spec.stride, spec.padding, spec.output_padding, spec.dilation)


def _pair(x: np.ndarray, w: np.ndarray, n: int, cin: int, cout: int) -> tuple[np.ndarray, np.ndarray]:
    """One sample and channel pair as 4-D arrays: (1, 1, H, W) and (1, 1, KH, KW)."""
    return np.asarray(x, dtype=float)[n : n + 1, cin : cin + 1], np.asarray(w, dtype=float)[cin : cin + 1, cout : cout + 1]


def _counts_1d(size: int, k: int, s: int, d: int, length: int) -> np.ndarray:
    """Stamps reaching each position of one axis of the full output: #{(i, u) : i*S + u*D = m}."""
    c = np.zeros(length, dtype=np.int64)
    for i in range(size):
        c[i * s : i * s + d * (k - 1) + 1 : d] += 1
    return c


def checkerboard_text(spec: TransposedSpec) -> str:
    """Where uneven overlap (the checkerboard) comes from, with this layer's numbers."""
    parts, uneven = [], False
    for axis, size, k, s, d, length in (("rows", spec.h, spec.kh, spec.sh, spec.dh, spec.full_h),
                                        ("columns", spec.w, spec.kw, spec.sw, spec.dw, spec.full_w)):
        c = _counts_1d(size, k, s, d, length)
        lo, hi = d * (k - 1), s * (size - 1)  # positions every stamp that could land there does reach
        inner = c[lo : hi + 1] if hi >= lo else c[: length - (spec.oph if axis == "rows" else spec.opw)]
        vals = sorted({int(v) for v in inner})
        uneven |= len(vals) > 1
        where = "away from the border" if hi >= lo else "(the input is too small to have an interior)"
        parts.append(f"{axis} {where} receive {' or '.join(map(str, vals))} stamp(s)")
    text = "Overlap: " + "; ".join(parts) + ". A cell's count is its row's count times its column's."
    if not uneven:
        return text + (" Every interior cell gets the same number of stamps, so overlap alone makes no checkerboard"
                       f" (K = {spec.kh} x {spec.kw} is a multiple of S = {spec.sh} x {spec.sw}).")
    reasons = []
    for name, k, s, d in (("height", spec.kh, spec.sh, spec.dh), ("width", spec.kw, spec.sw, spec.dw)):
        if d == 1 and k % s:
            reasons.append(f"{name}: K = {k} is not a multiple of S = {s}, so neighbours get ceil(K/S) = {-(-k // s)} "
                           f"and floor(K/S) = {k // s} stamps")
        elif d > 1:
            reasons.append(f"{name}: taps {d} apart (dilation) and stamps {s} apart (stride) do not tile the axis evenly")
    return (text + " Uneven counts alternate from cell to cell: the checkerboard pattern of transposed convolutions "
            "(Odena, Dumoulin & Olah, 2016), visible even when x' is constant. " + "; ".join(reasons) + ".")


# ---------------------------------------------------------------------------------------------------
# 1. scatter: each input cell stamps a scaled kernel
# ---------------------------------------------------------------------------------------------------
def tconv_scatter_trace(
    x: np.ndarray, w: np.ndarray, spec: TransposedSpec, n: int = 0, cin: int = 0, cout: int = 0,
    max_steps: int | None = None,
) -> Trace:
    """One step per input cell x'[n, cin, i, j]: x'[i, j] * w[cin, cout] stamped at (i*S, j*S) of the full output,
    the accumulating full output, and the overlap count; then the crop of p (after appending a)."""
    xp, wp = _pair(x, w, n, cin, cout)  # (1, 1, H, W), (1, 1, KH, KW)
    x2, k2 = xp[0, 0], wp[0, 0]  # (H, W), (KH, KW)
    FH, FW, OH, OW = spec.full_h, spec.full_w, spec.oh, spec.ow
    crop = spec.crop_mask()  # (FH, FW)
    grid = dict(row_start=-spec.ph, col_start=-spec.pw, padding=crop)  # labels: 0 is y's first kept row/column
    full_final, count_final = scatter_full(x2, k2, spec)  # (FH, FW), (FH, FW)
    part = spec.crop(full_final)  # (OH, OW)
    panels = (
        Panel("x", _input_title(spec, n, cin), x2, "value", row_label="i", col_label="j"),
        Panel("w", f"kernel w[{cin}, {cout}]", k2, "value", row_label="u", col_label="v"),
        Panel("stamp", "this step's stamp x'[i, j]·w",
              np.zeros((FH, FW)), "value", **grid),
        Panel("full", f"y' adding up, full {FH} x {FW} grid",
              np.zeros((FH, FW)), "value", **grid),
        Panel("count", "stamps per cell", np.zeros((FH, FW), np.int64), "count", **grid),
        Panel("y", _output_title(spec, n, cin, cout), part, "value"),
    )
    appended = f", output padding a = {_size(spec.oph, spec.opw)}" if spec.oph or spec.opw else ""
    steps = [Step(
        "The transposed layer",
        f"x' is {spec.h} x {spec.w}; kernel {spec.kh} x {spec.kw}, stride {_size(spec.sh, spec.sw)}, padding "
        f"p = {_size(spec.ph, spec.pw)}, dilation {_size(spec.dh, spec.dw)}{appended}. "
        + (f"y' is {spec.oh} x {spec.ow}: {spec.output_size_formula('h')}. "
           if spec.output_size_formula("h") == spec.output_size_formula("w")
           else f"y' has {spec.output_size_formula('h')} rows, {spec.output_size_formula('w')} columns. ")
        + f"Each input cell stamps a scaled kernel onto the full {FH} x {FW} grid; the shaded border is cropped.",
        (Highlight("x", "focus", _full(x2.shape)), Highlight("full", "padding", crop)),
    )]
    acc = np.zeros((FH, FW))
    count = np.zeros((FH, FW), np.int64)
    total = spec.h * spec.w
    picked = set(pick_steps(total, max_steps))
    for t in range(total):
        i, j = divmod(t, spec.w)
        mask = spec.stamp_mask(i, j)  # (FH, FW)
        held = mask & (count > 0)  # cells earlier stamps already reached
        stamp = np.zeros((FH, FW))
        r0, c0 = spec.stamp_origin(i, j)
        stamp[r0 : r0 + spec.ekh : spec.dh, c0 : c0 + spec.ekw : spec.dw] = x2[i, j] * k2
        acc += stamp
        count += mask
        if t not in picked:
            continue
        rows = f"rows {r0 - spec.ph}..{r0 - spec.ph + spec.ekh - 1}" + (f" ({spec.dh} apart)" if spec.dh > 1 else "")
        cols = f"columns {c0 - spec.pw}..{c0 - spec.pw + spec.ekw - 1}" + (f" ({spec.dw} apart)" if spec.dw > 1 else "")
        overlap = (f"{int(held.sum())} of its {spec.kh * spec.kw} cells already held a value from earlier stamps: the "
                   f"values add up (up to {int(count[mask].max())} stamps per cell now)." if held.any()
                   else "None of its cells held a value yet.")
        cropped = int((mask & crop).sum())
        cropped_text = f" {cropped} of them lie in the border that will be cropped." if cropped else ""
        highlights = [Highlight("x", "read", cell_mask(x2.shape, [(i, j)])), Highlight("w", "read", _full(k2.shape)),
                      Highlight("stamp", "write", mask), Highlight("full", "write", mask), Highlight("count", "write", mask)]
        if held.any():
            highlights.append(Highlight("full", "focus", held))
        steps.append(Step(
            f"Input cell ({i}, {j})",
            f"x'[{i}, {j}] = {fmt(x2[i, j])} -> {fmt(x2[i, j])} x kernel, top-left tap at full-grid ({i}*{spec.sh}, "
            f"{j}*{spec.sw}) = ({r0}, {c0}): {rows}, {cols} of its output (label 0 = the first row of y' kept after the crop). "
            f"{overlap}{cropped_text}",
            tuple(highlights), values={"stamp": stamp, "full": acc.copy(), "count": count.copy()}, key=(i, j),
        ))
    unreached = count == 0
    extra = (f" The a = {_size(spec.oph, spec.opw)} row(s)/column(s) of output padding were appended at the bottom/right "
             "before the crop: no stamp reaches them." if spec.oph or spec.opw else "")
    steps.append(Step(
        "Crop p",
        f"Remove p = {spec.ph} row(s) from the top and bottom and {spec.pw} column(s) from the left and right of the "
        f"full {FH} x {FW} grid: its output y' is {OH} x {OW} ({spec.output_size_formula('h')}).{extra}",
        (Highlight("full", "padding", crop), Highlight("full", "focus", ~crop), Highlight("y", "focus", _full((OH, OW))))
        + ((Highlight("full", "uncovered", unreached),) if unreached.any() else ()),
    ))
    steps.append(Step("Where the checkerboard comes from", checkerboard_text(spec),
                      (Highlight("count", "focus", _full((FH, FW))),)))
    y_all, _ = scatter_transposed(x, w, spec)  # (N, COUT, OH, OW)
    engine = _engine(x, w, spec)
    pair_engine = _engine(xp, wp, spec)[0, 0]
    checks = (
        Check("step-by-step scatter (cropped) equals conv_transpose2d on this channel pair",
              float(np.abs(spec.crop(acc) - pair_engine).max())),
        Check("scatter over all channels equals conv_transpose2d", float(np.abs(y_all - engine).max())),
    )
    notes = (f"{spec.output_size_formula('h')} (rows); {spec.output_size_formula('w')} (columns).",)
    if spec.cin > 1:
        notes += (f"y'[{n}, {cout}] adds the parts of all {spec.cin} input channels; this figure shows channel {cin}'s.",)
    return Trace("tconv_scatter", "Transposed convolution: every input cell stamps the kernel", panels, tuple(steps),
                 checks=checks, notes=notes, total_steps=total + 3)


# ---------------------------------------------------------------------------------------------------
# 2. direct: insert zeros, pad, rotate, slide with stride 1
# ---------------------------------------------------------------------------------------------------
def tconv_direct_trace(
    x: np.ndarray, w: np.ndarray, spec: TransposedSpec, n: int = 0, cin: int = 0, cout: int = 0,
    max_steps: int | None = None,
) -> Trace:
    """Insert S-1 zeros, pad by D(K-1)-p (and + a after), then one step per output cell: the window of the 180-degree
    rotated kernel, its products, the sum written to the output."""
    xp, wp = _pair(x, w, n, cin, cout)
    x2, k2 = xp[0, 0], wp[0, 0]  # (H, W), (KH, KW)
    z = zero_insert_pad(x2, spec)  # (ZH, ZW) = (OH + D(KH-1), OW + D(KW-1))
    kept, inserted, padmask = spec.direct_masks()  # (ZH, ZW) each
    wrot = k2[::-1, ::-1]  # (KH, KW)
    top, bottom, left, right = spec.direct_pads()
    OH, OW = spec.oh, spec.ow
    part = direct_transposed(x2, k2, spec)  # (OH, OW)
    panels = (
        Panel("x", _input_title(spec, n, cin), x2, "value", row_label="i", col_label="j"),
        Panel("z", f"x' with zeros inserted, padded {_size(top, left)} / {_size(bottom, right)}",
              z, "value", row_start=-top, col_start=-left, padding=padmask),
        Panel("wrot", f"w[{cin}, {cout}] rotated 180°", wrot, "value", row_label="u", col_label="v"),
        Panel("products", "window × rotated kernel", np.zeros_like(wrot), "value", row_label="u", col_label="v"),
        Panel("y", _output_title(spec, n, cin, cout), part, "value"),
    )
    negative = []
    for name, before, after, k, d, p in (("row", top, bottom, spec.kh, spec.dh, spec.ph),
                                         ("column", left, right, spec.kw, spec.dw, spec.pw)):
        if before < 0 or after < 0:
            negative.append(f"p = {p} > D(K-1) = {d * (k - 1)} (or p - a is): the {name} pad is negative, so "
                            f"{max(-before, 0)} {name}(s) before and {max(-after, 0)} after are cropped from the "
                            "zero-inserted input instead (the scatter's crop reaches past the zeros it would pad)")
    lost = spec.h * spec.w - int(kept.sum())
    if lost:
        negative.append(f"{lost} cell(s) of x' are cropped with them: in the scatter view their stamps land entirely in "
                        "the border the crop removes, so they do not affect y'")
    steps = [
        Step("1. Insert zeros",
             f"Put S-1 = {spec.sh - 1} zero row(s) between the rows of x' and {spec.sw - 1} zero column(s) between its "
             f"columns: {spec.h} x {spec.w} -> {spec.dilated_h} x {spec.dilated_w}; x'[i, j] lands at (i*{spec.sh}, j*{spec.sw}). "
             + ("Outlined: the inserted zeros." if inserted.any() else "Stride 1: nothing to insert."),
             (Highlight("z", "write", kept),) + ((Highlight("z", "focus", inserted),) if inserted.any() else ())),
        Step("2. Pad",
             (f"Pad D(K-1)-p = {spec.dh}*({spec.kh}-1)-{spec.ph} = {top} row(s) on top and D(K-1)-p+a = {top}+{spec.oph} = "
             f"{bottom} at the bottom; {left} column(s) left and {left}+{spec.opw} = {right} right. The padded input is "
             f"{z.shape[0]} x {z.shape[1]} = o' + D(K-1): a stride-1 window of span D(K-1)+1 fits o' times. "
             + ("; ".join(negative) + "." if negative else "")).strip(),
             ((Highlight("z", "padding", padmask),) if padmask.any() else (Highlight("z", "focus", _full(z.shape)),))),
        Step("3. Rotate the kernel",
             f"Why w rotated 180°: the scatter writes w[u, v] * x'[i, j] to output (i*S + u*D - p, j*S + v*D - p). Read back "
             f"from the output side, cell r gets tap u = (r + p - i*S) / D from input row i: as a window slides forward "
             f"over the zero-inserted input it meets larger i, hence smaller u. The sliding window indexes the kernel "
             f"backwards, w[K-1-u, K-1-v], which is w[{cin}, {cout}][::-1, ::-1].",
             (Highlight("wrot", "focus", _full(wrot.shape)),)),
    ]
    total = OH * OW
    step_err = 0.0
    for t in pick_steps(total, max_steps):
        r, q = divmod(t, OW)
        read = np.zeros(z.shape, bool)
        read[r : r + spec.ekh : spec.dh, q : q + spec.ekw : spec.dw] = True
        window = z[r : r + spec.ekh : spec.dh, q : q + spec.ekw : spec.dw]  # (KH, KW)
        real = kept[r : r + spec.ekh : spec.dh, q : q + spec.ekw : spec.dw]  # taps on a cell of x'
        products = window * wrot  # (KH, KW)
        value = float(products.sum())
        step_err = max(step_err, abs(value - part[r, q]))
        body = (f"the {int(real.sum())} tap(s) on cells of x' (the rest read inserted or padding zeros): "
                + products_text(window[real], wrot[real], value) if real.any()
                else f"every tap reads an inserted or padding zero = {fmt(0.0)}")
        steps.append(Step(
            f"Output cell ({r}, {q})",
            f"y'[{r}, {q}] = sum of window x rotated kernel over {body}. The window starts at padded row {r}, column {q} "
            "(stride 1).",
            (Highlight("z", "read", read), Highlight("y", "write", cell_mask((OH, OW), [(r, q)]))),
            values={"products": products}, key=(r, q),
        ))
    checks = (
        Check("every step's sum equals conv_transpose2d on this channel pair", step_err),
        Check("direct view equals conv_transpose2d on this channel pair", float(np.abs(part - _engine(xp, wp, spec)[0, 0]).max())),
        Check("direct view over all channels equals conv_transpose2d",
              float(np.abs(direct_transposed(x, w, spec) - _engine(x, w, spec)).max())),
        Check("direct view equals the scatter view", float(np.abs(part - scatter_transposed(x2, k2, spec)[0]).max())),
    )
    notes = (f"Padding of the zero-inserted input (top, bottom, left, right) = {(top, bottom, left, right)}.",)
    if spec.cin > 1:
        notes += (f"y'[{n}, {cout}] adds the parts of all {spec.cin} input channels; this figure shows channel {cin}'s.",)
    return Trace("tconv_direct", "Transposed convolution as a direct convolution", panels, tuple(steps), checks=checks,
                 notes=notes, total_steps=total + 3)


# ---------------------------------------------------------------------------------------------------
# 3. the same numbers as the forward convolution's input gradient
# ---------------------------------------------------------------------------------------------------
def tconv_gradient_trace(
    x: np.ndarray, w: np.ndarray, spec: TransposedSpec, n: int = 0, cin: int = 0, cout: int = 0,
    max_steps: int | None = None,
) -> Trace:
    """The transposed layer's output as the input gradient of `spec.forward_spec()` with dout = x' and kernel w:
    the input-gradient trace (`transposed_trace`) for this channel pair, retitled in the transposed layer's words."""
    xp, wp = _pair(x, w, n, cin, cout)  # (1, 1, H, W), (1, 1, KH, KW)
    one = TransposedSpec.create(spec.h, spec.w, spec.kernel_size, spec.stride, spec.padding, spec.output_padding,
                                spec.dilation)
    fs = one.forward_spec()  # input (1, 1, OH, OW) -> output (1, 1, H + a//S, W + a//S)
    dout = forward_dout(xp, one)  # (1, 1, fs.oh, fs.ow): x' (plus zero rows when a >= S)
    inner = transposed_trace(np.zeros(fs.input_shape), wp, dout, fs, n=0, c=0, max_steps=max_steps)
    titles = {
        "dout": f"{_input_title(spec, n, cin)} as dout",
        "dilated": "x' as dout, dilated by S",
        "padded": "padded by D(K-1), + a",
        "wflip": f"w[{cin}, {cout}] rotated 180°",
        "dxpad": f"slide result, full {spec.full_h} x {spec.full_w} grid",
        "dx": f"{_output_title(spec, n, cin, cout)} = dx",
    }
    panels = tuple(replace(p, title=titles.get(p.name, p.title)) for p in inner.panels)
    extra = (f" Here a >= S, so the forward conv has {fs.oh - spec.h} more output row(s) and {fs.ow - spec.w} more "
             "column(s) than x': dout gets zeros there." if (fs.oh, fs.ow) != (spec.h, spec.w) else "")
    first = Step(
        "The forward convolution it inverts",
        f"A forward convolution with input {fs.h} x {fs.w} (the transposed layer's output size o'), kernel "
        f"{spec.kh} x {spec.kw}, stride {_size(spec.sh, spec.sw)}, padding {_size(spec.ph, spec.pw)} and dilation "
        f"{_size(spec.dh, spec.dw)} has output {fs.oh} x {fs.ow} ({fs.output_size_formula('h')}), the transposed layer's "
        f"input size i'. Take x' as its upstream gradient dout and w as its kernel: its input gradient dx is the "
        f"transposed layer's output y'. Its remainder rows (o' + 2p - EK) mod S = {fs.rem_h} (= a mod S = {spec.oph} mod "
        f"{spec.sh}), the bottom rows of its padded input that no window reaches, are what output padding restores: "
        f"several input sizes map to i', and a picks one.{extra}",
        (Highlight("dout", "focus", _full(dout[0].shape[1:])),),
    )
    y_pair = _engine(xp, wp, spec)[0, 0]  # (OH, OW)
    dx_shown = inner.panel("dx").values  # (OH, OW)
    checks = inner.checks + (
        Check("the forward conv's input gradient equals conv_transpose2d (this channel pair)", float(np.abs(dx_shown - y_pair).max())),
    )
    notes = inner.notes + (f"Forward conv: {fs.output_size_formula('h')}; transposed layer: {spec.output_size_formula('h')}.",)
    if spec.cin > 1:
        notes += (f"y'[{n}, {cout}] adds the parts of all {spec.cin} input channels; this figure shows channel {cin}'s.",)
    return Trace("tconv_gradient", "Transposed convolution = the input gradient of a convolution", panels,
                 (first,) + inner.steps, checks=checks, notes=notes, total_steps=inner.total_steps + 1)
