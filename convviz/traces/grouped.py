"""Trace of the grouped / depthwise convolution lesson: which input channels each output channel reads.

Cell-level detail is the forward page's; here one step is one output channel f: its row of the connection matrix, the
input channels of its group (read), its kernel w[f] (C/g channels) and its output channel y[n, f] (written).
"""
from __future__ import annotations

import numpy as np

from ..conv import conv2d, conv2d_spec
from ..geometry import ConvSpec, common_divisors, pad_input
from ..grouped import compare_blocks, connection_matrix
from .base import Check, Highlight, Panel, Step, Trace, fmt, pick_steps, products_text


def _span(lo: int, hi: int) -> str:
    """Channels lo..hi as a caption says them: '2..3', or '2' for one channel."""
    return str(lo) if lo == hi else f"{lo}..{hi}"


def _others(c: int, lo: int, hi: int) -> str:
    """The channels 0..c-1 outside lo..hi, e.g. '0..1 and 4..7'."""
    parts = ([_span(0, lo - 1)] if lo > 0 else []) + ([_span(hi + 1, c - 1)] if hi < c - 1 else [])
    return " and ".join(parts)


def groups_trace(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, spec: ConvSpec, n: int = 0, max_steps: int | None = None
) -> Trace:
    """One step per output channel f (after a first step showing the whole connection matrix).

    Args:
        x: (N, C, H, W) input; w: (F, C/g, KH, KW) kernels; b: (F,) bias; spec: the layer, groups g included.
        n: the sample shown.
        max_steps: budget for the per-channel steps (evenly spaced, the first and last kept); the overview step is
            always kept, so a trace has at most F + 1 steps.
    Panels:
        "connections" (F, C) 0/1: row f marks the input channels output channel f reads (block-diagonal, g blocks).
        "x" (C, H, W): x[n], every input channel; the channels of f's group are outlined as read.
        "w" (C/g, KH, KW): the kernel w[f] of the step's f (the step replaces the values).
        "y" (F, OH, OW): y[n], every output channel; channel f is outlined as written.
    Checks: y[n] built channel by channel from the group's slice alone equals convviz.conv.conv2d(..., groups=g);
    every row of the connection matrix has C/g ones, every column F/g.
    """
    C, F, G, CG, FG = spec.c, spec.f, spec.groups, spec.cg, spec.fg
    KH, KW = spec.kh, spec.kw
    conn = connection_matrix(C, F, G)  # (F, C)
    xpad = pad_input(x[n : n + 1], spec)[0]  # (C, HP, WP), for the sample sum in the captions
    # y[n] one output channel at a time, each an ordinary convolution of f's group's CG channels with w[f] alone:
    # the lesson's claim, checked against the engine's grouped convolution below.
    one = spec.with_channels(1, CG, 1, groups=1)
    y = np.concatenate([
        conv2d_spec(x[n : n + 1, spec.input_channels(f)], w[f : f + 1], b[f : f + 1], one, "im2col")[0]
        for f in range(F)
    ])  # (F, OH, OW)
    y_engine = conv2d(x[n : n + 1], w, b, spec.stride, spec.padding, spec.dilation, groups=G)[0]  # (F, OH, OW)

    panels = (
        Panel("connections", "connections: f reads c", conn, "count",
              row_label="f", col_label="c"),
        Panel("x", f"input x[{n}]", x[n], "value", channel_label="c"),
        Panel("w", f"kernel w[f]: {CG} channel{'s' if CG > 1 else ''}", w[0], "value",
              row_label="u", col_label="v", channel_label="k"),
        Panel("y", f"output y[{n}]", y, "value", row_label="i", col_label="j", channel_label="f"),
    )

    # ---- step 0: the whole matrix -------------------------------------------------------------------------
    if G == 1:
        split = (f"groups = 1: an ordinary convolution. Every output channel reads all C = {C} input channels, so the "
                 f"connection matrix is all ones ({F} x {C}) and each kernel is ({C}, {KH}, {KW}).")
    else:
        split = (f"groups = {G}: {G} groups of {CG} input and {FG} output channels. Output channel f (group f // {FG}) "
                 f"reads only its group's inputs: {G} diagonal blocks of ones, kernels ({CG}, {KH}, {KW}), not "
                 f"({C}, {KH}, {KW}).")
    if spec.is_depthwise:
        m = FG
        split += (" Depthwise (groups = C): each output channel reads one input channel"
                  + (f"; depth multiplier M = F/C = {m}." if m > 1 else "."))
    cost = (f"Parameters F·(C/g)·KH·KW + F = {F}·{CG}·{KH}·{KW} + {F} = {spec.params:,}; multiply-adds "
            f"N·F·OH·OW·(C/g)·KH·KW = {spec.n}·{F}·{spec.oh}·{spec.ow}·{CG}·{KH}·{KW} = {spec.macs:,}"
            + (f", 1/{G} of the {spec.macs * G:,} of groups = 1 (the weights shrink by {G} too)." if G > 1 else "."))
    steps = [Step("The connection matrix", split, (Highlight("connections", "focus", conn.astype(bool)),))]

    # ---- one step per output channel ----------------------------------------------------------------------
    ci, cj = spec.oh // 2, spec.ow // 2  # the caption's sample cell, in the middle (away from the padding)
    r0, c0 = spec.window_origin(ci, cj)
    for f in pick_steps(F, max_steps):
        g = spec.group_of(f)
        lo, hi = g * CG, (g + 1) * CG - 1
        chans = spec.input_channels(f)
        window = xpad[chans, r0 : r0 + spec.ekh : spec.dh, c0 : c0 + spec.ekw : spec.dw]  # (CG, KH, KW)
        reads = (f"it reads input channel{'s' if CG > 1 else ''} {_span(lo, hi)} (C/groups = {CG} of {C})"
                 if G > 1 else f"it reads all C = {C} input channels {_span(0, C - 1)}")
        where = f"Output channel f = {f} is in group {g} of {G}: " if G > 1 else f"Output channel f = {f}: "
        if CG == 1:
            formula = f"y[{n}, {f}] = b[{f}] + w[{f}, 0] ⋆ x[{n}, {lo}]"
        else:
            k = "c" if lo == 0 else f"c - {lo}"
            formula = f"y[{n}, {f}] = b[{f}] + Σ over c = {_span(lo, hi)} of w[{f}, {k}] ⋆ x[{n}, c]"
        never = (f"; the other input channels ({_others(C, lo, hi)}) never reach it." if G > 1 else
                 "; with groups = 1 every input channel reaches every output channel.")
        depthwise = (f" Depthwise: y[{n}, {f}] filters input channel {lo} alone"
                     + (f" (one of its M = {FG} output channels)." if FG > 1 else ".")) if spec.is_depthwise else ""
        caption = (
            f"{where}{reads} with its kernel w[{f}] of shape ({CG}, {KH}, {KW}); {formula}. "
            f"At cell ({ci}, {cj}): y[{n},{f},{ci},{cj}] = {fmt(b[f])} + "
            f"({products_text(window, w[f], (window * w[f]).sum())}) = {fmt(y[f, ci, cj])}{never}{depthwise}"
        )
        row = np.zeros((F, C), bool)
        row[f] = True
        block = np.zeros((F, C), bool)
        block[g * FG : (g + 1) * FG, chans] = True
        xmask = np.zeros(x[n].shape, bool)
        xmask[chans] = True
        ymask = np.zeros(y.shape, bool)
        ymask[f] = True
        steps.append(Step(
            f"Output channel {f} (group {g})" if G > 1 else f"Output channel {f}", caption,
            (Highlight("connections", "focus", block), Highlight("connections", "write", row),
             Highlight("x", "read", xmask), Highlight("w", "read", np.ones(w[f].shape, bool)),
             Highlight("y", "write", ymask)),
            values={"w": w[f]}, key=(f,),
        ))

    checks = (
        Check(f"channel by channel from its group's slice = convviz.conv.conv2d(..., groups={G})",
              float(np.abs(y - y_engine).max())),
        Check(f"every row of the connection matrix has C/groups = {CG} ones", float(np.abs(conn.sum(1) - CG).max()),
              tol=0, measure="max |ones - C/groups|"),
        Check(f"every column of the connection matrix has F/groups = {FG} ones", float(np.abs(conn.sum(0) - FG).max()),
              tol=0, measure="max |ones - F/groups|"),
    )
    comparison = compare_blocks(spec.n, C, F, spec.h, spec.w, spec.kernel_size, spec.stride, spec.padding,
                                spec.dilation, G)
    notes = (
        cost,
        "⋆ is the forward pass's sliding window (cross-correlation) of one channel of x with one channel of a kernel.",
        f"Group counts that divide both C = {C} and F = {F}: {', '.join(map(str, common_divisors(C, F)))}.",
        "groups = C is depthwise: each output channel reads one input channel; with F = M·C, M is the depth "
        "multiplier (M output channels per input channel). MobileNet follows it with a 1×1 (pointwise) convolution "
        "that mixes the channels: the depthwise-separable block.",
        *comparison.notes(),
    )
    return Trace("groups", "Grouped and depthwise convolution: which channels connect", panels, tuple(steps),
                 checks=checks, notes=notes, table=comparison.rows(), total_steps=F + 1, click="write")
