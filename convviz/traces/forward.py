"""Traces of the forward stages: shapes and edge cases, the sliding window, im2col, strided windows."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..conv import conv2d_spec
from ..geometry import ConvSpec, pad_input
from ..im2col import im2col_gather, im2col_indices, im2col_spec, window_view
from .base import Check, Highlight, Panel, Step, Trace, cell_mask, fmt, pick_steps, products_text


def _xpad_panel(xpad_nc: np.ndarray, spec: ConvSpec, name: str = "xpad", title: str = "input x (padded)") -> Panel:
    """The padded input of one sample, (C, HP, WP), labelled in the original input's coordinates."""
    return Panel(name, title, xpad_nc, "value", row_start=-spec.top, col_start=-spec.left, padding=spec.padding_mask())


def channels_text(chans: slice, what: str = "input") -> str:
    """'input channels 2..3' for slice(2, 4); 'input channel 2' for a single channel."""
    if chans.stop - chans.start == 1:
        return f"{what} channel {chans.start}"
    return f"{what} channels {chans.start}..{chans.stop - 1}"


def group_text(spec: ConvSpec, f: int) -> str:
    """For groups > 1: which group output channel f is in and the input channels that group reads, e.g. 'output channel
    3 is in group 1 of 2 (output channels 2..3), and group 1 reads input channels 2..3 only'."""
    g, fg = spec.group_of(f), spec.fg
    outs = slice(g * fg, (g + 1) * fg)
    depthwise = " (depthwise: groups = C)" if spec.is_depthwise else ""
    return (f"output channel {f} is in group {g} of {spec.groups} ({channels_text(outs, 'output')}), and group {g} reads "
            f"{channels_text(spec.input_channels(f))} only{depthwise}")


def sentence(text: str) -> str:
    """The text with its first letter capitalised (and the rest left alone, unlike str.capitalize)."""
    return text[:1].upper() + text[1:]


def group_mask(channels: int, chans: slice, mask: np.ndarray) -> np.ndarray:
    """A (channels, R, K) mask: the (R, K) `mask` on the channels `chans` (one group's), nothing on the others."""
    out = np.zeros((channels,) + mask.shape, bool)
    out[chans] = mask
    return out


def _window_cells(spec: ConvSpec, i: int, j: int) -> list[tuple[int, int]]:
    r0, c0 = spec.window_origin(i, j)
    return [(r0 + u * spec.dh, c0 + v * spec.dw) for u in range(spec.kh) for v in range(spec.kw)]


# ---------------------------------------------------------------------------------------------------
# 1. shapes and edge cases
# ---------------------------------------------------------------------------------------------------
def padding_modes_table(spec: ConvSpec) -> tuple[tuple[str, ...], ...]:
    """valid / same / full (and the current setting) side by side: pads, output size, the remainder rows/cols, and
    the rows/cols of x itself that no tap reads (in the remainder, or stepped past before it)."""
    rows: list[tuple[str, ...]] = [("padding", "top, bottom, left, right", "output OH x OW", "remainder rows, cols",
                                    "x's rows, cols never read")]

    def row(name: str, s: ConvSpec) -> tuple[str, ...]:
        never = f"{len(s.unread_input('h'))}, {len(s.unread_input('w'))}"
        return name, ", ".join(map(str, s.padding)), f"{s.oh} x {s.ow}", f"{s.rem_h}, {s.rem_w}", never

    for mode in ("valid", "same", "full"):
        try:
            rows.append(row(mode, ConvSpec.create(spec.h, spec.w, spec.kernel_size, spec.stride, mode, spec.dilation)))
        except ValueError:
            rows.append((mode, "-", "no window fits", "-", "-"))
    rows.append(row(f"current ({spec.mode})", spec))
    return tuple(rows)


def shapes_trace(spec: ConvSpec) -> Trace:
    """Padding, first/last windows, and the cells no window covers, on the window-count grid."""
    cover = spec.coverage()  # (HP, WP)
    pad = spec.padding_mask()
    uncovered = cover == 0
    inside = ~pad
    panel = Panel("coverage", "windows reading each cell (padded input)", cover, "count",
                  row_start=-spec.top, col_start=-spec.left, padding=pad)
    first, last = _window_cells(spec, 0, 0), _window_cells(spec, spec.oh - 1, spec.ow - 1)
    hw = (spec.hp, spec.wp)
    steps = [
        Step("The input", f"x is {spec.h} x {spec.w}. Each number below counts the windows that read that cell.",
             (Highlight("coverage", "focus", inside),)),
        Step("Padding", f"Padding adds (top {spec.top}, bottom {spec.bottom}, left {spec.left}, right {spec.right}): "
                        f"the padded input is {spec.hp} x {spec.wp}.", (Highlight("coverage", "padding", pad),)),
        Step("First window", f"The effective kernel is {spec.ekh} x {spec.ekw} = dilation x (kernel - 1) + 1 "
                             f"({spec.dh}*({spec.kh}-1)+1, {spec.dw}*({spec.kw}-1)+1). It starts at the top-left corner.",
             (Highlight("coverage", "read", cell_mask(hw, first)),), key=(0, 0)),
        Step("Last window", f"It moves by stride ({spec.sh}, {spec.sw}); the last of {spec.oh} x {spec.ow} windows "
                            f"starts at padded row {(spec.oh - 1) * spec.sh}, column {(spec.ow - 1) * spec.sw}. "
                            f"{spec.output_size_formula('h')}; {spec.output_size_formula('w')}.",
             (Highlight("coverage", "read", cell_mask(hw, last)),), key=(spec.oh - 1, spec.ow - 1)),
    ]
    rem = f"(H + top + bottom - EKH) mod SH = ({spec.h} + {spec.top} + {spec.bottom} - {spec.ekh}) mod {spec.sh} = {spec.rem_h}"
    never = int((uncovered & inside).sum())
    skip_h, skip_w = spec.skipped_input("h"), spec.skipped_input("w")
    other = " other" if spec.rem_h or spec.rem_w else ""
    skipped = (f" No tap lands on {len(skip_h)}{other} row(s) and {len(skip_w)}{other} column(s) of x either: tap u of window i "
               f"reads padded row i*SH + u*DH (and tap v, column j*SW + v*DW; stride {spec.stride}, dilation "
               f"{spec.dilation}), and the stride steps past them." if skip_h or skip_w else "")
    steps.append(Step(
        "Cells no window reads",
        f"Remainder rows {rem}; remainder columns {spec.rem_w}.{skipped} "
        f"{never} input cell(s) are never read: they do not affect y and receive zero gradient.",
        (Highlight("coverage", "uncovered", uncovered),),
    ))
    notes = (
        f"{spec.output_size_formula('h')}",
        f"{spec.output_size_formula('w')}",
        f"Parameters: F*C*KH*KW + F = {spec.f}*{spec.c}*{spec.kh}*{spec.kw} + {spec.f} = {spec.params}",
        f"Multiply-adds: N*F*OH*OW*C*KH*KW = {spec.n}*{spec.f}*{spec.oh}*{spec.ow}*{spec.c}*{spec.kh}*{spec.kw} = {spec.macs}",
    )
    if spec.groups > 1:
        G, CG, FG = spec.groups, spec.cg, spec.fg
        kind = " (depthwise: groups = C, one input channel per group)" if spec.is_depthwise else ""

        def per_group(count: int, what: str) -> str:  # group g's channels, as a formula in g
            return f"{what} channel g" if count == 1 else f"{what} channels g*{count}..g*{count}+{count - 1}"

        notes = (
            f"{spec.output_size_formula('h')}",
            f"{spec.output_size_formula('w')}",
            f"Groups: {G}{kind}. Group g maps its {per_group(CG, 'input')} to its {per_group(FG, 'output')} and "
            f"sees no other channel: "
            f"group 0 reads {channels_text(slice(0, CG))}, group {G - 1} reads "
            f"{channels_text(slice((G - 1) * CG, G * CG))}. w is (F, C/groups, KH, KW) = ({spec.f}, {CG}, {spec.kh}, {spec.kw}).",
            f"Parameters: F*(C/groups)*KH*KW + F = {spec.f}*({spec.c}/{G})*{spec.kh}*{spec.kw} + {spec.f} = {spec.params} "
            f"(with groups = 1 it would be {spec.f * spec.c * spec.kh * spec.kw + spec.f}: each kernel spans C/groups = "
            f"{CG} channel(s), not C = {spec.c})",
            f"Multiply-adds: N*F*OH*OW*(C/groups)*KH*KW = {spec.n}*{spec.f}*{spec.oh}*{spec.ow}*({spec.c}/{G})*{spec.kh}*"
            f"{spec.kw} = {spec.macs} (1/{G} of the {spec.macs * G} with groups = 1)",
        )
    return Trace("shapes", "Shapes and edge cases", (panel,), tuple(steps), notes=notes, table=padding_modes_table(spec))


# ---------------------------------------------------------------------------------------------------
# 2. forward pass as a sliding window
# ---------------------------------------------------------------------------------------------------
def forward_trace(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, spec: ConvSpec, n: int = 0, f: int = 0, max_steps: int | None = None
) -> Trace:
    """One step per output cell of y[n, f]: the window, its element-wise products, the sum landing in y.

    With groups > 1, output channel f reads only its group's channels of x (spec.input_channels(f)): the window is
    outlined on those channels only, and the kernel w[f] has C/groups channels, channel k meeting x's channel a + k."""
    xpad = pad_input(x, spec)  # (N, C, HP, WP)
    y = conv2d_spec(x, w, b, spec, "im2col")  # (N, F, OH, OW)
    chans = spec.input_channels(f)  # the CG channels of f's group (all C when groups = 1)
    grouped = spec.groups > 1
    one = spec.with_channels(1, spec.cg, 1, groups=1)  # the loop reference for the shown (n, f) only: it is slow
    y_ref = conv2d_spec(x[n : n + 1, chans], w[f : f + 1], b[f : f + 1], one, "loops")[0, 0]
    if grouped:
        w_title = (f"kernel w[{f}]: its channel k meets x's channel {chans.start} + k "
                   f"(group {spec.group_of(f)}: {channels_text(chans)})")
        x_title = f"input x (padded); output channel {f} reads {channels_text(chans)}"
    else:
        w_title, x_title = f"kernel w[{f}]", "input x (padded)"
    panels = (
        _xpad_panel(xpad[n], spec, title=x_title),
        Panel("w", w_title, w[f], "value", row_label="u", col_label="v", channel_label="k" if grouped else "c"),
        Panel("products", "window x kernel (element-wise)", np.zeros_like(w[f]), "value", row_label="u", col_label="v",
              channel_label="k" if grouped else "c"),
        Panel("y", f"output y[{n}, {f}]", y[n, f], "value", row_label="i", col_label="j"),
    )
    total = spec.oh * spec.ow
    group = f" {sentence(group_text(spec, f))}." if grouped else ""
    steps = []
    for t in pick_steps(total, max_steps):
        i, j = divmod(t, spec.ow)
        r0, c0 = spec.window_origin(i, j)
        window = xpad[n, chans, r0 : r0 + spec.ekh : spec.dh, c0 : c0 + spec.ekw : spec.dw]  # (CG, KH, KW)
        products = window * w[f]  # (CG, KH, KW)
        caption = (f"y[{n},{f},{i},{j}] = b[{f}] + sum(window * w) = {fmt(b[f])} + "
                   f"({products_text(window, w[f], products.sum())}) = {fmt(y[n, f, i, j])}. "
                   f"The window starts at padded row {r0} = {i}*{spec.sh}, column {c0} = {j}*{spec.sw}.{group}")
        read = group_mask(spec.c, chans, spec.window_mask(i, j)) if grouped else spec.window_mask(i, j)
        steps.append(Step(
            f"Output cell ({i}, {j})", caption,
            (Highlight("xpad", "read", read), Highlight("y", "write", cell_mask((spec.oh, spec.ow), [(i, j)]))),
            values={"products": products}, key=(i, j),
        ))
    checks = (Check("matches the loop reference", float(np.abs(y[n, f] - y_ref).max())),)
    return Trace("forward", "Forward pass: the sliding window", panels, tuple(steps), checks=checks, total_steps=total)


# ---------------------------------------------------------------------------------------------------
# 3. im2col: indices, gather, one matrix product
# ---------------------------------------------------------------------------------------------------
def _group_rows_text(spec: ConvSpec) -> str:
    """For groups > 1: the column matrix's rows come in one block per group ('' when groups = 1)."""
    if spec.groups == 1:
        return ""
    G, CG, K = spec.groups, spec.cg, spec.kh * spec.kw
    return (f" With groups = {G} the rows come in {G} blocks of CG*KH*KW = {CG}*{K} = {CG * K}: group g's block, rows "
            f"g*{CG * K}..g*{CG * K}+{CG * K - 1}, holds its input channels g*{CG}..g*{CG}+{CG - 1} (group 0 reads "
            f"{channels_text(slice(0, CG))}), and only group g's kernels multiply it. The columns do not change.")


def im2col_index_trace(spec: ConvSpec) -> Trace:
    """The index arrays i0, i1, i = i0 + i1, j0, j1, j, k, introduced one at a time."""
    idx = im2col_indices(spec)
    C, KH, KW, OH, OW = spec.c, spec.kh, spec.kw, spec.oh, spec.ow
    rows, L = C * KH * KW, OH * OW
    col = dict(row_label="row r = (c, u, v)", col_label="")
    line = dict(row_label="", col_label="column l = (oh, ow)")
    panels = (
        Panel("i0", "i0: kernel rows", idx.i0[:, None], "index", **col),
        Panel("i1", "i1 (window origin rows)", idx.i1[None, :], "index", **line),
        Panel("i", "i = i0 + i1 (padded row read)", idx.i, "index", row_label="row r", col_label="column l",
              under=True),
        Panel("k", "k: channel", idx.k[:, None], "index", **col),
        Panel("j0", "j0: kernel cols", idx.j0[:, None], "index", **col),
        Panel("j1", "j1 (window origin columns)", idx.j1[None, :], "index", **line),
        Panel("j", "j = j0 + j1 (padded column read)", idx.j, "index", row_label="row r",
              col_label="column l", under=True),
    )

    def whole(name: str) -> Highlight:
        shape = next(p.grid_shape for p in panels if p.name == name)
        return Highlight(name, "focus", np.ones(shape, bool))

    steps = (
        Step("i0: kernel rows", f"i0 = DH*u for u in 0..{KH - 1}, each repeated KW={KW} times, tiled C={C} times: "
                                f"[{', '.join(map(str, idx.i0[: min(rows, 12)]))}{', …' if rows > 12 else ''}].",
             (whole("i0"),)),
        Step("i1: window origins (rows)", f"i1 = SH*oh for oh in 0..{OH - 1}, each repeated OW={OW} times: "
                                          f"[{', '.join(map(str, idx.i1[: min(L, 12)]))}{', …' if L > 12 else ''}].",
             (whole("i1"),)),
        Step("i = i0[:, None] + i1[None, :]", f"Broadcasting gives a {rows} x {L} table: entry (r, l) is the padded row "
                                              "that row r of column l reads.", (whole("i0"), whole("i1"), whole("i"))),
        Step("j0: kernel columns", f"j0 = DW*v for v in 0..{KW - 1}, tiled KH*C={KH * C} times.", (whole("j0"),)),
        Step("j1: window origins (columns)", f"j1 = SW*ow for ow in 0..{OW - 1}, tiled OH={OH} times.", (whole("j1"),)),
        Step("j = j0[:, None] + j1[None, :]", f"The padded column read by every entry, {rows} x {L}.",
             (whole("j0"), whole("j1"), whole("j"))),
        Step("k: channels", f"k repeats each channel KH*KW={KH * KW} times. xpad[:, k[:, None], i, j] now gathers "
                            f"every window at once: a ({rows}, {L}) column matrix per sample.{_group_rows_text(spec)}",
             (whole("k"),)),
    )
    return Trace("im2col_indices", "im2col: generating the index arrays", panels, steps)


def im2col_gather_trace(x: np.ndarray, spec: ConvSpec, n: int = 0, max_steps: int | None = None) -> Trace:
    """One step per column: the window on the padded input and the column it becomes."""
    xpad = pad_input(x, spec)
    cols = im2col_gather(x, spec)  # (N, C*KH*KW, OH*OW)
    fast = im2col_spec(x, spec)
    idx = im2col_indices(spec)
    L = spec.oh * spec.ow
    panels = (
        _xpad_panel(xpad[n], spec),
        Panel("cols", f"columns of sample {n}: (C*KH*KW, OH*OW)", cols[n], "value", row_label="row r = (c, u, v)",
              col_label="column l = (oh, ow)"),
    )
    steps = []
    for l in pick_steps(L, max_steps):
        i, j = divmod(l, spec.ow)
        colmask = np.zeros(cols[n].shape, bool)
        colmask[:, l] = True
        vals = ", ".join(fmt(v) for v in cols[n, : min(9, cols.shape[1]), l])
        steps.append(Step(
            f"Column {l} = window ({i}, {j})",
            f"Column l = {l} = oh*OW + ow = {i}*{spec.ow} + {j} gathers xpad[{n}, k, i[:, {l}], j[:, {l}]], the window "
            f"starting at padded row i1[{l}] = {idx.i1[l]}, column j1[{l}] = {idx.j1[l]}: "
            f"[{vals}{', …' if cols.shape[1] > 9 else ''}].",
            (Highlight("xpad", "read", spec.window_mask(i, j)), Highlight("cols", "write", colmask)), key=(i, j),
        ))
    ratio = cols.size / x.size
    notes = (
        f"The column matrix holds {cols.size} numbers ({cols.nbytes} bytes) for an input of {x.size} ({x.nbytes} bytes): "
        f"{ratio:.2f}x the input. With stride 1 and little padding this approaches KH*KW = {spec.kh * spec.kw}x.",
        "Layout as torch.nn.functional.unfold: (N, C*KH*KW, L), rows ordered (c, u, v), columns (oh, ow).",
    ) + ((_group_rows_text(spec).strip(),) if spec.groups > 1 else ())
    checks = (Check("index gather matches the strided fast path", float(np.abs(cols - fast).max())),)
    return Trace("im2col_gather", "im2col: gathering the columns", panels, tuple(steps), checks=checks, notes=notes, total_steps=L)


def im2col_product_trace(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, spec: ConvSpec, n: int = 0, max_steps: int | None = None
) -> Trace:
    """W (F, C*KH*KW) @ cols (C*KH*KW, L) = Y (F, L), one column per step, then reshape to (F, OH, OW).

    With groups > 1 the engine does one product per group, (FG, CG*KH*KW) @ (CG*KH*KW, L) on group g's block of rows
    of cols; W is shown as the (F, C*KH*KW) block-diagonal matrix those products amount to, zero where a kernel's
    group does not read."""
    F, L = spec.f, spec.oh * spec.ow
    G, CG, FG = spec.groups, spec.cg, spec.fg
    cols = im2col_spec(x, spec)[n]  # (C*KH*KW, L)
    if G == 1:
        wmat = w.reshape(F, -1)  # (F, C*KH*KW)
        ymat = wmat @ cols + b[:, None]  # (F, L)
        w_title, w_read = "W = w.reshape(F, -1)", np.ones(wmat.shape, bool)
    else:
        R = CG * spec.kh * spec.kw  # rows of cols per group
        wmat = np.zeros((F, spec.c * spec.kh * spec.kw), dtype=w.dtype)  # block-diagonal (F, C*KH*KW)
        ymat = np.empty((F, L), dtype=np.result_type(w, cols, b))
        w_read = np.zeros(wmat.shape, bool)
        for g in range(G):  # what the engine does: one product per group
            outs, rows = slice(g * FG, (g + 1) * FG), slice(g * R, (g + 1) * R)
            wmat[outs, rows] = w[outs].reshape(FG, R)  # (FG, CG*KH*KW)
            w_read[outs, rows] = True
            ymat[outs] = w[outs].reshape(FG, R) @ cols[rows] + b[outs, None]  # (FG, L)
        w_title = f"W: w as (F, C*KH*KW), block-diagonal: {G} blocks of {FG} x {R}, zero outside each kernel's group"
    y_ref = conv2d_spec(x[n : n + 1], w, b, spec.with_channels(1, spec.c, spec.f), "loops")[0]  # (F, OH, OW)
    panels = (
        Panel("W", w_title, wmat, "value", row_label="f", col_label="row r = (c, u, v)"),
        Panel("cols", "cols", cols, "value", row_label="row r", col_label="column l"),
        Panel("Y", "Y = W @ cols + b", ymat, "value", row_label="f", col_label="column l"),
        Panel("y", "y = Y.reshape(F, OH, OW)", ymat.reshape(F, spec.oh, spec.ow), "value", channel_label="f",
              row_label="i", col_label="j"),
    )
    steps = []
    for l in pick_steps(L, max_steps):
        i, j = divmod(l, spec.ow)
        cm = np.zeros(cols.shape, bool)
        cm[:, l] = True
        ym = np.zeros(ymat.shape, bool)
        ym[:, l] = True
        if G == 1:
            caption = (f"Y[:, {l}] = W @ cols[:, {l}] + b; for f = 0: {fmt(b[0])} + "
                       f"({products_text(wmat[0], cols[:, l], wmat[0] @ cols[:, l])}) "
                       f"= {fmt(ymat[0, l])}. It lands in y[:, {i}, {j}].")
        else:
            caption = (f"Y[:, {l}] = W @ cols[:, {l}] + b, one group at a time: group g's rows of Y take only its block "
                       f"of cols. For f = 0, group 0 reads rows 0..{R - 1} ({channels_text(slice(0, CG))}): "
                       f"{fmt(b[0])} + ({products_text(wmat[0, :R], cols[:R, l], wmat[0, :R] @ cols[:R, l])}) "
                       f"= {fmt(ymat[0, l])}. It lands in y[:, {i}, {j}].")
        steps.append(Step(
            f"Column {l}", caption,
            (Highlight("W", "read", w_read), Highlight("cols", "read", cm), Highlight("Y", "write", ym),
             Highlight("y", "write", cell_mask((spec.oh, spec.ow), [(i, j)]))), key=(i, j),
        ))
    if G == 1:
        done = (f"One matrix product ({F} x {cols.shape[0]}) @ ({cols.shape[0]} x {L}) did all "
                f"{F * L} dot products; Y.reshape(F, {spec.oh}, {spec.ow}) is the output.")
    else:
        done = (f"{G} matrix products, one per group, ({FG} x {R}) @ ({R} x {L}), did all {F * L} dot products of {R} "
                f"terms: group g's kernels times group g's rows of cols. The zeros of the block-diagonal W are never "
                f"multiplied (one ({F} x {cols.shape[0]}) product would do {G}x the multiply-adds). "
                f"Y.reshape(F, {spec.oh}, {spec.ow}) is the output.")
    steps.append(Step("Reshape", done,
                      (Highlight("Y", "focus", np.ones(ymat.shape, bool)), Highlight("y", "focus", np.ones((spec.oh, spec.ow), bool)))))
    checks = (Check("matches the loop reference", float(np.abs(ymat.reshape(y_ref.shape) - y_ref).max())),)
    if G > 1:
        checks += (Check("block-diagonal W @ cols + b equals the per-group products",
                         float(np.abs(wmat @ cols + b[:, None] - ymat).max())),)
    return Trace("im2col_product", "im2col: one matrix product", panels, tuple(steps), checks=checks, total_steps=L + 1)


# ---------------------------------------------------------------------------------------------------
# 4. strided windows
# ---------------------------------------------------------------------------------------------------
def strides_table(xpad: np.ndarray, spec: ConvSpec) -> tuple[tuple[str, ...], ...]:
    """The view's axes: size, byte stride and what one step along the axis means."""
    sN, sC, sH, sW = xpad.strides
    return (
        ("axis", "size", "byte stride", "one step moves"),
        ("N (sample)", str(spec.n), str(sN), "to the next sample"),
        ("C (channel)", str(spec.c), str(sC), "to the next channel"),
        ("OH (window row)", str(spec.oh), f"SH*sH = {spec.sh}*{sH} = {spec.sh * sH}", f"{spec.sh} input row(s) down"),
        ("OW (window col)", str(spec.ow), f"SW*sW = {spec.sw}*{sW} = {spec.sw * sW}", f"{spec.sw} input column(s) right"),
        ("KH (kernel row)", str(spec.kh), f"DH*sH = {spec.dh}*{sH} = {spec.dh * sH}", f"{spec.dh} input row(s) down"),
        ("KW (kernel col)", str(spec.kw), f"DW*sW = {spec.dw}*{sW} = {spec.dw * sW}", f"{spec.dw} input column(s) right"),
    )


def strided_trace(x: np.ndarray, spec: ConvSpec, n: int = 0, max_steps: int | None = None) -> Trace:
    """Each window as a view into xpad's memory: byte offsets of every element it reads."""
    xpad = np.ascontiguousarray(pad_input(x, spec))  # (N, C, HP, WP)
    view = window_view(xpad, spec)  # (N, C, OH, OW, KH, KW)
    item = xpad.itemsize
    sN, sC, sH, sW = xpad.strides
    offsets = (n * sN + np.arange(spec.c)[:, None, None] * sC + np.arange(spec.hp)[None, :, None] * sH
               + np.arange(spec.wp)[None, None, :] * sW)  # (C, HP, WP) byte offset of each element
    panels = (
        _xpad_panel(xpad[n], spec),
        Panel("offsets", "byte offset of each element in xpad's buffer", offsets, "index",
              row_start=-spec.top, col_start=-spec.left, padding=spec.padding_mask()),
        Panel("window", "view[n, :, i, j] (a view, not a copy)", view[n, :, 0, 0], "value", row_label="u", col_label="v"),
    )
    L = spec.oh * spec.ow
    steps = []
    for t in pick_steps(L, max_steps):
        i, j = divmod(t, spec.ow)
        start = n * sN + i * spec.sh * sH + j * spec.sw * sW
        steps.append(Step(
            f"Window ({i}, {j})",
            f"view[{n}, c, {i}, {j}, u, v] reads byte {n}*{sN} + c*{sC} + {i}*{spec.sh * sH} + {j}*{spec.sw * sW} "
            f"+ u*{spec.dh * sH} + v*{spec.dw * sW}; for c = 0 it starts at byte {start} (element {start // item}).",
            (Highlight("xpad", "read", spec.window_mask(i, j)), Highlight("offsets", "read", spec.window_mask(i, j))),
            values={"window": view[n, :, i, j]}, key=(i, j),
        ))
    # What a classic mistake reads: a stride left unmultiplied (or, when every factor is 1, the row and column strides
    # mixed up). The wrong byte offsets are mapped back to cells, so the red cells are what as_strided would read.
    i_w, j_w = spec.oh - 1, spec.ow - 1
    right = {"window-row": spec.sh * sH, "window-column": spec.sw * sW, "tap-row": spec.dh * sH, "tap-column": spec.dw * sW}
    axis, wrong_stride, formula = next(
        ((a, base, f"{f}*{name} = {right[a]}") for a, base, f, name in (
            ("window-row", sH, "SH", "sH"), ("window-column", sW, "SW", "sW"), ("tap-row", sH, "DH", "sH"),
            ("tap-column", sW, "DW", "sW")) if right[a] != base),
        ("tap-row", sW, f"DH*sH = {right['tap-row']} (the column stride for the row one)"))
    used = {**right, axis: wrong_stride}
    wrong = np.zeros((spec.hp, spec.wp), bool)
    outside = 0
    for u in range(spec.kh):
        for v in range(spec.kw):
            byte = i_w * used["window-row"] + j_w * used["window-column"] + u * used["tap-row"] + v * used["tap-column"]
            r, c = divmod(byte, sH)
            if r < spec.hp:
                wrong[r, c // sW] = True
            else:
                outside += 1
    beyond = f" {outside} of its reads fall past the end of this sample's rows, into memory that is not xpad's." \
        if outside else ""
    steps.append(Step(
        "Wrong strides read the wrong memory, silently",
        f"With the {axis} stride {wrong_stride} bytes instead of {formula}, window ({i_w}, {j_w}) reads the red cells "
        f"instead of its own.{beyond} NumPy raises no error: as_strided trusts the strides you give it. "
        "numpy.lib.stride_tricks.sliding_window_view is the safe ready-made form.",
        (Highlight("xpad", "wrong", wrong), Highlight("xpad", "read", spec.window_mask(i_w, j_w))), key=(i_w, j_w),
    ))
    safe = sliding_window_view(xpad, (spec.ekh, spec.ekw), axis=(2, 3))[:, :, :: spec.sh, :: spec.sw, :: spec.dh, :: spec.dw]
    safe = safe[:, :, : spec.oh, : spec.ow]
    checks = (
        Check("view equals sliding_window_view", float(np.abs(view - safe).max())),
    )
    notes = (
        f"view.shape = {view.shape}, view.strides = {view.strides} bytes (itemsize {item}).",
        f"np.shares_memory(view, xpad) = {bool(np.shares_memory(view, xpad))}: no copy was made; "
        f"view.flags.writeable = {view.flags.writeable} because overlapping windows share cells.",
    ) + ((f"With groups = {spec.groups} the view is the same; the engine contracts it once per group: group g's "
          f"kernels with view[:, g*{spec.cg}:(g+1)*{spec.cg}], its channels (group 0 reads "
          f"{channels_text(slice(0, spec.cg))}).",) if spec.groups > 1 else ())
    return Trace("strided", "Strided windows: as_strided", panels, tuple(steps), checks=checks, notes=notes,
                 table=strides_table(xpad, spec), total_steps=L + 1, click="read")
