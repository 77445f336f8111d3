"""Traces of the backward stages: input gradient as a transposed convolution, col2im, weight and bias gradients."""
from __future__ import annotations

import numpy as np

from ..conv import conv2d_backward_spec, dilate, flip_kernel, transposed_pads
from ..geometry import ConvSpec, crop_padding, pad_input
from ..im2col import col2im_add_at, col2im_assign_bug, im2col_spec
from .base import Check, Highlight, Panel, Step, Trace, cell_mask, fmt, pick_steps, products_text
from .forward import channels_text, group_mask, group_text, sentence


def _full(shape) -> np.ndarray:
    return np.ones(shape, dtype=bool)


def _crop_mask(spec: ConvSpec) -> np.ndarray:
    return ~spec.padding_mask()


# ---------------------------------------------------------------------------------------------------
# 5. input gradient: dilate, pad, rotate, slide, crop
# ---------------------------------------------------------------------------------------------------
def transposed_trace(
    x: np.ndarray, w: np.ndarray, dout: np.ndarray, spec: ConvSpec, n: int = 0, c: int = 0, max_steps: int | None = None
) -> Trace:
    """dx[n, c] as a stride-1 convolution of the dilated, padded dout with the 180-degree rotated kernels.

    With groups > 1, input channel c gets gradient only from the FG output channels of its group g = c // CG:
    only those channels of dout are read, and the rotated kernels are flip_kernel(w, groups)[c], (FG, KH, KW)."""
    F, KH, KW = spec.f, spec.kh, spec.kw
    G, CG, FG = spec.groups, spec.cg, spec.fg
    g = c // CG  # the group of input channel c
    outs = slice(g * FG, (g + 1) * FG)  # the output channels of c's group (all F when groups = 1)
    dd = dilate(dout[n], spec.sh, spec.sw)  # (F, (OH-1)*SH+1, (OW-1)*SW+1)
    top, bottom, left, right = transposed_pads(spec)
    ddp = np.pad(dd, ((0, 0), (top, bottom), (left, right)))  # (F, HP + EKH - 1, WP + EKW - 1)
    wflip = flip_kernel(w, G)[c]  # (FG, KH, KW) the kernels that touch input channel c, rotated 180 degrees
    dxpad = np.einsum(
        "fuvrq,fuv->rq",
        np.lib.stride_tricks.sliding_window_view(ddp[outs], (spec.ekh, spec.ekw), axis=(1, 2))[..., :: spec.dh, :: spec.dw]
        .transpose(0, 3, 4, 1, 2),
        wflip,
    )  # (HP, WP)
    dx_t, _, _ = conv2d_backward_spec(dout, x, w, spec, "transposed")
    dx_c, _, _ = conv2d_backward_spec(dout, x, w, spec, "col2im")
    dx_l, _, _ = conv2d_backward_spec(dout[n : n + 1], x[n : n + 1], w, spec.with_channels(1, spec.c, spec.f), "loops")

    pad_mask = np.ones(ddp.shape[1:], bool)
    pad_mask[top : top + dd.shape[1], left : left + dd.shape[2]] = False
    rem_mask = np.zeros(ddp.shape[1:], bool)
    if spec.rem_h:
        rem_mask[ddp.shape[1] - spec.rem_h :, :] = True
    if spec.rem_w:
        rem_mask[:, ddp.shape[2] - spec.rem_w :] = True
    kept = np.zeros(dd.shape[1:], bool)
    kept[:: spec.sh, :: spec.sw] = True

    if G > 1:
        k = c - g * CG  # c's place within its group
        wflip_title = (f"w[{outs.start}..{outs.stop - 1}, {k}] rotated 180 degrees: the kernels of group {g}'s "
                       f"{channels_text(outs, 'output')} (channel k is output channel {outs.start} + k)")
        group = (f" Input channel {c} is in group {g} of {G}: it is read only by group {g}'s {channels_text(outs, 'output')}, "
                 f"so only those channels of dout reach dx[{n}, {c}] (group {g} reads "
                 f"{channels_text(spec.input_channels(outs.start))}).")
    else:
        wflip_title, group = f"w[:, {c}] rotated 180 degrees", ""
    panels = (
        Panel("dout", f"upstream gradient dout[{n}]", dout[n], "grad", channel_label="f", row_label="i", col_label="j"),
        Panel("dilated", f"dilated: {spec.sh - 1} zero row(s), {spec.sw - 1} zero column(s) inserted", dd, "grad", channel_label="f"),
        Panel("padded", "padded: EK-1 each side, + remainder bottom/right", ddp, "grad", channel_label="f",
              row_start=-top, col_start=-left, padding=pad_mask),
        Panel("wflip", wflip_title, wflip, "value", channel_label="k" if G > 1 else "f", row_label="u", col_label="v"),
        Panel("dxpad", f"slide result (padded input size) for channel {c}", dxpad, "grad",
              row_start=-spec.top, col_start=-spec.left, padding=spec.padding_mask()),
        Panel("dx", f"dx[{n}, {c}] after cropping", dx_t[n, c], "grad"),
    )
    steps = [
        Step("Upstream gradient", f"dout[{n}] has shape ({F}, {spec.oh}, {spec.ow}): one gradient per output cell.{group}",
             (Highlight("dout", "focus", _full(dout[n].shape[1:]) if G == 1
                        else group_mask(F, outs, _full(dout[n].shape[1:]))),)),
        Step("1. Dilate", f"Insert SH-1 = {spec.sh - 1} zero rows between rows and SW-1 = {spec.sw - 1} zero columns "
                          f"between columns: ({spec.oh}, {spec.ow}) -> {dd.shape[1:]}. Without this, stride > 1 goes wrong.",
             (Highlight("dilated", "write", kept),)),
        Step("2. Pad", f"Pad EKH-1 = {spec.ekh - 1} on top and EKH-1 + r = {spec.ekh - 1} + {spec.rem_h} at the bottom; "
                       f"EKW-1 = {spec.ekw - 1} left and {spec.ekw - 1} + {spec.rem_w} right. The extra r rows/columns "
                       "stand for input cells no window reached: their gradient is zero.",
             (Highlight("padded", "padding", pad_mask),) + ((Highlight("padded", "uncovered", rem_mask),) if rem_mask.any() else ())),
        Step("3. Rotate the kernel", f"w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3): each {KH}x{KW} kernel turned 180 degrees, "
                                     f"in/out channels swapped. Taps stay DH={spec.dh}, DW={spec.dw} apart." if G == 1 else
                                     f"flip_kernel(w, groups={G}): each {KH}x{KW} kernel turned 180 degrees, in/out channels "
                                     f"swapped inside each group: ({F}, {CG}, {KH}, {KW}) -> ({spec.c}, {FG}, {KH}, {KW}). "
                                     f"Row {c} holds the {FG} kernel(s) of group {g} that touch input channel {c}. "
                                     f"Taps stay DH={spec.dh}, DW={spec.dw} apart.",
             (Highlight("wflip", "focus", _full((KH, KW))),)),
    ]
    total = spec.hp * spec.wp
    for t in pick_steps(total, max_steps):
        r, q = divmod(t, spec.wp)
        read = np.zeros(ddp.shape[1:], bool)
        read[r : r + spec.ekh : spec.dh, q : q + spec.ekw : spec.dw] = True
        window = ddp[outs, r : r + spec.ekh : spec.dh, q : q + spec.ekw : spec.dw]  # (FG, KH, KW)
        body = (products_text(window, wflip, float(np.sum(window * wflip)), skip_zero_a=True) if window.any()
                else "every tap sees a zero = 0")
        over = "f" if G == 1 else f"f in group {g} ({channels_text(outs, 'output')})"
        steps.append(Step(
            f"4. Slide: result cell ({r - spec.top}, {q - spec.left})",
            f"dxpad[{r - spec.top}, {q - spec.left}] (the slide result) = sum over {over}, u, v of the padded gradient's "
            f"window * rotated kernel; the terms where the gradient is not 0: {body}.",
            (Highlight("padded", "read", read if G == 1 else group_mask(F, outs, read)),
             Highlight("dxpad", "write", cell_mask((spec.hp, spec.wp), [(r, q)]))),
            key=(r - spec.top, q - spec.left),
        ))
    steps.append(Step("5. Crop", f"Remove the forward padding (top {spec.top}, bottom {spec.bottom}, left {spec.left}, "
                                 f"right {spec.right}) with explicit slice ends; a[p:-p] would be empty when p = 0.",
                      (Highlight("dxpad", "focus", _crop_mask(spec)), Highlight("dx", "focus", _full((spec.h, spec.w))))))
    checks = (
        Check("equals the col2im (scatter-add) gradient", float(np.abs(dx_t - dx_c).max())),
        Check("matches the loop reference", float(np.abs(dx_t[n] - dx_l[0]).max())),
        Check("this channel's slide equals the engine", float(np.abs(crop_padding(dxpad, spec) - dx_t[n, c]).max())),
    )
    notes = (f"As a transposed convolution: padding EKH-1-p = {spec.ekh - 1}-{spec.top} on top, "
             f"{spec.ekh - 1}-{spec.bottom}+{spec.rem_h} at the bottom (the crop folded into the padding).",)
    return Trace("transposed", "Input gradient as a transposed convolution", panels, tuple(steps), checks=checks,
                 notes=notes, total_steps=total + 5)


# ---------------------------------------------------------------------------------------------------
# 6. col2im: scatter-add
# ---------------------------------------------------------------------------------------------------
def col2im_trace(
    x: np.ndarray, w: np.ndarray, dout: np.ndarray, spec: ConvSpec, n: int = 0, max_steps: int | None = None
) -> Trace:
    """dcols = W.T @ dout_cols, then each column added back into its window; overlaps accumulate.

    With groups > 1, dcols is computed per group: group g's block of rows (its CG input channels) is
    W_g.T @ dout_cols_g, from its FG output channels only. The scatter is the same for every group."""
    F, C, OH, OW = spec.f, spec.c, spec.oh, spec.ow
    G, CG, FG = spec.groups, spec.cg, spec.fg
    L = OH * OW
    dout_cols = dout.reshape(spec.n, F, L)  # (N, F, L)
    if G == 1:
        wmat = w.reshape(F, -1)  # (F, C*KH*KW)
        dcols = np.einsum("fr,nfl->nrl", wmat, dout_cols)  # (N, C*KH*KW, L)
        first = (f"W.T ({dcols.shape[1]} x {F}) times dout[{n}] as ({F} x {L}) gives one gradient column per window.")
        dcols_title = f"dcols = W.T @ dout_cols (sample {n})"
    else:
        R = CG * spec.kh * spec.kw  # rows of dcols per group
        dcols = np.empty((spec.n, C * spec.kh * spec.kw, L), dtype=np.result_type(w, dout))
        for g in range(G):  # group g's rows of dcols come from its output channels only
            outs, rows = slice(g * FG, (g + 1) * FG), slice(g * R, (g + 1) * R)
            dcols[:, rows] = np.einsum("fr,nfl->nrl", w[outs].reshape(FG, R), dout_cols[:, outs])  # (N, R, L)
        first = (f"One product per group: W_g.T ({R} x {FG}) times group g's {FG} row(s) of dout[{n}] ({FG} x {L}) "
                 f"gives group g's block of {R} rows of dcols, {G} blocks in all ({dcols.shape[1]} x {L}). Gradient from group 0's "
                 f"{channels_text(slice(0, FG), 'output')} reaches only its {channels_text(slice(0, CG))}; from group "
                 f"{G - 1}'s, only {channels_text(slice((G - 1) * CG, G * CG))}.")
        dcols_title = f"dcols: per group W_g.T @ dout_cols_g, stacked (sample {n})"
    dcols6 = dcols[n].reshape(C, spec.kh, spec.kw, OH, OW)  # (C, KH, KW, OH, OW)
    acc = np.zeros((C, spec.hp, spec.wp))
    count = np.zeros((spec.hp, spec.wp), dtype=np.int64)
    picked = set(pick_steps(L, max_steps))
    steps = [Step("dcols = W.T @ dout_cols", first, (Highlight("dcols", "focus", _full(dcols[n].shape)),))]
    for l in range(L):
        i, j = divmod(l, OW)
        r0, c0 = spec.window_origin(i, j)
        rows, cols_ = slice(r0, r0 + spec.ekh, spec.dh), slice(c0, c0 + spec.ekw, spec.dw)
        acc[:, rows, cols_] += dcols6[:, :, :, i, j]
        count[rows, cols_] += 1
        if l in picked:
            colmask = np.zeros(dcols[n].shape, bool)
            colmask[:, l] = True
            overlaps = int((count[rows, cols_] > 1).sum())
            steps.append(Step(
                f"Scatter column {l} -> window ({i}, {j})",
                f"Add column {l} into the window at padded row {r0}, column {c0}. "
                + (f"{overlaps} of its cells already held gradient from earlier windows: they accumulate."
                   if overlaps else "No overlap with earlier windows yet."),
                (Highlight("dcols", "read", colmask), Highlight("acc", "write", spec.window_mask(i, j)),
                 Highlight("count", "write", spec.window_mask(i, j))),
                values={"acc": acc.copy(), "count": count.copy()}, key=(i, j),
            ))
    dx_fast, _, _ = conv2d_backward_spec(dout, x, w, spec, "col2im")
    dx_t, _, _ = conv2d_backward_spec(dout, x, w, spec, "transposed")
    dx_at = col2im_add_at(dcols, spec)
    wrong = col2im_assign_bug(dcols, spec)  # (N, C, H, W)
    lost = np.abs(wrong[n] - dx_fast[n]) > 1e-12
    maxcount = int(count.max())
    steps += [
        Step("Overlap count", f"Each cell was written by up to {maxcount} window(s); cells with count 0 get no gradient. "
                              "col2im(im2col(x)) is x times this count, not x.", (Highlight("count", "focus", _full(count.shape)),)),
        Step("Crop", f"Cut the padding off: dx[{n}] has shape ({C}, {spec.h}, {spec.w}).",
             (Highlight("acc", "focus", _crop_mask(spec)), Highlight("dx", "focus", _full((spec.h, spec.w))))),
        Step("The bug: assignment instead of add",
             f"xpad[k, i, j] += dcols with fancy indexing writes each repeated cell once, so overlapping windows lose "
             f"gradient: {int(lost.sum())} cell(s) wrong here (red), max error {fmt(np.abs(wrong - dx_fast).max())}. "
             "np.add.at, or one slice-add per kernel offset, accumulates correctly.",
             (Highlight("wrong", "wrong", lost),)),
    ]
    panels = (
        Panel("dcols", dcols_title, dcols[n], "grad", row_label="row r = (c, u, v)", col_label="column l"),
        Panel("acc", "dxpad (accumulating)", np.zeros_like(acc), "grad", row_start=-spec.top, col_start=-spec.left,
              padding=spec.padding_mask()),
        Panel("count", "windows added so far", np.zeros_like(count), "count", row_start=-spec.top, col_start=-spec.left,
              padding=spec.padding_mask()),
        Panel("dx", f"dx[{n}] (cropped)", dx_fast[n], "grad"),
        Panel("wrong", "with assignment instead of add (wrong)", wrong[n], "grad"),
    )
    checks = (
        Check("equals the transposed-convolution gradient", float(np.abs(dx_fast - dx_t).max())),
        Check("slice-add fast path equals np.add.at", float(np.abs(dx_fast - dx_at).max())),
        Check("step-by-step scatter equals the engine", float(np.abs(crop_padding(acc, spec) - dx_fast[n]).max())),
    )
    return Trace("col2im", "col2im: the input gradient by scatter-add", panels, tuple(steps), checks=checks, total_steps=L + 4)


# ---------------------------------------------------------------------------------------------------
# 7. weight and bias gradients
# ---------------------------------------------------------------------------------------------------
def weight_grad_trace(x: np.ndarray, w: np.ndarray, dout: np.ndarray, spec: ConvSpec, n: int = 0, f: int = 0) -> Trace:
    """dw[f, c, u, v]: correlate the input with dout dilated by the stride; db[f]: the sum of dout.

    With groups > 1, dw[f] has C/groups channels: channel k correlates x's channel a + k, a the first of the
    channels of f's group (spec.input_channels(f)), with dout[:, f]."""
    xpad = pad_input(x, spec)  # (N, C, HP, WP)
    G, CG, FG = spec.groups, spec.cg, spec.fg
    chans = spec.input_channels(f)  # the channels of x that dw[f] correlates (all C when groups = 1)
    _, dw, db = conv2d_backward_spec(dout, x, w, spec, "col2im")
    one_f = spec.with_channels(spec.n, CG, 1, groups=1)  # the loop reference for the shown f only: it is slow
    _, dw_l, db_l = conv2d_backward_spec(dout[:, f : f + 1], x[:, chans], w[f : f + 1], one_f, "loops")
    _, dw_t, _ = conv2d_backward_spec(dout, x, w, spec, "transposed")
    cols = im2col_spec(x, spec)  # (N, C*KH*KW, L)
    dout_cols = dout.reshape(spec.n, spec.f, -1)  # (N, F, L)
    if G == 1:
        dw_mat = np.einsum("nfl,nrl->fr", dout_cols, cols).reshape(dw.shape)  # dout_cols @ cols.T, summed over n
    else:
        R = CG * spec.kh * spec.kw
        dw_mat = np.empty(dw.shape, dtype=dw.dtype)  # (F, CG, KH, KW)
        for g in range(G):  # per group: its FG rows of dout_cols @ its R rows of cols, transposed
            outs, rows = slice(g * FG, (g + 1) * FG), slice(g * R, (g + 1) * R)
            dw_mat[outs] = np.einsum("nfl,nrl->fr", dout_cols[:, outs], cols[:, rows]).reshape(FG, CG, spec.kh, spec.kw)
    dd = dilate(dout[n, f], spec.sh, spec.sw)  # ((OH-1)*SH+1, (OW-1)*SW+1)
    if G > 1:
        x_title = f"input x[{n}] (padded); dw[{f}] correlates {channels_text(chans)}"
        dw_title = f"dw[{f}]: channel k is x's channel {chans.start} + k"
        group = f" {sentence(group_text(spec, f))}."
    else:
        x_title, dw_title, group = f"input x[{n}] (padded)", f"dw[{f}]", ""
    panels = (
        Panel("xpad", x_title, xpad[n], "value", row_start=-spec.top, col_start=-spec.left,
              padding=spec.padding_mask()),
        Panel("dd", f"dout[{n}, {f}] dilated by the stride", dd, "grad", row_label="i*SH", col_label="j*SW"),
        Panel("dw", dw_title, dw[f], "grad", row_label="u", col_label="v", channel_label="k" if G > 1 else "c"),
        Panel("db", "db", db[None, :], "grad", row_label="", col_label="f"),
    )
    steps = []
    kept = np.zeros(dd.shape, bool)
    kept[:: spec.sh, :: spec.sw] = True
    for u in range(spec.kh):
        for v in range(spec.kw):
            read = np.zeros((spec.hp, spec.wp), bool)
            r0, c0 = u * spec.dh, v * spec.dw
            read[r0 : r0 + spec.sh * (spec.oh - 1) + 1 : spec.sh, c0 : c0 + spec.sw * (spec.ow - 1) + 1 : spec.sw] = True
            seen = xpad[n, chans.start, r0 : r0 + spec.sh * (spec.oh - 1) + 1 : spec.sh,
                        c0 : c0 + spec.sw * (spec.ow - 1) + 1 : spec.sw]
            batch = f" plus the other {spec.n - 1} sample(s)" if spec.n > 1 else ""
            mask = np.zeros(dw[f].shape, bool)
            mask[:, u, v] = True
            if G == 1:
                formula = (f"dw[{f}, c, {u}, {v}] = sum over n, i, j of dout[n, {f}, i, j] * xpad[n, c, {u}*{spec.dh} + "
                           f"i*{spec.sh}, {v}*{spec.dw} + j*{spec.sw}]. For c = 0, sample {n}: ")
            else:
                formula = (f"dw[{f}, k, {u}, {v}] = sum over n, i, j of dout[n, {f}, i, j] * xpad[n, {chans.start} + k, "
                           f"{u}*{spec.dh} + i*{spec.sh}, {v}*{spec.dw} + j*{spec.sw}].{group} For k = 0 (x's channel "
                           f"{chans.start}), sample {n}: ")
            steps.append(Step(
                f"Tap ({u}, {v})",
                f"{formula}{products_text(dout[n, f], seen, float(np.sum(dout[n, f] * seen)))}"
                f"{batch}; total dw[{f}, 0, {u}, {v}] = {fmt(dw[f, 0, u, v])}.",
                (Highlight("xpad", "read", read if G == 1 else group_mask(spec.c, chans, read)), Highlight("dd", "read", kept),
                 Highlight("dw", "write", mask)), key=(u, v),
            ))
    dbmask = np.zeros((1, spec.f), bool)
    dbmask[0, f] = True
    steps.append(Step("Bias gradient", f"db[{f}] = sum of dout[:, {f}] over the batch and every position = {fmt(db[f])}: "
                                       "the bias is added to every output cell, so every cell's gradient flows to it.",
                      (Highlight("dd", "focus", kept), Highlight("db", "write", dbmask))))
    checks = (
        Check("dw matches the loop reference", float(np.abs(dw[f] - dw_l[0]).max())),
        Check("dw equals dout_cols @ cols.T" if G == 1 else "dw equals dout_cols @ cols.T, per group", float(np.abs(dw - dw_mat).max())),
        Check("dw equals the correlation form (transposed method)", float(np.abs(dw - dw_t).max())),
        Check("db matches the loop reference", float(abs(db[f] - db_l[0]))),
    )
    return Trace("weight_grad", "Weight and bias gradients", panels, tuple(steps), checks=checks)
