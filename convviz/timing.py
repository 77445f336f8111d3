"""Time the engine's methods against each other (and PyTorch, when it is installed) and check they agree.

Forward: loops (the definition), im2col (one matrix product), strided (as_strided view + einsum).
Backward: loops, col2im (matrix products + scatter-add), transposed (dilate, pad, rotate, slide, crop).
Each time is the best of a few runs (the minimum is the least disturbed by other work on the machine).
The naive loops can take minutes on large layers: they are probed on one (sample, filter) pair first and
skipped, with the projected time, when the whole run would not fit the time budget.

NumPy only; PyTorch is optional and imported lazily, so `import convviz` stays light.
"""
from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .conv import BACKWARD_METHODS, FORWARD_METHODS, backward_loops, conv2d_backward_spec, conv2d_spec, forward_loops
from .geometry import ConvSpec, pad_input

TORCH = "pytorch"
LOOP_BUDGET_SECONDS = 1.5  # the naive loops of one pass may take this long at most
TARGET_SECONDS = 0.25  # fast methods repeat until they have run about this long in all ...
MAX_RUNS = 5  # ... or this many times; the best run is reported
MIN_RUNS = 3  # a single run can land on a moment when another process has the core
SLOW_RUN = 0.2  # ... but a run slower than this is not repeated (the loops)
# What a run may cost at most, so a click never ties up a small shared server for long.
MAX_MACS = 150_000_000
MAX_COLUMN_BYTES = 96 * 2**20  # the im2col matrix (float64) is the largest temporary

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Timing:
    """One method's result for one pass.

    seconds: best wall-clock time of `runs` runs, or None when the method did not run (see `note`).
    max_diff: max |difference| from the pass's reference result (dx, dw and db together for backward).
    """

    pass_name: str  # "forward" or "backward"
    method: str
    seconds: float | None
    runs: int
    max_diff: float | None
    note: str = ""


@dataclass(frozen=True)
class TimingReport:
    """All timings of one layer, with the method each pass's agreement was measured against."""

    spec: ConvSpec
    timings: tuple[Timing, ...]
    references: tuple[tuple[str, str], ...]  # (pass, method) pairs, e.g. (("forward", "loops"), ...)
    torch_version: str | None

    def reference_of(self, pass_name: str) -> str:
        return dict(self.references)[pass_name]

    def fastest(self, pass_name: str) -> Timing | None:
        ran = [t for t in self.timings if t.pass_name == pass_name and t.seconds is not None]
        return min(ran, key=lambda t: t.seconds) if ran else None


@dataclass(frozen=True)
class Work:
    """What a layer costs: multiply-adds of one forward pass, bytes of the im2col matrix, loop iterations."""

    macs: int
    column_bytes: int
    input_bytes: int
    loop_windows: int  # N*F*OH*OW: iterations of the naive loops, each a (C/groups, KH, KW) product


def work_of(spec: ConvSpec) -> Work:
    N, C, H, W = spec.input_shape
    rows, cols = C * spec.kh * spec.kw, N * spec.oh * spec.ow
    return Work(spec.macs, 8 * rows * cols, 8 * N * C * H * W, N * spec.f * spec.oh * spec.ow)


def budget_problems(spec: ConvSpec) -> list[str]:
    """Why a layer is too big to time here (empty when it fits), each with the number and the cap."""
    work, problems = work_of(spec), []
    if work.macs > MAX_MACS:
        problems.append(f"{work.macs:,} multiply-adds per forward pass is over this page's cap of {MAX_MACS:,}: "
                        "use a smaller input, fewer channels or a smaller batch.")
    if work.column_bytes > MAX_COLUMN_BYTES:
        problems.append(f"the im2col matrix would take {work.column_bytes / 2**20:.0f} MB, over the cap of "
                        f"{MAX_COLUMN_BYTES / 2**20:.0f} MB: use a smaller input, kernel or batch.")
    return problems


def torch_version() -> str | None:
    """PyTorch's version if it can be imported, else None (it is optional)."""
    if importlib.util.find_spec("torch") is None:
        return None
    try:
        import torch
    except Exception:  # a broken install counts as absent
        return None
    return str(torch.__version__)


def make_data(spec: ConvSpec, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Random float64 x (N, C, H, W), w (F, C/groups, KH, KW), b (F,), dout (N, F, OH, OW)."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(spec.input_shape), rng.standard_normal(spec.weight_shape), rng.standard_normal(spec.f),
            rng.standard_normal(spec.output_shape))


def best_time(fn: Callable[[], object], target: float = TARGET_SECONDS, max_runs: int = MAX_RUNS) -> tuple[float, int, object]:
    """Run `fn` at least MIN_RUNS times (once if a run takes over SLOW_RUN seconds) and until about `target`
    seconds have passed, at most `max_runs` times; return (best, runs, last result)."""
    best, total, runs, out = float("inf"), 0.0, 0, None
    while runs < max_runs and (runs < MIN_RUNS or total < target) and not (runs and best > SLOW_RUN):
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        best, total, runs = min(best, dt), total + dt, runs + 1
    return best, runs, out


def _max_diff(a, b) -> float:
    """Max |a - b| over one array or over matching tuples of arrays."""
    if isinstance(a, tuple):
        return max(_max_diff(p, q) for p, q in zip(a, b))
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) if np.size(a) else 0.0


def loop_projection(spec: ConvSpec, x: np.ndarray, w: np.ndarray, dout: np.ndarray, pass_name: str) -> float:
    """Seconds the naive loops of a pass would take: one (sample, filter) pair timed, times N*F pairs.

    The loops' outer two levels run over samples and filters, so one pair is a faithful slice of the work. With
    groups, filter 0 reads only its group's C/groups channels: the pair is an ordinary convolution of those.
    """
    one = spec.with_channels(1, spec.cg, 1, groups=1)
    xpad = pad_input(x[:1, spec.input_channels(0)], one)  # (1, C/groups, HP, WP)
    t0 = time.perf_counter()
    if pass_name == "forward":
        forward_loops(xpad, w[:1], one)
    else:
        backward_loops(dout[:1, :1], xpad, w[:1], one)
    return (time.perf_counter() - t0) * spec.n * spec.f


def _torch_fns(spec: ConvSpec, x, w, b, dout):
    """PyTorch's forward and backward (autograd) for the same layer (groups included), float64 on the CPU."""
    import torch
    import torch.nn.functional as F

    top, bottom, left, right = spec.padding
    xt, wt, bt, dt = (torch.from_numpy(np.ascontiguousarray(a)) for a in (x, w, b, dout))

    def forward(xt=xt, wt=wt, bt=bt):
        # F.pad takes (left, right, top, bottom): asymmetric padding, which conv2d's own padding cannot express.
        return F.conv2d(F.pad(xt, (left, right, top, bottom)), wt, bt, stride=spec.stride, dilation=spec.dilation,
                        groups=spec.groups)

    def forward_np():
        with torch.no_grad():
            return forward().numpy()

    xg, wg, bg = (t.clone().requires_grad_(True) for t in (xt, wt, bt))

    def backward_np():
        y = forward(xg, wg, bg)  # the graph is rebuilt each run; only the gradient call is timed below
        t0 = time.perf_counter()
        grads = torch.autograd.grad(y, (xg, wg, bg), dt)
        backward_np.last = time.perf_counter() - t0
        return tuple(g.numpy() for g in grads)

    return forward_np, backward_np


def time_methods(
    spec: ConvSpec,
    seed: int = 0,
    include_torch: bool = True,
    loop_budget: float = LOOP_BUDGET_SECONDS,
    progress: Progress | None = None,
) -> TimingReport:
    """Time every forward and backward method on random data for `spec`, and measure their agreement.

    Agreement is measured against the loops (the definition) when they ran, else against im2col (forward) and
    col2im (backward). Raises ValueError if the layer is over the page's budget (see `budget_problems`).
    """
    problems = budget_problems(spec)
    if problems:
        raise ValueError("size: " + " ".join(problems))
    x, w, b, dout = make_data(spec, seed)
    version = torch_version() if include_torch else None
    steps = len(FORWARD_METHODS) + len(BACKWARD_METHODS) + (2 if version else 0)
    done = 0

    def tick(text: str) -> None:
        if progress is not None:
            progress(done / steps, text)

    timings: list[Timing] = []
    references: list[tuple[str, str]] = []
    for pass_name, methods in (("forward", FORWARD_METHODS), ("backward", BACKWARD_METHODS)):
        results: dict[str, object] = {}
        for method in methods:
            tick(f"{pass_name}: {method}")
            if pass_name == "forward":
                def run(method=method):
                    return conv2d_spec(x, w, b, spec, method)
            else:
                def run(method=method):
                    return conv2d_backward_spec(dout, x, w, spec, method)
            if method == "loops":
                projected = loop_projection(spec, x, w, dout, pass_name)
                if projected > loop_budget:
                    timings.append(Timing(pass_name, method, None, 0, None,
                                          f"skipped: about {projected:.1f} s projected (one sample x one filter timed), "
                                          f"over the {loop_budget:g} s budget"))
                    done += 1
                    continue
                seconds, runs, out = best_time(run, max_runs=1 if projected > TARGET_SECONDS else MAX_RUNS)
            else:
                seconds, runs, out = best_time(run)
            results[method] = out
            timings.append(Timing(pass_name, method, seconds, runs, None))
            done += 1
        ref_method = "loops" if "loops" in results else methods[1]
        references.append((pass_name, ref_method))
        if version:
            tick(f"{pass_name}: PyTorch {version}")
            forward_np, backward_np = _torch_fns(spec, x, w, b, dout)
            (forward_np if pass_name == "forward" else backward_np)()  # warm-up: PyTorch's first call sets up kernels
            if pass_name == "forward":
                seconds, runs, out = best_time(forward_np)
            else:
                times = []
                while len(times) < MAX_RUNS and (len(times) < MIN_RUNS or sum(times) < TARGET_SECONDS):
                    out = backward_np()
                    times.append(backward_np.last)
                seconds, runs = min(times), len(times)
            results[TORCH] = out
            timings.append(Timing(pass_name, TORCH, seconds, runs, None, "optional: PyTorch, float64, CPU"))
            done += 1
        reference = results[ref_method]
        timings[:] = [t if t.pass_name != pass_name or t.seconds is None
                      else Timing(t.pass_name, t.method, t.seconds, t.runs, _max_diff(results[t.method], reference), t.note)
                      for t in timings]
    if progress is not None:
        progress(1.0, "done")
    return TimingReport(spec, tuple(timings), tuple(references), version)
