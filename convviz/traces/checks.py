"""Traces of max-pool routing and of the finite-difference gradient check."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..conv import BACKWARD_METHODS, conv2d_backward_spec
from ..geometry import ConvSpec, crop_padding, pad_input
from ..gradcheck import GradCheck, check_conv2d
from ..pool import max_pool2d_backward_spec
from .base import Check, Highlight, Panel, Step, Trace, cell_mask, fmt, pick_steps
from .forward import group_text


# ---------------------------------------------------------------------------------------------------
# 8. max pooling
# ---------------------------------------------------------------------------------------------------
def maxpool_trace(
    x: np.ndarray, dout: np.ndarray, spec: ConvSpec, n: int = 0, c: int = 0, max_steps: int | None = None
) -> Trace:
    """Forward maxima and backward routing for x[n, c]; ties go to the first maximum in row-major order."""
    xpad = pad_input(x[n, c].astype(np.float64)[None, None], spec, value=-np.inf)[0, 0]  # (HP, WP)
    OH, OW = spec.oh, spec.ow
    y = np.empty((OH, OW))
    acc = np.zeros((spec.hp, spec.wp))
    picked = set(pick_steps(OH * OW, max_steps))
    steps = []
    for t in range(OH * OW):
        i, j = divmod(t, OW)
        r0, c0 = spec.window_origin(i, j)
        window = xpad[r0 : r0 + spec.ekh : spec.dh, c0 : c0 + spec.ekw : spec.dw]  # (KH, KW)
        k = int(np.argmax(window))  # the first maximum in row-major window order
        u, v = divmod(k, spec.kw)
        r, q = r0 + u * spec.dh, c0 + v * spec.dw
        y[i, j] = window[u, v]
        before = acc[r, q]
        acc[r, q] += dout[n, c, i, j]
        if t in picked:
            ties = int((window == window[u, v]).sum())
            tie_text = f" {ties} cells tie for the maximum; the first in row-major order takes the gradient." if ties > 1 else ""
            add_text = (f" The cell already held {fmt(before)} from an overlapping window: now {fmt(acc[r, q])}."
                        if before != 0 else "")
            steps.append(Step(
                f"Window ({i}, {j})",
                f"max = {fmt(y[i, j])} at input ({r - spec.top}, {q - spec.left}).{tie_text} Backward: dout[{i}, {j}] = "
                f"{fmt(dout[n, c, i, j])} goes to that cell only.{add_text}",
                (Highlight("x", "read", spec.window_mask(i, j)), Highlight("x", "focus", cell_mask(xpad.shape, [(r, q)])),
                 Highlight("y", "write", cell_mask((OH, OW), [(i, j)])), Highlight("dout", "read", cell_mask((OH, OW), [(i, j)])),
                 Highlight("dx", "write", cell_mask(xpad.shape, [(r, q)]))),
                values={"dx": acc.copy()}, key=(i, j),
            ))
    engine = max_pool2d_backward_spec(dout, x, spec)[n, c]
    shown = np.where(np.isinf(xpad), np.nan, xpad)  # padding is -inf; drawn as an empty cell
    panels = (
        Panel("x", f"input x[{n}, {c}] (padding = -inf)", shown, "value", row_start=-spec.top, col_start=-spec.left,
              padding=spec.padding_mask()),
        Panel("y", "max-pool output y", y, "value", row_label="i", col_label="j"),
        Panel("dout", "upstream gradient dout", dout[n, c], "grad", row_label="i", col_label="j"),
        Panel("dx", "dx (routed gradient, accumulating)", np.zeros_like(acc), "grad", row_start=-spec.top,
              col_start=-spec.left, padding=spec.padding_mask()),
    )
    checks = (
        Check("routing equals the vectorised engine", float(np.abs(crop_padding(acc, spec) - engine).max())),
        Check("gradient is conserved: sum(dx) - sum(dout)", float(abs(acc.sum() - dout[n, c].sum()))),
    )
    return Trace("maxpool", "Max pooling: forward maxima, backward routing", panels, tuple(steps), checks=checks,
                 total_steps=OH * OW)


# ---------------------------------------------------------------------------------------------------
# 9. gradient check
# ---------------------------------------------------------------------------------------------------
def gradcheck_trace(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    dout: np.ndarray,
    spec: ConvSpec,
    method: str = "col2im",
    n: int = 0,
    f: int = 0,
    progress: Callable[[float], None] | None = None,
    max_entries: int | None = None,
) -> Trace:
    """Analytic dx, dw, db next to central differences, with the element-wise relative error.

    The panels show `method`; the table holds every backward method against the same numeric estimates.
    """
    dx, dw, db = check_conv2d(x, w, b, dout, spec.stride, spec.padding, spec.dilation, method=method, progress=progress,
                              max_entries=max_entries, groups=spec.groups)
    table = [("backward method", "dx max rel. error", "dw max rel. error", "db max rel. error", "verdict")]
    for m in BACKWARD_METHODS:
        analytic = conv2d_backward_spec(np.asarray(dout, np.float64), np.asarray(x, np.float64), np.asarray(w, np.float64), spec, m)
        cs = [GradCheck(c.name, a, c.numeric, c.noise) for c, a in zip((dx, dw, db), analytic)]
        table.append((m, *(f"{c.max_rel_error:.2e}" for c in cs), "passes" if all(c.passed for c in cs) else "FAILS"))

    def trio(chk: GradCheck, pick, title: str, **labels) -> tuple[Panel, ...]:
        return (
            Panel(f"{chk.name}_a", f"{title}: analytic ({method})", pick(chk.analytic), "grad", **labels),
            Panel(f"{chk.name}_n", f"{title}: central difference", pick(chk.numeric), "grad", **labels),
            Panel(f"{chk.name}_e", f"{title}: relative error", pick(chk.rel_error), "error", **labels),
        )

    panels = (trio(dx, lambda a: a[n], f"dx[{n}]") + trio(dw, lambda a: a[f], f"dw[{f}]", row_label="u", col_label="v")
              + trio(db, lambda a: a[None, :], "db", row_label="", col_label="f"))
    grouped = ""
    if spec.groups > 1:
        grouped = (f"With groups = {spec.groups}, w and dw are (F, C/groups, KH, KW) = {spec.weight_shape}; "
                   f"{group_text(spec, f)}, so dw[{f}, k] is the gradient of the weight meeting x's channel "
                   f"{spec.input_channels(f).start} + k. The central differences perturb the same grouped layer.")
    steps = []
    for chk in (dx, dw, db):
        verdict = "passes" if chk.passed else "FAILS"
        steps.append(Step(
            f"{chk.name}: {verdict}",
            f"Max relative error {chk.max_rel_error:.2e} (max |analytic - numeric| = {chk.max_abs_error:.2e}) over "
            f"{chk.checked} of {chk.analytic.size} entries: {verdict} the 1e-6 test."
            + (f" {grouped}" if grouped and chk is dw else ""),
            tuple(Highlight(f"{chk.name}_{s}", "focus", np.ones(next(p for p in panels if p.name == f"{chk.name}_{s}").values.shape, bool))
                  for s in "ane"),
        ))
    checks = tuple(Check(f"{c.name} against central differences", c.max_rel_error, 1e-6, "max relative error") for c in (dx, dw, db))
    notes = ["L = sum(y * dout); numeric dL/da = (L(a + h) - L(a - h)) / 2h with h = 1e-6, in float64, one entry at a time.",
             f"Rounding in L limits each estimate to about ±{dx.noise:.1e} (16 · eps · sum of |products| / h); an entry "
             "whose true gradient is 0 comes back as noise of that size, so the relative error's denominator is floored "
             f"at noise / 1e-6 = {dx.noise / 1e-6:.2g}."]
    if spec.groups > 1:
        notes.append(grouped)
    sampled = [c for c in (dx, dw, db) if c.checked < c.analytic.size]
    if sampled:
        notes.append("To stay fast, " + "; ".join(f"{c.name}: {c.checked} of {c.analytic.size} entries (a seeded random sample)"
                                                  for c in sampled) + " were estimated; unchecked cells are blank.")
    return Trace("gradcheck", "Finite-difference gradient check", panels, tuple(steps), checks=checks, notes=tuple(notes),
                 table=tuple(table))
