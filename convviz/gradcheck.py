"""Finite-difference gradient checks: the analytic gradients against central differences.

With L = sum(y * dout), dL/dx[e] is approximated by (L(x + h e) - L(x - h e)) / 2h in float64. The relative
error |a - n| / max(|a|, |n|, floor) below 1e-6 means the analytic gradient is right.

The floor: computing L in float64 rounds by about eps * S, where S is the sum of the magnitudes of every
product that L adds up; the central difference divides that by 2h. So an estimate is only good to
`noise` = ROUNDING_FACTOR * eps * S / h in absolute terms (about 1e-8 for teaching sizes at h = 1e-6), and a
gradient entry that is truly 0 comes back as noise of that size. Flooring the denominator at noise / 1e-6
means: an error at the rounding-noise level passes; any error well above it is judged relatively.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .conv import conv2d_backward_spec, conv2d_spec
from .geometry import PaddingArg, spec_for
from .pool import _windows, max_pool2d_backward_spec, pool_spec

TOLERANCE = 1e-6
TINY = 1e-300
ROUNDING_FACTOR = 16  # eps * S bounds one evaluation's rounding loosely; 16 leaves room for accumulation order
EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class GradCheck:
    """One gradient compared with its finite-difference estimate."""

    name: str
    analytic: np.ndarray
    numeric: np.ndarray
    noise: float = 0.0  # absolute rounding noise of the numeric estimate (see the module docstring)

    @property
    def rel_error(self) -> np.ndarray:
        """Element-wise |a - n| / max(|a|, |n|, noise / TOLERANCE): rounding noise alone never fails a check."""
        floor = max(self.noise / TOLERANCE, TINY)
        scale = np.maximum(np.maximum(np.abs(self.analytic), np.abs(self.numeric)), floor)
        return np.abs(self.analytic - self.numeric) / scale  # NaN where an entry was not estimated

    @property
    def checked(self) -> int:
        """How many entries have a numeric estimate (all, unless the check sampled them)."""
        return int(np.isfinite(self.numeric).sum())

    @property
    def max_rel_error(self) -> float:
        e = self.rel_error[np.isfinite(self.rel_error)]
        return float(e.max()) if e.size else 0.0

    @property
    def max_abs_error(self) -> float:
        d = np.abs(self.analytic - self.numeric)
        d = d[np.isfinite(d)]
        return float(d.max()) if d.size else 0.0

    @property
    def passed(self) -> bool:
        return self.max_rel_error < TOLERANCE


def numerical_gradient(
    loss: Callable[[], float],
    a: np.ndarray,
    h: float = 1e-6,
    progress: Callable[[float], None] | None = None,
    entries: np.ndarray | None = None,
) -> np.ndarray:
    """Central differences of loss() with respect to elements of `a`, perturbed in place and restored.

    entries: flat indices to estimate (default all); the others are NaN in the result.
    """
    grad = np.full(a.shape, np.nan) if entries is not None else np.zeros_like(a, dtype=np.float64)
    flat, gflat = a.reshape(-1), grad.reshape(-1)  # views: a must be contiguous
    todo = range(flat.size) if entries is None else entries
    for count, e in enumerate(todo):
        old = flat[e]
        flat[e] = old + h
        plus = loss()
        flat[e] = old - h
        minus = loss()
        flat[e] = old
        gflat[e] = (plus - minus) / (2 * h)
        if progress is not None:
            progress((count + 1) / len(todo))
    return grad


def sample_entries(size: int, budget: int | None, rng: np.random.Generator) -> np.ndarray | None:
    """None (check all) when size fits the budget, else `budget` distinct flat indices, sorted."""
    if budget is None or size <= budget:
        return None
    return np.sort(rng.choice(size, size=budget, replace=False))


def check_conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    dout: np.ndarray | None = None,
    stride: int | Sequence[int] = 1,
    padding: PaddingArg = 0,
    dilation: int | Sequence[int] = 1,
    method: str = "col2im",
    h: float = 1e-6,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
    max_entries: int | None = None,
    groups: int = 1,
) -> tuple[GradCheck, GradCheck, GradCheck]:
    """Check dx, dw, db of conv2d_backward(method) against central differences. Returns (dx, dw, db) checks.

    max_entries: estimate at most this many entries per array (a seeded random sample; the rest are NaN).
    groups: as in conv2d; w is then (F, C/groups, KH, KW).
    """
    x, w = np.array(x, dtype=np.float64), np.array(w, dtype=np.float64)
    spec = spec_for(x.shape, w.shape, stride, padding, dilation, groups)
    b = np.zeros(spec.f) if b is None else np.array(b, dtype=np.float64)
    dout = np.random.default_rng(seed).standard_normal(spec.output_shape) if dout is None else np.asarray(dout, np.float64)
    dx, dw, db = conv2d_backward_spec(dout, x, w, spec, method)

    def loss() -> float:
        return float(np.sum(conv2d_spec(x, w, b, spec, "im2col") * dout))

    magnitude = float(np.sum(conv2d_spec(np.abs(x), np.abs(w), np.abs(b), spec, "im2col") * np.abs(dout)))
    noise = ROUNDING_FACTOR * EPS * magnitude / h
    rng = np.random.default_rng(seed)
    picks = [sample_entries(a.size, max_entries, rng) for a in (x, w, b)]
    sizes = [a.size if p is None else p.size for a, p in zip((x, w, b), picks)]
    total = sum(sizes)
    done = [0]

    def part(size: int) -> Callable[[float], None] | None:
        if progress is None:
            return None
        start = done[0]
        done[0] += size
        return lambda frac: progress((start + frac * size) / total)

    return (
        GradCheck("dx", dx, numerical_gradient(loss, x, h, part(sizes[0]), picks[0]), noise),
        GradCheck("dw", dw, numerical_gradient(loss, w, h, part(sizes[1]), picks[1]), noise),
        GradCheck("db", db, numerical_gradient(loss, b, h, part(sizes[2]), picks[2]), noise),
    )


def check_max_pool2d(
    x: np.ndarray,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    dout: np.ndarray | None = None,
    h: float = 1e-6,
    seed: int = 0,
) -> GradCheck:
    """Check max_pool2d_backward against central differences.

    Max pooling is not differentiable at ties; the check is meaningful where every window's maximum is
    unique by more than h (random real inputs). At a tie the one-sided limits differ and so will the estimate.
    """
    x = np.array(x, dtype=np.float64)
    spec = pool_spec(x.shape, kernel_size, stride, padding, dilation)
    dout = np.random.default_rng(seed).standard_normal(spec.output_shape) if dout is None else np.asarray(dout, np.float64)
    dx = max_pool2d_backward_spec(dout, x, spec)

    def loss() -> float:
        return float(np.sum(_windows(x, spec).max(axis=-1) * dout))

    noise = ROUNDING_FACTOR * EPS * float(np.sum(np.abs(_windows(x, spec).max(axis=-1) * dout))) / h
    return GradCheck("dx", dx, numerical_gradient(loss, x, h), noise)
