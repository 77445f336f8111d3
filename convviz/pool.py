"""2-D max pooling forward and backward, with PyTorch's rules.

Padding counts as minus infinity (never a maximum). Backward routes each upstream value to the position
of its window's maximum only; on ties the first maximum in row-major window order wins, as in PyTorch.
Overlapping windows (stride < kernel) can route several values to one cell: they add up.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import numpy as np

from .geometry import ConvSpec, as_pair, crop_padding, pad_input
from .im2col import window_view

Pair = Union[int, Sequence[int]]


def pool_spec(
    x_shape: Sequence[int],
    kernel_size: Pair,
    stride: Pair | None = None,
    padding: Pair = 0,
    dilation: Pair = 1,
) -> ConvSpec:
    """Validate pooling arguments. stride defaults to kernel_size; padding is at most half the kernel."""
    if len(x_shape) != 4:
        raise ValueError(f"x: expected a 4-D array (N, C, H, W), got shape {tuple(x_shape)}.")
    if isinstance(padding, str):
        raise ValueError(f"padding: max pooling takes an int or (ph, pw) like PyTorch, got {padding!r}.")
    kh, kw = as_pair(kernel_size, "kernel_size")
    ph, pw = as_pair(padding, "padding")
    for axis, p, k in (("height", ph, kh), ("width", pw, kw)):
        if p > k // 2:
            raise ValueError(
                f"padding ({axis}): must be at most half the kernel ({k} // 2 = {k // 2}), got {p}; "
                "otherwise a window could hold only padding. Use less padding or a larger kernel."
            )
    n, c, h, w = x_shape
    stride = (kh, kw) if stride is None else stride
    spec = ConvSpec.create(h, w, (kh, kw), stride, (ph, ph, pw, pw), dilation, n=n, c=c, f=c)
    _check_no_padding_only_window(spec)
    return spec


def _check_no_padding_only_window(spec: ConvSpec) -> None:
    """With dilation, a window's taps can all land in the padding: its maximum would be -inf and its
    gradient would have nowhere to go. PyTorch allows it (and routes the gradient to an arbitrary cell);
    here it is an error, because padding is never a maximum."""
    for axis, size, lo, out, s, k, d in (("height", spec.h, spec.top, spec.oh, spec.sh, spec.kh, spec.dh),
                                         ("width", spec.w, spec.left, spec.ow, spec.sw, spec.kw, spec.dw)):
        for i in range(out):
            taps = i * s + d * np.arange(k)
            if not np.any((taps >= lo) & (taps < lo + size)):
                raise ValueError(
                    f"padding ({axis}): window {i} along the {axis} would hold only padding (taps at padded "
                    f"positions {taps.tolist()}, input at {lo}..{lo + size - 1}), so it has no maximum. "
                    "Use less padding or dilation, or a larger input."
                )


def _windows(x: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """(N, C, OH, OW, KH*KW) windows of x padded with -inf, flattened in row-major window order."""
    xpad = pad_input(x.astype(np.float64) if not np.issubdtype(x.dtype, np.floating) else x, spec, value=-np.inf)
    view = window_view(np.ascontiguousarray(xpad), spec)  # (N, C, OH, OW, KH, KW)
    return view.reshape(*view.shape[:4], spec.kh * spec.kw)  # (N, C, OH, OW, KH*KW)


def max_pool2d(
    x: np.ndarray, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0, dilation: Pair = 1
) -> np.ndarray:
    """Max pooling, like torch.nn.functional.max_pool2d (ceil_mode=False).

    Args:
        x: (N, C, H, W).
    Returns:
        y: (N, C, OH, OW), OH = floor((H + 2*PH - DH*(KH-1) - 1) / SH) + 1.
    """
    x = np.asarray(x)
    spec = pool_spec(x.shape, kernel_size, stride, padding, dilation)
    return _windows(x, spec).max(axis=-1)


def max_pool2d_argmax(x: np.ndarray, spec: ConvSpec) -> tuple[np.ndarray, np.ndarray]:
    """Per window: the index of its first maximum in the flattened (KH*KW) window, and the padded (row, col)
    it sits at. Returns (k, rows_cols) with k (N, C, OH, OW) and rows_cols (2, N, C, OH, OW)."""
    k = _windows(x, spec).argmax(axis=-1)  # np.argmax returns the first maximum: PyTorch's tie rule
    u, v = np.divmod(k, spec.kw)
    oh = np.arange(spec.oh)[:, None]
    ow = np.arange(spec.ow)[None, :]
    rows = oh * spec.sh + u * spec.dh
    cols = ow * spec.sw + v * spec.dw
    return k, np.stack([rows, cols])


def max_pool2d_backward(
    dout: np.ndarray,
    x: np.ndarray,
    kernel_size: Pair,
    stride: Pair | None = None,
    padding: Pair = 0,
    dilation: Pair = 1,
) -> np.ndarray:
    """Input gradient of max pooling: each dout value goes to its window's (first) maximum; overlaps add.

    Args:
        dout: (N, C, OH, OW).
        x: (N, C, H, W) the forward input.
    Returns:
        dx: (N, C, H, W).
    """
    x, dout = np.asarray(x), np.asarray(dout)
    spec = pool_spec(x.shape, kernel_size, stride, padding, dilation)
    if dout.shape != spec.output_shape:
        raise ValueError(f"dout: expected shape {spec.output_shape} (N, C, OH, OW), got {dout.shape}.")
    return max_pool2d_backward_spec(dout, x, spec)


def max_pool2d_backward_spec(dout: np.ndarray, x: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """Backward for an already validated pooling spec."""
    _, (rows, cols) = max_pool2d_argmax(x, spec)
    N, C = spec.n, spec.c
    dtype = np.result_type(dout.dtype, np.float64) if not np.issubdtype(dout.dtype, np.floating) else dout.dtype
    dxpad = np.zeros((N, C, spec.hp, spec.wp), dtype=dtype)
    n_idx = np.arange(N)[:, None, None, None]
    c_idx = np.arange(C)[None, :, None, None]
    np.add.at(dxpad, (n_idx, c_idx, rows, cols), dout)  # overlapping windows may pick the same cell: accumulate
    return crop_padding(dxpad, spec)
