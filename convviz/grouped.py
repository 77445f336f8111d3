"""Grouped and depthwise convolution as a lesson: which channels connect, the depthwise-separable block, and what
each choice costs.

Notation as in docs/teaching.md: input x (N, C, H, W), kernels w (F, C/g, KH, KW), output y (N, F, OH, OW), with g the
number of groups (`groups`). Groups split the C input channels into g blocks of CG = C/g and the F output channels into
g blocks of FG = F/g; output channel f is in group f // FG and reads only the input channels of that group. g = 1 is the
ordinary convolution, g = C the depthwise one (F = M·C, M the depth multiplier).

The depthwise-separable block (MobileNet) replaces one K×K convolution by a depthwise K×K convolution (g = C, each
channel filtered on its own) followed by a pointwise 1×1 convolution (g = 1, the channels mixed). Its cost relative to
the ordinary convolution, in multiply-adds, is (C·K² + C·F) / (C·F·K²) = 1/F + 1/K².

NumPy only; the convolutions themselves are convviz.conv.conv2d.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .conv import _as_float_arrays, conv2d
from .geometry import ConvSpec, PaddingArg, check_groups

Pair = int | Sequence[int]

__all__ = ["BlockCost", "BlockComparison", "compare_blocks", "connection_matrix", "layer_costs", "separable_block"]


# ---------------------------------------------------------------------------------------------------
# which channels connect
# ---------------------------------------------------------------------------------------------------
def connection_matrix(c: int, f: int, groups: int) -> np.ndarray:
    """Which input channels each output channel reads.

    conn[f, c] = 1 exactly when output channel f reads input channel c, i.e. when c lies in f's group:
    f // (F/g) == c // (C/g). The matrix is block-diagonal: g blocks of (F/g) × (C/g) ones. Every row holds C/g ones
    (the channels one kernel spans), every column F/g (the output channels one input channel feeds).

    Args:
        c: C, input channels.
        f: F, output channels.
        groups: g, dividing both C and F (a ValueError names the divisors that work otherwise).
    Returns:
        conn: (F, C) int array of 0 and 1.
    """
    g = check_groups(groups, c, f)
    cg, fg = c // g, f // g  # channels per group: in, out
    return np.kron(np.eye(g, dtype=int), np.ones((fg, cg), dtype=int))  # (F, C): g blocks (FG, CG) on the diagonal


# ---------------------------------------------------------------------------------------------------
# the depthwise-separable block
# ---------------------------------------------------------------------------------------------------
def separable_block(
    x: np.ndarray,
    w_depthwise: np.ndarray,
    w_pointwise: np.ndarray,
    b_depthwise: np.ndarray | None = None,
    b_pointwise: np.ndarray | None = None,
    stride: Pair = 1,
    padding: PaddingArg = 0,
    dilation: Pair = 1,
    method: str = "im2col",
) -> np.ndarray:
    """The depthwise-separable block: a depthwise K×K convolution, then a pointwise 1×1 convolution.

        z[n, c·M + m] = b_depthwise[c·M + m] + w_depthwise[c·M + m, 0] ⋆ x[n, c]          (groups = C)
        y[n, f]       = b_pointwise[f] + Σ_k w_pointwise[f, k, 0, 0] · z[n, k]            (groups = 1, 1×1)

    Stride, padding and dilation belong to the depthwise part; the 1×1 part has stride 1 and no padding, so it keeps
    the spatial size and y has the shape an ordinary K×K convolution with the same settings would give.
    No nonlinearity between the two (MobileNet puts batch norm and ReLU there; this is the linear block).

    Args:
        x: (N, C, H, W) input.
        w_depthwise: (C·M, 1, KH, KW) depthwise kernels, M the depth multiplier (M = 1: one kernel per channel).
        w_pointwise: (F, C·M, 1, 1) pointwise kernels.
        b_depthwise: (C·M,) or None.
        b_pointwise: (F,) or None.
        stride, padding, dilation: as conv2d, for the depthwise part.
        method: conv2d's forward method, "loops", "im2col" or "strided".
    Returns:
        y: (N, F, OH, OW), OH = floor((H + top + bottom - DH·(KH-1) - 1) / SH) + 1.
    """
    x, w_depthwise, w_pointwise = _as_float_arrays(x, w_depthwise, w_pointwise)
    if x.ndim != 4 or w_depthwise.ndim != 4 or w_pointwise.ndim != 4:
        raise ValueError(
            f"x, w_depthwise, w_pointwise: expected 4-D arrays (N, C, H, W), (C·M, 1, KH, KW) and (F, C·M, 1, 1), "
            f"got {x.shape}, {w_depthwise.shape} and {w_pointwise.shape}."
        )
    C = x.shape[1]
    CM, one, _, _ = w_depthwise.shape
    if one != 1 or CM % C:
        raise ValueError(
            f"w_depthwise: expected (C·M, 1, KH, KW) with C = {C} (one input channel per kernel, M kernels per "
            f"channel), got {w_depthwise.shape}."
        )
    if w_pointwise.shape[1:] != (CM, 1, 1):
        raise ValueError(
            f"w_pointwise: expected (F, {CM}, 1, 1) (a 1×1 kernel over the depthwise output's {CM} channels), "
            f"got {w_pointwise.shape}."
        )
    z = conv2d(x, w_depthwise, b_depthwise, stride, padding, dilation, method, groups=C)  # (N, C·M, OH, OW)
    return conv2d(z, w_pointwise, b_pointwise, 1, 0, 1, method)  # (N, F, OH, OW)


# ---------------------------------------------------------------------------------------------------
# costs
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BlockCost:
    """What one block (one layer, or the depthwise-separable pair) costs.

    weights, biases: learnable numbers; biases is 0 when biases_counted is False. params = weights + biases.
    macs: multiply-adds of the forward pass over the whole batch (the bias additions are not counted).
    *_formula: the count in letters, e.g. "F·(C/g)·KH·KW + F"; *_text: the same with this block's numbers and result.
    """

    name: str
    output_shape: tuple[int, int, int, int]  # (N, F, OH, OW)
    weights: int
    biases: int
    macs: int
    params_formula: str
    params_text: str
    macs_formula: str
    macs_text: str
    biases_counted: bool = True

    @property
    def params(self) -> int:
        """Learnable parameters: weights + biases."""
        return self.weights + self.biases


def _g(spec: ConvSpec) -> tuple[str, str]:
    """The channels one kernel spans in a formula, in letters and in numbers: ('C', '8') or ('(C/g)', '(8/2)')."""
    return ("C", str(spec.c)) if spec.groups == 1 else ("(C/g)", f"({spec.c}/{spec.groups})")


def layer_costs(spec: ConvSpec, bias: bool = True, name: str | None = None) -> BlockCost:
    """The cost of one convolution layer.

        params = F·(C/g)·KH·KW + F        (the + F only when bias is True)
        macs   = N·F·OH·OW·(C/g)·KH·KW   (each output cell is a dot product of (C/g)·KH·KW terms)

    Args:
        spec: the layer's geometry (groups included).
        bias: whether the layer has (and the count includes) one bias per output channel.
        name: a label; by default "ordinary", "grouped (g = ...)" or "depthwise".
    Returns:
        BlockCost, output_shape (N, F, OH, OW).
    """
    cw, cn = _g(spec)
    weights = spec.f * spec.cg * spec.kh * spec.kw
    biases = spec.f if bias else 0
    macs = spec.n * spec.f * spec.oh * spec.ow * spec.cg * spec.kh * spec.kw
    plus, plus_n = (" + F", f" + {spec.f}") if bias else ("", "")
    if name is None:
        name = "ordinary" if spec.groups == 1 else ("depthwise" if spec.is_depthwise else f"grouped (g = {spec.groups})")
    return BlockCost(
        name=name,
        output_shape=spec.output_shape,
        weights=weights,
        biases=biases,
        macs=macs,
        params_formula=f"F·{cw}·KH·KW{plus}",
        params_text=f"{spec.f}·{cn}·{spec.kh}·{spec.kw}{plus_n} = {weights + biases:,}",
        macs_formula=f"N·F·OH·OW·{cw}·KH·KW",
        macs_text=f"{spec.n}·{spec.f}·{spec.oh}·{spec.ow}·{cn}·{spec.kh}·{spec.kw} = {macs:,}",
        biases_counted=bias,
    )


def _separable_cost(depthwise: ConvSpec, pointwise: ConvSpec, bias: bool) -> BlockCost:
    """The two layers of the depthwise-separable block (M = 1) added up, with the formulas written out."""
    d, p = layer_costs(depthwise, bias), layer_costs(pointwise, bias)
    C, F, KH, KW = depthwise.c, pointwise.f, depthwise.kh, depthwise.kw
    N, OH, OW = depthwise.n, depthwise.oh, depthwise.ow
    pb, pb_n = (" + C", f" + {C}") if bias else ("", "")
    qb, qb_n = (" + F", f" + {F}") if bias else ("", "")
    return BlockCost(
        name="depthwise-separable",
        output_shape=pointwise.output_shape,
        weights=d.weights + p.weights,
        biases=d.biases + p.biases,
        macs=d.macs + p.macs,
        params_formula=f"(C·KH·KW{pb}) + (F·C{qb})",
        params_text=f"({C}·{KH}·{KW}{pb_n}) + ({F}·{C}{qb_n}) = {d.params + p.params:,}",
        macs_formula="N·C·OH·OW·KH·KW + N·F·OH·OW·C",
        macs_text=f"{N}·{C}·{OH}·{OW}·{KH}·{KW} + {N}·{F}·{OH}·{OW}·{C} = {d.macs:,} + {p.macs:,} = {d.macs + p.macs:,}",
        biases_counted=bias,
    )


@dataclass(frozen=True)
class BlockComparison:
    """Three blocks with the same input (N, C, H, W) and output (N, F, OH, OW): ordinary, grouped, separable."""

    ordinary: BlockCost
    grouped: BlockCost
    separable: BlockCost
    kernel: tuple[int, int]  # (KH, KW)

    @property
    def blocks(self) -> tuple[BlockCost, BlockCost, BlockCost]:
        return self.ordinary, self.grouped, self.separable

    @property
    def same_output_shape(self) -> bool:
        """True when all three blocks give the same output shape (they do: the 1×1 part keeps the spatial size)."""
        return len({b.output_shape for b in self.blocks}) == 1

    def ratios(self, which: str = "macs") -> tuple[float, float, float]:
        """Each block's params or macs divided by the ordinary convolution's."""
        base = getattr(self.ordinary, which)
        return tuple(getattr(b, which) / base for b in self.blocks)  # type: ignore[return-value]

    def rows(self) -> tuple[tuple[str, ...], ...]:
        """A text table (header first), e.g. for Trace.table."""
        out: list[tuple[str, ...]] = [("block", "output shape", "parameters", "multiply-adds", "vs ordinary (MACs)")]
        for b, r in zip(self.blocks, self.ratios("macs")):
            out.append((b.name, str(b.output_shape), f"{b.params_formula} = {b.params_text}",
                        f"{b.macs_formula} = {b.macs_text}", f"{r:.3g}x"))
        return tuple(out)

    def notes(self) -> tuple[str, ...]:
        """The comparison in sentences, with the numbers."""
        kh, kw = self.kernel
        F = self.ordinary.output_shape[1]
        r = self.ratios("macs")[2]
        shape = ("All three map the same input to the same output shape "
                 f"{self.ordinary.output_shape}." if self.same_output_shape else
                 "The output shapes differ: " + ", ".join(f"{b.name} {b.output_shape}" for b in self.blocks) + ".")
        bias = ("Parameters include the biases (one per output channel of each layer, as nn.Conv2d's default); "
                if self.ordinary.biases_counted else "Parameters count the weights only (no biases); ")
        return (
            shape,
            bias + "multiply-adds count the products of the forward pass, not the bias additions.",
            f"The separable block costs (C·KH·KW + C·F) / (C·F·KH·KW) = 1/F + 1/(KH·KW) = 1/{F} + 1/{kh * kw} "
            f"= {r:.4f} of the ordinary convolution's multiply-adds.",
        )


def _grouped_name(spec: ConvSpec) -> str:
    if spec.groups == 1:
        return "grouped (g = 1: ordinary)"
    return f"grouped (g = C = {spec.groups}: depthwise)" if spec.is_depthwise else f"grouped (g = {spec.groups})"


def compare_blocks(
    n: int,
    c: int,
    f: int,
    h: int,
    w: int,
    kernel: int | Sequence[int],
    stride: Pair = 1,
    padding: PaddingArg = 0,
    dilation: Pair = 1,
    groups: int = 1,
    bias: bool = True,
) -> BlockComparison:
    """Cost of three blocks with the same input (N, C, H, W) and output (N, F, OH, OW).

    ordinary:  one K×K convolution, g = 1.         params F·C·KH·KW + F,             macs N·F·OH·OW·C·KH·KW
    grouped:   one K×K convolution, g = groups.    params F·(C/g)·KH·KW + F,         macs N·F·OH·OW·(C/g)·KH·KW
    separable: depthwise K×K (g = C, M = 1) with the stride, padding and dilation, then pointwise 1×1 (g = 1).
               params (C·KH·KW + C) + (F·C + F),   macs N·C·OH·OW·KH·KW + N·F·OH·OW·C

    Biases are counted (bias=True, as nn.Conv2d's default) in params, never in macs.
    Returns:
        BlockComparison with ordinary, grouped, separable BlockCosts (same output_shape; same_output_shape says so).
    """
    ordinary = ConvSpec.create(h, w, kernel, stride, padding, dilation, n=n, c=c, f=f)
    grouped = ordinary.with_channels(n, c, f, groups=groups)
    depthwise = ordinary.with_channels(n, c, c, groups=c)  # (N, C, H, W) -> (N, C, OH, OW)
    pointwise = ConvSpec.create(depthwise.oh, depthwise.ow, 1, n=n, c=c, f=f)  # (N, C, OH, OW) -> (N, F, OH, OW)
    return BlockComparison(
        ordinary=layer_costs(ordinary, bias, "ordinary"),
        grouped=layer_costs(grouped, bias, _grouped_name(grouped)),
        separable=_separable_cost(depthwise, pointwise, bias),
        kernel=ordinary.kernel_size,
    )
