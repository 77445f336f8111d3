"""2-D max and average pooling, forward and backward, with PyTorch's rules (ceil_mode=False).

Both take kernel_size, stride (default: the kernel) and symmetric padding of at most half the kernel, like
torch.nn.functional.max_pool2d / avg_pool2d. Output size per axis: OH = floor((H + 2*PH - DH*(KH-1) - 1) / SH) + 1.

Max pooling: padding counts as minus infinity (never a maximum). Backward routes each upstream value to the
position of its window's maximum only; on ties the first maximum in row-major window order wins, as in PyTorch.

Average pooling (no dilation, as in PyTorch): padding counts as zero in the window's sum, and
    y[n, c, i, j] = sum of window (i, j) / divisor[i, j],
where divisor = KH*KW if count_include_pad (the default) and otherwise the number of the window's real,
non-padding cells. Backward spreads each upstream value evenly: every real cell of window (i, j) gets
dout[n, c, i, j] / divisor[i, j]; padding cells get nothing. So with count_include_pad=False the gradient is conserved,
sum(dx) = sum(dout); with True, windows that overlap the padding lose the padding's share:
sum(dx) = sum(dout) - sum over windows of dout[i, j] * (padding cells of window (i, j)) / (KH*KW).

In both, overlapping windows (stride < kernel) can send several values to one cell: they add up.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import numpy as np

from .geometry import ConvSpec, as_pair, crop_padding, pad_input
from .im2col import col2im_padded, window_view

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
        raise ValueError(
            f"padding: pooling takes an int or (ph, pw) like PyTorch, got {padding!r}; it has no 'same'/'valid'/'full' modes."
        )
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


# ---------------------------------------------------------------------------------------------------
# average pooling
# ---------------------------------------------------------------------------------------------------
def _check_count_include_pad(count_include_pad: object) -> bool:
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise ValueError(
            f"count_include_pad: expected True or False, got {count_include_pad!r}. True divides every window by "
            "KH*KW (padding counts as zeros); False divides by the window's real (non-padding) cells only."
        )
    return bool(count_include_pad)


def _check_avg_spec(spec: ConvSpec) -> None:
    """An average-pooling spec: no dilation, one output channel per input channel, no padding-only window."""
    if spec.dilation != (1, 1):
        raise ValueError(
            f"dilation: average pooling has no dilation (PyTorch's avg_pool2d takes none), got {spec.dilation}. "
            "Build the spec with pool_spec(x.shape, kernel_size, stride, padding) and dilation 1."
        )
    if spec.f != spec.c:
        raise ValueError(
            f"spec: pooling keeps the channels, so f must equal c, got c={spec.c}, f={spec.f}. Build the spec with pool_spec."
        )
    rows, cols = _real_counts(spec)
    for axis, real in (("height", rows), ("width", cols)):
        if not real.all():
            i = int(np.flatnonzero(real == 0)[0])
            raise ValueError(
                f"padding ({axis}): window {i} along the {axis} would hold only padding, so it has nothing to average. "
                "Use at most half the kernel as padding (as pool_spec requires), or a larger input."
            )


def _real_counts(spec: ConvSpec) -> tuple[np.ndarray, np.ndarray]:
    """Real (non-padding) rows (OH,) and columns (OW,) of each window: |[i*SH - top, i*SH - top + KH) ∩ [0, H)|."""
    def one(size: int, lo: int, out: int, s: int, k: int) -> np.ndarray:
        start = s * np.arange(out) - lo  # (out,) first tap of each window, in input coordinates
        return np.clip(start + k, 0, size) - np.clip(start, 0, size)  # (out,)

    return one(spec.h, spec.top, spec.oh, spec.sh, spec.kh), one(spec.w, spec.left, spec.ow, spec.sw, spec.kw)


def avg_pool_divisors(spec: ConvSpec, count_include_pad: bool = True) -> np.ndarray:
    """The divisor of every output window, (OH, OW) int64.

    count_include_pad=True: KH*KW everywhere (padding cells count, as zeros).
    count_include_pad=False: the window's real cells, rows_real[i] * cols_real[j] (a window is a rectangle, so its
    real cells are the product of its real rows and real columns); smaller only at the padded borders.
    """
    count_include_pad = _check_count_include_pad(count_include_pad)
    _check_avg_spec(spec)
    if count_include_pad:
        return np.full((spec.oh, spec.ow), spec.kh * spec.kw, dtype=np.int64)  # (OH, OW)
    rows, cols = _real_counts(spec)  # (OH,), (OW,)
    return np.outer(rows, cols).astype(np.int64)  # (OH, OW)


def _float(a: np.ndarray) -> np.ndarray:
    return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float64)


def avg_pool2d(
    x: np.ndarray, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0, count_include_pad: bool = True
) -> np.ndarray:
    """Average pooling, like torch.nn.functional.avg_pool2d (ceil_mode=False, divisor_override=None).

    y[n, c, i, j] = sum_{u, v} xpad[n, c, i*SH + u, j*SW + v] / divisor[i, j], padding counting as 0.

    Args:
        x: (N, C, H, W).
        count_include_pad: divide by KH*KW (True) or by the window's real cells only (False).
    Returns:
        y: (N, C, OH, OW), OH = floor((H + 2*PH - KH) / SH) + 1.
    """
    x = np.asarray(x)
    spec = pool_spec(x.shape, kernel_size, stride, padding)
    return avg_pool2d_spec(x, spec, count_include_pad)


def avg_pool2d_spec(x: np.ndarray, spec: ConvSpec, count_include_pad: bool = True) -> np.ndarray:
    """Forward for an already validated pooling spec. x: (N, C, H, W) -> y: (N, C, OH, OW)."""
    divisor = avg_pool_divisors(spec, count_include_pad)  # (OH, OW)
    x = _float(np.asarray(x))
    if x.shape != spec.input_shape:
        raise ValueError(f"x: expected shape {spec.input_shape} (N, C, H, W) for this spec, got {x.shape}.")
    xpad = np.ascontiguousarray(pad_input(x, spec, value=0.0))  # (N, C, HP, WP), padding = 0
    sums = window_view(xpad, spec).sum(axis=(-2, -1))  # (N, C, OH, OW)
    return sums / divisor.astype(sums.dtype)  # (N, C, OH, OW)


def avg_pool2d_backward(
    dout: np.ndarray,
    x: np.ndarray,
    kernel_size: Pair,
    stride: Pair | None = None,
    padding: Pair = 0,
    count_include_pad: bool = True,
) -> np.ndarray:
    """Input gradient of average pooling: each dout value is spread evenly over its window; overlaps add.

    dx[n, c, r, q] = sum over windows (i, j) that hold input cell (r, q) of dout[n, c, i, j] / divisor[i, j].
    Padding cells would get their share too; they are cropped away (the share is lost).

    Args:
        dout: (N, C, OH, OW).
        x: (N, C, H, W) the forward input (only its shape matters).
    Returns:
        dx: (N, C, H, W).
    """
    x, dout = np.asarray(x), np.asarray(dout)
    spec = pool_spec(x.shape, kernel_size, stride, padding)
    return avg_pool2d_backward_spec(dout, x, spec, count_include_pad)


def avg_pool2d_backward_spec(
    dout: np.ndarray, x: np.ndarray, spec: ConvSpec, count_include_pad: bool = True, *, _bug: str | None = None
) -> np.ndarray:
    """Backward for an already validated pooling spec. dout: (N, C, OH, OW) -> dx: (N, C, H, W).

    _bug: private, for the bug lab (convviz.bugs): switch one classic mistake on inside this code.
    """
    if _bug is not None and _bug != "avgpool_divisor":
        raise ValueError(f"_bug: {_bug!r} is not a bug of avg_pool2d_backward_spec (its bug: 'avgpool_divisor').")
    divisor = avg_pool_divisors(spec, count_include_pad)  # (OH, OW)
    if _bug == "avgpool_divisor":  # count_include_pad ignored: KH*KW even where the window overlaps the padding
        divisor = avg_pool_divisors(spec, True)
    dout = _float(np.asarray(dout))
    if dout.shape != spec.output_shape:
        raise ValueError(
            f"dout: expected shape {spec.output_shape} (N, C, OH, OW), the shape of the pooled output, got {dout.shape}."
        )
    if np.shape(x) != spec.input_shape:
        raise ValueError(f"x: expected shape {spec.input_shape} (N, C, H, W) for this spec, got {np.shape(x)}.")
    share = dout / divisor.astype(dout.dtype)  # (N, C, OH, OW) what each cell of window (i, j) receives
    N, C, KH, KW, OH, OW = spec.n, spec.c, spec.kh, spec.kw, spec.oh, spec.ow
    cols6 = np.broadcast_to(share[:, :, None, None], (N, C, KH, KW, OH, OW))  # (N, C, KH, KW, OH, OW), no copy
    dxpad = col2im_padded(cols6, spec)  # (N, C, HP, WP) overlapping windows add up
    return crop_padding(dxpad, spec)  # (N, C, H, W) the padding's share is dropped


def global_avg_pool2d(x: np.ndarray) -> np.ndarray:
    """Global average pooling: the mean of each channel's whole H x W map.

    Same as avg_pool2d(x, kernel_size=(H, W)) or torch.nn.functional.adaptive_avg_pool2d(x, 1).

    Args:
        x: (N, C, H, W).
    Returns:
        y: (N, C, 1, 1), y[n, c] = sum_{r, q} x[n, c, r, q] / (H*W).
    """
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"x: expected a 4-D array (N, C, H, W), got shape {x.shape}. Add batch/channel axes with x[None, None].")
    return _float(x).mean(axis=(2, 3), keepdims=True)  # (N, C, 1, 1)


def global_avg_pool2d_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Input gradient of global average pooling: every cell of channel (n, c) gets dout[n, c] / (H*W).

    Args:
        dout: (N, C, 1, 1).
        x: (N, C, H, W) the forward input (only its shape matters).
    Returns:
        dx: (N, C, H, W).
    """
    x, dout = np.asarray(x), _float(np.asarray(dout))
    if x.ndim != 4:
        raise ValueError(f"x: expected a 4-D array (N, C, H, W), got shape {x.shape}. Add batch/channel axes with x[None, None].")
    N, C, H, W = x.shape
    if dout.shape != (N, C, 1, 1):
        raise ValueError(
            f"dout: expected shape {(N, C, 1, 1)} (N, C, 1, 1), got {dout.shape}. Global pooling has one output per channel."
        )
    return np.broadcast_to(dout / (H * W), x.shape).copy()  # (N, C, H, W)
