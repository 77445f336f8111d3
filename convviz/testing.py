"""Check your own conv2d forward/backward in a notebook: a battery of edge-case settings against the engine.

    from convviz.testing import check_conv2d
    report = check_conv2d(my_forward, my_backward)
    print(report)          # the first failing setting, with the max diff, the shape and where it differs

Signatures follow PyTorch's names (as the engine's):
    forward(x, w, b, stride, padding, dilation) -> y                   # (N, F, OH, OW)
    backward(dout, x, w, stride, padding, dilation) -> (dx, dw, db)
stride/dilation are passed as (h, w) tuples, padding as (top, bottom, left, right). This runs in your own
Python process; the web app never executes user code.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from .conv import conv2d_backward_spec, conv2d_spec
from .geometry import ConvSpec


@dataclass(frozen=True)
class Case:
    """One edge-case setting of the battery."""

    name: str
    h: int
    w: int
    kernel: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int, int, int] = (0, 0, 0, 0)
    dilation: tuple[int, int] = (1, 1)
    n: int = 1
    c: int = 1
    f: int = 1

    def spec(self) -> ConvSpec:
        return ConvSpec.create(self.h, self.w, self.kernel, self.stride, self.padding, self.dilation, n=self.n, c=self.c, f=self.f)


BATTERY = (
    Case("basic 3x3, p=0", 5, 5, (3, 3)),
    Case("stride 2 divides", 7, 7, (3, 3), (2, 2)),
    Case("stride 2 does not divide", 6, 6, (3, 3), (2, 2)),
    Case("non-square input (wide)", 5, 8, (3, 3)),
    Case("non-square input (tall)", 8, 5, (3, 3), (2, 1)),
    Case("even non-square kernel", 6, 7, (2, 4)),
    Case("symmetric padding", 5, 5, (3, 3), padding=(1, 1, 1, 1)),
    Case("asymmetric padding", 6, 5, (3, 2), padding=(1, 0, 2, 1)),
    Case("dilation 2", 7, 8, (3, 3), dilation=(2, 2)),
    Case("stride 3, dilation 2, padding", 9, 8, (2, 3), (3, 2), (1, 2, 0, 1), (2, 1)),
    Case("channels and batch", 6, 5, (3, 3), (2, 1), (1, 1, 0, 0), n=2, c=3, f=2),
)


@dataclass(frozen=True)
class Failure:
    """The first failing comparison: which setting, which array, and how it differs."""

    case: Case
    array: str  # "y", "dx", "dw", "db"
    message: str
    max_diff: float | None = None
    where: tuple[int, ...] | None = None  # index of the largest difference
    expected: float | None = None
    got: float | None = None


@dataclass(frozen=True)
class Report:
    """Result of check_conv2d: passed, how many settings ran, and the first failure (if any)."""

    checked: int
    failure: Failure | None

    @property
    def passed(self) -> bool:
        return self.failure is None

    def __str__(self) -> str:
        if self.failure is None:
            return f"PASS: forward/backward agree with convviz on all {self.checked} edge-case settings."
        f, c = self.failure, self.failure.case
        lines = [f"FAIL on setting {c.name!r} ({self.checked} settings ran):",
                 f"  x {c.spec().input_shape}, kernel {c.kernel}, stride {c.stride}, padding (t, b, l, r) {c.padding}, "
                 f"dilation {c.dilation}",
                 f"  {f.array}: {f.message}"]
        if f.where is not None:
            lines.append(f"  largest difference {f.max_diff:.6g} at {f.array}{list(f.where)}: expected {f.expected:.6g}, got {f.got:.6g}")
        return "\n".join(lines)


def _compare(case: Case, name: str, expected: np.ndarray, got, atol: float) -> Failure | None:
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError) as err:
        return Failure(case, name, f"could not be read as an array: {err}")
    if got.shape != expected.shape:
        return Failure(case, name, f"shape {got.shape}, expected {expected.shape}")
    diff = np.abs(got - expected)
    if not np.all(np.isfinite(got)) or diff.max(initial=0.0) > atol:
        where = tuple(int(i) for i in np.unravel_index(int(np.nanargmax(np.where(np.isfinite(diff), diff, np.inf))), diff.shape))
        return Failure(case, name, f"{int((~(diff <= atol)).sum())} of {diff.size} entries differ by more than {atol:g}",
                       float(diff[where]), where, float(expected[where]), float(got[where]))
    return None


def _one(fn: Callable, *args) -> tuple:
    return (fn(*args),)


def _many(fn: Callable, *args) -> tuple:
    return tuple(fn(*args))


def check_conv2d(
    forward: Callable | None = None,
    backward: Callable | None = None,
    cases: tuple[Case, ...] = BATTERY,
    atol: float = 1e-6,
    seed: int = 0,
) -> Report:
    """Run forward and/or backward over `cases`, compare with the engine, stop at the first failure.

    Args:
        forward: f(x (N,C,H,W), w (F,C,KH,KW), b (F,), stride, padding, dilation) -> y (N,F,OH,OW), or None.
        backward: g(dout (N,F,OH,OW), x, w, stride, padding, dilation) -> (dx, dw, db), or None.
        atol: absolute tolerance (inputs are standard normal, float64).
    Returns:
        Report; str(report) names the first failing setting, the array, the max diff and where it is.
    """
    if forward is None and backward is None:
        raise ValueError("forward, backward: pass at least one function to check.")
    rng = np.random.default_rng(seed)
    for count, case in enumerate(cases, start=1):
        spec = case.spec()
        x, w = rng.standard_normal(spec.input_shape), rng.standard_normal(spec.weight_shape)
        b, dout = rng.standard_normal(spec.f), rng.standard_normal(spec.output_shape)
        args = (case.stride, case.padding, case.dilation)
        checks = []
        if forward is not None:
            checks.append(("y", partial(_one, forward, x.copy(), w.copy(), b.copy(), *args), (conv2d_spec(x, w, b, spec, "loops"),)))
        if backward is not None:
            checks.append(("dx, dw, db", partial(_many, backward, dout.copy(), x.copy(), w.copy(), *args),
                           conv2d_backward_spec(dout, x, w, spec, "loops")))
        for label, call, expected in checks:
            try:
                got = call()
            except Exception as err:  # noqa: BLE001 - any error in user code is a finding, reported with its setting
                return Report(count, Failure(case, label, f"raised {type(err).__name__}: {err}"))
            names = label.split(", ")
            if len(got) != len(expected):
                return Report(count, Failure(case, label, f"returned {len(got)} values, expected {len(expected)}"))
            for name, e, g in zip(names, expected, got):
                failure = _compare(case, name, e, g, atol)
                if failure is not None:
                    return Report(count, failure)
    return Report(len(cases), None)
