"""im2col and col2im: windows of the padded input laid out as columns, and their scatter-add inverse.

Layout matches torch.nn.functional.unfold / fold: columns (N, C*KH*KW, L) with L = OH*OW, rows ordered
(c, u, v) and columns ordered (oh, ow).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .geometry import ConvSpec, as_pair, crop_padding, pad_input


@dataclass(frozen=True)
class Im2colIndices:
    """The index arrays of the teaching form of im2col: xpad[:, k, i, j] gathers every window at once.

    i0, j0, k: (C*KH*KW,) one entry per row of the column matrix (channel, kernel row, kernel column).
    i1, j1: (OH*OW,) one entry per column (window origin).
    i, j: (C*KH*KW, OH*OW) padded-input row/column read by each entry of the column matrix.
    """

    i0: np.ndarray
    i1: np.ndarray
    j0: np.ndarray
    j1: np.ndarray
    k: np.ndarray
    i: np.ndarray
    j: np.ndarray


def _readonly(*arrays: np.ndarray) -> None:
    for a in arrays:
        a.flags.writeable = False


def im2col_indices(spec: ConvSpec) -> Im2colIndices:
    """Build i0/i1/j0/j1/k as in pedagogy.md section 3 (kernel offsets + window origins)."""
    C, KH, KW, OH, OW = spec.c, spec.kh, spec.kw, spec.oh, spec.ow
    i0 = np.tile(np.repeat(spec.dh * np.arange(KH), KW), C)  # (C*KH*KW,) kernel row offsets
    j0 = np.tile(spec.dw * np.arange(KW), KH * C)  # (C*KH*KW,) kernel column offsets
    k = np.repeat(np.arange(C), KH * KW)  # (C*KH*KW,) channel of each row
    i1 = np.repeat(spec.sh * np.arange(OH), OW)  # (OH*OW,) window origin rows
    j1 = np.tile(spec.sw * np.arange(OW), OH)  # (OH*OW,) window origin columns
    i = i0[:, None] + i1[None, :]  # (C*KH*KW, OH*OW)
    j = j0[:, None] + j1[None, :]  # (C*KH*KW, OH*OW)
    _readonly(i0, i1, j0, j1, k, i, j)
    return Im2colIndices(i0, i1, j0, j1, k, i, j)


def window_view(xpad: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """Read-only (N, C, OH, OW, KH, KW) view of the padded input: every window, no copy.

    Byte strides (sN, sC, SH*sH, SW*sW, DH*sH, DW*sW): moving one output row jumps SH input rows,
    moving one kernel row jumps DH input rows. Writing through overlapping windows would corrupt data,
    so the view is read-only.
    """
    sN, sC, sH, sW = xpad.strides
    shape = (spec.n, spec.c, spec.oh, spec.ow, spec.kh, spec.kw)
    strides = (sN, sC, spec.sh * sH, spec.sw * sW, spec.dh * sH, spec.dw * sW)
    return as_strided(xpad, shape=shape, strides=strides, writeable=False)


def _spec_from_fold_args(
    n: int, c: int, h: int, w: int, kernel_size, stride, padding, dilation
) -> ConvSpec:
    """unfold/fold take symmetric int or (ph, pw) padding, like PyTorch."""
    if isinstance(padding, str):
        raise ValueError(f"padding: im2col/col2im take an int or (ph, pw) like torch unfold/fold, got {padding!r}.")
    ph, pw = as_pair(padding, "padding")
    return ConvSpec.create(h, w, kernel_size, stride, (ph, ph, pw, pw), dilation, n=n, c=c, f=1)


def im2col(
    x: np.ndarray,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
) -> np.ndarray:
    """Unfold windows into columns, like torch.nn.functional.unfold.

    Args:
        x: (N, C, H, W) input.
    Returns:
        cols: (N, C*KH*KW, OH*OW), a new array.
    """
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"x: expected a 4-D array (N, C, H, W), got shape {x.shape}.")
    spec = _spec_from_fold_args(*x.shape, kernel_size, stride, padding, dilation)
    return im2col_spec(x, spec)


def im2col_spec(x: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """im2col for an already validated spec (any four-sided padding). Returns (N, C*KH*KW, OH*OW)."""
    view = window_view(pad_input(x, spec), spec)  # (N, C, OH, OW, KH, KW)
    N, C, KH, KW, OH, OW = spec.n, spec.c, spec.kh, spec.kw, spec.oh, spec.ow
    return view.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * KH * KW, OH * OW)  # (N, C*KH*KW, OH*OW)


def im2col_matrix(xpad: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """The batch-wide column matrix (C*KH*KW, N*OH*OW) of an already padded input: one GEMM for all n."""
    view = window_view(xpad, spec)  # (N, C, OH, OW, KH, KW)
    N, C, KH, KW, OH, OW = spec.n, spec.c, spec.kh, spec.kw, spec.oh, spec.ow
    return view.transpose(1, 4, 5, 0, 2, 3).reshape(C * KH * KW, N * OH * OW)  # (C*KH*KW, N*OH*OW)


def im2col_gather(x: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """The teaching form: one fancy-index gather xpad[:, k, i, j]. Returns (N, C*KH*KW, OH*OW)."""
    idx = im2col_indices(spec)
    return pad_input(x, spec)[:, idx.k[:, None], idx.i, idx.j]  # (N, C*KH*KW, OH*OW)


def _check_cols(cols: np.ndarray, spec: ConvSpec) -> None:
    rows, length = spec.c * spec.kh * spec.kw, spec.oh * spec.ow
    if cols.shape[1:] != (rows, length):
        raise ValueError(
            f"cols: expected shape (N, {rows}, {length}) = (N, C*KH*KW, OH*OW) for this geometry, got {cols.shape}. "
            "Check output_size, kernel_size, stride, padding and dilation against the im2col call that made it."
        )


def col2im_padded(cols6: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """Scatter-add windows (N, C, KH, KW, OH, OW) into a zero padded input (N, C, HP, WP).

    One strided slice-add per kernel offset (u, v): within one offset no two windows write the same
    cell, so `+=` on a slice is safe, and the KH*KW additions accumulate the overlaps.
    """
    N, C, KH, KW, OH, OW = cols6.shape
    xpad = np.zeros((N, C, spec.hp, spec.wp), dtype=cols6.dtype)
    row_span, col_span = spec.sh * (OH - 1) + 1, spec.sw * (OW - 1) + 1
    for u in range(KH):
        r0 = u * spec.dh
        for v in range(KW):
            c0 = v * spec.dw
            xpad[:, :, r0 : r0 + row_span : spec.sh, c0 : c0 + col_span : spec.sw] += cols6[:, :, u, v]
    return xpad


def col2im_spec(cols: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """col2im for an already validated spec: (N, C*KH*KW, OH*OW) -> (N, C, H, W)."""
    _check_cols(cols, spec)
    cols6 = cols.reshape(cols.shape[0], spec.c, spec.kh, spec.kw, spec.oh, spec.ow)  # (N, C, KH, KW, OH, OW)
    return crop_padding(col2im_padded(cols6, spec), spec)


def col2im_add_at(cols: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """The teaching form of col2im: np.add.at with the im2col index arrays (accumulates repeated indices)."""
    _check_cols(cols, spec)
    idx = im2col_indices(spec)
    xpad = np.zeros((cols.shape[0], spec.c, spec.hp, spec.wp), dtype=cols.dtype)
    np.add.at(xpad, (slice(None), idx.k[:, None], idx.i, idx.j), cols)
    return crop_padding(xpad, spec)


def col2im_assign_bug(cols: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """The classic bug: fancy-index assignment keeps only the last write where windows overlap."""
    _check_cols(cols, spec)
    idx = im2col_indices(spec)
    xpad = np.zeros((cols.shape[0], spec.c, spec.hp, spec.wp), dtype=cols.dtype)
    xpad[:, idx.k[:, None], idx.i, idx.j] += cols  # buffered: repeated indices are written once, not summed
    return crop_padding(xpad, spec)


def col2im(
    cols: np.ndarray,
    output_size: int | Sequence[int],
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
) -> np.ndarray:
    """Fold columns back into an image by summing overlaps, like torch.nn.functional.fold.

    Args:
        cols: (N, C*KH*KW, L) with L = OH*OW for the given geometry.
        output_size: (H, W) of the image to rebuild.
    Returns:
        x: (N, C, H, W). col2im(im2col(x)) equals x times the overlap count, not x.
    """
    cols = np.asarray(cols)
    if cols.ndim != 3:
        raise ValueError(f"cols: expected a 3-D array (N, C*KH*KW, L), got shape {cols.shape}.")
    h, w = as_pair(output_size, "output_size")
    kh, kw = as_pair(kernel_size, "kernel_size")
    if kh < 1 or kw < 1 or cols.shape[1] % (kh * kw):
        raise ValueError(
            f"cols: dimension 1 ({cols.shape[1]}) must be C*KH*KW, a multiple of kernel_size {kh}x{kw}={kh * kw}."
        )
    spec = _spec_from_fold_args(cols.shape[0], cols.shape[1] // (kh * kw), h, w, (kh, kw), stride, padding, dilation)
    return col2im_spec(cols, spec)
