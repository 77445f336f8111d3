"""Geometry of a 2-D convolution layer: argument parsing, padding rules, output size, validation.

Every public function of the engine turns its PyTorch-style arguments into a `ConvSpec` first, so one
place decides what is valid and one place explains, in words, what is wrong and how to fix it.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Union

import numpy as np

IntPair = tuple[int, int]
Padding4 = tuple[int, int, int, int]  # (top, bottom, left, right)
PaddingArg = Union[int, Sequence[int], str]

PADDING_MODES = ("valid", "same", "full")

# Engine caps. They keep a notebook or the server from allocating absurd amounts of memory by accident;
# the app applies tighter caps of its own (see convviz.ui).
MAX_BATCH = 1024
MAX_CHANNELS = 4096
MAX_SPATIAL = 4096
MAX_KERNEL = 4096
MAX_STRIDE = 255
MAX_DILATION = 255
MAX_PADDING = 1024


def _as_int(value: object, name: str) -> int:
    """Accept Python and NumPy integers (not bools, not floats); raise a ValueError naming `name`."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}: expected a whole number, got {value!r}. Pass an int such as 1 or 2.")
    return int(value)


def as_pair(value: object, name: str) -> IntPair:
    """Parse an int or an (h, w) pair, as PyTorch does for kernel_size, stride and dilation."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name}: expected an int or a pair (h, w), got {len(value)} values {tuple(value)!r}.")
        return _as_int(value[0], f"{name}[0]"), _as_int(value[1], f"{name}[1]")
    v = _as_int(value, name)
    return v, v


def _check_range(value: int, name: str, low: int, high: int, fix: str) -> None:
    if value < low:
        raise ValueError(f"{name}: must be at least {low}, got {value}. {fix}")
    if value > high:
        raise ValueError(f"{name}: must be at most {high} (the engine's cap), got {value}. {fix}")


def common_divisors(c: int, f: int) -> list[int]:
    """The group counts that split both C input and F output channels evenly, e.g. (8, 12) -> [1, 2, 4]."""
    return [g for g in range(1, min(c, f) + 1) if c % g == 0 and f % g == 0]


def _or_list(values: Sequence[int]) -> str:
    """[1, 2, 4] -> '1, 2 or 4'."""
    words = [str(v) for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def check_groups(groups: object, c: int, f: int) -> int:
    """Validate `groups` against C input and F output channels: each group sees C/groups input channels and
    makes F/groups output channels, so groups must divide both. Returns groups as an int."""
    g = _as_int(groups, "groups")
    _check_range(g, "groups", 1, MAX_CHANNELS, "groups=1 is an ordinary convolution; groups=C is depthwise.")
    for count, what in ((c, "input"), (f, "output")):
        if count % g:
            raise ValueError(
                f"groups: {g} does not divide the {count} {what} channels; use {_or_list(common_divisors(c, f))}."
            )
    return g


def same_padding_1d(size: int, effective_kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' rule: output = ceil(size / stride); the odd extra pad goes after (bottom/right)."""
    total = max((math.ceil(size / stride) - 1) * stride + effective_kernel - size, 0)
    return total // 2, total - total // 2


def parse_padding(padding: PaddingArg) -> str | Padding4:
    """Normalise a padding argument to a mode string or (top, bottom, left, right) without resolving modes."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode not in PADDING_MODES:
            raise ValueError(
                f"padding: unknown mode {padding!r}. Use one of 'valid', 'same', 'full', an int, "
                "(ph, pw) or (top, bottom, left, right)."
            )
        return mode
    if isinstance(padding, (tuple, list)):
        if len(padding) == 2:
            ph, pw = (_as_int(p, "padding") for p in padding)
            sides = (ph, ph, pw, pw)
        elif len(padding) == 4:
            sides = tuple(_as_int(p, "padding") for p in padding)  # type: ignore[assignment]
        else:
            raise ValueError(
                f"padding: expected an int, (ph, pw) or (top, bottom, left, right), got {len(padding)} values."
            )
    else:
        p = _as_int(padding, "padding")
        sides = (p, p, p, p)
    for side, p in zip(("top", "bottom", "left", "right"), sides):
        _check_range(p, f"padding ({side})", 0, MAX_PADDING, "Padding cannot be negative; use 0 for none.")
    return sides  # type: ignore[return-value]


@dataclass(frozen=True)
class ConvSpec:
    """Everything about one convolution layer's geometry; derived sizes are properties.

    Build one with `ConvSpec.create(...)`, which validates. Sizes follow the notation of pedagogy.md:
    input (N, C, H, W), weights (F, C/groups, KH, KW), output (N, F, OH, OW).

    groups (G): the channels are split into G groups; output channel f belongs to group g = f // (F/G) and
    reads only the input channels g*CG .. (g+1)*CG - 1, CG = C/G. G = 1 is the ordinary convolution,
    G = C (with F a multiple of C) the depthwise one.
    """

    n: int
    c: int
    f: int
    h: int
    w: int
    kh: int
    kw: int
    sh: int = 1
    sw: int = 1
    dh: int = 1
    dw: int = 1
    top: int = 0
    bottom: int = 0
    left: int = 0
    right: int = 0
    mode: str = "custom"  # how the padding was given: valid / same / full / custom
    groups: int = 1  # G: channel groups; must divide C and F

    # ---- construction -------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        h: int,
        w: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: PaddingArg = 0,
        dilation: int | Sequence[int] = 1,
        n: int = 1,
        c: int = 1,
        f: int = 1,
        groups: int = 1,
    ) -> ConvSpec:
        """Validate PyTorch-style arguments and resolve the padding mode into four sides."""
        n, c, f = _as_int(n, "n (batch)"), _as_int(c, "c (input channels)"), _as_int(f, "f (output channels)")
        h, w = _as_int(h, "h (input height)"), _as_int(w, "w (input width)")
        _check_range(n, "n (batch)", 1, MAX_BATCH, "Use a smaller batch.")
        _check_range(c, "c (input channels)", 1, MAX_CHANNELS, "Use fewer input channels.")
        _check_range(f, "f (output channels)", 1, MAX_CHANNELS, "Use fewer output channels.")
        groups = check_groups(groups, c, f)
        _check_range(h, "h (input height)", 1, MAX_SPATIAL, "Use a smaller input.")
        _check_range(w, "w (input width)", 1, MAX_SPATIAL, "Use a smaller input.")
        kh, kw = as_pair(kernel_size, "kernel_size")
        sh, sw = as_pair(stride, "stride")
        dh, dw = as_pair(dilation, "dilation")
        for axis, k in (("height", kh), ("width", kw)):
            _check_range(k, f"kernel_size ({axis})", 1, MAX_KERNEL, "A kernel needs at least one tap.")
        for axis, s in (("height", sh), ("width", sw)):
            _check_range(s, f"stride ({axis})", 1, MAX_STRIDE, "Stride 1 moves the window one cell at a time.")
        for axis, d in (("height", dh), ("width", dw)):
            _check_range(d, f"dilation ({axis})", 1, MAX_DILATION, "Dilation 1 means adjacent taps (no gaps).")
        parsed = parse_padding(padding)
        ekh, ekw = dh * (kh - 1) + 1, dw * (kw - 1) + 1
        if parsed == "valid":
            sides, mode = (0, 0, 0, 0), "valid"
        elif parsed == "full":
            sides, mode = (ekh - 1, ekh - 1, ekw - 1, ekw - 1), "full"
        elif parsed == "same":
            sides, mode = same_padding_1d(h, ekh, sh) + same_padding_1d(w, ekw, sw), "same"
        else:
            sides, mode = parsed, "custom"
        spec = cls(n, c, f, h, w, kh, kw, sh, sw, dh, dw, *sides, mode=mode, groups=groups)
        spec._check_fits()
        return spec

    def _check_fits(self) -> None:
        """The effective kernel must fit inside the padded input, on each axis separately."""
        for axis, ek, k, d, size, lo, hi in (
            ("height", self.ekh, self.kh, self.dh, self.h, self.top, self.bottom),
            ("width", self.ekw, self.kw, self.dw, self.w, self.left, self.right),
        ):
            padded = size + lo + hi
            if ek > padded:
                need = ek - padded
                raise ValueError(
                    f"kernel_size ({axis}): the effective kernel {axis} {ek} (kernel {k}, dilation {d}: "
                    f"{d}*({k}-1)+1) is larger than the padded input {axis} {padded} ({size} + padding {lo} + {hi}), "
                    f"so no window fits. Use a kernel or dilation at most that size, or add {need} more padding "
                    f"on that axis (or padding='full')."
                )

    # ---- derived geometry ---------------------------------------------------------------------------
    @property
    def kernel_size(self) -> IntPair:
        return self.kh, self.kw

    @property
    def stride(self) -> IntPair:
        return self.sh, self.sw

    @property
    def dilation(self) -> IntPair:
        return self.dh, self.dw

    @property
    def padding(self) -> Padding4:
        """(top, bottom, left, right)."""
        return self.top, self.bottom, self.left, self.right

    @property
    def ekh(self) -> int:
        """Effective kernel height DH*(KH-1)+1: the span one window covers."""
        return self.dh * (self.kh - 1) + 1

    @property
    def ekw(self) -> int:
        return self.dw * (self.kw - 1) + 1

    @property
    def hp(self) -> int:
        """Padded input height."""
        return self.h + self.top + self.bottom

    @property
    def wp(self) -> int:
        return self.w + self.left + self.right

    @property
    def oh(self) -> int:
        """OH = floor((H + top + bottom - EKH) / SH) + 1."""
        return (self.hp - self.ekh) // self.sh + 1

    @property
    def ow(self) -> int:
        return (self.wp - self.ekw) // self.sw + 1

    @property
    def rem_h(self) -> int:
        """Rows at the bottom of the padded input that no window reaches: (H+top+bottom-EKH) mod SH."""
        return (self.hp - self.ekh) % self.sh

    @property
    def rem_w(self) -> int:
        return (self.wp - self.ekw) % self.sw

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return self.n, self.c, self.h, self.w

    @property
    def cg(self) -> int:
        """CG = C/groups: the input channels each output channel reads (C when groups = 1, 1 when depthwise)."""
        return self.c // self.groups

    @property
    def fg(self) -> int:
        """FG = F/groups: the output channels of one group."""
        return self.f // self.groups

    def group_of(self, f: int) -> int:
        """The group g = f // FG of output channel f."""
        return f // self.fg

    def input_channels(self, f: int) -> slice:
        """The channels of x that output channel f reads: g*CG .. (g+1)*CG - 1 (all of them when groups = 1).
        x[:, spec.input_channels(f)] with w[f : f + 1] is an ordinary convolution: spec.with_channels(N, CG, 1, groups=1)."""
        g = self.group_of(f)
        return slice(g * self.cg, (g + 1) * self.cg)

    @property
    def is_depthwise(self) -> bool:
        """True when every group has one input channel (groups = C), as in MobileNet's depthwise layers."""
        return self.groups == self.c and self.groups > 1

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        """(F, C/groups, KH, KW), PyTorch's layout: each kernel spans only its group's channels."""
        return self.f, self.cg, self.kh, self.kw

    @property
    def output_shape(self) -> tuple[int, int, int, int]:
        return self.n, self.f, self.oh, self.ow

    @property
    def params(self) -> int:
        """Learnable parameters F*(C/groups)*KH*KW + F (F*C*KH*KW + F when groups = 1)."""
        return self.f * self.cg * self.kh * self.kw + self.f

    @property
    def macs(self) -> int:
        """Multiply-adds of the forward pass N*F*OH*OW*(C/groups)*KH*KW (N*F*OH*OW*C*KH*KW when groups = 1)."""
        return self.n * self.f * self.oh * self.ow * self.cg * self.kh * self.kw

    @property
    def is_symmetric(self) -> bool:
        return self.top == self.bottom and self.left == self.right

    def with_channels(self, n: int, c: int, f: int, groups: int | None = None) -> ConvSpec:
        """The same spatial geometry for other batch/channel counts (validated). groups: default this spec's
        (which must then divide c and f); pass 1 for an ordinary convolution, e.g. one group's slice."""
        return ConvSpec.create(
            self.h, self.w, self.kernel_size, self.stride, self.padding, self.dilation, n=n, c=c, f=f,
            groups=self.groups if groups is None else groups,
        )

    # ---- coverage -----------------------------------------------------------------------------------
    def window_origin(self, i: int, j: int) -> IntPair:
        """Top-left corner, in padded coordinates, of the window that produces output cell (i, j)."""
        return i * self.sh, j * self.sw

    def window_mask(self, i: int, j: int) -> np.ndarray:
        """Bool (HP, WP): the padded-input cells that output cell (i, j) reads."""
        mask = np.zeros((self.hp, self.wp), dtype=bool)
        r0, c0 = self.window_origin(i, j)
        mask[r0 : r0 + self.ekh : self.dh, c0 : c0 + self.ekw : self.dw] = True
        return mask

    def skipped(self, axis: str = "h") -> tuple[int, ...]:
        """Padded rows (axis "h") or columns ("w") that no window tap reads although they lie before the remainder.
        Tap u of window i reads row i*SH + u*DH, so with SH > EKH (a 1 x 1 kernel at stride 2) the rows between
        windows are skipped, and with SH = DH = 2 every other row, inside the windows too. Their cells get zero gradient,
        like the remainder's (coverage is a product: a cell is read exactly when its row and its column are)."""
        size, s, d, k, rem = (self.hp, self.sh, self.dh, self.kh, self.rem_h) if axis == "h" else \
            (self.wp, self.sw, self.dw, self.kw, self.rem_w)
        outs = (size - (d * (k - 1) + 1)) // s + 1
        read = np.zeros(size, dtype=bool)
        for u in range(k):
            read[u * d : u * d + s * (outs - 1) + 1 : s] = True
        return tuple(int(p) for p in np.flatnonzero(~read[: size - rem]))

    def skipped_input(self, axis: str = "h") -> tuple[int, ...]:
        """The `skipped` rows or columns that are x's own (numbered from 0): padding has no gradient to miss."""
        size, lo = (self.h, self.top) if axis == "h" else (self.w, self.left)
        return tuple(p - lo for p in self.skipped(axis) if 0 <= p - lo < size)

    def unread_input(self, axis: str = "h") -> tuple[int, ...]:
        """Rows (axis "h") or columns ("w") of x itself, numbered from 0, that no tap reads: the skipped ones and
        those in the remainder. Their cells get zero gradient."""
        size, lo, rem = (self.h, self.top, self.rem_h) if axis == "h" else (self.w, self.left, self.rem_w)
        padded = self.hp if axis == "h" else self.wp
        return self.skipped_input(axis) + tuple(p - lo for p in range(padded - rem, padded) if 0 <= p - lo < size)

    def coverage(self) -> np.ndarray:
        """Int (HP, WP): how many windows read each padded-input cell (0 = never read, gets no gradient)."""
        count = np.zeros((self.hp, self.wp), dtype=np.int64)
        for u in range(self.kh):
            for v in range(self.kw):
                r0, c0 = u * self.dh, v * self.dw
                count[r0 : r0 + self.sh * (self.oh - 1) + 1 : self.sh, c0 : c0 + self.sw * (self.ow - 1) + 1 : self.sw] += 1
        return count

    def padding_mask(self) -> np.ndarray:
        """Bool (HP, WP): True on padding cells, False on the original input."""
        mask = np.ones((self.hp, self.wp), dtype=bool)
        mask[self.top : self.top + self.h, self.left : self.left + self.w] = False
        return mask

    def output_size_formula(self, axis: str = "h") -> str:
        """The output-size formula with this layer's numbers, e.g. 'OH = floor((7 + 1 + 1 - 3) / 2) + 1 = 4'."""
        if axis == "h":
            size, lo, hi, ek, s, out, name = self.h, self.top, self.bottom, self.ekh, self.sh, self.oh, "OH"
        else:
            size, lo, hi, ek, s, out, name = self.w, self.left, self.right, self.ekw, self.sw, self.ow, "OW"
        return f"{name} = floor(({size} + {lo} + {hi} - {ek}) / {s}) + 1 = {out}"


def spec_for(
    x_shape: Sequence[int],
    w_shape: Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: PaddingArg = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> ConvSpec:
    """Spec for conv2d(x, w, groups=G): checks the array ranks, groups, and that the channel counts agree
    (w is (F, C/G, KH, KW), PyTorch's layout)."""
    if len(x_shape) != 4:
        raise ValueError(f"x: expected a 4-D array (N, C, H, W), got shape {tuple(x_shape)}. Add batch/channel axes with x[None, None].")
    if len(w_shape) != 4:
        raise ValueError(f"w: expected a 4-D array (F, C, KH, KW), got shape {tuple(w_shape)}. Add axes with w[None, None].")
    n, c, h, w = x_shape
    f, cw, kh, kw = w_shape
    if _as_int(groups, "groups") == 1:
        if c != cw:
            raise ValueError(
                f"w: has {cw} input channels but x has {c}. The weight shape must be (F, C, KH, KW) with C = x.shape[1]."
            )
    else:
        groups = check_groups(groups, _as_int(c, "c (input channels)"), _as_int(f, "f (output channels)"))
        if cw * groups != c:
            raise ValueError(
                f"w: has {cw} input channels per kernel but x's {c} channels in {groups} groups give {c // groups} "
                f"per group. The weight shape must be (F, C/groups, KH, KW) = ({f}, {c // groups}, {kh}, {kw})."
            )
    return ConvSpec.create(h, w, (kh, kw), stride, padding, dilation, n=n, c=c, f=f, groups=groups)


def pad_input(x: np.ndarray, spec: ConvSpec, value: float = 0.0) -> np.ndarray:
    """x (N, C, H, W) -> xpad (N, C, HP, WP), padded on the four sides given by the spec."""
    if spec.padding == (0, 0, 0, 0):
        return x
    return np.pad(x, ((0, 0), (0, 0), (spec.top, spec.bottom), (spec.left, spec.right)), constant_values=value)


def crop_padding(xpad: np.ndarray, spec: ConvSpec) -> np.ndarray:
    """Inverse of pad_input on the last two axes. Slices with explicit ends: `a[p:-p]` is empty when p = 0."""
    return xpad[..., spec.top : spec.top + spec.h, spec.left : spec.left + spec.w]
