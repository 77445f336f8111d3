"""Finite-difference gradient checks: the analytic gradients against central differences.

With L = sum(y * dout), dL/dx[e] is approximated by (L(x + h e) - L(x - h e)) / 2h in float64. The relative
error |a - n| / max(|a|, |n|, tiny) below 1e-6 means the analytic gradient is right.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Union

import numpy as np

from .conv import conv2d_backward_spec, conv2d_spec
from .geometry import PaddingArg, spec_for
from .pool import max_pool2d_backward_spec, pool_spec, _windows

TOLERANCE = 1e-6
TINY = 1e-12


@dataclass(frozen=True)
class GradCheck:
    """One gradient compared with its finite-difference estimate."""

    name: str
    analytic: np.ndarray
    numeric: np.ndarray

    @property
    def rel_error(self) -> np.ndarray:
        """Element-wise |a - n| / max(|a|, |n|, floor).

        The floor is 1e-4 of the largest analytic entry (and at least `TINY`): an entry that is ~0 because
        terms cancel carries only rounding noise, and dividing that noise by ~0 would flag a correct gradient.
        """
        floor = max(1e-4 * float(np.abs(self.analytic).max(initial=0.0)), TINY)
        scale = np.maximum(np.maximum(np.abs(self.analytic), np.abs(self.numeric)), floor)
        return np.abs(self.analytic - self.numeric) / scale

    @property
    def max_rel_error(self) -> float:
        return float(self.rel_error.max()) if self.rel_error.size else 0.0

    @property
    def max_abs_error(self) -> float:
        return float(np.abs(self.analytic - self.numeric).max()) if self.analytic.size else 0.0

    @property
    def passed(self) -> bool:
        return self.max_rel_error < TOLERANCE


def numerical_gradient(
    loss: Callable[[], float], a: np.ndarray, h: float = 1e-6, progress: Optional[Callable[[float], None]] = None
) -> np.ndarray:
    """Central differences of loss() with respect to every element of `a`, perturbed in place and restored."""
    grad = np.zeros_like(a, dtype=np.float64)
    flat, gflat = a.reshape(-1), grad.reshape(-1)  # views: a must be contiguous
    for e in range(flat.size):
        old = flat[e]
        flat[e] = old + h
        plus = loss()
        flat[e] = old - h
        minus = loss()
        flat[e] = old
        gflat[e] = (plus - minus) / (2 * h)
        if progress is not None:
            progress((e + 1) / flat.size)
    return grad


def check_conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: Optional[np.ndarray] = None,
    dout: Optional[np.ndarray] = None,
    stride: Union[int, Sequence[int]] = 1,
    padding: PaddingArg = 0,
    dilation: Union[int, Sequence[int]] = 1,
    method: str = "col2im",
    h: float = 1e-6,
    seed: int = 0,
    progress: Optional[Callable[[float], None]] = None,
) -> tuple[GradCheck, GradCheck, GradCheck]:
    """Check dx, dw, db of conv2d_backward(method) against central differences. Returns (dx, dw, db) checks."""
    x, w = np.array(x, dtype=np.float64), np.array(w, dtype=np.float64)
    spec = spec_for(x.shape, w.shape, stride, padding, dilation)
    b = np.zeros(spec.f) if b is None else np.array(b, dtype=np.float64)
    dout = np.random.default_rng(seed).standard_normal(spec.output_shape) if dout is None else np.asarray(dout, np.float64)
    dx, dw, db = conv2d_backward_spec(dout, x, w, spec, method)

    def loss() -> float:
        return float(np.sum(conv2d_spec(x, w, b, spec, "im2col") * dout))

    total = x.size + w.size + b.size
    done = [0]

    def part(size: int) -> Optional[Callable[[float], None]]:
        if progress is None:
            return None
        start = done[0]
        done[0] += size
        return lambda frac: progress((start + frac * size) / total)

    return (
        GradCheck("dx", dx, numerical_gradient(loss, x, h, part(x.size))),
        GradCheck("dw", dw, numerical_gradient(loss, w, h, part(w.size))),
        GradCheck("db", db, numerical_gradient(loss, b, h, part(b.size))),
    )


def check_max_pool2d(
    x: np.ndarray,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    dout: Optional[np.ndarray] = None,
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

    return GradCheck("dx", dx, numerical_gradient(loss, x, h))
