"""2-D convolution (cross-correlation, as in deep learning) forward and backward, by several methods.

Forward methods:  "loops" (the definition), "im2col" (one matrix product), "strided" (as_strided view + einsum).
Backward methods: "loops" (the definition), "col2im" (matrix products + scatter-add),
                  "transposed" (dilate, pad, rotate 180 degrees, slide, crop).
All methods of one operation agree to rounding error; the tests hold them to 1e-9 in float64.

Grouped convolution (groups = G, carried by the spec): the C input channels are split into G groups of CG = C/G and
the F output channels into G groups of FG = F/G; output channel f is in group g = f // FG and reads only the input
channels g*CG .. (g+1)*CG - 1, so w is (F, CG, KH, KW). Every method is the ungrouped one done per group.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import numpy as np

from .depthwise import backward_taps, forward_columns, use_fast_path
from .geometry import ConvSpec, PaddingArg, crop_padding, pad_input, spec_for
from .im2col import col2im_assign_bug, col2im_padded, im2col_matrix, window_view

FORWARD_METHODS = ("loops", "im2col", "strided")
BACKWARD_METHODS = ("loops", "col2im", "transposed")

Pair = Union[int, Sequence[int]]


def _as_float_arrays(*arrays):
    """Inputs as float arrays (float64 unless already floating), so integers never truncate gradients."""
    out = []
    for a in arrays:
        if a is None:
            out.append(None)
            continue
        a = np.asarray(a)
        if not np.issubdtype(a.dtype, np.floating):
            a = a.astype(np.float64)
        out.append(a)
    return out


def _check_bias(b: np.ndarray | None, f: int) -> None:
    if b is not None and b.shape != (f,):
        raise ValueError(f"b: expected shape ({f},) (one bias per output channel F), got {b.shape}.")


def _check_method(method: str, allowed: tuple[str, ...]) -> None:
    if method not in allowed:
        raise ValueError(f"method: unknown method {method!r}. Use one of {', '.join(map(repr, allowed))}.")


# ---------------------------------------------------------------------------------------------------
# forward
# ---------------------------------------------------------------------------------------------------
def conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: Pair = 1,
    padding: PaddingArg = 0,
    dilation: Pair = 1,
    method: str = "im2col",
    groups: int = 1,
) -> np.ndarray:
    """Forward pass y[n,f,i,j] = b[f] + sum_{c,u,v} w[f,c,u,v] * xpad[n, g*CG + c, i*SH + u*DH, j*SW + v*DW],
    with g = f // (F/groups) the group of f and c running over the CG = C/groups channels of that group.

    Args:
        x: (N, C, H, W) input.
        w: (F, C/groups, KH, KW) kernels.
        b: (F,) bias or None.
        stride, dilation: int or (h, w).
        padding: int, (ph, pw), (top, bottom, left, right), or "valid" / "same" / "full".
        method: "loops", "im2col" or "strided".
        groups: G, dividing C and F (1: ordinary convolution; C: depthwise).
    Returns:
        y: (N, F, OH, OW) with OH = floor((H + top + bottom - DH*(KH-1) - 1) / SH) + 1.
    """
    _check_method(method, FORWARD_METHODS)
    x, w, b = _as_float_arrays(x, w, b)
    spec = spec_for(x.shape, w.shape, stride, padding, dilation, groups)
    _check_bias(b, spec.f)
    return conv2d_spec(x, w, b, spec, method)


def conv2d_spec(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, spec: ConvSpec, method: str = "im2col", *, _bug: str | None = None
) -> np.ndarray:
    """conv2d for an already validated spec.

    _bug: private, for the bug lab (convviz.bugs): switch one classic mistake on inside this method's own code.
    """
    xpad = pad_input(x, spec)
    if _bug is None:
        y = _FORWARD[method](xpad, w, spec)
    else:
        _check_bug(_bug, method, _FORWARD_BUGS, "forward")
        y = _FORWARD[method](xpad, w, spec, _bug)
    if b is not None:
        y = y + b[None, :, None, None]
    return y


def forward_loops(xpad: np.ndarray, w: np.ndarray, spec: ConvSpec, bug: str | None = None) -> np.ndarray:
    """The definition, one window at a time: y[n, f, i, j] = sum over (c, u, v) of w[f, c, u, v] times the tap of
    window (i, j). xpad (N, C, HP, WP) is already padded; w (F, CG, KH, KW) with CG = C/groups (C when groups = 1):
    output channel f reads only the CG channels of its group g = f // FG. Returns y (N, F, OH, OW) without bias.
    bug: the bug lab's switch."""
    N, F, OH, OW = spec.output_shape
    CG, FG = spec.cg, spec.fg  # channels per group: in, out
    y = np.zeros((N, F, OH, OW), dtype=np.result_type(xpad, w))
    for n in range(N):
        for f in range(F):
            g = f // FG  # the group of output channel f
            chans = slice(g * CG, (g + 1) * CG)  # its input channels (all C when groups = 1)
            if bug == "group_offset":  # the group's offset forgotten: every group reads the first CG channels
                chans = slice(0, CG)
            for i in range(OH):
                for j in range(OW):
                    r0, c0 = spec.window_origin(i, j)
                    window = xpad[n, chans, r0 : r0 + spec.ekh : spec.dh, c0 : c0 + spec.ekw : spec.dw]  # (CG, KH, KW)
                    y[n, f, i, j] = np.sum(window * w[f])
    return y


def forward_im2col(xpad: np.ndarray, w: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """Every window copied into a column (im2col), then one matrix product: (F, C*KH*KW) @ (C*KH*KW, N*OH*OW).
    With G = groups > 1, one product per group: group g's FG kernels times the CG*KH*KW rows of its channels
    (the rows are ordered (c, u, v), so each group's rows are one block). Depthwise (CG = 1) and not tiny: the
    columns of a few images at a time instead, all C products in one batched matmul (convviz.depthwise).
    xpad (N, C, HP, WP) padded; w (F, CG, KH, KW). Returns y (N, F, OH, OW) without bias."""
    if use_fast_path(spec):  # batch-wide cols (KH*KW copies of x) outgrow the cache, only to meet 1-row kernels
        return forward_columns(xpad, w, spec)
    N, F, OH, OW = spec.output_shape
    G, CG, FG = spec.groups, spec.cg, spec.fg
    cols = im2col_matrix(xpad, spec)  # (C*KH*KW, N*OH*OW)
    cols_g = cols.reshape(G, CG * spec.kh * spec.kw, N * OH * OW)  # (G, CG*KH*KW, N*OH*OW): group g's rows
    w_g = w.reshape(G, FG, CG * spec.kh * spec.kw)  # (G, FG, CG*KH*KW): group g's kernels as rows
    y = (w_g @ cols_g).reshape(F, N * OH * OW)  # G products (FG, CG*KH*KW) @ (CG*KH*KW, N*OH*OW), stacked: (F, N*OH*OW)
    return y.reshape(F, N, OH, OW).transpose(1, 0, 2, 3)  # (N, F, OH, OW)


def forward_strided(xpad: np.ndarray, w: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """Every window as a read-only as_strided view of xpad (no copy), contracted with w by einsum; with groups,
    one contraction per group, of its CG channels of the view with its FG kernels.
    xpad (N, C, HP, WP) padded; w (F, CG, KH, KW). Returns y (N, F, OH, OW) without bias."""
    N, F, OH, OW = spec.output_shape
    CG, FG = spec.cg, spec.fg  # channels per group: in, out
    view = window_view(xpad, spec)  # (N, C, OH, OW, KH, KW), shares memory with xpad
    y = np.empty((N, F, OH, OW), dtype=np.result_type(xpad, w))
    for g in range(spec.groups):  # once when groups = 1
        chans, outs = slice(g * CG, (g + 1) * CG), slice(g * FG, (g + 1) * FG)
        y[:, outs] = np.einsum("ncijuv,fcuv->nfij", view[:, chans], w[outs], optimize=True)  # (N, FG, OH, OW)
    return y


_FORWARD = {"loops": forward_loops, "im2col": forward_im2col, "strided": forward_strided}

# The bug lab's private switches (convviz.bugs), by the method whose own code carries each of them.
_FORWARD_BUGS = {"loops": ("group_offset",)}
_BACKWARD_BUGS = {"loops": ("height_for_width",), "col2im": ("col2im_assign",),
                  "transposed": ("no_dilate", "no_remainder", "crop_negative", "no_flip")}


def _check_bug(bug: str, method: str, bugs: dict[str, tuple[str, ...]], what: str) -> None:
    """A bug switch names one of the method's own bugs (a typo, or a bug of another code path, would silently run
    the correct code)."""
    if bug not in bugs.get(method, ()):
        raise ValueError(f"_bug: {bug!r} is not a bug of the {method!r} {what} (its bugs: {bugs.get(method, ())}).")


# ---------------------------------------------------------------------------------------------------
# backward
# ---------------------------------------------------------------------------------------------------
def conv2d_backward(
    dout: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    stride: Pair = 1,
    padding: PaddingArg = 0,
    dilation: Pair = 1,
    method: str = "col2im",
    groups: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of L with dL/dy = dout, for y = conv2d(x, w, b, stride, padding, dilation, groups=groups).

    Args:
        dout: (N, F, OH, OW) upstream gradient.
        x: (N, C, H, W) the forward input.
        w: (F, C/groups, KH, KW) the forward kernels.
        method: "loops", "col2im" or "transposed".
        groups: as in conv2d.
    Returns:
        dx (N, C, H, W), dw (F, C/groups, KH, KW), db (F,).
    """
    _check_method(method, BACKWARD_METHODS)
    dout, x, w = _as_float_arrays(dout, x, w)
    spec = spec_for(x.shape, w.shape, stride, padding, dilation, groups)
    if dout.shape != spec.output_shape:
        raise ValueError(
            f"dout: expected the output's shape {spec.output_shape} (N, F, OH, OW) for this geometry, got {dout.shape}."
        )
    return conv2d_backward_spec(dout, x, w, spec, method)


def conv2d_backward_spec(
    dout: np.ndarray, x: np.ndarray, w: np.ndarray, spec: ConvSpec, method: str = "col2im", *, _bug: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """conv2d_backward for an already validated spec.

    _bug: private, for the bug lab (convviz.bugs): switch one classic mistake on inside this method's own code.
    """
    if _bug is not None:
        _check_bug(_bug, method, _BACKWARD_BUGS, "backward")
    db = dout.sum(axis=(0, 2, 3))  # (F,)
    dx, dw = _BACKWARD[method](dout, pad_input(x, spec), w, spec, _bug)
    return dx, dw, db


def backward_loops(dout, xpad, w, spec: ConvSpec, bug: str | None = None):
    """The chain rule one window at a time: each dout[n, f, i, j] adds w[f] * dout to the window it came from
    (dx) and the window times dout to dw[f]; with groups, the window is f's group's channels only.
    dout (N, F, OH, OW), xpad (N, C, HP, WP), w (F, CG, KH, KW) with CG = C/groups.
    Returns dx (N, C, H, W) (the padding cropped off) and dw (F, CG, KH, KW). bug: the bug lab's switch."""
    N, F, OH, OW = spec.output_shape
    CG, FG = spec.cg, spec.fg  # channels per group: in, out
    if bug == "height_for_width":  # the column count computed from the padded height, as if the input were square
        OW = (spec.hp - spec.ekw) // spec.sw + 1
    dxpad = np.zeros_like(xpad, dtype=np.result_type(xpad, w, dout))
    dw = np.zeros_like(w, dtype=dxpad.dtype)
    for n in range(N):
        for f in range(F):
            g = f // FG  # the group of output channel f
            chans = slice(g * CG, (g + 1) * CG)  # its input channels (all C when groups = 1)
            for i in range(OH):
                for j in range(OW):
                    r0, c0 = spec.window_origin(i, j)
                    rows = slice(r0, r0 + spec.ekh, spec.dh)
                    cols = slice(c0, c0 + spec.ekw, spec.dw)
                    dxpad[n, chans, rows, cols] += w[f] * dout[n, f, i, j]  # (CG, KH, KW)
                    dw[f] += xpad[n, chans, rows, cols] * dout[n, f, i, j]  # (CG, KH, KW)
    return crop_padding(dxpad, spec), dw


def backward_col2im(dout, xpad, w, spec: ConvSpec, bug: str | None = None):
    """Backward through im2col: dw = dout_mat @ cols.T, dcols = W.T @ dout_mat, and col2im adds every column of
    dcols back where its window read (overlaps accumulate). With groups, both products are done per group, on
    group g's FG rows of dout_mat and CG*KH*KW rows of cols. Depthwise (CG = 1) and not tiny: the same scatter-add
    straight from dout, tap by tap, with no cols or dcols (convviz.depthwise). Shapes as backward_loops; returns dx, dw."""
    if bug is None and use_fast_path(spec):  # dcols would be KH*KW copies of dout, each scaled by one weight
        return backward_taps(dout, xpad, w, spec)
    N, C, KH, KW = spec.n, spec.c, spec.kh, spec.kw
    F, OH, OW = spec.f, spec.oh, spec.ow
    G, CG, FG = spec.groups, spec.cg, spec.fg
    cols = im2col_matrix(xpad, spec)  # (C*KH*KW, N*OH*OW)
    dout_mat = dout.transpose(1, 0, 2, 3).reshape(F, N * OH * OW)  # (F, N*OH*OW)
    cols_g = cols.reshape(G, CG * KH * KW, N * OH * OW)  # (G, CG*KH*KW, N*OH*OW)
    dout_g = dout_mat.reshape(G, FG, N * OH * OW)  # (G, FG, N*OH*OW)
    w_g = w.reshape(G, FG, CG * KH * KW)  # (G, FG, CG*KH*KW)
    dw = (dout_g @ cols_g.transpose(0, 2, 1)).reshape(F, CG, KH, KW)  # per group (FG, CG*KH*KW): (F, CG, KH, KW)
    dcols = (w_g.transpose(0, 2, 1) @ dout_g).reshape(C * KH * KW, N * OH * OW)  # per group (CG*KH*KW, N*OH*OW)
    if bug == "col2im_assign":  # fancy-index assignment: overlapping windows keep only one write
        dcols3 = dcols.reshape(C * KH * KW, N, OH * OW).transpose(1, 0, 2)  # (N, C*KH*KW, OH*OW)
        return col2im_assign_bug(dcols3, spec), dw
    dcols6 = dcols.reshape(C, KH, KW, N, OH, OW).transpose(3, 0, 1, 2, 4, 5)  # (N, C, KH, KW, OH, OW)
    return crop_padding(col2im_padded(dcols6, spec), spec), dw


def dilate(a: np.ndarray, sh: int, sw: int) -> np.ndarray:
    """Insert SH-1 zero rows between rows and SW-1 zero columns between columns of the last two axes."""
    *lead, H, W = a.shape
    out = np.zeros((*lead, (H - 1) * sh + 1, (W - 1) * sw + 1), dtype=a.dtype)
    out[..., ::sh, ::sw] = a
    return out


def transposed_pads(spec: ConvSpec) -> tuple[int, int, int, int]:
    """Padding of the dilated dout: EK-1 before, EK-1 + remainder after (the rows no window reached)."""
    return spec.ekh - 1, spec.ekh - 1 + spec.rem_h, spec.ekw - 1, spec.ekw - 1 + spec.rem_w


def flip_kernel(w: np.ndarray, groups: int = 1) -> np.ndarray:
    """Rotate every kernel 180 degrees and swap in/out channels: (F, C, KH, KW) -> (C, F, KH, KW).
    With groups, the swap happens inside each group: (F, CG, KH, KW) -> (C, FG, KH, KW)."""
    return _swap_channels(w[:, :, ::-1, ::-1], groups)


def _swap_channels(w: np.ndarray, groups: int = 1) -> np.ndarray:
    """Swap in/out channels within each group: (F, CG, KH, KW) -> (C, FG, KH, KW), C = CG*G, FG = F/G.
    The weights of the grouped convolution that maps dout's F channels back to x's C channels."""
    F, CG, KH, KW = w.shape
    G, FG = groups, F // groups
    w_g = w.reshape(G, FG, CG, KH, KW)  # (G, FG, CG, KH, KW)
    return w_g.transpose(0, 2, 1, 3, 4).reshape(G * CG, FG, KH, KW)  # (C, FG, KH, KW)


def backward_transposed(dout, xpad, w, spec: ConvSpec, bug: str | None = None):
    """dx as a convolution: dilate dout by the stride, pad it by EK-1 (plus the remainder rows), slide the 180-degree
    rotated kernel with stride 1, crop the forward padding. dw as a correlation of xpad with the dilated dout.
    Shapes as backward_loops; returns dx, dw."""
    N, C, HP, WP = xpad.shape
    F, G, CG, FG = spec.f, spec.groups, spec.cg, spec.fg
    # dx: dilate, pad (incl. remainder), rotate, slide with stride 1, crop. With groups the slide is grouped too:
    # group g's FG channels of dout go back to its CG channels of x.
    dd = dout if bug == "no_dilate" else dilate(dout, spec.sh, spec.sw)  # (N, F, (OH-1)*SH+1, (OW-1)*SW+1)
    pads = transposed_pads(spec)
    if bug == "no_remainder":  # the rows/columns no window reached get no padding: dx comes out short
        pads = (pads[0], pads[1] - spec.rem_h, pads[2], pads[3] - spec.rem_w)
    slide = ConvSpec.create(dd.shape[2], dd.shape[3], spec.kernel_size, 1, pads, spec.dilation, n=N, c=F, f=C, groups=G)
    wk = _swap_channels(w, G) if bug == "no_flip" else flip_kernel(w, G)  # (C, FG, KH, KW)
    dxpad = forward_im2col(pad_input(dd, slide), np.ascontiguousarray(wk), slide)  # (N, C, HP, WP)
    # dw: correlate xpad with dout dilated by the stride; the kernel's taps step DH apart, so stride = DH.
    # One correlation per group: group g's CG channels of x with its FG channels of dout.
    xt = xpad.transpose(1, 0, 2, 3)  # (C, N, HP, WP): channels become the batch
    dt = dout.transpose(1, 0, 2, 3)  # (F, N, OH, OW): each output channel becomes a kernel
    corr = ConvSpec.create(HP, WP, dt.shape[2:], spec.dilation, 0, spec.stride, n=CG, c=N, f=FG)
    dw = np.empty(w.shape, dtype=np.result_type(xpad, dout))  # (F, CG, KH, KW)
    for g in range(G):
        xs, fs = slice(g * CG, (g + 1) * CG), slice(g * FG, (g + 1) * FG)
        dwt = forward_im2col(np.ascontiguousarray(xt[xs]), np.ascontiguousarray(dt[fs]), corr)  # (CG, FG, >=KH, >=KW)
        dw[fs] = dwt[:, :, : spec.kh, : spec.kw].transpose(1, 0, 2, 3)  # (FG, CG, KH, KW)
    if bug == "crop_negative":  # a[p:-p] is empty when p = 0
        t, btm, lft, rgt = spec.padding
        return dxpad[..., t:-btm, lft:-rgt], dw
    return crop_padding(dxpad, spec), dw


_BACKWARD = {"loops": backward_loops, "col2im": backward_col2im, "transposed": backward_transposed}


# ---------------------------------------------------------------------------------------------------
# transposed convolution
# ---------------------------------------------------------------------------------------------------
def conv_transpose2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: Pair = 1,
    padding: Pair = 0,
    output_padding: Pair = 0,
    dilation: Pair = 1,
    groups: int = 1,
) -> np.ndarray:
    """Transposed convolution, like torch.nn.functional.conv_transpose2d (with groups).

    It is the input gradient of conv2d: each input value scatters a scaled kernel into the output.

    Args:
        x: (N, CIN, H, W).
        w: (CIN, COUT/groups, KH, KW), PyTorch's layout for transposed convolution.
        b: (COUT,) or None.
        padding: int or (ph, pw), removed from each side of the full output.
        output_padding: int or (oph, opw), extra rows/columns on the bottom/right; each below stride or dilation.
        groups: G dividing CIN; input channels g*CIN/G .. scatter only into output channels g*COUT/G ..
    Returns:
        y: (N, COUT, HO, WO) with HO = (H-1)*SH - 2*PH + DH*(KH-1) + OPH + 1.
    """
    from .geometry import as_pair, check_groups

    x, w, b = _as_float_arrays(x, w, b)
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(f"x, w: expected 4-D arrays (N, CIN, H, W) and (CIN, COUT/groups, KH, KW), got {x.shape} and {w.shape}.")
    N, CIN, H, W = x.shape
    cin_w, COUTG, KH, KW = w.shape
    if cin_w != CIN:
        raise ValueError(f"w: dimension 0 ({cin_w}) must equal x's channels ({CIN}); layout is (CIN, COUT/groups, KH, KW).")
    G = check_groups(groups, CIN, CIN)  # COUT = G * w.shape[1] is a multiple of G by construction
    COUT, CING = COUTG * G, CIN // G  # w holds COUT/G output channels per group
    _check_bias(b, COUT)
    (sh, sw), (ph, pw) = as_pair(stride, "stride"), as_pair(padding, "padding")
    (oph, opw), (dh, dw) = as_pair(output_padding, "output_padding"), as_pair(dilation, "dilation")
    for name, op, s, d in (("height", oph, sh, dh), ("width", opw, sw, dw)):
        if op < 0 or (op >= s and op >= d):
            raise ValueError(
                f"output_padding ({name}): must be smaller than the stride or the dilation ({s}, {d}), got {op}."
            )
    ho = (H - 1) * sh - 2 * ph + dh * (KH - 1) + oph + 1
    wo = (W - 1) * sw - 2 * pw + dw * (KW - 1) + opw + 1
    if ho < 1 or wo < 1:
        raise ValueError(f"padding: the output would be {ho}x{wo}; use less padding (at most {(H - 1) * sh + dh * (KH - 1)} // 2).")
    # The forward conv that maps (HO, WO) -> (H, W); its input gradient is this layer's output. When
    # output_padding >= stride (allowed while it is below the dilation) that conv has extra output rows:
    # they carry zero gradient, so x is padded with zeros to its output size.
    # With groups that conv is grouped the same way, and w (CIN, COUT/G, KH, KW) is exactly its weight.
    spec = ConvSpec.create(ho, wo, (KH, KW), (sh, sw), (ph, ph, pw, pw), (dh, dw), n=N, c=COUT, f=CIN, groups=G)
    OH, OW = spec.oh, spec.ow  # >= H, W
    x = np.pad(x, ((0, 0), (0, 0), (0, OH - H), (0, OW - W)))  # (N, CIN, OH, OW)
    x_g = x.transpose(1, 0, 2, 3).reshape(G, CING, N * OH * OW)  # (G, CIN/G, N*OH*OW)
    w_g = w.reshape(G, CING, COUTG * KH * KW)  # (G, CIN/G, COUT/G*KH*KW)
    cols = (w_g.transpose(0, 2, 1) @ x_g).reshape(COUT * KH * KW, N * OH * OW)  # per group, stacked: (COUT*KH*KW, N*OH*OW)
    cols6 = cols.reshape(COUT, KH, KW, N, OH, OW).transpose(3, 0, 1, 2, 4, 5)  # (N, COUT, KH, KW, OH, OW)
    y = crop_padding(col2im_padded(cols6, spec), spec)
    if b is not None:
        y = y + b[None, :, None, None]
    return y
