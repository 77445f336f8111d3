"""Trace of average pooling: each window's mean forward, its gradient spread evenly backward."""
from __future__ import annotations

import numpy as np

from ..geometry import ConvSpec, crop_padding, pad_input
from ..pool import avg_pool2d_backward_spec, avg_pool_divisors
from .base import Check, Highlight, Panel, Step, Trace, cell_mask, fmt, pick_steps


def _divisor_text(div: int, real: int, n_pad: int, spec: ConvSpec, count_include_pad: bool) -> str:
    """Why the window's divisor is what it is."""
    size = f"{spec.kh}*{spec.kw}"
    if n_pad == 0:
        return f"divisor = {size} = {div} cells (no padding in this window)"
    if count_include_pad:
        return f"divisor = {size} = {div}: the {n_pad} padding cell(s) count in the divisor (count_include_pad=True)"
    return (f"divisor = {div}: only the {real} real cell(s) count, the {n_pad} padding cell(s) do not "
            f"(count_include_pad=False)")


def avgpool_trace(
    x: np.ndarray,
    dout: np.ndarray,
    spec: ConvSpec,
    n: int = 0,
    c: int = 0,
    max_steps: int | None = None,
    count_include_pad: bool = True,
) -> Trace:
    """Forward means and backward spreading for x[n, c], one step per output window (i, j).

    Forward: y[i, j] = (sum of window (i, j), padding as 0) / divisor[i, j].
    Backward: every real cell of window (i, j) gets dout[i, j] / divisor[i, j]; overlapping windows add up.

    Args:
        x: (N, C, H, W); dout: (N, C, OH, OW); spec: a pooling spec from pool_spec (dilation 1).
    """
    divisor = avg_pool_divisors(spec, count_include_pad)  # (OH, OW), validates the spec
    xpad = pad_input(np.asarray(x)[n, c].astype(np.float64)[None, None], spec, value=0.0)[0, 0]  # (HP, WP)
    g = np.asarray(dout, dtype=np.float64)[n, c]  # (OH, OW)
    pad = spec.padding_mask()  # (HP, WP) True on padding
    OH, OW = spec.oh, spec.ow
    y = np.empty((OH, OW))
    acc = np.zeros((spec.hp, spec.wp))  # dx on the padded grid; padding cells stay 0
    touched = np.zeros((spec.hp, spec.wp), dtype=bool)  # cells an earlier window already sent gradient to
    lost = 0.0  # the padding's share of the gradient, sum of dout * (padding cells) / divisor
    picked = set(pick_steps(OH * OW, max_steps))
    steps = []
    for t in range(OH * OW):
        i, j = divmod(t, OW)
        win = spec.window_mask(i, j)  # (HP, WP)
        real = win & ~pad  # (HP, WP) the window's own input cells
        n_real, n_pad = int(real.sum()), int((win & pad).sum())
        div = int(divisor[i, j])
        total = float(xpad[win].sum())
        y[i, j] = total / div
        share = g[i, j] / div
        lost += g[i, j] * n_pad / div if count_include_pad else 0.0
        again = real & touched
        acc[real] += share
        touched |= real
        if t in picked:
            div_text = _divisor_text(div, n_real, n_pad, spec, count_include_pad)
            back = (f"Backward: dout[{i}, {j}] / {div} = {fmt(g[i, j])} / {div} = {fmt(share)} is added to each of the "
                    f"window's {n_real} real cell(s)")
            if n_pad and count_include_pad:
                back += f"; the {n_pad} padding cell(s)' share ({n_pad} x {fmt(share)}) is lost"
            back += "."
            if again.any():
                r, q = (int(a[0]) for a in np.nonzero(again))
                back += (f" {int(again.sum())} cell(s) already held gradient from an overlapping window, e.g. input "
                         f"({r - spec.top}, {q - spec.left}): {fmt(acc[r, q] - share)} + {fmt(share)} = {fmt(acc[r, q])}.")
            highlights = [Highlight("x", "read", win)]
            if n_pad:
                highlights.append(Highlight("x", "padding", win & pad))
            highlights += [
                Highlight("y", "write", cell_mask((OH, OW), [(i, j)])),
                Highlight("divisor", "focus", cell_mask((OH, OW), [(i, j)])),
                Highlight("dout", "read", cell_mask((OH, OW), [(i, j)])),
                Highlight("dx", "write", real),
            ]
            steps.append(Step(
                f"Window ({i}, {j})",
                f"mean = sum / divisor = {fmt(total)} / {div} = {fmt(y[i, j])}; {div_text}. {back}",
                tuple(highlights), values={"dx": acc.copy()}, key=(i, j),
            ))
    engine = avg_pool2d_backward_spec(np.asarray(dout), np.asarray(x), spec, count_include_pad)[n, c]  # (H, W)
    counted = "counted in the divisor" if count_include_pad else "not counted in the divisor"
    rule = f"KH*KW = {spec.kh * spec.kw}" if count_include_pad else "real cells only"
    panels = (
        Panel("x", f"input x[{n}, {c}] (padding = 0, {counted})", xpad, "value", row_start=-spec.top,
              col_start=-spec.left, padding=pad),
        Panel("y", "average-pool output y", y, "value", row_label="i", col_label="j"),
        Panel("dout", "upstream gradient dout", g, "grad", row_label="i", col_label="j"),
        Panel("dx", "dx (spread gradient, accumulating)", np.zeros_like(acc), "grad", row_start=-spec.top,
              col_start=-spec.left, padding=pad),
        Panel("divisor", f"divisor of each window ({rule})", divisor, "count", row_label="i", col_label="j"),
    )
    dx_sum, dout_sum = float(acc.sum()), float(g.sum())
    if count_include_pad and spec.padding != (0, 0, 0, 0):
        conservation = Check("gradient less the padding's share: sum(dx) - (sum(dout) - lost)", abs(dx_sum - (dout_sum - lost)),
                             measure="|diff|")
        note = (f"sum(dout) = {fmt(dout_sum)}; the padding cells' share, lost because padding counts in the divisor, "
                f"= {fmt(lost)}; sum(dx) = {fmt(dx_sum)}.")
    else:
        conservation = Check("gradient is conserved: sum(dx) - sum(dout)", abs(dx_sum - dout_sum), measure="|diff|")
        note = f"sum(dout) = {fmt(dout_sum)} = sum(dx): every share lands on a real cell."
    checks = (
        Check("spreading equals the vectorised engine", float(np.abs(crop_padding(acc, spec) - engine).max())),
        conservation,
    )
    notes = (
        "y[i, j] = sum of window (i, j) / divisor[i, j]; padding cells hold 0. "
        + ("The divisor is KH*KW everywhere (count_include_pad=True)." if count_include_pad
           else "The divisor counts the window's real cells only (count_include_pad=False)."),
        note,
    )
    return Trace("avgpool", "Average pooling: forward means, backward spreading", panels, tuple(steps), checks=checks,
                 notes=notes, total_steps=OH * OW)
