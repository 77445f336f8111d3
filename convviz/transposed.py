"""Transposed convolution as a lesson: its geometry, and two ways to compute it that equal `conv_transpose2d`.

Notation (Dumoulin & Visin, "A guide to convolution arithmetic for deep learning", 2016, chapter 4), per axis:
the transposed layer has ITS OWN input size i', kernel K, stride S, symmetric padding p, dilation D and output
padding a. Its output size is

    o' = S*(i' - 1) + D*(K - 1) + 1 - 2p + a.

Two views of the same numbers:

* scatter (`scatter_transposed`): every input cell x'[i, j] stamps x'[i, j] * w with its top-left tap at
  (i*S, j*S) of the full output (size S*(i'-1) + D*(K-1) + 1 per axis); overlapping stamps add up. Then a extra
  rows/columns are appended at the bottom/right and p is cropped from every side.
* direct (`direct_transposed`): insert S-1 zeros between the input's cells, pad by D*(K-1) - p before and
  D*(K-1) - p + a after, and slide the 180-degree rotated kernel with stride 1 (a plain convolution).

Both are the input gradient of the forward convolution with input size o', the same K, S, p, D, whose output size
is i' (`TransposedSpec.forward_spec`). Arrays follow PyTorch's layouts: x (N, CIN, H, W), w (CIN, COUT, KH, KW),
y (N, COUT, OH, OW).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .conv import dilate, flip_kernel, forward_im2col
from .geometry import (
    MAX_BATCH,
    MAX_CHANNELS,
    MAX_DILATION,
    MAX_KERNEL,
    MAX_PADDING,
    MAX_SPATIAL,
    MAX_STRIDE,
    ConvSpec,
    IntPair,
    _as_int,  # the engine's own validation, shared with ConvSpec
    _check_range,
    as_pair,
)

Pads4 = tuple[int, int, int, int]  # (top, bottom, left, right); may be negative for the direct view


def _symmetric_pair(value: object, name: str) -> IntPair:
    """An int or (h, w) pair; strings and four-sided paddings are refused with the reason."""
    if isinstance(value, str):
        raise ValueError(
            f"{name}: transposed convolution takes an int or (ph, pw), got {value!r}. PyTorch's conv_transpose2d has no "
            "'valid'/'same'/'full' modes: give the number of rows/columns cropped from each side."
        )
    if isinstance(value, (tuple, list)) and len(value) != 2:
        raise ValueError(
            f"{name}: expected an int or a pair (h, w), got {len(value)} values {tuple(value)!r}. Transposed convolution "
            "crops the same amount from both sides of an axis, so give (ph, pw)."
        )
    return as_pair(value, name)


@dataclass(frozen=True)
class TransposedSpec:
    """The geometry of one transposed-convolution layer; derived sizes are properties.

    Build one with `TransposedSpec.create(...)`, which validates with PyTorch's rules. Sizes: input x' (N, CIN, H, W)
    with H = i' rows, weights (CIN, COUT, KH, KW) (PyTorch's transposed layout), output y' (N, COUT, OH, OW).
    """

    n: int
    cin: int
    cout: int
    h: int
    w: int
    kh: int
    kw: int
    sh: int = 1
    sw: int = 1
    ph: int = 0
    pw: int = 0
    oph: int = 0
    opw: int = 0
    dh: int = 1
    dw: int = 1

    # ---- construction -------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        h: int,
        w: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        output_padding: int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
        n: int = 1,
        cin: int = 1,
        cout: int = 1,
    ) -> TransposedSpec:
        """Validate PyTorch-style conv_transpose2d arguments (h, w: this layer's own input size i')."""
        n, cin, cout = _as_int(n, "n (batch)"), _as_int(cin, "cin (input channels)"), _as_int(cout, "cout (output channels)")
        h, w = _as_int(h, "h (input height i')"), _as_int(w, "w (input width i')")
        _check_range(n, "n (batch)", 1, MAX_BATCH, "Use a smaller batch.")
        _check_range(cin, "cin (input channels)", 1, MAX_CHANNELS, "Use fewer input channels.")
        _check_range(cout, "cout (output channels)", 1, MAX_CHANNELS, "Use fewer output channels.")
        _check_range(h, "h (input height i')", 1, MAX_SPATIAL, "Use a smaller input.")
        _check_range(w, "w (input width i')", 1, MAX_SPATIAL, "Use a smaller input.")
        kh, kw = as_pair(kernel_size, "kernel_size")
        sh, sw = as_pair(stride, "stride")
        dh, dw = as_pair(dilation, "dilation")
        ph, pw = _symmetric_pair(padding, "padding")
        oph, opw = _symmetric_pair(output_padding, "output_padding")
        for axis, k in (("height", kh), ("width", kw)):
            _check_range(k, f"kernel_size ({axis})", 1, MAX_KERNEL, "A kernel needs at least one tap.")
        for axis, s in (("height", sh), ("width", sw)):
            _check_range(s, f"stride ({axis})", 1, MAX_STRIDE, "Stride 1 places the stamps one cell apart.")
        for axis, d in (("height", dh), ("width", dw)):
            _check_range(d, f"dilation ({axis})", 1, MAX_DILATION, "Dilation 1 means adjacent taps (no gaps).")
        for axis, p in (("height", ph), ("width", pw)):
            _check_range(p, f"padding ({axis})", 0, MAX_PADDING, "Padding cannot be negative; use 0 to crop nothing.")
        for axis, op, s, d in (("height", oph, sh, dh), ("width", opw, sw, dw)):
            _check_range(op, f"output_padding ({axis})", 0, MAX_PADDING, "Use 0 for no extra rows/columns.")
            if op >= s and op >= d:
                raise ValueError(
                    f"output_padding ({axis}): must be smaller than the stride ({s}) or the dilation ({d}), got {op}. "
                    f"Use at most {max(s, d) - 1}: it only picks which of the {s} forward input sizes that map to the "
                    "same output size this layer restores."
                )
        spec = cls(n, cin, cout, h, w, kh, kw, sh, sw, ph, pw, oph, opw, dh, dw)
        for axis in ("h", "w"):
            _, _, _, _, p, _, size, full = spec._axis(axis)
            if size < 1:
                room = full - 1  # S*(i'-1) + D*(K-1) + a
                raise ValueError(
                    f"padding ({'height' if axis == 'h' else 'width'}): the output would have {size} "
                    f"{'rows' if axis == 'h' else 'columns'} ({spec.output_size_formula(axis)}). Crop less: use padding "
                    f"at most {room // 2} on that axis (2p <= S*(i'-1) + D*(K-1) + a = {room}); {p} was given."
                )
            if size > MAX_SPATIAL:
                raise ValueError(
                    f"output size: the output would have {size} {'rows' if axis == 'h' else 'columns'}, more than the "
                    f"engine's cap {MAX_SPATIAL}. Use a smaller input, kernel, stride or dilation."
                )
        return spec

    def _axis(self, axis: str) -> tuple[int, int, int, int, int, int, int, int]:
        """(i', K, S, D, p, a, o', full size S*(i'-1) + D*(K-1) + 1 + a) of one axis ("h" or "w")."""
        if axis == "h":
            i, k, s, d, p, a = self.h, self.kh, self.sh, self.dh, self.ph, self.oph
        elif axis == "w":
            i, k, s, d, p, a = self.w, self.kw, self.sw, self.dw, self.pw, self.opw
        else:
            raise ValueError(f"axis: expected 'h' or 'w', got {axis!r}.")
        full = s * (i - 1) + d * (k - 1) + 1 + a
        return i, k, s, d, p, a, full - 2 * p, full

    # ---- plain geometry -----------------------------------------------------------------------------
    @property
    def kernel_size(self) -> IntPair:
        return self.kh, self.kw

    @property
    def stride(self) -> IntPair:
        return self.sh, self.sw

    @property
    def padding(self) -> IntPair:
        """(ph, pw): rows/columns cropped from EACH side of the full output."""
        return self.ph, self.pw

    @property
    def output_padding(self) -> IntPair:
        """(oph, opw): rows/columns added at the bottom/right only."""
        return self.oph, self.opw

    @property
    def dilation(self) -> IntPair:
        return self.dh, self.dw

    @property
    def ekh(self) -> int:
        """Effective kernel height D*(K-1)+1: the span one stamp covers."""
        return self.dh * (self.kh - 1) + 1

    @property
    def ekw(self) -> int:
        return self.dw * (self.kw - 1) + 1

    @property
    def oh(self) -> int:
        """o' = S*(i'-1) + D*(K-1) + 1 - 2p + a (rows of the output)."""
        return self._axis("h")[6]

    @property
    def ow(self) -> int:
        return self._axis("w")[6]

    @property
    def full_h(self) -> int:
        """Rows of the full output before cropping: S*(i'-1) + D*(K-1) + 1 stamped rows + a appended rows (= o' + 2p)."""
        return self._axis("h")[7]

    @property
    def full_w(self) -> int:
        return self._axis("w")[7]

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return self.n, self.cin, self.h, self.w

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        """(CIN, COUT, KH, KW): PyTorch's layout for transposed convolution."""
        return self.cin, self.cout, self.kh, self.kw

    @property
    def output_shape(self) -> tuple[int, int, int, int]:
        return self.n, self.cout, self.oh, self.ow

    def output_size_formula(self, axis: str = "h") -> str:
        """The output-size formula with this layer's numbers, e.g. "o' = 2*(3-1) + 1*(3-1) + 1 - 2*1 + 1 = 6"."""
        i, k, s, d, p, a, o, _ = self._axis(axis)
        return f"o' = {s}*({i}-1) + {d}*({k}-1) + 1 - 2*{p} + {a} = {o}"

    # ---- the forward convolution it inverts ---------------------------------------------------------
    def forward_spec(self) -> ConvSpec:
        """The forward ConvSpec whose input gradient this layer computes.

        Its input is this layer's output (N, COUT, OH, OW), with the same kernel, stride, padding and dilation, and
        channels swapped (C = COUT, F = CIN), so its weights (F, C, KH, KW) are this layer's w as stored. Its output
        size is floor((o' + 2p - D*(K-1) - 1) / S) + 1 = i' + floor(a / S): exactly i' when a < S (always the case when
        D = 1). When S <= a < D (PyTorch allows it) the forward conv has floor(a / S) more rows than x'; they carry
        zero gradient (see `forward_dout`).
        """
        return ConvSpec.create(
            self.oh, self.ow, self.kernel_size, self.stride, (self.ph, self.ph, self.pw, self.pw), self.dilation,
            n=self.n, c=self.cout, f=self.cin,
        )

    def forward_inputs_mapping_back(self, axis: str = "h") -> list[int]:
        """Forward-conv input sizes o (ascending) that a convolution with this K, S, p, D maps to this layer's i'.

        floor((o + 2p - D*(K-1) - 1) / S) + 1 = i' holds for the S sizes o = S*(i'-1) + D*(K-1) + 1 - 2p + a,
        a = 0..S-1 (the floor drops a); sizes below 1 are left out. A transposed layer can restore only one of them,
        which is why output padding exists: a picks which one (this layer's own o' is in the list when a < S).
        """
        i, k, s, d, p, _, _, _ = self._axis(axis)
        sizes = [s * (i - 1) + d * (k - 1) + 1 - 2 * p + a for a in range(s)]
        return [o for o in sizes if o >= 1]

    # ---- the direct-convolution view ----------------------------------------------------------------
    def direct_pads(self) -> Pads4:
        """Padding of the zero-inserted input for the direct view: (top, bottom, left, right) =
        (D(K-1) - p, D(K-1) - p + a, ...) per axis. Negative when p > D(K-1) (or p - a > D(K-1) at the bottom):
        then that many rows/columns are cropped from the zero-inserted input instead (`zero_insert_pad` does it)."""
        top, left = self.dh * (self.kh - 1) - self.ph, self.dw * (self.kw - 1) - self.pw
        return top, top + self.oph, left, left + self.opw

    @property
    def dilated_h(self) -> int:
        """Rows of the input after inserting S-1 zeros between rows: S*(i'-1) + 1."""
        return self.sh * (self.h - 1) + 1

    @property
    def dilated_w(self) -> int:
        return self.sw * (self.w - 1) + 1

    @property
    def direct_h(self) -> int:
        """Rows of the zero-inserted, padded input: S*(i'-1) + 1 + top + bottom = o' + D*(K-1)."""
        top, bottom, _, _ = self.direct_pads()
        return self.dilated_h + top + bottom

    @property
    def direct_w(self) -> int:
        _, _, left, right = self.direct_pads()
        return self.dilated_w + left + right

    def slide_spec(self, n: int | None = None, cin: int | None = None, cout: int | None = None) -> ConvSpec:
        """The stride-1, unpadded forward ConvSpec the direct view slides over the zero-inserted, padded input."""
        return ConvSpec.create(
            self.direct_h, self.direct_w, self.kernel_size, 1, 0, self.dilation,
            n=self.n if n is None else n, c=self.cin if cin is None else cin, f=self.cout if cout is None else cout,
        )

    def direct_masks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bool (direct_h, direct_w) masks of the zero-inserted, padded input: (x' cells, inserted zeros, padding)."""
        kept = zero_insert_pad(np.ones((self.h, self.w)), self)  # 1 where an x' cell landed
        inside = _pad_or_crop(np.ones((self.dilated_h, self.dilated_w)), self.direct_pads())  # 1 inside the dilated grid
        kept, inside = kept > 0, inside > 0
        return kept, inside & ~kept, ~inside

    def input_origin(self) -> IntPair:
        """Where x'[0, 0] sits in the zero-inserted, padded input (row, col); x'[i, j] is at origin + (i*S, j*S).
        Negative when the direct pads are (the cell was cropped away)."""
        top, _, left, _ = self.direct_pads()
        return top, left

    # ---- the scatter view -----------------------------------------------------------------------------
    def stamp_origin(self, i: int, j: int) -> IntPair:
        """Full-output position (row, col) of the top-left tap of input cell (i, j)'s stamp: (i*S, j*S)."""
        return i * self.sh, j * self.sw

    def stamp_mask(self, i: int, j: int) -> np.ndarray:
        """Bool (full_h, full_w): the full-output cells input cell (i, j) stamps (its taps D apart)."""
        mask = np.zeros((self.full_h, self.full_w), dtype=bool)
        r0, c0 = self.stamp_origin(i, j)
        mask[r0 : r0 + self.ekh : self.dh, c0 : c0 + self.ekw : self.dw] = True
        return mask

    def crop_mask(self) -> np.ndarray:
        """Bool (full_h, full_w): True on the p-wide border the crop removes, False on the o' x o' output kept."""
        mask = np.ones((self.full_h, self.full_w), dtype=bool)
        mask[self.ph : self.ph + self.oh, self.pw : self.pw + self.ow] = False
        return mask

    def appended_mask(self) -> np.ndarray:
        """Bool (full_h, full_w): the a rows/columns output padding appends at the bottom/right (no stamp reaches them)."""
        mask = np.zeros((self.full_h, self.full_w), dtype=bool)
        if self.oph:
            mask[self.full_h - self.oph :, :] = True
        if self.opw:
            mask[:, self.full_w - self.opw :] = True
        return mask

    def crop(self, full: np.ndarray) -> np.ndarray:
        """(..., full_h, full_w) -> (..., OH, OW): remove p from each side (explicit ends: a[p:-p] is empty at p = 0)."""
        return full[..., self.ph : self.ph + self.oh, self.pw : self.pw + self.ow]


# ---------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------
def _pad_or_crop(a: np.ndarray, pads: Pads4) -> np.ndarray:
    """Pad the last two axes by (top, bottom, left, right) zeros; a negative side crops that many instead."""
    top, bottom, left, right = pads
    lead = [(0, 0)] * (a.ndim - 2)
    a = np.pad(a, lead + [(max(top, 0), max(bottom, 0)), (max(left, 0), max(right, 0))])
    H, W = a.shape[-2:]
    return a[..., max(-top, 0) : H - max(-bottom, 0), max(-left, 0) : W - max(-right, 0)]


def _batched(x: np.ndarray, w: np.ndarray, spec: TransposedSpec) -> tuple[np.ndarray, np.ndarray, bool]:
    """x, w as float (N, CIN, H, W), (CIN, COUT, KH, KW); 2-D x (H, W) with 2-D w (KH, KW) is one channel pair."""
    x, w = np.asarray(x), np.asarray(w)
    x = x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)
    w = w if np.issubdtype(w.dtype, np.floating) else w.astype(np.float64)
    pair = x.ndim == 2 and w.ndim == 2
    if pair:
        x, w = x[None, None], w[None, None]
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(
            f"x, w: expected (N, CIN, H, W) and (CIN, COUT, KH, KW), or one channel pair (H, W) and (KH, KW); got shapes "
            f"{x.shape} and {w.shape}."
        )
    if x.shape[2:] != (spec.h, spec.w) or w.shape[2:] != spec.kernel_size:
        raise ValueError(
            f"x, w: the spec is for a {spec.h}x{spec.w} input and a {spec.kh}x{spec.kw} kernel, got x {x.shape} and w "
            f"{w.shape}. Build the spec from the arrays' sizes."
        )
    if x.shape[1] != w.shape[0]:
        raise ValueError(f"w: dimension 0 ({w.shape[0]}) must equal x's channels ({x.shape[1]}); layout is (CIN, COUT, KH, KW).")
    return x, w, pair


# ---------------------------------------------------------------------------------------------------
# scatter: every input cell stamps a scaled kernel
# ---------------------------------------------------------------------------------------------------
def scatter_full(x: np.ndarray, w: np.ndarray, spec: TransposedSpec) -> tuple[np.ndarray, np.ndarray]:
    """The full (uncropped) output of the scatter view, and how many stamps reached each of its cells.

    full[n, f, i*S + u*D, j*S + v*D] += x[n, c, i, j] * w[c, f, u, v] for every input cell (i, j), tap (u, v) and
    input channel c; the a appended rows/columns at the bottom/right stay zero.

    Args:
        x: (N, CIN, H, W), or (H, W) for one channel pair.
        w: (CIN, COUT, KH, KW), or (KH, KW) with a 2-D x.
        spec: the layer's TransposedSpec (spatial sizes must match the arrays).
    Returns:
        full: (N, COUT, FH, FW) with FH = S*(H-1) + D*(KH-1) + 1 + a = OH + 2p, or (FH, FW) for one pair.
        count: int (FH, FW), the number of stamps (input cells) reaching each cell.
    """
    x, w, pair = _batched(x, w, spec)
    N, COUT = x.shape[0], w.shape[1]
    full = np.zeros((N, COUT, spec.full_h, spec.full_w), dtype=np.result_type(x, w))  # (N, COUT, FH, FW)
    count = np.zeros((spec.full_h, spec.full_w), dtype=np.int64)  # (FH, FW)
    for i in range(spec.h):
        for j in range(spec.w):
            r0, c0 = spec.stamp_origin(i, j)
            rows = slice(r0, r0 + spec.ekh, spec.dh)  # KH rows, D apart
            cols = slice(c0, c0 + spec.ekw, spec.dw)  # KW columns
            full[:, :, rows, cols] += np.einsum("nc,cfuv->nfuv", x[:, :, i, j], w)  # (N, COUT, KH, KW) stamp
            count[rows, cols] += 1
    return (full[0, 0] if pair else full), count


def scatter_transposed(x: np.ndarray, w: np.ndarray, spec: TransposedSpec) -> tuple[np.ndarray, np.ndarray]:
    """Transposed convolution as a scatter: stamp x[i, j] * w at (i*S, j*S), append a, crop p from each side.

    Args:
        x: (N, CIN, H, W), or (H, W) for one channel pair.
        w: (CIN, COUT, KH, KW), or (KH, KW) with a 2-D x.
        spec: the layer's TransposedSpec.
    Returns:
        y: (N, COUT, OH, OW) (or (OH, OW)), equal to conv_transpose2d(x, w, None, S, p, a, D).
        overlap_counts: int (OH, OW), how many stamps reach each output cell. Uneven counts (for D = 1: whenever K is
            not a multiple of S) are the checkerboard pattern of transposed convolutions.
    """
    full, count = scatter_full(x, w, spec)  # (..., FH, FW), (FH, FW)
    return spec.crop(full), spec.crop(count)  # (..., OH, OW), (OH, OW)


def forward_dout(x: np.ndarray, spec: TransposedSpec) -> np.ndarray:
    """x' (N, CIN, H, W) as the upstream gradient of `spec.forward_spec()`: (N, CIN, H + floor(a/S), W + ...).

    Equal to x' unless S <= a < D, when the forward conv has floor(a/S) more output rows than x'; they get zeros.
    """
    fs = spec.forward_spec()
    x = np.asarray(x)
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(0, fs.oh - x.shape[-2]), (0, fs.ow - x.shape[-1])])


# ---------------------------------------------------------------------------------------------------
# direct: insert zeros, pad, slide the rotated kernel with stride 1
# ---------------------------------------------------------------------------------------------------
def zero_insert_pad(x: np.ndarray, spec: TransposedSpec) -> np.ndarray:
    """x (..., H, W) -> (..., S*(H-1)+1 + top + bottom, ...): S-1 zeros inserted between cells, then padded by
    `spec.direct_pads()` (a negative pad crops that many rows/columns instead)."""
    z = dilate(np.asarray(x), spec.sh, spec.sw)  # (..., S*(H-1)+1, S*(W-1)+1)
    return _pad_or_crop(z, spec.direct_pads())  # (..., direct_h, direct_w)


_DIRECT_BUGS = ("tconv_no_flip", "tconv_output_padding")  # the bug lab's switches in direct_transposed (convviz.bugs)


def direct_transposed(x: np.ndarray, w: np.ndarray, spec: TransposedSpec, *, _bug: str | None = None) -> np.ndarray:
    """Transposed convolution as a direct (stride-1) convolution.

    y[n, f, r, q] = sum_{c,u,v} z[n, c, r + u*D, q + v*D] * w[c, f, K-1-u, K-1-v], where z is x with S-1 zeros
    inserted between cells and padded by D*(K-1) - p before and D*(K-1) - p + a after (negative: cropped).
    The kernel is rotated 180 degrees because the scatter writes w[u] to output i*S + u*D - p: read back from the
    output side, a window moving forward meets the taps backwards.

    Args:
        x: (N, CIN, H, W), or (H, W) for one channel pair.
        w: (CIN, COUT, KH, KW), or (KH, KW) with a 2-D x.
        spec: the layer's TransposedSpec.
        _bug: private, for the bug lab (convviz.bugs): switch one classic mistake on inside this code.
    Returns:
        y: (N, COUT, OH, OW) (or (OH, OW)), equal to conv_transpose2d(x, w, None, S, p, a, D).
    """
    if _bug is not None and _bug not in _DIRECT_BUGS:
        raise ValueError(f"_bug: {_bug!r} is not a bug of direct_transposed (its bugs: {_DIRECT_BUGS}).")
    x, w, pair = _batched(x, w, spec)
    N, CIN, COUT = x.shape[0], x.shape[1], w.shape[1]
    z = zero_insert_pad(x, spec)  # (N, CIN, OH + D(KH-1), OW + D(KW-1))
    if _bug == "tconv_output_padding":  # a padded before, not after: a more rows/columns on the top/left, a fewer below
        z = _pad_or_crop(z, (spec.oph, -spec.oph, spec.opw, -spec.opw))
    z = np.ascontiguousarray(z)
    slide = spec.slide_spec(N, CIN, COUT)  # stride 1, no padding, dilation D
    wrot = np.ascontiguousarray(flip_kernel(w))  # (COUT, CIN, KH, KW), every kernel rotated 180 degrees
    if _bug == "tconv_no_flip":  # the channels swapped but the kernels slid as stored, unrotated
        wrot = np.ascontiguousarray(w.transpose(1, 0, 2, 3))
    y = forward_im2col(z, wrot, slide)  # (N, COUT, OH, OW)
    return y[0, 0] if pair else y
