"""Depthwise convolution, fast: the paths "im2col" and "col2im" take when every output channel reads one input channel.

With CG = C/groups = 1 (groups = C: depthwise; F = FG*C, FG the depth multiplier) output channel f = c*FG + k reads
only input channel c, so each output is just KH*KW products, and tap (u, v) of every window at once is one strided
slice of xpad:

    y[n, c*FG + k] = sum_{u,v} w[c*FG + k, 0, u, v] * xpad[n, c, u*DH : u*DH + SH*(OH-1) + 1 : SH, v*DW : ... : SW]

The per-group code is slow here: its batch-wide column matrix (KH*KW copies of x, the N images side by side in every
row) can outgrow the cache only to meet 1-row kernels, and its col2im builds KH*KW scaled copies of dout. Instead:
    forward_columns ("im2col"): the columns of a few images at a time (one copy of their window view), then all C
        products (FG, KH*KW) @ (KH*KW, OH*OW) in one batched matmul;
    backward_taps ("col2im"): tap by tap, dout * w added back into the tap's slice of dxpad, and dw[f, 0, u, v] is
        dout[:, f] dotted with that slice; a few images at a time, so their arrays stay in cache across the taps.
Tiny layers (fewer than MIN_OUTPUTS outputs) keep the per-group code, whose few calls cost less there.
Speed against PyTorch: bench/engine.py.
"""
from __future__ import annotations

import numpy as np

from .geometry import ConvSpec, crop_padding
from .im2col import window_view

CHUNK = 1 << 18  # elements per chunk of images (2 MB of float64): few Python steps, yet the KH*KW passes hit cache
MIN_OUTPUTS = 1 << 13  # N*F*OH*OW below this: the per-group code's few whole-batch calls beat the loops here


def use_fast_path(spec: ConvSpec) -> bool:
    """True for a depthwise layer (CG = 1, groups > 1) with at least MIN_OUTPUTS outputs N*F*OH*OW. Smaller layers
    keep the per-group code: there, the Python steps of the chunk and tap loops cost more than the copies they save."""
    return spec.is_depthwise and spec.n * spec.f * spec.oh * spec.ow >= MIN_OUTPUTS


def image_chunks(n: int, per_image: int) -> list[slice]:
    """Slices of the N images, each as many whole images as fit in CHUNK elements at per_image elements each
    (at least one): big images go one at a time, small ones in groups so the Python loop stays short."""
    step = max(1, CHUNK // per_image)
    return [slice(n0, min(n0 + step, n)) for n0 in range(0, n, step)]


def tap_slices(spec: ConvSpec) -> list[tuple[slice, slice]]:
    """The rows and columns of xpad that each tap reads in every window, taps in (u, v) order (t = u*KW + v):
    output cell (i, j) reads xpad[..., i*SH + u*DH, j*SW + v*DW], so xpad[..., rows, cols] is (..., OH, OW)."""
    OH, OW, SH, SW, DH, DW = spec.oh, spec.ow, spec.sh, spec.sw, spec.dh, spec.dw
    rows = [slice(u * DH, u * DH + SH * (OH - 1) + 1, SH) for u in range(spec.kh)]  # per u: OH rows, SH apart
    cols = [slice(v * DW, v * DW + SW * (OW - 1) + 1, SW) for v in range(spec.kw)]  # per v: OW columns, SW apart
    return [(r, c) for r in rows for c in cols]


def forward_columns(xpad: np.ndarray, w: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """Forward pass of a depthwise layer: im2col a few images at a time, then one product per input channel,
    y[n, c*FG : (c+1)*FG] = w_c (FG, KH*KW) @ cols[n, c] (KH*KW, OH*OW), where row u*KW + v of cols[n, c] is
    tap (u, v) of every window of channel c: xpad[n, c, tap (u, v) slice].

    Args:
        xpad: (N, C, HP, WP) padded input.
        w: (F, 1, KH, KW) kernels, F = C*FG.
        spec: the layer, with CG = 1.
    Returns:
        y: (N, F, OH, OW) without bias.
    """
    N, F, OH, OW = spec.output_shape
    C, FG, KH, KW = spec.c, spec.fg, spec.kh, spec.kw
    dt = np.result_type(xpad, w)
    w_c = w.reshape(C, FG, KH * KW)  # (C, FG, KH*KW): input channel c's FG kernels as rows
    y = np.empty((N, C, FG, OH * OW), dtype=dt)  # output channel f = c*FG + k at [:, c, k]
    view = window_view(xpad, spec)  # (N, C, OH, OW, KH, KW): every window, no copy
    chunks = image_chunks(N, C * KH * KW * OH * OW)
    buf = np.empty((chunks[0].stop, C, KH, KW, OH, OW), dtype=dt)  # one chunk's columns, reused by every chunk
    for ns in chunks:
        cols = buf[: ns.stop - ns.start]  # (n, C, KH, KW, OH, OW)
        cols[...] = view[ns].transpose(0, 1, 4, 5, 2, 3)  # im2col of these images: tap (u, v) of every window
        np.matmul(w_c, cols.reshape(-1, C, KH * KW, OH * OW), out=y[ns])  # n*C products (FG, KH*KW) @ (KH*KW, OH*OW)
    return y.reshape(N, F, OH, OW)


def backward_taps(
    dout: np.ndarray, xpad: np.ndarray, w: np.ndarray, spec: ConvSpec
) -> tuple[np.ndarray, np.ndarray]:
    """Backward pass of a depthwise layer, tap by tap: dx from input_grad_taps, dw from weight_grad_taps.

    Args:
        dout: (N, F, OH, OW) upstream gradient, F = C*FG.
        xpad: (N, C, HP, WP) padded forward input.
        w: (F, 1, KH, KW) forward kernels.
        spec: the layer, with CG = 1.
    Returns:
        dx (N, C, H, W) (the padding cropped off) and dw (F, 1, KH, KW).
    """
    return crop_padding(input_grad_taps(dout, w, spec), spec), weight_grad_taps(dout, xpad, spec)


def input_grad_taps(dout: np.ndarray, w: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """dxpad, tap by tap: tap (u, v) read xpad[n, c, tap slice] for each of c's FG output channels, so
    dxpad[n, c, tap slice] += sum_k dout[n, c*FG + k] * w[c*FG + k, 0, u, v]. dout (N, F, OH, OW),
    w (F, 1, KH, KW). Returns dxpad (N, C, HP, WP), the padding included."""
    N, F, OH, OW = spec.output_shape
    C, FG, KH, KW = spec.c, spec.fg, spec.kh, spec.kw
    dt = np.result_type(dout, w)
    d5 = dout.reshape(N, C, FG, OH, OW)  # (N, C, FG, OH, OW): input channel c's FG output channels
    w_t = w.reshape(C, FG, KH * KW)  # (C, FG, KH*KW): tap t = u*KW + v of c's FG kernels at [:, :, t]
    dxpad = np.zeros((N, C, spec.hp, spec.wp), dtype=dt)
    taps, chunks = tap_slices(spec), image_chunks(N, F * OH * OW)
    buf = np.empty((chunks[0].stop, C, OH, OW), dtype=dt)  # one buffer for every tap's gradient, reused by every chunk
    for ns in chunks:
        d, dxs = d5[ns], dxpad[ns]  # this chunk's images (views)
        back = buf[: ns.stop - ns.start]  # (n, C, OH, OW)
        for t, (rows, cols) in enumerate(taps):
            np.einsum("nckij,ck->ncij", d, w_t[:, :, t], out=back)  # (n, C, OH, OW): summed over the FG outputs
            dxs[:, :, rows, cols] += back  # overlapping windows accumulate
    return dxpad


def weight_grad_taps(dout: np.ndarray, xpad: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """dw, tap by tap: dw[c*FG + k, 0, u, v] = sum_{n,i,j} dout[n, c*FG + k, i, j] * xpad[n, c, tap slice][i, j].
    dout (N, F, OH, OW), xpad (N, C, HP, WP) padded. Returns dw (F, 1, KH, KW)."""
    N, F, OH, OW = spec.output_shape
    C, FG, KH, KW = spec.c, spec.fg, spec.kh, spec.kw
    d5 = dout.reshape(N, C, FG, OH, OW)  # (N, C, FG, OH, OW)
    dw = np.zeros((C, FG, KH * KW), dtype=np.result_type(dout, xpad))  # tap t = u*KW + v at [:, :, t]
    taps = tap_slices(spec)
    for ns in image_chunks(N, F * OH * OW):  # a few images at a time: their dout stays in cache across the taps
        d, xs = d5[ns], xpad[ns]
        for t, (rows, cols) in enumerate(taps):
            dw[:, :, t] += np.einsum("nckij,ncij->ck", d, xs[:, :, rows, cols])  # (C, FG)
    return dw.reshape(F, 1, KH, KW)
